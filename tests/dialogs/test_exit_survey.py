"""The exit questionnaire flows as data and through the pure engine."""

from __future__ import annotations

import pytest

from dialogs.engine import start
from dialogs.flow import FlowContext, StepKind
from dialogs.flows import get_flow
from dialogs.flows.exit_survey import (
    ANONYMOUS,
    ANONYMOUS_TYPES,
    GOAL_CODES,
    QUESTIONS,
    RESPONDENT_OF_FLOW,
    SCALE_CODES,
    SURVEY_FLOWS,
    SURVEY_INVITATION,
    VERSION,
    chose_anonymous,
    question,
    remaining_time,
)
from dialogs.state import Status
from tests.dialogs.helpers import EN, TODAY, Chat, render

CODES = {
    "student": ["S1", "S2", "S3", "S4", "S5"],
    "parent": ["P1", "P2", "P3", "P4", "P5"],
    "teacher": ["T1", "T2", "T3", "T4", "T5"],
}


@pytest.mark.parametrize("respondent_type", ["student", "parent", "teacher"])
def test_each_questionnaire_asks_four_statements_and_one_open_question(
    respondent_type: str,
) -> None:
    flow = SURVEY_FLOWS[respondent_type]
    assert flow.version == VERSION == 1
    assert get_flow(flow.id) is flow
    assert RESPONDENT_OF_FLOW[flow.id] == respondent_type
    asked = [step for step in flow.steps if step.kind is not StepKind.SUMMARY]
    if respondent_type in ANONYMOUS_TYPES:
        # Students and parents first choose whether to answer anonymously.
        choice, *asked = asked
        assert (choice.key, choice.kind) == (ANONYMOUS, StepKind.YES_NO)
    assert [step.key for step in asked] == CODES[respondent_type]
    assert [step.kind for step in asked] == [StepKind.SCALE] * 4 + [StepKind.TEXT]
    assert [step.optional for step in asked] == [False] * 4 + [True]
    assert flow.steps[-1].kind is StepKind.SUMMARY
    assert [q.code for q in QUESTIONS[respondent_type]] == CODES[respondent_type]


def test_the_wording_is_the_standard_set() -> None:
    assert question("S1").text == "The talks at the support room helped me."
    assert question("P3").text == "I had one contact person and was kept well informed."
    assert question("T5").text == "What could be better?"
    assert question("T5").open
    assert SCALE_CODES == ("1", "2", "3", "4", "5", "na")
    with pytest.raises(KeyError):
        question("X1")


def test_answers_are_kept_by_code_with_the_preset_invitation() -> None:
    chat = Chat(SURVEY_FLOWS["teacher"], FlowContext(today=TODAY))
    # The invitation is a preset: restart the conversation the way storage does.
    chat.state, chat.replies = start(
        chat.flow, chat.context, {SURVEY_INVITATION: "7"}, run="run001"
    )
    assert [EN.render(b.label) for b in chat.question.buttons][:6] == [
        "1 · Strongly disagree",
        "2 · Disagree",
        "3 · Neutral",
        "4 · Agree",
        "5 · Strongly agree",
        "Don't know",
    ]
    chat.press("4 · Agree", "Don't know", "1 · Strongly disagree", "5 · Strongly agree")
    chat.type("  Meer overleg met de mentor.  ")
    assert "Please check your answers before sending them:" in render(chat.question)
    chat.press("Send ✓")
    assert chat.state.status is Status.COMPLETED
    assert dict(chat.state.answers) == {
        SURVEY_INVITATION: "7",
        "T1": "4",
        "T2": "na",
        "T3": "1",
        "T4": "5",
        "T5": "Meer overleg met de mentor.",
    }


def test_a_statement_needs_an_answer_and_the_open_question_can_be_skipped() -> None:
    chat = Chat(SURVEY_FLOWS["student"])
    chat.press("No")
    assert "Skip" not in [EN.render(b.label) for b in chat.question.buttons]
    chat.type("goed")
    assert chat.state.step == "S1"  # typing is no answer to a statement
    chat.press("5 · Strongly agree", "4 · Agree", "3 · Neutral", "2 · Disagree", "Skip")
    assert chat.state.step == "summary"
    chat.press("Send ✓")
    assert "S5" not in chat.state.answers
    assert chat.state.answers[ANONYMOUS] is False


def test_students_and_parents_may_answer_anonymously_teachers_not() -> None:
    assert ANONYMOUS_TYPES == ("student", "parent")
    assert SURVEY_FLOWS["teacher"].steps[0].key == "T1"
    assert chose_anonymous("parent", {ANONYMOUS: True})
    assert not chose_anonymous("parent", {ANONYMOUS: False})
    assert not chose_anonymous("parent", {})
    # A teacher's answers are never stored anonymously, even if a forged answer says so.
    assert not chose_anonymous("teacher", {ANONYMOUS: True})
    assert frozenset({"S2", "P2", "T4"}) == GOAL_CODES
    assert all("goals" in question(code).text for code in GOAL_CODES)


def test_the_time_left_is_honest_and_shrinks() -> None:
    shown = {code: EN.render(lines[0]) for code, lines in remaining_time("parent").items()}
    assert shown == {
        "anonymous": "About 3 minutes left.",
        "P1": "About 2 minutes left.",
        "P2": "About 2 minutes left.",
        "P3": "About 1 minute left.",
        "P4": "About 1 minute left.",
        "P5": "About 1 minute left.",
    }
