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
from dialogs.i18n import LANGUAGE_NAMES, LANGUAGES
from dialogs.text import N_, Text

MENTEES = "mentees"
#: The context's options of the mentees with an open referral or a running trajectory (code:
#: the student's id; the label is not shown, the warning lines come as the step's details).
EXISTING = "existing"
#: An answer of no step: the student picked has an open referral or trajectory.
HAS_EXISTING = "has_existing"
#: The step that warns about it.
EXISTING_STEP = "existing_referral"
#: The step that picks the student, and the summary (both show the open referrals too).
STUDENT_STEP = "student_id"
SUMMARY_STEP = "summary"
CONTINUE = "continue"
#: The context's options of each mentee's parents (``parents:<student id>``; code: parent id).
PARENTS = "parents"
#: An answer of no step: the student picked has parents the mentor can record consent of.
HAS_PARENTS = "has_parents"
#: The gate of the optional questions at the end (issue 15): "no" skips them all.
MORE = "more_details"
#: Short free text (which external care; the student's consents are codes).
SHORT_TEXT_MAX = 200
#: Days absent in the last four weeks: at most the school days in them.
ABSENCE_DAYS_MAX = 20
#: Free text long enough for a real help question, short enough for a phone.
HELP_TEXT_MIN, HELP_TEXT_MAX = 10, 1000


def parents_key(student_id: str) -> str:
    """The context's ``choices`` key of one student's parents."""
    return f"{PARENTS}:{student_id}"


def _parents_of_picked(answers: Answers) -> str:
    return parents_key(str(answers.get("student_id", "")))


def _parents_informed(answers: Answers) -> bool:
    return answers.get("parents_informed") is True


def _note_existing(
    value: AnswerValue, before: Answers, context: FlowContext
) -> Mapping[str, AnswerValue | None]:
    # Another student asks again (or not at all); the same one keeps the answer given.
    existing = {option.code for option in context.choices.get(EXISTING, ())}
    has_parents = bool(context.choices.get(parents_key(str(value)), ()))
    changes: dict[str, AnswerValue | None] = {
        HAS_EXISTING: True if value in existing else None,
        HAS_PARENTS: True if has_parents else None,
    }
    if before.get("student_id") != value:
        # Another student: the warning and the parent picked were about the one before.
        changes[EXISTING_STEP] = None
        changes["consent_parent"] = None
        changes["consent_parent_purposes"] = None
    return changes


def _no_more(answers: Answers) -> bool:
    return answers.get(MORE) is not True


def _no_external_care(answers: Answers) -> bool:
    return _no_more(answers) or answers.get("external_care") != "yes"


def _no_absence(answers: Answers) -> bool:
    return _no_more(answers) or answers.get("absence") in (None, "none")


def _no_observation(answers: Answers) -> bool:
    support = answers.get("support")
    return _no_more(answers) or not (isinstance(support, list) and "class_observation" in support)


def _no_parents(answers: Answers) -> bool:
    return _no_more(answers) or answers.get(HAS_PARENTS) is not True


def _no_parent_picked(answers: Answers) -> bool:
    return _no_parents(answers) or not answers.get("consent_parent")


def _absence_days(value: AnswerValue, _answers: Answers, _context: FlowContext) -> Text | None:
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return Text.of(N_("Please type a number of days, for example 3."))
    if int(value) > ABSENCE_DAYS_MAX:
        return Text.of(N_("Four weeks have at most {count} school days."), count=ABSENCE_DAYS_MAX)
    return None


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

YES_NO_UNKNOWN = (
    Option("yes", Text.of(N_("Yes"))),
    Option("no", Text.of(N_("No"))),
    Option("unknown", Text.of(N_("I don't know"))),
)

EXTERNAL_CARE = (
    Option("none", Text.of(N_("No, none"))),
    Option("yes", Text.of(N_("Yes"))),
    Option("unknown", Text.of(N_("I don't know"))),
)

ABSENCE = (
    Option("none", Text.of(N_("None worth mentioning"))),
    Option("some", Text.of(N_("Some"))),
    Option("a_lot", Text.of(N_("A lot"))),
)

OBSERVATION_FOCUS = (
    Option("student", Text.of(N_("The student"))),
    Option("class", Text.of(N_("The class or a group in it"))),
    Option("teacher", Text.of(N_("The teacher's approach"))),
)

#: The parents' language: each language the product speaks, by its own name, or another one.
PARENT_LANGUAGES = (
    *(Option(code, Text.raw(LANGUAGE_NAMES[code])) for code in LANGUAGES),
    Option("other", Text.of(N_("Another language"))),
)

