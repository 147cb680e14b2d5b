"""The referral's optional questions (issue 15): behind one gate, each skippable, the consent
steps from the context's parents of the student picked, the student's own-voice flow."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from dialogs.flow import FlowContext, Option
from dialogs.flows.student_voice import REFERRAL, STUDENT_VOICE
from dialogs.flows.verwijzing import HAS_PARENTS, MENTEES, VERWIJZING, parents_key
from dialogs.state import Status
from dialogs.text import Text
from tests.dialogs.helpers import TODAY, Chat, day, labels, opt, render

_CONTEXT = FlowContext(
    today=TODAY,
    choices=MappingProxyType(
        {
            MENTEES: (
                Option("s01", Text.raw("Zoë de Vries")),
                Option("s02", Text.raw("Noah Bakker")),
            ),
            # Only the first student has parents the mentor can record consent of.
            parents_key("s01"): (Option("7", Text.raw("Ria de Vries")),),
        }
    ),
)


def _to_gate(student: str = "Zoë de Vries", support: tuple[str, ...] = ("time_out",)) -> Chat:
    chat = Chat(VERWIJZING, _CONTEXT)
    chat.press(student)
    chat.type("Ik wil minder boos worden in de klas.")
    chat.type("Hoe help ik hem rustig te blijven?")
    chat.type("Twee gesprekken met de mentor.")
    chat.press("Skip", "Skip", opt("urgency", "normal"), "Yes")
    chat.press(*(opt("support", code) for code in support), "Done ✓")
    chat.press(day(date(2026, 11, 30)))
    chat.press(opt("intake_days", "mon"), "Done ✓")
    assert chat.state.step == "more_details"
    return chat


def test_no_at_the_gate_goes_straight_to_the_summary() -> None:
    chat = _to_gate()
    chat.press("No")
    assert chat.state.step == "summary"


def test_every_optional_question_is_asked_and_kept_as_codes() -> None:
    chat = _to_gate(support=("time_out", "class_observation"))
    chat.press("Yes")
    assert chat.state.step == "external_care"
    chat.press("Yes")
    chat.type("Jeugdhulp, wekelijks.")
    chat.press("I don't know")  # OPP
    chat.press("Some")
    chat.type("veel")  # not a number
    assert chat.state.step == "absence_days"
    chat.type("25")  # more than four weeks of school days
    assert chat.state.step == "absence_days"
    chat.type("3")
    assert chat.state.step == "observation_focus"
    chat.press("The class or a group in it", "The teacher's approach", "Done ✓")
    assert "Türkçe" in labels(chat.question)
    chat.press("Türkçe", "Yes")  # language, interpreter
    chat.press("Support from the support room", "The district coach (from the partnership)")
    chat.press("Done ✓")
    assert chat.state.step == "consent_parent"
    chat.press("Ria de Vries")
    chat.press("The district coach (from the partnership)", "Done ✓")
    chat.press("Yes")  # ask the student now
    assert chat.state.step == "summary"
    assert "Consent of the parent: The district coach (from the partnership)" in render(
        chat.question
    )
    chat.press("Send ✓")

    assert chat.state.status is Status.COMPLETED
    answers = dict(chat.state.answers)
    assert answers[HAS_PARENTS] is True
    expected = {
        "more_details": True,
        "external_care": "yes",
        "external_care_which": "Jeugdhulp, wekelijks.",
        "has_opp": "unknown",
        "absence": "some",
        "absence_days": "3",
        "observation_focus": ["class", "teacher"],
        "parents_language": "tr",
        "interpreter_needed": True,
        "consent_student": ["trajectory", "district_coach"],
        "consent_parent": "7",
        "consent_parent_purposes": ["district_coach"],
        "ask_student_now": True,
    }
    assert expected.items() <= answers.items()


def test_questions_that_do_not_apply_are_not_asked() -> None:
    # No class observation asked for, absence none, no external care, a student without
    # parents on record: no observation, days, which-care or parent questions.
    chat = _to_gate(student="Noah Bakker")
    chat.press("Yes", "No, none", "No", "None worth mentioning")
    assert chat.state.step == "parents_language"
    chat.press("Skip", "Skip", "Skip")  # language, interpreter, student's consent
    assert chat.state.step == "ask_student_now"


def test_another_student_drops_the_parent_picked_for_the_first() -> None:
    chat = _to_gate()
    chat.press("Yes", "Skip", "Skip", "Skip", "Skip", "Skip", "Skip")
    chat.press("Ria de Vries")
    assert chat.state.answers["consent_parent"] == "7"
    chat.press("Skip", "Skip")
    assert chat.state.step == "summary"
    chat.press("Change an answer", "Student", "Noah Bakker")
    assert chat.state.answers["student_id"] == "s02"
    assert "consent_parent" not in chat.state.answers
    assert HAS_PARENTS not in chat.state.answers


def test_the_student_voice_flow_keeps_the_students_own_words() -> None:
    chat = Chat(STUDENT_VOICE)
    chat.state = chat.state.evolve(answers={REFERRAL: "12"})
    chat.type("kort")  # too short
    assert chat.state.step == "own_words"
    chat.type("Ik wil me beter kunnen concentreren.")
    assert chat.state.step == "summary"
    chat.press("Send ✓")
    assert chat.state.status is Status.COMPLETED
    assert chat.state.answers["own_words"] == "Ik wil me beter kunnen concentreren."
