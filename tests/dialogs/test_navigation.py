"""Back, skip, stop and changing answers from the summary."""

from __future__ import annotations

from dialogs.events import Action
from dialogs.flow import Answers, Step, StepKind
from dialogs.flows.verwijzing import VERWIJZING
from dialogs.replies import ReplyKind
from dialogs.state import Status
from tests.dialogs.helpers import (
    Chat,
    kinds,
    label,
    labels,
    mentee_context,
    notices,
    opt,
    option_buttons,
    options,
    render,
    toy_flow,
)


def _agreed(answers: Answers) -> bool:
    return answers.get("agree") is True


PET = Step("pet", StepKind.SINGLE, prompt="Which pet?", label="Pet", options=options("cat", "dog"))
AGREE = Step("agree", StepKind.YES_NO, prompt="Agree?", label="Agree")
WHY = Step("why", StepKind.TEXT, prompt="Why not?", label="Why not", skip_if=_agreed)
RATING = Step("rating", StepKind.SCALE, prompt="How good?", label="Rating", optional=True)
FLOW = toy_flow(PET, AGREE, WHY, RATING)


# -- back ------------------------------------------------------------------------------------


def test_back_on_the_first_question_gives_a_notice_and_changes_nothing() -> None:
    chat = Chat(FLOW)
    assert "« Back" not in labels(chat.question)
    before = chat.state

    replies = chat.act(Action.BACK)

    assert notices(replies) == ["This is the first question."]
    assert chat.state == before
    assert replies[-1].step == "pet"


def test_back_goes_to_the_previous_question_and_keeps_its_answer() -> None:
    chat = Chat(FLOW)
    chat.press("Dog")

    replies = chat.press("« Back")

    assert kinds(replies) == [ReplyKind.QUESTION]
    assert chat.state.step == "pet"
    assert chat.state.answers == {"pet": "dog"}
    chat.press("Cat")
    assert chat.state.answers == {"pet": "cat"}
    assert chat.state.step == "agree"


def test_back_skips_questions_whose_skip_condition_holds() -> None:
    chat = Chat(FLOW)
    chat.press("Dog", "Yes")
    assert chat.state.step == "rating"

    chat.press("« Back")

    assert chat.state.step == "agree"


def test_back_visits_a_question_whose_skip_condition_does_not_hold() -> None:
    chat = Chat(FLOW)
    chat.press("Dog", "No")
    assert chat.state.step == "why"
    chat.type("Too tired")

    chat.press("« Back")

    assert chat.state.step == "why"


def test_back_from_the_summary_goes_to_the_last_question() -> None:
    chat = Chat(FLOW)
    chat.press("Dog", "Yes", "Skip")
    assert chat.state.step == "summary"

    chat.press("« Back")

    assert chat.state.step == "rating"


# -- skip ------------------------------------------------------------------------------------


def test_skip_is_offered_and_works_for_an_optional_question() -> None:
    chat = Chat(FLOW)
    chat.press("Dog", "Yes")
    assert "Skip" in labels(chat.question)

    replies = chat.press("Skip")

    assert render(replies[0]) == "Rating: skipped"
    assert replies[0].kind is ReplyKind.ANSWERED
    assert chat.state.step == "summary"
    assert "rating" not in chat.state.answers


def test_skip_removes_an_earlier_answer() -> None:
    chat = Chat(FLOW)
    chat.press("Dog", "Yes", "3 · Neutral")
    assert chat.state.answers["rating"] == "3"
    chat.press("« Back")

    chat.press("Skip")

    assert "rating" not in chat.state.answers


def test_skip_is_refused_for_a_required_question() -> None:
    chat = Chat(FLOW)
    assert "Skip" not in labels(chat.question)
    before = chat.state

    replies = chat.act(Action.SKIP)

    assert notices(replies) == ["This question needs an answer; it cannot be skipped."]
    assert chat.state == before


# -- stop ------------------------------------------------------------------------------------


def test_stop_cancels_the_conversation() -> None:
    chat = Chat(FLOW)
    chat.press("Dog")

    replies = chat.press("Stop")

    assert kinds(replies) == [ReplyKind.DONE]
    assert render(replies[0]) == "Stopped. Nothing has been sent."
    assert chat.state.status is Status.CANCELLED
    assert chat.state.step is None
    assert notices(chat.type("hello")) == ["This conversation has already ended."]


def test_stop_is_offered_on_every_question_and_the_summary() -> None:
    chat = Chat(FLOW)
    seen = []
    for answer in ("Dog", "No"):
        seen.append("Stop" in labels(chat.question))
        chat.press(answer)
    chat.type("Too tired")
    seen.append("Stop" in labels(chat.question))
    chat.press("Skip")
    seen.append("Stop" in labels(chat.question))
    assert chat.state.step == "summary"
    assert seen == [True, True, True, True]


# -- editing from the summary ---------------------------------------------------------------


