"""The coach's day in Telegram (feed_update; issue 14.2): "This week's appointments" next to
"Today's appointments", only the coach's own agenda; after a mark of attendance the logbook
entry is offered and written in the chat (saved by the logbook service); forged presses of a
mentor and for another coach's appointment are refused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from bot.app import App
from bot.telegram.callbacks import AppointmentCallback, MenuCallback
from dialogs.i18n import SCHOOL_TIMEZONE
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.conversations.runtime import school_today
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    LogbookEntry,
    Person,
    Role,
    Trajectory,
)
from tests.bot.appointment_setup import prepare_demo_booking
from tests.bot.telegram_fakes import Person as User
from tests.bot.test_telegram_flows import Harness
from tests.bot.test_telegram_flows import flood_limit as _flood_limit
from tests.bot.test_telegram_flows import tg as _tg
from tests.support.factories import add_person

tg = _tg
flood_limit = _flood_limit

COACH_USER, MENTOR_USER = 3201, 3202


async def _person(app: App, external_id: str) -> Person:
    async with app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        return person


async def _talk_started(app: App, external_id: str, coach_id: int) -> Appointment:
    """A talk of the student with ``coach_id`` that began a little while ago (inserted)."""
    now = datetime.now(UTC)
    midnight = datetime.combine(school_today(now), time(0), tzinfo=SCHOOL_TIMEZONE)
    starts = max(midnight.astimezone(UTC), now - timedelta(minutes=30))
    student = await _person(app, external_id)
    async with app.sessions() as session, session.begin():
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == student.id)
        )
        assert trajectory is not None
        appointment = Appointment(
            school_id=student.school_id,
            trajectory_id=trajectory.id,
            student_id=student.id,
            kind=AppointmentKind.GESPREK,
            status=AppointmentStatus.CONFIRMED,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            busy_until=starts + timedelta(minutes=30),
            resource=f"coach:{coach_id}",
            coach_id=coach_id,
            booked_by_id=student.id,
            mentor_confirmed=True,
        )
        session.add(appointment)
    return appointment


async def _other_coach(app: App) -> int:
    """A second coach of the demo school (and the trajectories of Bram and Lieke)."""
    await prepare_demo_booking(app)
    async with app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        other = await add_person(session, school, "coach2", Role.COACH, given_name="Ilse")
        return other.id


async def test_the_coach_marks_attended_then_writes_the_logbook_in_the_chat(tg: Harness) -> None:
    await prepare_demo_booking(tg.app)
    coach_person = await _person(tg.app, "coach")
    bram = await _talk_started(tg.app, "lln13", coach_person.id)
    coach = User(COACH_USER, "en")
    await tg.link(coach, "coach", Role.COACH, "en")
    menu = tg.api.last(COACH_USER)
    labels = [label for label, _ in menu.buttons()]
    today_at = labels.index("Today's appointments")
    assert labels[today_at + 1] == "This week's appointments"  # next to "today"
    await tg.feed(coach.press(menu, menu.data_for("Today's appointments")))
    card = tg.api.last(COACH_USER)
    assert "Bram Moerdijkstra" in card.text
    await tg.feed(coach.press(card, card.data_for("Attended")))
    assert card.text.endswith("attended ✓")
    assert [label for label, _ in card.buttons()] == [
        "Attended",
        "No-show",
        "Write in the logbook",
    ]
    await tg.feed(coach.press(card, card.data_for("Write in the logbook")))
    assert "What do you write in the logbook?" in tg.api.last(COACH_USER).text
    await tg.feed(coach.text("Goed gesprek\u202e over de toetsweek."))
    summary = tg.api.last(COACH_USER)
    assert "Goed gesprek over de toetsweek." in summary.text
    await tg.feed(coach.press(summary, summary.buttons()[0][1]))
    assert any("The logbook entry is saved." in m.text for m in tg.api.chat(COACH_USER)[-3:])
    async with tg.app.sessions() as session:
        marked = await session.get(Appointment, bram.id)
        entries = list(await session.scalars(select(LogbookEntry)))
    assert marked is not None
    assert marked.status is AppointmentStatus.ATTENDED
    assert [(e.trajectory_id, e.author_id, e.text) for e in entries] == [
        (bram.trajectory_id, coach_person.id, "Goed gesprek over de toetsweek.")
    ]


async def test_this_week_shows_the_coachs_own_agenda_only(tg: Harness) -> None:
    coach_person = await _person(tg.app, "coach")
    other_id = await _other_coach(tg.app)
    await _talk_started(tg.app, "lln13", coach_person.id)
    await _talk_started(tg.app, "lln14", other_id)
    coach = User(COACH_USER, "en")
    await tg.link(coach, "coach", Role.COACH, "en")
    menu = tg.api.last(COACH_USER)
    await tg.feed(coach.press(menu, menu.data_for("This week's appointments")))
    header, day = tg.api.chat(COACH_USER)[-2:]
    assert header.text.startswith("This week, ")
    assert header.text.endswith(": 1 appointment")
    assert "Bram Moerdijkstra" in day.text
    assert "Lieke" not in day.text  # the other coach's talk
    today = school_today(datetime.now(UTC))
    assert day.text.startswith(f"{today.strftime('%A')}, ")  # Babel's date, school time


async def test_forged_presses_are_refused(tg: Harness) -> None:
    other_id = await _other_coach(tg.app)
    theirs = await _talk_started(tg.app, "lln14", other_id)
    mentor = User(MENTOR_USER, "en")
    await tg.link(mentor, "mentor1", Role.MENTOR, "en")
    assert all("week" not in label for label, _ in tg.api.last(MENTOR_USER).buttons())
    await tg.feed(
        mentor.press(tg.api.last(MENTOR_USER), MenuCallback(action="week", value="").pack())
    )
    assert tg.api.last(MENTOR_USER).text == "This is not available for your role."
    coach = User(COACH_USER, "en")
    await tg.link(coach, "coach", Role.COACH, "en")
    forged = AppointmentCallback(action="logbook", appointment=theirs.id).pack()
    await tg.feed(coach.press(tg.api.last(COACH_USER), forged))
    assert tg.api.last(COACH_USER).text == "This appointment is not on your agenda."
    async with tg.app.sessions() as session:
        assert await session.scalar(select(LogbookEntry.id)) is None
