"""The appointment flows on their own: book, move, cancel, with day and time labels per locale.

The context is built the way `services.conversations.appointment_bindings` builds it (from the
answers so far,
with the pure helpers of `dialogs.flows.afspraken`), over a fixed set of free slots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

import pytest

from dialogs.events import Action
from dialogs.flow import Answers, FlowContext, Option
from dialogs.flows.afspraken import (
    APPOINTMENT,
    BOOK,
    CANCEL,
    DAY,
    FOR_STUDENT,
    GESPREK,
    KIND,
    MOVE,
    OFFERED,
    STUDENT,
    STUDENTS,
    TIME,
    TIME_OUT,
    appointment_text,
    day_label,
    kind_label,
    kinds_key_for,
    offered_key_for,
    offered_options,
    slot_choices,
    slot_code,
    slot_start,
    student_of,
    time_label,
)
from dialogs.i18n import FSI, PDI, SCHOOL_TIMEZONE
from dialogs.render import render_reply
from dialogs.state import Status
from dialogs.text import Text
from tests.dialogs.helpers import CATALOGS, TODAY, Chat, LiveChat, labels, notices, render

NL, AR = CATALOGS.get("nl"), CATALOGS.get("ar")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A school-local wall time as the UTC instant storage uses."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SCHOOL_TIMEZONE).astimezone(
        UTC
    )


TUESDAY = TODAY + timedelta(days=1)  # 24 November 2026
WEDNESDAY = TODAY + timedelta(days=2)
#: Free time-out slots of student 7: two on Tuesday, one on Wednesday.
FREE: dict[tuple[str, str], list[datetime]] = {
    ("7", TIME_OUT): [local(TUESDAY, 10, 30), local(TUESDAY, 9), local(WEDNESDAY, 13)],
    ("7", GESPREK): [local(WEDNESDAY, 14)],
    ("8", GESPREK): [local(TUESDAY, 11)],
}
CHILDREN = (Option("7", Text.raw("Amira")), Option("8", Text.raw("Sem")))


def build(
    answers: Answers, free: Mapping[tuple[str, str], Sequence[datetime]] = FREE
) -> FlowContext:
    """The binding's context in miniature."""
    choices: dict[str, tuple[Option, ...]] = {STUDENTS: CHILDREN}
    student = student_of(answers)
    if student is not None:
        kinds = [kind for (s, kind), starts in free.items() if s == student and starts]
        choices[kinds_key_for(student)] = tuple(Option(k, kind_label(k)) for k in kinds)
        for kind in kinds:
            choices.update(slot_choices(student, kind, free[(student, kind)]))
            offered = answers.get(OFFERED)
            if isinstance(offered, list):
                choices[offered_key_for(student, kind)] = offered_options(
                    offered, free[(student, kind)]
                )
    return FlowContext(today=TODAY, choices=MappingProxyType(choices))


def student_chat() -> LiveChat:
    return LiveChat(BOOK, build, **{FOR_STUDENT: "7"})


def test_a_student_books_a_time_out_in_four_questions_and_a_summary() -> None:
    chat = student_chat()
    assert "Question 1 of 3" in render(chat.question)  # no "who is it for" for a student
    assert labels(chat.question)[:2] == ["Time-out moment", "Support talk"]
    chat.press("Time-out moment")
    assert labels(chat.question)[:2] == ["Tuesday, November 24", "Wednesday, November 25"]
    chat.press("Tuesday, November 24")
    assert labels(chat.question)[:2] == [
        "9:00\u202fAM",
        "10:30\u202fAM",
    ]  # only free times, in order
    chat.press("10:30\u202fAM")
    assert "Question 4 of 4" in render(chat.question)  # a time-out: whose lesson (optional)
    chat.press("Skip")
    summary = render(chat.question)
    assert "Appointment: Time-out moment" in summary
    assert "Day: Tuesday, November 24" in summary
    assert "Time: 10:30\u202fAM" in summary
    assert labels(chat.question)[0] == "Book ✓"
    chat.press("Book ✓")
    assert chat.state.status is Status.COMPLETED
    assert chat.state.answers == {
        FOR_STUDENT: "7",
        KIND: TIME_OUT,
        DAY: "2026-11-24",
        TIME: "2026-11-24T1030",
    }
    assert slot_start(str(chat.state.answers[TIME])) == local(TUESDAY, 10, 30)


def test_a_parent_with_two_children_picks_the_child_first() -> None:
    chat = LiveChat(BOOK, build)
    assert "Who is the appointment for?" in render(chat.question)
    assert labels(chat.question)[:2] == ["Amira", "Sem"]
    chat.press("Sem")
    assert labels(chat.question)[:1] == ["Support talk"]  # Sem's kinds, not Amira's
    chat.press("Support talk", "Tuesday, November 24", "11:00\u202fAM")
    assert "For: Sem" in render(chat.question)
    assert chat.state.answers[STUDENT] == "8"


def test_another_child_from_the_summary_asks_type_day_and_time_again() -> None:
    chat = LiveChat(BOOK, build)
    chat.press("Sem", "Support talk", "Tuesday, November 24", "11:00\u202fAM")
    chat.press("Change an answer", "For", "Amira")
    assert chat.state.step == KIND
    assert set(chat.state.answers) == {STUDENT}
    chat.press("Time-out moment", "Wednesday, November 25", "1:00\u202fPM", "Skip")
    assert chat.state.step == "summary"


def test_a_forged_time_of_another_day_is_refused() -> None:
    chat = student_chat()
    chat.press("Time-out moment", "Tuesday, November 24")
    replies = chat.act(Action.CHOOSE, "2026-11-25T1300")  # free, but on Wednesday
    assert notices(replies) == ["That choice is not available. Please use the buttons."]
    assert TIME not in chat.state.answers


