"""A mentor picks a student who already has an open referral or running support: warned, with
its date and stage, and free to continue, pick another student or stop (issue 11, item 5).

The context is built from the answers as `services.conversations.bindings` does it (the
warning's lines are the ``details`` of the student picked), through `LiveChat`.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from dialogs.flow import Answers, FlowContext, Option
from dialogs.flows.verwijzing import (
    CONTINUE,
    EXISTING,
    EXISTING_STEP,
    HAS_EXISTING,
    MENTEES,
    VERWIJZING,
    existing_details,
    existing_note,
)
from dialogs.replies import ReplyKind
from dialogs.state import Status
from dialogs.text import Text
from tests.dialogs.helpers import (
    EN,
    MENTEE_OPTIONS,
    TODAY,
    LiveChat,
    day,
    kinds,
    label,
    opt,
    render,
)

#: Ahmed (s02) has a referral from 3 November the care coordinator is looking at.
SENT_ON = date(2026, 11, 3)
STAGE = Text.of("the care coordinator is looking at it")
NOTE = f"Note: Ahmed Çelik already has a referral from {day(SENT_ON)} ({EN.render(STAGE)})."
CONTINUE_LABEL = "Continue with a new referral"


def build(answers: Answers) -> FlowContext:
    """A mentor of the helper's mentees; Ahmed (s02) has something open."""
    notes = (
        (existing_note(Text.raw("Ahmed Çelik"), SENT_ON, STAGE),)
        if answers.get("student_id") == "s02"
        else ()
    )
    return FlowContext(
        today=TODAY,
        choices=MappingProxyType(
            {MENTEES: MENTEE_OPTIONS, EXISTING: (Option("s02", Text.raw("")),)}
        ),
        details=MappingProxyType(dict(existing_details(notes))),
    )


def _fill_rest(chat: LiveChat) -> None:
    chat.type("Ik wil rustiger worden.")
    chat.type("Hoe help ik haar focussen?")
    chat.type("Een gesprek met de ouders.")
    chat.type("Vaste routine.")
    chat.type("Vooraan zitten.")
    chat.press(opt("urgency", "low"), "Yes")
    chat.press(opt("support", "conversations"), "Done ✓")
    chat.press(day(date(2026, 11, 27)))
    chat.press(opt("intake_days", "mon"), "Done ✓", "No")


def test_picking_a_student_with_an_open_referral_warns_with_its_date_and_stage() -> None:
    chat = LiveChat(VERWIJZING, build)

    replies = chat.press("Ahmed Çelik")

    assert kinds(replies) == [ReplyKind.ANSWERED, ReplyKind.QUESTION]
    assert chat.state.step == EXISTING_STEP
    assert render(replies[1]).splitlines() == [
        "Question 2 of 14",
        "Before you go on:",
        NOTE,
        "You can still send a new referral: the care coordinator sees both and can combine "
        "them. Or choose another student (« Back), or stop.",
    ]
    assert [[EN.render(b.label) for b in row] for row in replies[1].rows] == [
        [CONTINUE_LABEL],
        ["« Back", "Stop"],
    ]


def test_continue_goes_on_and_the_summary_shows_the_note_again() -> None:
    chat = LiveChat(VERWIJZING, build)
    chat.press("Ahmed Çelik")

    chat.press(CONTINUE_LABEL)
    assert chat.state.step == "help_question_student"
    _fill_rest(chat)

    summary = render(chat.question).splitlines()
    assert f"{label(EXISTING_STEP)}: {CONTINUE_LABEL}" in summary
    assert summary[-1] == NOTE
    chat.press("Send ✓")
    assert chat.state.status is Status.COMPLETED
    assert chat.state.answers["student_id"] == "s02"
    assert chat.state.answers[HAS_EXISTING] is True
    assert chat.state.answers[EXISTING_STEP] == CONTINUE


def test_a_student_with_nothing_open_is_not_warned() -> None:
    chat = LiveChat(VERWIJZING, build)

    chat.press("Zoë de Vries")

    assert chat.state.step == "help_question_student"
    assert "Question 2 of 13" in render(chat.question)
    assert HAS_EXISTING not in chat.state.answers
    _fill_rest(chat)
    assert not any(line.startswith("Note:") for line in render(chat.question).splitlines())


def test_stop_on_the_warning_sends_nothing() -> None:
    chat = LiveChat(VERWIJZING, build)
    chat.press("Ahmed Çelik")

    replies = chat.press("Stop")

    assert chat.state.status is Status.CANCELLED
    assert render(replies[-1]) == "Stopped. Nothing has been sent."


def test_back_picks_another_student_and_the_warning_is_gone() -> None:
    chat = LiveChat(VERWIJZING, build)
    chat.press("Ahmed Çelik")

    chat.press("« Back")
    assert chat.state.step == "student_id"
    chat.press("Zoë de Vries")

    assert chat.state.step == "help_question_student"
    assert HAS_EXISTING not in chat.state.answers
    assert EXISTING_STEP not in chat.state.answers


def test_changing_the_student_from_the_summary_asks_the_warning_again() -> None:
    chat = LiveChat(VERWIJZING, build)
    chat.press("Zoë de Vries")
    _fill_rest(chat)
    assert chat.state.step == "summary"

    chat.press("Change an answer", label("student_id"), "Ahmed Çelik")
    assert chat.state.step == EXISTING_STEP
    assert NOTE in render(chat.question).splitlines()
    chat.press(CONTINUE_LABEL)

    assert chat.state.step == "summary"
    assert render(chat.question).splitlines()[-1] == NOTE
