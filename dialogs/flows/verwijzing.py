"""The verwijzing (referral) a mentor submits: the fields the seeds require, in chat order.

Keys match `services.referrals.submission.ReferralDraft`. The student list comes from the context
(``choices["mentees"]``): a mentor only ever sees and picks their own mentees.
"""

from __future__ import annotations

from datetime import date

from dialogs.flow import Answers, AnswerValue, Flow, FlowContext, Option, Step, StepKind
from dialogs.text import N_, Text

MENTEES = "mentees"
#: Free text long enough for a real help question, short enough for a phone.
HELP_TEXT_MIN, HELP_TEXT_MAX = 10, 1000


def _parents_informed(answers: Answers) -> bool:
    return answers.get("parents_informed") is True


def _school_day(value: AnswerValue, _answers: Answers, _context: FlowContext) -> Text | None:
    if isinstance(value, str) and date.fromisoformat(value).weekday() >= 5:
        return Text.of(N_("That is a weekend day. Please choose a school day."))
    return None


URGENCY = (
    Option("low", Text.of(N_("Low (can wait a few weeks)"))),
    Option("normal", Text.of(N_("Normal (within two weeks)"))),
    Option("high", Text.of(N_("High (this week)"))),
)

SUPPORT = (
    Option("conversations", Text.of(N_("Support talks (begeleidingsgesprekken)"))),
    Option("time_out", Text.of(N_("Time-out moments"))),
    Option("presence_fixed", Text.of(N_("Presence at fixed times"))),
    Option("presence_varying", Text.of(N_("Presence at varying times"))),
    Option("class_observation", Text.of(N_("Observation in class"))),
    Option("return_from_external", Text.of(N_("Return from an out-of-school facility"))),
    Option("return_after_absence", Text.of(N_("Return after long absence"))),
)

WEEKDAYS = (
    Option("mon", Text.of(N_("Monday"))),
    Option("tue", Text.of(N_("Tuesday"))),
    Option("wed", Text.of(N_("Wednesday"))),
    Option("thu", Text.of(N_("Thursday"))),
    Option("fri", Text.of(N_("Friday"))),
)

VERWIJZING = Flow(
    id="verwijzing",
    version=1,
    title=N_("New referral"),
    done=N_(
        "Your referral has been sent. The care coordinator will look at it within two school "
        "days and let you know the next step."
    ),
    steps=(
        Step(
            "student_id",
            StepKind.SINGLE,
            options_from=MENTEES,
            prompt=N_("Which student is this referral about?"),
            label=N_("Student"),
        ),
        Step(
            "help_question_student",
            StepKind.TEXT,
            min_length=HELP_TEXT_MIN,
            max_length=HELP_TEXT_MAX,
            prompt=N_("What is the student's own help question? Use the student's words."),
            label=N_("Student's help question"),
            example=N_("I want to stop getting so angry in class that I get sent out."),
        ),
        Step(
            "help_question_teacher",
            StepKind.TEXT,
            min_length=HELP_TEXT_MIN,
            max_length=HELP_TEXT_MAX,
            prompt=N_("What is your help question as a teacher?"),
            label=N_("Teacher's help question"),
            example=N_("How can I help him calm down before a conflict escalates?"),
        ),
        Step(
            "tried",
            StepKind.TEXT,
            min_length=HELP_TEXT_MIN,
            max_length=HELP_TEXT_MAX,
            prompt=N_("What has already been tried, at school or at home?"),
            label=N_("Already tried"),
            example=N_("Two talks with the mentor, a seat near the door, a daily check-in."),
        ),
        Step(
            "works_at_home",
            StepKind.TEXT,
            optional=True,
            max_length=HELP_TEXT_MAX,
            prompt=N_("What works well at home? (optional)"),
            label=N_("What works at home"),
            example=N_("A fixed routine for homework, with a short break every half hour."),
        ),
        Step(
            "works_at_school",
            StepKind.TEXT,
            optional=True,
            max_length=HELP_TEXT_MAX,
            prompt=N_("What works well at school? (optional)"),
            label=N_("What works at school"),
            example=N_("Clear instructions one step at a time; sitting at the front."),
        ),
        Step(
            "urgency",
            StepKind.SINGLE,
            options=URGENCY,
            prompt=N_("How urgent is this?"),
            label=N_("Urgency"),
        ),
        Step(
            "parents_informed",
            StepKind.YES_NO,
            prompt=N_("Have the parents been told about this referral?"),
            label=N_("Parents informed"),
        ),
        Step(
            "parents_not_informed_reason",
            StepKind.TEXT,
            skip_if=_parents_informed,
            min_length=5,
            max_length=500,
            prompt=N_("Why not yet, and when will they be told?"),
            label=N_("Why parents are not informed yet"),
            example=N_("I am calling them on Thursday after the parents' evening."),
        ),
        Step(
            "support",
            StepKind.MULTI,
            options=SUPPORT,
            prompt=N_("What support are you asking for? Choose one or more, then press “Done”."),
            label=N_("Support asked for"),
        ),
        Step(
            "intake_from",
            StepKind.DATE,
            validate=_school_day,
            max_days_ahead=120,
            prompt=N_("From which date can you attend an intake meeting?"),
            label=N_("Intake possible from"),
        ),
        Step(
            "intake_days",
            StepKind.MULTI,
            options=WEEKDAYS,
            prompt=N_(
                "On which days can you attend the intake? Choose one or more, then press “Done”."
            ),
            label=N_("Intake days"),
        ),
        Step(
            "summary",
            StepKind.SUMMARY,
            prompt=N_("Please check your referral before sending it:"),
            label=N_("Summary"),
        ),
    ),
)