def test_three_weeks_of_days_page_by_eight() -> None:
    days = [TODAY + timedelta(days=n) for n in range(1, 22)]
    school_days = [d for d in days if d.weekday() < 5]
    free = {("7", TIME_OUT): [local(d, 10) for d in school_days]}
    chat = LiveChat(BOOK, lambda a: build(a, free), **{FOR_STUDENT: "7"})
    chat.press("Time-out moment")
    day_buttons = [b for b in chat.question.buttons if b.event.action is Action.CHOOSE]
    assert len(school_days) == 15
    assert len(day_buttons) == 8
    assert "More…" in labels(chat.question)
    chat.press("More…")
    assert len([b for b in chat.question.buttons if b.event.action is Action.CHOOSE]) == 7


def test_no_free_day_says_so() -> None:
    chat = LiveChat(BOOK, lambda a: build(a, {("7", TIME_OUT): []}), **{FOR_STUDENT: "7"})
    assert "There is nothing you can book right now." in render(chat.question)


def test_a_taken_time_offers_alternatives_across_days() -> None:
    """What the runtime does with `SlotTaken`: back to the time question, with the offers."""
    chat = student_chat()
    chat.press("Time-out moment", "Tuesday, November 24", "10:30\u202fAM", "Skip")
    offered = ["2026-11-24T0900", "2026-11-25T1300"]
    chat.state = chat.state.evolve(
        step=TIME, editing=True, answers={**chat.state.answers, OFFERED: offered}
    )
    chat.act(Action.RESUME)
    assert labels(chat.question)[:2] == [
        "Tuesday, November 24, 9:00\u202fAM",
        "Wednesday, November 25, 1:00\u202fPM",
    ]
    chat.press("Wednesday, November 25, 1:00\u202fPM")
    assert chat.state.step == "teacher_id"  # another time may be another lesson
    chat.press("Skip")
    assert chat.state.step == "summary"
    assert chat.state.answers[DAY] == "2026-11-25"  # the day follows the slot
    assert chat.state.answers[TIME] == "2026-11-25T1300"
    assert OFFERED not in chat.state.answers
    assert "Day: Wednesday, November 25" in render(chat.question)


def test_an_offer_taken_meanwhile_is_not_shown() -> None:
    options = offered_options(["2026-11-24T0900", "2026-11-26T0800"], FREE[("7", TIME_OUT)])
    assert [o.code for o in options] == ["2026-11-24T0900"]


def test_moving_asks_day_and_time_for_the_same_kind() -> None:
    move = LiveChat(MOVE, build, **{FOR_STUDENT: "7", KIND: TIME_OUT, APPOINTMENT: "3"})
    assert "Question 1 of 2" in render(move.question)
    move.press("Wednesday, November 25", "1:00\u202fPM")
    assert labels(move.question)[0] == "Move ✓"
    move.press("Move ✓")
    assert move.state.answers[TIME] == "2026-11-25T1300"
    assert move.state.answers[APPOINTMENT] == "3"


def test_cancelling_is_one_confirmation() -> None:
    chat = Chat(CANCEL, FlowContext(today=TODAY))
    assert labels(chat.question) == ["Yes, cancel it", "Stop"]
    chat.press("Stop")
    assert chat.texts == ["Nothing changed: the appointment stays as it was."]


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # the night clocks go forward
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the night clocks go back
    ],
)
def test_slot_codes_round_trip(when: datetime) -> None:
    code = slot_code(when)
    assert len(code) == 15
    assert ":" not in code  # callback data separator
    if when.month == 10:
        return  # 02:30 happens twice that night; school hours never fall there
    assert slot_start(code) == when


@pytest.mark.parametrize("code", ["", "2026-11-24", "2026-11-24T2561", "x" * 15, "2026-02-30T1000"])
def test_slot_start_refuses_anything_else(code: str) -> None:
    assert slot_start(code) is None


# -- labels per locale -----------------------------------------------------------------------


def test_day_and_time_labels_in_dutch() -> None:
    assert NL.render(day_label("2026-11-24")) == "dinsdag 24 november"
    assert NL.render(time_label("2026-11-24T0930")) == "09:30"  # 24-hour clock
    assert NL.render(time_label("2026-11-24T1430")) == "14:30"


def test_day_and_time_labels_in_arabic_are_isolated() -> None:
    day = AR.render(day_label("2026-11-24"))
    assert day.startswith(FSI)
    assert day.endswith(PDI)
    assert "الثلاثاء" in day  # Tuesday
    assert "نوفمبر" in day  # November
    clock = AR.render(time_label("2026-11-24T1430"))
    assert clock.startswith(FSI)
    assert clock.endswith(PDI)
    assert "2:30" in clock
    assert "م" in clock  # the Arabic PM marker


def test_day_buttons_render_in_the_readers_language() -> None:
    chat = student_chat()
    chat.press("Time-out moment")
    dutch = [b.label for row in render_reply(chat.question, NL).rows for b in row]
    arabic = [b.label for row in render_reply(chat.question, AR).rows for b in row]
    assert dutch[:2] == ["dinsdag 24 november", "woensdag 25 november"]
    assert all(label.startswith(FSI) for label in arabic[:2])


def test_an_appointment_in_a_sentence() -> None:
    en = CATALOGS.get("en")
    text = appointment_text(TIME_OUT, local(TUESDAY, 10, 30), "Amira")
    assert en.render(text) == "Time-out moment for Amira, Tuesday, November 24, 10:30\u202fAM"
    assert NL.render(appointment_text(GESPREK, local(TUESDAY, 10, 30))).endswith(
        "dinsdag 24 november, 10:30"
    )
