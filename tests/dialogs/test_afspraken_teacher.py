"""The booking flow's optional question for a time-out: whose lesson the student leaves
(issue 11, item 6). Pure: the context is built as the binding builds it, with the school's
teachers under `TEACHERS`."""

from __future__ import annotations

from types import MappingProxyType

from dialogs.events import Action
from dialogs.flow import Answers, FlowContext, Option
from dialogs.flows.afspraken import (
    BOOK,
    FOR_STUDENT,
    GESPREK,
    KIND,
    TEACHER,
    TEACHERS,
    TIME,
    TIME_OUT,
    teacher_to_tell,
)
from dialogs.text import Text
from tests.dialogs.helpers import LiveChat, labels, notices, render
from tests.dialogs.test_afspraken import build as build_slots

TEACHER_OPTIONS = (
    Option("31", Text.raw("Tessa Aalbers")),
    Option("32", Text.raw("Timo Brakel")),
    Option("33", Text.raw("Mila Claessen")),
)


def build(answers: Answers) -> FlowContext:
    """The slots of `test_afspraken`, and the teachers when a time-out is chosen."""
    context = build_slots(answers)
    choices = dict(context.choices)
    if answers.get(KIND) == TIME_OUT:
        choices[TEACHERS] = TEACHER_OPTIONS
    return FlowContext(today=context.today, choices=MappingProxyType(choices))


def _to_teacher_question() -> LiveChat:
    chat = LiveChat(BOOK, build, **{FOR_STUDENT: "7"})
    chat.press("Time-out moment", "Tuesday, November 24", "10:30\u202fAM")
    return chat


def test_a_time_out_asks_whose_lesson_with_the_teachers_and_skip() -> None:
    chat = _to_teacher_question()
    question = render(chat.question)
    assert "Question 4 of 4" in question
    assert "Whose lesson are you leaving?" in question
    assert "not the reason" in question  # the student knows what the teacher reads
    assert labels(chat.question) == [
        "Tessa Aalbers",
        "Timo Brakel",
        "Mila Claessen",
        "« Back",
        "Skip",
        "Stop",
    ]
    chat.press("Timo Brakel")
    assert "Teacher told: Timo Brakel" in render(chat.question)
    chat.press("Book ✓")
    assert chat.state.answers[TEACHER] == "32"
    assert teacher_to_tell(chat.state.answers) == "32"


def test_typing_part_of_a_name_finds_the_teacher() -> None:
    chat = _to_teacher_question()
    chat.type("brak")
    assert labels(chat.question)[0] == "Timo Brakel"
    assert "Tessa Aalbers" not in labels(chat.question)


def test_a_forged_teacher_is_not_accepted() -> None:
    chat = _to_teacher_question()
    replies = chat.act(Action.CHOOSE, "99")
    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert TEACHER not in chat.state.answers


def test_skipping_tells_nobody() -> None:
    chat = _to_teacher_question()
    chat.press("Skip")
    assert "Teacher told: skipped" in render(chat.replies[0])
    chat.press("Book ✓")
    assert teacher_to_tell(chat.state.answers) is None


def test_another_time_asks_again_and_another_kind_tells_nobody() -> None:
    chat = _to_teacher_question()
    chat.press("Tessa Aalbers")
    chat.press("Change an answer", "Time", "9:00\u202fAM")
    assert chat.state.step == TEACHER  # another time may be another lesson
    assert TEACHER not in chat.state.answers
    assert chat.state.answers[TIME] == "2026-11-24T0900"
    # A teacher chosen, then the kind changed: only a time-out is ever announced.
    assert teacher_to_tell({KIND: GESPREK, TEACHER: "31"}) is None
    assert teacher_to_tell({KIND: TIME_OUT, TEACHER: "31"}) == "31"


def test_other_kinds_never_ask() -> None:
    chat = LiveChat(BOOK, build, **{FOR_STUDENT: "7"})
    chat.press("Support talk", "Wednesday, November 25", "2:00\u202fPM")
    assert chat.state.step == "summary"
