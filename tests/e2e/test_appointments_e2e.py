"""A student books a time-out by buttons, end to end: real polling, HTTP to the emulator.

The calendar file that follows goes out as a document, which the emulator does not support;
`tests/bot/test_telegram_appointments.py` covers it (see docs/testing.md).
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Appointment, AppointmentKind, Role
from tests.bot.appointment_setup import prepare_demo_booking
from tests.e2e.conftest import Harness


async def test_a_student_books_a_time_out_by_buttons(e2e: Harness) -> None:
    await prepare_demo_booking(e2e.app)
    student = e2e.person(3001)
    await e2e.onboard(student, "lln13", Role.STUDENT)
    await student.press(await student.last(), "Book an appointment")
    kinds = await student.last()
    assert kinds.text.startswith("Question 1 of 3")  # a student is not asked who it is for
    await student.press(kinds, "Time-out moment")
    assert (await student.chat())[-2].text == "Appointment: Time-out moment ✓"  # edited
    days = await student.last()
    assert "Which day suits you?" in days.text
    await student.press_data(days, days.buttons[0][1])
    times = await student.last()
    assert "What time suits you?" in times.text
    await student.press_data(times, times.buttons[0][1])
    teacher = await student.last()
    assert "Whose lesson are you leaving?" in teacher.text  # optional for a time-out
    await student.press(teacher, "Skip")
    summary = await student.last()
    assert "Please check your appointment:" in summary.text
    await student.press(summary, "Book ✓")

    done = await student.last()
    assert done.text.startswith("Booked: Time-out moment, ")
    async with e2e.app.sessions() as session:
        [appointment] = list(await session.scalars(select(Appointment)))
    assert appointment.kind is AppointmentKind.TIME_OUT
