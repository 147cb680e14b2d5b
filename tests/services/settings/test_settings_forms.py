"""What the web's settings forms rely on: problems per field, numbers and dates typed in a
form, closed days grouped into runs, one school year of holidays, the coach of the school, and
the settings read only by an administrator of the school."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.settings.changes import (
    BookingChange,
    TypeChange,
    coach_of_school,
    field_problems,
    install_holidays,
    set_appointment_type,
    set_booking_settings,
)
from services.settings.holidays import holidays_for, school_years
from services.settings.rules import (
    Region,
    closed_runs,
    parse_date,
    parse_number,
)
from services.settings.school import settings_for_admin
from storage.models import AppointmentKind, AuditLog, ClosedDay, Role
from tests.support.factories import add_person, add_school

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_numbers_and_dates_typed_in_a_form_are_parsed_or_explained() -> None:
    assert parse_number(" 30 ") == 30
    assert parse_number("-5") == -5  # the range is the rule's to refuse
    for wrong in ("", "dertig", "3.5", "٣٠", "1234567890"):
        assert isinstance(parse_number(wrong), Text), wrong
    assert parse_date("2027-03-08") == date(2027, 3, 8)
    assert isinstance(parse_date("08-03-2027"), Text)


def test_closed_days_are_grouped_into_runs_of_one_label() -> None:
    days = [
        (date(2027, 2, 20), "Voorjaarsvakantie"),
        (date(2027, 2, 21), "Voorjaarsvakantie"),
        (date(2027, 2, 22), "Studiedag"),
        (date(2027, 2, 23), "Voorjaarsvakantie"),
        (date(2027, 2, 25), "Voorjaarsvakantie"),
        (date(2027, 3, 1), None),
        (date(2027, 3, 2), None),
    ]
    runs = [(run.start, run.end, run.label, run.days) for run in closed_runs(days)]
    assert runs == [
        (date(2027, 2, 20), date(2027, 2, 21), "Voorjaarsvakantie", 2),
        (date(2027, 2, 22), date(2027, 2, 22), "Studiedag", 1),
        (date(2027, 2, 23), date(2027, 2, 23), "Voorjaarsvakantie", 1),
        (date(2027, 2, 25), date(2027, 2, 25), "Voorjaarsvakantie", 1),
        (date(2027, 3, 1), date(2027, 3, 2), None, 2),
    ]
    assert closed_runs([]) == []


async def test_a_refused_change_names_the_field_of_each_problem(session: AsyncSession) -> None:
    async with session.begin():
        school = await add_school(session)
        with pytest.raises(InputInvalid) as refused:
            await set_appointment_type(
                session=session,
                school_id=school.id,
                actor=None,
                kind=AppointmentKind.GESPREK,
                change=TypeChange(
                    step_minutes=20, capacity=2, attendees=frozenset(), lead_time_minutes=-1
                ),
                now=NOW,
            )
        fields = field_problems(refused.value)
        assert set(fields) == {"step", "capacity", "attendees", "lead_time"}
        assert "quarter hours" in fields["step"].msgid
        with pytest.raises(InputInvalid) as refused:
            await set_booking_settings(
                session=session,
                school_id=school.id,
                actor=None,
                change=BookingChange(horizon_days=0, day_reminder_hour=24),
                now=NOW,
            )
        assert set(field_problems(refused.value)) == {"horizon_days", "day_reminder_hour"}
        # One problem is a SettingsInvalid too (the command line prints it the same way).
        with pytest.raises(InputInvalid) as refused:
            await set_booking_settings(
                session=session,
                school_id=school.id,
                actor=None,
                change=BookingChange(timeouts_per_week=11),
                now=NOW,
            )
        assert set(field_problems(refused.value)) == {"timeouts_per_week"}
        assert field_problems(InputInvalid(Text.raw("x"))) == {}


async def test_the_holidays_of_one_school_year_are_installed(session: AsyncSession) -> None:
    today = date(2026, 9, 1)
    assert school_years(from_day=today) == ["2026-2027", "2027-2028"]
    assert school_years(from_day=date(2027, 9, 1)) == ["2027-2028"]
    wanted = holidays_for(Region.NOORD, from_day=today, school_year="2027-2028")
    assert {h.school_year for h in wanted} == {"2027-2028"}
    async with session.begin():
        school = await add_school(session)
        admin = await add_person(session, school, "a1", Role.ADMIN)
        done = await install_holidays(
            session=session,
            school_id=school.id,
            actor=admin,
            region=Region.NOORD,
            today=today,
            now=NOW,
            school_year="2027-2028",
        )
        days = set(await session.scalars(select(ClosedDay.day)))
        assert days == {day for holiday in wanted for day in holiday.days()}
        assert done.added == len(days)
        assert done.unchecked_years == ()
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "settings.holidays"))
        assert audit is not None
        assert audit.details["school_year"] == "2027-2028"
        with pytest.raises(InputInvalid):
            await install_holidays(
                session=session,
                school_id=school.id,
                actor=admin,
                region=Region.NOORD,
                today=date(2027, 9, 1),
                now=NOW,
                school_year="2026-2027",  # over by then
            )


async def test_the_coach_and_the_settings_are_the_schools_and_its_admins_only(
    session: AsyncSession,
) -> None:
    async with session.begin():
        school = await add_school(session)
        other = await add_school(session, "vmbo-zuid")
        coach = await add_person(session, school, "c1", Role.COACH)
        other_coach = await add_person(session, other, "c2", Role.COACH)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        admin = await add_person(session, school, "a1", Role.ADMIN)
        coordinator = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        found = await coach_of_school(session=session, school_id=school.id, coach_id=coach.id)
        assert found.id == coach.id
        for wrong in (other_coach.id, mentor.id, 999_999):
            with pytest.raises(NotFound):
                await coach_of_school(session=session, school_id=school.id, coach_id=wrong)
        settings = await settings_for_admin(session=session, actor=admin, now=NOW)
        assert settings.code == school.code
        assert [c.coach_id for c in settings.coaches] == [coach.id]
        with pytest.raises(NotAllowed):
            await settings_for_admin(session=session, actor=coordinator, now=NOW)