def _verwijzing_at_summary(parents_informed: bool) -> Chat:
    chat = Chat(VERWIJZING, mentee_context())
    chat.press("Zoë de Vries")
    chat.type("Ik wil minder boos worden.")
    chat.type("Hoe help ik hem rustig te blijven?")
    chat.type("Twee gesprekken met de mentor.")
    chat.press("Skip")
    chat.type("Vooraan zitten.")
    chat.press(opt("urgency", "high"), "Yes" if parents_informed else "No")
    if not parents_informed:
        chat.type("Ik bel ze donderdag.")
    chat.press(opt("support", "time_out"), "Done ✓")
    chat.type("30-11")
    chat.press(opt("intake_days", "tue"), "Done ✓", "No")
    assert chat.state.step == "summary"
    return chat


def test_change_an_answer_pages_the_picker_by_eight() -> None:
    chat = _verwijzing_at_summary(parents_informed=False)  # 12 answers to choose from

    chat.press("Change an answer")

    assert chat.state.picking
    assert render(chat.question) == "Which answer do you want to change?"
    first = [b.event.value for b in option_buttons(chat.question)]
    assert first == [
        "student_id",
        "help_question_student",
        "help_question_teacher",
        "tried",
        "works_at_home",
        "works_at_school",
        "urgency",
        "parents_informed",
    ]
    assert labels(chat.question)[-2:] == ["More…", "« Back to the summary"]

    chat.press("More…")
    second = [b.event.value for b in option_buttons(chat.question)]
    assert second == [
        "parents_not_informed_reason",
        "support",
        "intake_from",
        "intake_days",
        "more_details",
    ]
    assert "More…" not in labels(chat.question)

    chat.press("‹ Previous")
    assert [b.event.value for b in option_buttons(chat.question)] == first


def test_back_from_the_picker_shows_the_summary_again() -> None:
    chat = _verwijzing_at_summary(parents_informed=True)
    summary = render(chat.question)
    chat.press("Change an answer")

    chat.press("« Back to the summary")

    assert not chat.state.picking
    assert chat.state.step == "summary"
    assert render(chat.question) == summary


def test_an_edit_returns_to_the_summary() -> None:
    chat = _verwijzing_at_summary(parents_informed=True)
    chat.press("Change an answer", label("urgency"))
    editing = chat.state
    assert editing.step == "urgency"
    assert editing.editing

    replies = chat.press(opt("urgency", "low"))

    assert kinds(replies) == [ReplyKind.ANSWERED, ReplyKind.QUESTION]
    assert chat.state.step == "summary"
    assert not chat.state.editing
    assert chat.state.answers["urgency"] == "low"
    assert f"{label('urgency')}: {opt('urgency', 'low')}" in render(chat.question).splitlines()


def test_back_while_editing_returns_to_the_summary_unchanged() -> None:
    chat = _verwijzing_at_summary(parents_informed=True)
    answers = dict(chat.state.answers)
    chat.press("Change an answer", label("student_id"))
    assert chat.state.step == "student_id"
    assert "« Back" in labels(chat.question)  # even on the first question

    chat.press("« Back")

    assert chat.state.step == "summary"
    assert not chat.state.editing
    assert chat.state.answers == answers


def test_editing_parents_informed_to_no_asks_the_reason_then_returns() -> None:
    chat = _verwijzing_at_summary(parents_informed=True)
    assert "parents_not_informed_reason" not in chat.state.answers

    chat.press("Change an answer", label("parents_informed"), "No")

    assert chat.state.step == "parents_not_informed_reason"
    assert chat.state.editing
    chat.type("Ik bel ze donderdag.")
    assert chat.state.step == "summary"
    assert chat.state.answers["parents_informed"] is False
    assert chat.state.answers["parents_not_informed_reason"] == "Ik bel ze donderdag."
    summary = render(chat.question).splitlines()
    assert f"{label('parents_not_informed_reason')}: Ik bel ze donderdag." in summary

    chat.press("Send ✓")
    assert chat.state.status is Status.COMPLETED
    assert chat.state.answers["parents_not_informed_reason"] == "Ik bel ze donderdag."


def test_editing_parents_informed_to_yes_drops_the_reason_on_confirm() -> None:
    chat = _verwijzing_at_summary(parents_informed=False)

    chat.press("Change an answer", label("parents_informed"), "Yes")

    assert chat.state.step == "summary"  # nothing new to ask
    assert not any(
        line.startswith(label("parents_not_informed_reason"))
        for line in render(chat.question).splitlines()
    )
    chat.press("Send ✓")
    assert chat.state.status is Status.COMPLETED
    assert chat.state.answers["parents_informed"] is True
    assert "parents_not_informed_reason" not in chat.state.answers


def test_confirm_with_a_required_answer_missing_asks_for_it() -> None:
    chat = _verwijzing_at_summary(parents_informed=True)
    chat.press("Change an answer", label("parents_informed"), "No")
    chat.press("« Back")  # leave the reason unanswered
    assert chat.state.step == "summary"
    assert "parents_not_informed_reason" not in chat.state.answers

    chat.press("Send ✓")

    assert chat.state.status is Status.ACTIVE
    assert chat.state.step == "parents_not_informed_reason"
    chat.type("Ik bel ze donderdag.")
    assert chat.state.step == "summary"
