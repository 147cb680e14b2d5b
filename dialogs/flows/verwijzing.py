"""The verwijzing (referral) a mentor submits: the fields the seeds require, in chat order.

Keys match `services.referrals.submission.ReferralDraft`. The student list comes from the context
(``choices["mentees"]``): a mentor only ever sees and picks their own mentees.

A mentee who already has an open referral or a running trajectory is in the context's
``choices["existing"]``; picking one sets the hidden answer ``has_existing`` and asks one more
question: the warning, with the open referral's date and stage (``details``), and a button to
continue; « Back picks another student, Stop ends the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from dialogs.flow import Answers, AnswerValue, Flow, FlowContext, Option, Step, StepKind
from dialogs.text import N_, Text

MENTEES = "mentees"
#: The context's options of the mentees with an open referral or a running trajectory (code:
#: the student's id; the label is not shown, the warning lines come as the step's details).
EXISTING = "existing"
#: An answer of no step: the student picked has an open referral or trajectory.
HAS_EXISTING = "has_existing"
#: The step that warns about it.
EXISTING_STEP = "existing_referral"
CONTINUE = "continue"
#: Free text long enough for a real help question, short enough for a phone.
HELP_TEXT_MIN, HELP_TEXT_MAX = 10, 1000


def _parents_informed(answers: Answers) -> bool:
    return answers.get("parents_informed") is True


def _note_existing(
    value: AnswerValue, before: Answers, context: FlowContext
) -> Mapping[str, AnswerValue | None]:
    # Another student asks again (or not at all); the same one keeps the answer given.
    existing = {option.code for option in context.choices.get(EXISTING, ())}
    changes: dict[str, AnswerValue | None] = {HAS_EXISTING: True if value in existing else None}
    if before.get("student_id") != value:
        changes[EXISTING_STEP] = None
    return changes


def _nothing_open(answers: Answers) -> bool:
    return answers.get(HAS_EXISTING) is not True


def existing_note(student: Text, sent_on: date, stage: Text) -> Text:
    """One open referral or trajectory of the student picked, as the warning says it."""
    return Text.of(
        N_("Note: {student} already has a referral from {date} ({stage})."),
        student=student,
        date=sent_on,
        stage=stage,
    )


def existing_details(notes: Sequence[Text]) -> Mapping[str, tuple[Text, ...]]:
    """The context's ``details`` for these notes: under the warning (with the ways on) and
    under the summary (so the mentor sees it again before sending)."""
    if not notes:
        return {}
    ways_on = Text.of(
        N_(
            "You can still send a new referral: the care coordinator sees both and can "
            "combine them. Or choose another student (« Back), or stop."
        )
    )
    return {EXISTING_STEP: (*notes, ways_on), "summary": tuple(notes)}


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
            derive=_note_existing,
        ),
        Step(
            EXISTING_STEP,
            StepKind.SINGLE,
            options=(Option(CONTINUE, Text.of(N_("Continue with a new referral"))),),
            skip_if=_nothing_open,
            prompt=N_("Before you go on:"),
            label=N_("Already open"),
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
