"""The settings services: validated, audited, and what the booking rules read (issue 12)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import InputInvalid, NotAllowed
from services.settings.changes import (
    TypeChange,
    add_closed_days,
    remove_closed_days,
    set_appointment_type,
    set_coach_hours,
    set_opening_hours,
)
from services.settings.holidays import all_holidays, holidays_for
from services.settings.rules import Region, parse_span, parse_weekday
from services.settings.school import FirstAdmin, create_school
from storage.models import (
    AppointmentKind,
    AppointmentType,
    AuditLog,
    BookingSettings,
    ClosedDay,
    OpeningHours,
    Role,
)
from tests.support.factories import add_person, add_school

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def test_a_new_school_starts_with_an_admin_defaults_and_its_regions_holidays(
    session: AsyncSession,
) -> None:
    async with session.begin():
        created = await create_school(
            session=session,
            code="De-Linde ",
            name=" De Linde ",
            timezone="Europe/Amsterdam",
            region=Region.ZUID,
            admin=FirstAdmin("beheer1", "Anna", "Beheerder"),
            now=NOW,
        )
        school = created.school
        assert (school.code, school.name, school.region) == ("de-linde", "De Linde", "zuid")
        assert created.admin.has_role(Role.ADMIN)
        kinds = set(
            await session.scalars(
                select(AppointmentType.kind).where(AppointmentType.school_id == school.id)
            )
        )
        assert kinds == set(AppointmentKind)
        weekdays = set(await session.scalars(select(OpeningHours.weekday)))
        assert weekdays == {0, 1, 2, 3, 4}
        assert await session.get(BookingSettings, school.id) is not None
        closed = set(await session.scalars(select(ClosedDay.day)))
        # zuid, 2027-2028: autumn 23-31 October 2027, summer 22 July - 3 September 2028
        assert {date(2027, 10, 23), date(2027, 10, 31), date(2028, 9, 3)} <= closed
        assert date(2027, 10, 22) not in closed
        assert min(closed) >= NOW.date()  # nothing in the past
        assert created.holidays.added == len(closed)
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
        assert actions == ["school.create", "settings.holidays"]


def test_the_shipped_holidays_cover_every_region_and_year() -> None:
    holidays = all_holidays()
    years = {h.school_year for h in holidays}
    assert years == {"2026-2027", "2027-2028"}
    for region in Region:
        mine = [h for h in holidays if h.region is region]
        assert len(mine) == 10  # five holidays a year
        assert all(h.start <= h.end for h in mine)
    assert all(h.checked for h in holidays if h.school_year == "2027-2028")
    assert holidays_for(Region.NOORD, from_day=date(2028, 1, 1))[0].name == "Kerstvakantie"


async def test_a_coach_type_must_follow_the_quarter_hours_and_nothing_changes(
    session: AsyncSession,
) -> None:
    async with session.begin():
        school = await add_school(session)
        with pytest.raises(InputInvalid) as refused:
            await set_appointment_type(
                session=session,
                school_id=school.id,
                actor=None,
                kind=AppointmentKind.INTAKE,
                change=TypeChange(duration_minutes=50, capacity=2),
                now=NOW,
            )
        msgids = {p.msgid for p in refused.value.problems}  # type: ignore[attr-defined]
        assert any("quarter hours" in m for m in msgids)
        assert any("capacity is 1" in m for m in msgids)
        assert await session.scalar(select(func.count()).select_from(AppointmentType)) == 0

        saved = await set_appointment_type(
            session=session,
            school_id=school.id,
            actor=None,
            kind=AppointmentKind.TIME_OUT,
            change=TypeChange(capacity=6, bookable_by=frozenset({"student", "care_coordinator"})),
            now=NOW,
        )
        assert (saved.capacity, saved.bookable_by, saved.lead_time_minutes) == (
            6,
            ["care_coordinator", "student"],
            0,
        )
        with pytest.raises(InputInvalid):
            await set_appointment_type(
                session=session,
                school_id=school.id,
                actor=None,
                kind=AppointmentKind.TIME_OUT,
                change=TypeChange(attendees=frozenset({"janitor"})),
                now=NOW,
            )


async def test_only_an_admin_of_the_school_changes_settings(session: AsyncSession) -> None:
    async with session.begin():
        school = await add_school(session)
        coach = await add_person(session, school, "c1", Role.COACH)
        admin = await add_person(session, school, "a1", Role.ADMIN)
        with pytest.raises(NotAllowed):
            await set_opening_hours(
                session=session,
                school_id=school.id,
                actor=coach,
                weekday=0,
                hours=(time(8), time(15)),
                now=NOW,
            )
        await set_opening_hours(
            session=session,
            school_id=school.id,
            actor=admin,
            weekday=0,
            hours=(time(8), time(15)),
            now=NOW,
        )
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.action == "settings.opening_hours")
        )
        assert audit is not None
        assert audit.actor_id == admin.id
        assert audit.details == {"weekday": "mon", "opens": "08:00", "closes": "15:00"}

        with pytest.raises(InputInvalid):
            await set_coach_hours(
                session=session,
                school_id=school.id,
                actor=admin,
                coach=coach,
                weekday=1,
                spans=[(time(9), time(12)), (time(11), time(13))],
                now=NOW,
            )


async def test_closed_days_are_added_labelled_and_removed(session: AsyncSession) -> None:
    async with session.begin():
        school = await add_school(session)
        added = await add_closed_days(
            session=session,
            school_id=school.id,
            actor=None,
            start=date(2027, 3, 8),
            end=date(2027, 3, 10),
            label="Studiedagen",
            now=NOW,
        )
        assert added == 3
        again = await add_closed_days(
            session=session,
            school_id=school.id,
            actor=None,
            start=date(2027, 3, 10),
            end=date(2027, 3, 11),
            label=None,
            now=NOW,
        )
        assert again == 1
        removed = await remove_closed_days(
            session=session,
            school_id=school.id,
            actor=None,
            start=date(2027, 3, 9),
            end=date(2027, 3, 9),
            now=NOW,
        )
        assert removed == 1
        days = list(await session.scalars(select(ClosedDay.day).order_by(ClosedDay.day)))
        assert days == [date(2027, 3, 8), date(2027, 3, 10), date(2027, 3, 11)]
        with pytest.raises(InputInvalid):
            await add_closed_days(
                session=session,
                school_id=school.id,
                actor=None,
                start=date(2027, 3, 10),
                end=date(2027, 3, 1),
                label=None,
                now=NOW,
            )


def test_weekdays_and_spans_are_parsed_or_explained() -> None:
    assert parse_weekday("Mon") == 0
    assert parse_weekday("friday") == 4
    assert not isinstance(parse_weekday("maandag"), int)
    assert parse_span("8:30-12.00") == (time(8, 30), time(12))
    assert not isinstance(parse_span("12:00-09:00"), tuple)
    assert not isinstance(parse_span("nine to five"), tuple)
