"""The .ics file: parsed back by icalendar, with Amsterdam wall-clock times on both sides of DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.booking import book
from services.appointments.calendar import calendar_file
from services.appointments.cancelling import cancel
from services.appointments.notices import APPOINTMENT_CALENDAR, parse_calendar_payload
from services.appointments.views import AppointmentView
from services.kernel.uow import run_unit_of_work
from storage.models import AppointmentKind, AppointmentStatus, Outbox
from tests.support.booking_world import NOW, THURSDAY, WEDNESDAY, at, build_world

AMS = ZoneInfo("Europe/Amsterdam")
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _view(starts: datetime, ends: datetime, *, version: int = 1) -> AppointmentView:
    return AppointmentView(
        appointment_id=42,
        kind=AppointmentKind.GESPREK,
        status=AppointmentStatus.CONFIRMED,
        starts_at=starts,
        ends_at=ends,
        student_id=7,
        student_name="Sam Voorbeeld",
        booked_by_id=7,
        coach_name="Coen Coach",
        mentor_confirmed=False,
        late_cancel=False,
        version=version,
    )


def _event(ics: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.events
    return calendar, event


def test_times_are_amsterdam_wall_clock_times_across_the_dst_change() -> None:
    # The clocks go forward on Sunday 29 March 2026: 10:00 is 09:00 UTC before, 08:00 after.
    before = _view(
        datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 27, 9, 30, tzinfo=UTC)
    )
    after = _view(datetime(2026, 3, 30, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 8, 30, tzinfo=UTC))
    for view, day in ((before, 27), (after, 30)):
        calendar, event = _event(
            calendar_file(view, title="Gesprek", location="Kamer 1.12", stamp=STAMP)
        )
        start = event.get("dtstart").dt  # type: ignore[attr-defined]
        end = event.get("dtend").dt  # type: ignore[attr-defined]
        assert (start.year, start.month, start.day, start.hour, start.minute) == (
            2026,
            3,
            day,
            10,
            0,
        )
        assert (end.hour, end.minute) == (10, 30)
        assert str(start.tzinfo) == "Europe/Amsterdam"
        assert start == view.starts_at
        assert end == view.ends_at
        assert event.get("dtstart").params["TZID"] == "Europe/Amsterdam"  # type: ignore[attr-defined]
        assert [tz.get("tzid") for tz in calendar.timezones] == ["Europe/Amsterdam"]
        assert str(event.get("summary")) == "Gesprek"  # type: ignore[attr-defined]
        assert str(event.get("location")) == "Kamer 1.12"  # type: ignore[attr-defined]
        assert str(calendar.get("method")) == "PUBLISH"


def test_uid_is_stable_and_sequence_is_the_version() -> None:
    first = _view(datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 27, 9, 30, tzinfo=UTC))
    moved = _view(
        datetime(2026, 3, 30, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 8, 30, tzinfo=UTC), version=2
    )
    _, one = _event(calendar_file(first, title="Gesprek", location=None, stamp=STAMP))
    _, two = _event(calendar_file(moved, title="Gesprek", location=None, stamp=STAMP))
    assert one.get("uid") == two.get("uid")  # type: ignore[attr-defined]
    assert (one.get("sequence"), two.get("sequence")) == (1, 2)  # type: ignore[attr-defined]
    assert one.get("location") is None  # type: ignore[attr-defined]
    assert str(one.get("status")) == "CONFIRMED"  # type: ignore[attr-defined]


def test_a_cancelled_file_cancels_the_same_event() -> None:
    view = _view(datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 27, 9, 30, tzinfo=UTC))
    calendar, event = _event(
        calendar_file(view, title="Gesprek", location=None, cancelled=True, stamp=STAMP)
    )
    assert str(calendar.get("method")) == "CANCEL"
    assert str(event.get("status")) == "CANCELLED"  # type: ignore[attr-defined]
    assert str(event.get("uid")) == "appointment-42@trajectbot"  # type: ignore[attr-defined]


def test_no_names_in_the_file() -> None:
    view = _view(datetime(2026, 3, 27, 9, 0, tzinfo=UTC), datetime(2026, 3, 27, 9, 30, tzinfo=UTC))
    ics = calendar_file(view, title="Gesprek", location=None, stamp=STAMP)
    assert b"Sam" not in ics
    assert b"Coen" not in ics


async def test_the_outbox_rows_make_the_same_file_as_the_booking(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_world(session_factory)
    async with session_factory() as session:
        booked = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=at(WEDNESDAY, 9),
                now=NOW,
            ),
        )
    assert isinstance(booked, AppointmentView)
    async with session_factory() as session:
        moved = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=at(THURSDAY, 14),
                now=NOW,
                move_appointment_id=booked.appointment_id,
            ),
        )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=booked.appointment_id, now=NOW
            ),
        )
    async with session_factory() as session:
        rows = list(
            await session.scalars(
                select(Outbox)
                .where(Outbox.kind == APPOINTMENT_CALENDAR, Outbox.recipient_id == world.student.id)
                .order_by(Outbox.id)
            )
        )
    notices = [parse_calendar_payload(row.payload) for row in rows]
    assert [(n.version, n.cancelled) for n in notices] == [(1, False), (2, False), (3, True)]
    assert isinstance(moved, AppointmentView)
    events = [
        _event(calendar_file(n, title="Gesprek", location=None, cancelled=n.cancelled))[1]
        for n in notices
    ]
    starts = [e.get("dtstart").dt for e in events]  # type: ignore[attr-defined]
    assert starts[0] == at(WEDNESDAY, 9)
    assert (starts[1].astimezone(AMS).hour, starts[1]) == (14, moved.starts_at)
    assert len({str(e.get("uid")) for e in events}) == 1  # type: ignore[attr-defined]
    assert [int(e.get("sequence")) for e in events] == [1, 2, 3]  # type: ignore[attr-defined]
