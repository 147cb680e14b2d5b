"""The teacher of the lesson hears of a time-out, in Telegram (feed_update and the outbox
worker): the student names the teacher while booking; the teacher's notice carries the times
only, in the teacher's language; "Who is it?" shows the first name inside the chat, to that
teacher only (issue 11, item 6)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_time

from dialogs.i18n import SCHOOL_TIMEZONE, Catalogs
from dialogs.text import Text
from storage.models import Appointment, Role
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_telegram_appointments import (
    _appointments,
    _press,
    _press_first_option,
    _worker,
)
from tests.bot.test_telegram_appointments import tg as _tg
from tests.bot.test_telegram_appointments import timeout_places as _timeout_places
from tests.bot.test_telegram_flows import Harness

tg = _tg
timeout_places = _timeout_places
EN = Catalogs().get("en")


def _time(at: datetime) -> str:
    return format_time(at.astimezone(SCHOOL_TIMEZONE), format="short", locale="en")


def _when(appointment: Appointment) -> str:
    return EN.render(Text.raw(appointment.starts_at))


async def _book_telling(tg: Harness, student: User, teacher_name: str) -> Appointment:
    await _press(tg, student, "Book an appointment")
    await _press(tg, student, "Time-out moment")
    await _press_first_option(tg, student)  # the first day with room
    await _press_first_option(tg, student)  # its first free time
    question = tg.api.last(student.id)
    assert "Whose lesson are you leaving?" in question.text
    assert [label for label, _ in question.buttons()][-2:] == ["Skip", "Stop"]
    await _press(tg, student, teacher_name)
    summary = tg.api.last(student.id)
    assert f"Teacher told: {teacher_name}" in summary.text
    await tg.feed(student.press(summary, summary.data_for("Book ✓")))
    done = tg.api.last(student.id).text
    assert done.startswith("Booked: Time-out moment, ")
    assert "The teacher gets a message with the times, not the reason." in done
    return (await _appointments(tg.app))[-1]


async def test_the_teacher_gets_the_times_and_sees_who_in_the_chat(tg: Harness) -> None:
    student, teacher, other = User(2101, "en"), User(2102, "en"), User(2103, "en")
    await tg.link(student, "lln13", Role.STUDENT)  # Bram
    await tg.link(teacher, "mentor2", Role.MENTOR)  # Ruben, mentor and teacher
    await tg.link(other, "mentor1", Role.MENTOR)
    appointment = await _book_telling(tg, student, "Ruben Lesterhuis")
    assert appointment.teacher_id is not None

    worker = await _worker(tg)
    while await worker.drain_once():
        pass
    notice = tg.api.last(teacher.id)
    when = _when(appointment)
    # The times only: no name, no reason (a phone on a classroom desk).
    assert notice.text == (
        f"A student leaves your lesson for a time-out, with permission: {when} until "
        f"{_time(appointment.ends_at)}. Press the button to see who."
    )
    [(label, data)] = notice.buttons()
    assert label == "Who is it?"
    assert data == f"ap:teacher:{appointment.id}:1"

    # Someone else pressing the same payload reads nothing.
    await tg.feed(other.press(notice, data))
    assert "not available to you" in tg.api.last(other.id).text
    assert "Bram" not in tg.api.last(other.id).text

    await tg.feed(teacher.press(notice, data))
    assert notice.markup is None  # edited in place: the transcript stays clean
    assert notice.text == (
        f"Bram is in the time-out room: {when} until {_time(appointment.ends_at)}."
    )  # the first name only


async def test_skipping_the_question_tells_nobody(tg: Harness) -> None:
    student, teacher = User(2111, "en"), User(2112, "en")
    await tg.link(student, "lln13", Role.STUDENT)
    await tg.link(teacher, "mentor2", Role.MENTOR)
    before = len(tg.api.chat(teacher.id))
    await _press(tg, student, "Book an appointment")
    await _press(tg, student, "Time-out moment")
    await _press_first_option(tg, student)
    await _press_first_option(tg, student)
    await _press(tg, student, "Skip")
    await _press(tg, student, "Book ✓")
    assert "The teacher gets a message" not in tg.api.last(student.id).text
    worker = await _worker(tg)
    while await worker.drain_once():
        pass
    assert len(tg.api.chat(teacher.id)) == before
