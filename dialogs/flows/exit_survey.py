"""The standard exit questionnaire (exit-vragenlijst), version 1: one flow per respondent type.

Each question has a stable code (S1…S5 for students, P1…P5 for parents, T1…T5 for teachers
and mentors). The step key *is* the code, so the answers a flow confirms are already keyed the
way storage keeps them: a statement's answer is a scale code (``"1"``…``"5"``, or ``"na"`` for
"don't know"), the open question's answer is free text. Wording changes make a new version
(a new `Flow.version`); the codes stay, so results remain comparable across versions and
languages.

The invitation the respondent answers is a preset answer (`SURVEY_INVITATION`), not a question:
the flow starts from the invitation's own button, and storage checks again that it is this
person's, not used and not expired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dialogs.engine import SCALE_OPTIONS
from dialogs.flow import Flow, Step, StepKind
from dialogs.text import N_, Text

SURVEY_INVITATION = "survey_invitation_id"
VERSION = 1
#: Longest open answer, in characters (storage checks it again).
OPEN_ANSWER_MAX = 1000
#: What one question takes, honestly: reading, choosing, a few open words at the end.
SECONDS_PER_QUESTION = 25

STUDENT, PARENT, TEACHER = "student", "parent", "teacher"
RESPONDENT_TYPES: tuple[str, ...] = (STUDENT, PARENT, TEACHER)
#: The scale answers a statement can have (stored as is).
SCALE_CODES: tuple[str, ...] = tuple(option.code for option in SCALE_OPTIONS)
NOT_APPLICABLE = "na"

#: The step (first, for students and parents) where the respondent chooses to answer
#: anonymously; its answer is a yes/no and is not stored as an answer.
ANONYMOUS = "anonymous"
#: Who may answer anonymously (domain: "for parents and students who want one").
ANONYMOUS_TYPES: tuple[str, ...] = (STUDENT, PARENT)
#: The statements about "the agreed goals": the trajectory's goals are shown above them.
GOAL_CODES: frozenset[str] = frozenset({"S2", "P2", "T4"})

RESPONDENT_LABELS: Mapping[str, str] = MappingProxyType(
    {STUDENT: N_("student"), PARENT: N_("parent"), TEACHER: N_("teacher")}
)


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    """One question: its stable code, the statement (or open question) and a short label.

    ``open`` questions take free text and are optional; the others are 1–5 statements.
    """

    code: str
    text: str
    label: str
    open: bool = False


QUESTIONS: Mapping[str, tuple[SurveyQuestion, ...]] = MappingProxyType(
    {
        STUDENT: (
            SurveyQuestion(
                "S1", N_("The talks at the support room helped me."), N_("The talks helped")
            ),
            SurveyQuestion("S2", N_("I (almost) reached my goals."), N_("Goals reached")),
            SurveyQuestion(
                "S3",
                N_("I can now take part better in my regular lessons."),
                N_("Taking part in lessons"),
            ),
            SurveyQuestion(
                "S4", N_("I felt welcome and taken seriously."), N_("Welcome and taken seriously")
            ),
            SurveyQuestion(
                "S5", N_("What could be better?"), N_("What could be better"), open=True
            ),
        ),
        PARENT: (
            SurveyQuestion(
                "P1",
                N_("I am satisfied with the support my child received."),
                N_("Satisfied with the support"),
            ),
            SurveyQuestion("P2", N_("The agreed goals were reached."), N_("Goals reached")),
            SurveyQuestion(
                "P3",
                N_("I had one contact person and was kept well informed."),
                N_("Contact and information"),
            ),
            SurveyQuestion(
                "P4",
                N_("My child can now take part better in regular lessons."),
                N_("Taking part in lessons"),
            ),
            SurveyQuestion(
                "P5",
                N_("Is there anything else you would like to tell us?"),
                N_("Anything else"),
                open=True,
            ),
        ),
        TEACHER: (
            SurveyQuestion(
                "T1",
                N_("The support helped the student take part better in my lessons."),
                N_("Student takes part better"),
            ),
            SurveyQuestion(
                "T2",
                N_("I received useful advice on how to work with this student."),
                N_("Useful advice"),
            ),
            SurveyQuestion(
                "T3", N_("Communication with the support room went well."), N_("Communication")
            ),
            SurveyQuestion("T4", N_("The agreed goals were reached."), N_("Goals reached")),
            SurveyQuestion(
                "T5", N_("What could be better?"), N_("What could be better"), open=True
            ),
        ),
    }
)


def _step(question: SurveyQuestion) -> Step:
    if question.open:
        return Step(
            question.code,
            StepKind.TEXT,
            optional=True,
            max_length=OPEN_ANSWER_MAX,
            prompt=question.text,
            label=question.label,
            example=N_("More time to talk before the lessons started again."),
        )
    return Step(question.code, StepKind.SCALE, prompt=question.text, label=question.label)


_ANONYMOUS_STEP = Step(
    ANONYMOUS,
    StepKind.YES_NO,
    prompt=N_(
        "Do you want to answer anonymously? Then nobody at school sees that these answers are "
        "yours, and they are only counted together with the answers of others."
    ),
    label=N_("Answer anonymously"),
)


def _flow(respondent_type: str) -> Flow:
    first = (_ANONYMOUS_STEP,) if respondent_type in ANONYMOUS_TYPES else ()
    return Flow(
        id=f"exit_{respondent_type}",
        version=VERSION,
        title=N_("Exit questionnaire"),
        done=N_(
            "Thank you! Your answers have been sent. They help the school make the support better."
        ),
        steps=(
            *first,
            *(_step(question) for question in QUESTIONS[respondent_type]),
            Step(
                "summary",
                StepKind.SUMMARY,
                prompt=N_("Please check your answers before sending them:"),
                label=N_("Summary"),
            ),
        ),
    )


EXIT_STUDENT = _flow(STUDENT)
EXIT_PARENT = _flow(PARENT)
EXIT_TEACHER = _flow(TEACHER)

#: The flow each respondent type answers.
SURVEY_FLOWS: Mapping[str, Flow] = MappingProxyType(
    {STUDENT: EXIT_STUDENT, PARENT: EXIT_PARENT, TEACHER: EXIT_TEACHER}
)
#: The respondent type of each survey flow id.
RESPONDENT_OF_FLOW: Mapping[str, str] = MappingProxyType(
    {flow.id: respondent_type for respondent_type, flow in SURVEY_FLOWS.items()}
)


def question(code: str) -> SurveyQuestion:
    """The question with this code in any questionnaire (KeyError for an unknown code)."""
    for questions in QUESTIONS.values():
        for candidate in questions:
            if candidate.code == code:
                return candidate
    raise KeyError(code)


def chose_anonymous(respondent_type: str, answers: Mapping[str, object]) -> bool:
    """Whether these answers are to be stored anonymously (only students and parents may)."""
    return respondent_type in ANONYMOUS_TYPES and answers.get(ANONYMOUS) is True


def remaining_time(respondent_type: str) -> Mapping[str, tuple[Text, ...]]:
    """Per step key, the honest time left including that step ("about 1 minute")."""
    codes = [step.key for step in SURVEY_FLOWS[respondent_type].steps[:-1]]
    shown: dict[str, tuple[Text, ...]] = {}
    for index, code in enumerate(codes):
        left = len(codes) - index
        minutes = max(1, (left * SECONDS_PER_QUESTION + 30) // 60)
        shown[code] = (
            Text.plural_of("About {count} minute left.", "About {count} minutes left.", minutes),
        )
    return MappingProxyType(shown)


def scale_label(code: str) -> Text:
    """How a scale code reads ("4 · Agree", "Don't know"); the code itself when unknown."""
    for option in SCALE_OPTIONS:
        if option.code == code:
            return option.label
    return Text.raw(code)
