"""“Question n of total” counts the questions this person actually goes through."""

from __future__ import annotations

from dialogs.flow import Answers, Step, StepKind
from dialogs.flows.verwijzing import VERWIJZING
from tests.dialogs.helpers import (
    Chat,
    mentee_context,
    opt,
    options,
    render,
    toy_flow,
)


def _progress(chat: Chat) -> str:
    return render(chat.question).splitlines()[0]


def _wants_more(answers: Answers) -> bool:
    return answers.get("more") is not True


MORE = Step("more", StepKind.YES_NO, prompt="More?", label="More")
EXTRA = Step("extra", StepKind.TEXT, prompt="Extra?", label="Extra", skip_if=_wants_more)
LAST = Step("last", StepKind.SINGLE, prompt="Last?", label="Last", options=options("a", "b"))


def test_progress_counts_only_active_questions_and_not_the_summary() -> None:
    chat = Chat(toy_flow(MORE, EXTRA, LAST))
    assert _progress(chat) == "Question 1 of 2"

    chat.press("Yes")
    assert chat.state.step == "extra"
    assert _progress(chat) == "Question 2 of 3"

    chat.type("something")
    assert _progress(chat) == "Question 3 of 3"


def test_progress_total_shrinks_when_a_question_drops_out() -> None:
    chat = Chat(toy_flow(MORE, EXTRA, LAST))

    chat.press("No")

    assert chat.state.step == "last"
    assert _progress(chat) == "Question 2 of 2"


def _to_parents_informed() -> Chat:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Zoë de Vries")
    chat.type("Ik wil minder boos worden.")
    chat.type("Hoe help ik hem rustig te blijven?")
    chat.type("Twee gesprekken met de mentor.")
    chat.press("Skip", "Skip", opt("urgency", "normal"))
    assert chat.state.step == "parents_informed"
    return chat


def test_verwijzing_progress_with_parents_informed() -> None:
    chat = _to_parents_informed()
    assert _progress(chat) == "Question 8 of 13"

    chat.press("Yes")

    assert chat.state.step == "support"
    assert _progress(chat) == "Question 9 of 12"


def test_verwijzing_progress_with_parents_not_informed() -> None:
    chat = _to_parents_informed()

    chat.press("No")
    assert chat.state.step == "parents_not_informed_reason"
    assert _progress(chat) == "Question 9 of 13"

    chat.type("Ik bel ze donderdag.")
    assert _progress(chat) == "Question 10 of 13"


def test_progress_after_going_back_and_changing_the_branch() -> None:
    chat = _to_parents_informed()
    chat.press("No")
    chat.type("Ik bel ze donderdag.")
    chat.press("« Back", "« Back")
    assert chat.state.step == "parents_informed"

    chat.press("Yes")

    assert chat.state.step == "support"
    assert _progress(chat) == "Question 9 of 12"