CONSENT_PURPOSES = (
    Option("trajectory", Text.of(N_("Support from the support room"))),
    Option("district_coach", Text.of(N_("The district coach (from the partnership)"))),
    Option("external_care", Text.of(N_("Sharing information with external care"))),
)

VERWIJZING = Flow(
    id="verwijzing",
    version=2,
    title=N_("New referral"),
    done=N_(
        "Your referral has been sent. The care coordinator will look at it within two school "
        "days and let you know the next step."
    ),
    steps=(
        Step(
            STUDENT_STEP,
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
            MORE,
            StepKind.YES_NO,
            prompt=N_(
                "A few more questions are optional: external care, OPP, absence, the "
                "observation, the parents' language and consent. Answer them now?"
            ),
            label=N_("More details"),
        ),
        Step(
            "external_care",
            StepKind.SINGLE,
            options=EXTERNAL_CARE,
            optional=True,
            skip_if=_no_more,
            prompt=N_("Is external care or treatment already involved (for example youth care)?"),
            label=N_("External care"),
        ),
        Step(
            "external_care_which",
            StepKind.TEXT,
            optional=True,
            skip_if=_no_external_care,
            max_length=SHORT_TEXT_MAX,
            prompt=N_("Which care or treatment? (optional, a few words)"),
            label=N_("Which external care"),
            example=N_("Youth care team, weekly; a psychologist since March."),
        ),
        Step(
            "has_opp",
            StepKind.SINGLE,
            options=YES_NO_UNKNOWN,
            optional=True,
            skip_if=_no_more,
            prompt=N_("Does the student have a development perspective plan (OPP)?"),
            label=N_("OPP"),
        ),
        Step(
            "absence",
            StepKind.SINGLE,
            options=ABSENCE,
            optional=True,
            skip_if=_no_more,
            prompt=N_("How much has the student been absent recently?"),
            label=N_("Recent absence"),
        ),
        Step(
            "absence_days",
            StepKind.TEXT,
            optional=True,
            skip_if=_no_absence,
            max_length=2,
            validate=_absence_days,
            prompt=N_("How many days in the last four weeks? (optional)"),
            label=N_("Days absent in the last four weeks"),
            example=N_("3"),
        ),
        Step(
            "observation_focus",
            StepKind.MULTI,
            options=OBSERVATION_FOCUS,
            optional=True,
            skip_if=_no_observation,
            prompt=N_(
                "What should the observation in class look at? Choose one or more, then "
                "press “Done”."
            ),
            label=N_("Observation looks at"),
        ),
        Step(
            "parents_language",
            StepKind.SINGLE,
            options=PARENT_LANGUAGES,
            optional=True,
            skip_if=_no_more,
            search=False,
            prompt=N_("In which language do the parents prefer to talk?"),
            label=N_("Parents' language"),
        ),
        Step(
            "interpreter_needed",
            StepKind.YES_NO,
            optional=True,
            skip_if=_no_more,
            prompt=N_("Do the parents need an interpreter?"),
            label=N_("Interpreter needed"),
        ),
        Step(
            "consent_student",
            StepKind.MULTI,
            options=CONSENT_PURPOSES,
            optional=True,
            skip_if=_no_more,
            prompt=N_(
                "What has the student given consent for? Choose, then press “Done”; "
                "skip when there is no consent yet."
            ),
            label=N_("Consent of the student"),
        ),
        Step(
            "consent_parent",
            StepKind.SINGLE,
            options_from=_parents_of_picked,
            optional=True,
            skip_if=_no_parents,
            prompt=N_("Which parent has given consent? Skip when no parent has yet."),
            label=N_("Parent who consented"),
        ),
        Step(
            "consent_parent_purposes",
            StepKind.MULTI,
            options=CONSENT_PURPOSES,
            optional=True,
            skip_if=_no_parent_picked,
            prompt=N_("What has this parent given consent for? Choose, then press “Done”."),
            label=N_("Consent of the parent"),
        ),
        Step(
            "ask_student_now",
            StepKind.YES_NO,
            optional=True,
            skip_if=_no_more,
            prompt=N_(
                "Shall the student be asked now, in the chat, for their own help question? "
                "(Otherwise they are asked once the referral is accepted.)"
            ),
            label=N_("Ask the student now"),
        ),
        Step(
            SUMMARY_STEP,
            StepKind.SUMMARY,
            prompt=N_("Please check your referral before sending it:"),
            label=N_("Summary"),
        ),
    ),
)
