"""A real school from nothing, with commands only (issue 12, the start of its "Shown by").

Real processes on an empty database: `init`, `school create` (with its first admin), the
import, the settings; then a booking through the services sees exactly those settings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.people import get_person_by_external_id
from services.appointments.booking import book
from services.appointments.slots import free_slots
from services.kernel.uow import run_unit_of_work
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    AppointmentKind,
    AuditLog,
    ClosedDay,
    Person,
    Role,
    School,
    StaffAccount,
)
from tests.bot.test_cli import trajectbot
from tests.support.factories import add_trajectory

PASSWORD = "een-lang-wachtwoord"
# Invented people of an invented school.
PEOPLE = """external_id,roles,given_name,family_name,group,language,mentor_of,parent_of
L1,student,Sanne,Voorbeeldt,2B,nl,,
M1,mentor,Joris,Lesmaker,,nl,L1,
C1,coach,Fatma,Begeleider,,nl,,
Z1,care_coordinator,Ilse,Zorgdrager,,nl,,
"""
#: A Monday in March 2027 outside the midden region's school holidays.
MONDAY = date(2027, 3, 8)
ZONE = ZoneInfo("Europe/Amsterdam")


def create_school(database_url: str, *extra: str) -> list[str]:
    return [
        "school",
        "create",
        "--code",
        "de-linde",
        "--name",
        "De Linde",
        "--region",
        "midden",
        "--admin",
        "beheer1",
        "--admin-given-name",
        "Anna",
        "--admin-family-name",
        "Beheerder",
        "--password-stdin",
        *extra,
    ]


async def test_a_school_from_nothing_with_commands_only(database_url: str, tmp_path: Path) -> None:
    assert trajectbot(database_url, "init").returncode == 0
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")

    before = trajectbot(database_url, "import", str(people))
    assert before.returncode == 1
    assert "There is no school yet: create one with `trajectbot school create`" in before.stderr

    created = trajectbot(database_url, *create_school(database_url), lines=[PASSWORD])
    assert created.returncode == 0, created.stderr
    assert "School “De Linde” created with code “de-linde” (region midden)." in created.stdout
    assert "Administrator web account “beheer1” created." in created.stdout

    imported = trajectbot(database_url, "import", str(people))
    assert imported.returncode == 0, imported.stderr
    assert "New: 4." in imported.stdout

    steps = [
        ("settings", "type", "gesprek", "--duration", "45", "--buffer", "15", "--lead-time", "60"),
        ("settings", "hours", "mon", "08:00-15:00"),
        ("settings", "hours", "wed", "closed"),
        ("settings", "coach-hours", "C1", "mon", "09:00-10:30", "13:00-14:00"),
        ("settings", "closed-day", "add", "2027-03-09", "--label", "Studiedag"),
        ("settings", "booking", "--timeouts-per-week", "3"),
    ]
    for step in steps:
        result = trajectbot(database_url, *step)
        assert result.returncode == 0, (step, result.stderr)

    shown = trajectbot(database_url, "settings", "show")
    assert shown.returncode == 0, shown.stderr
    assert "gesprek: 45 min" in shown.stdout
    assert "  mon: 08:00-15:00" in shown.stdout
    assert "  wed: closed" in shown.stdout
    assert "  C1: mon 09:00-10:30 13:00-14:00" in shown.stdout
    assert "time-outs per week for new trajectories 3" in shown.stdout

    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)

        async def check(session: AsyncSession) -> None:
            school = await session.scalar(select(School))
            assert school is not None
            assert (school.code, school.region) == ("de-linde", "midden")
            admin = await get_person_by_external_id(
                session=session, school_id=school.id, external_id="beheer1"
            )
            assert admin is not None
            assert admin.has_role(Role.ADMIN)
            assert (
                await session.scalar(
                    select(StaffAccount.username).where(StaffAccount.person_id == admin.id)
                )
                == "beheer1"
            )
            holidays = set(
                await session.scalars(
                    select(ClosedDay.day).where(ClosedDay.label == "Zomervakantie")
                )
            )
            assert date(2028, 7, 8) in holidays  # midden, 2027-2028 (rijksoverheid.nl)
            assert date(2028, 7, 7) not in holidays
            actions = set(await session.scalars(select(AuditLog.action)))
            assert {
                "school.create",
                "staff_account.create",
                "settings.holidays",
                "settings.appointment_type",
                "settings.opening_hours",
                "settings.coach_hours",
                "settings.closed_days.add",
                "settings.booking",
            } <= actions

        await run_unit_of_work(sessions, check)

        async def book_gesprek(session: AsyncSession) -> None:
            people = {p.external_id: p for p in await session.scalars(select(Person))}
            student, mentor = people["L1"], people["M1"]
            trajectory = await add_trajectory(
                session, mentor, student, start=date(2027, 3, 1), end=date(2027, 6, 25)
            )
            trajectory.coach_id = people["C1"].id
            await session.flush()
            now = datetime(2027, 3, 8, 6, 0, tzinfo=UTC)  # Monday 07:00 in Amsterdam
            slots = await free_slots(
                session=session,
                person=student,
                student_id=student.id,
                kind=AppointmentKind.GESPREK,
                now=now,
                days=7,
            )
            local = [slot.starts_at.astimezone(ZONE) for slot in slots]
            # Monday: 09:00 and (45 + 15 minutes busy) nothing else fits before 10:30;
            # 13:00 fits (ends 13:45, busy until 14:00). Tuesday is a study day, Wednesday
            # closed, and the coach has no other days.
            assert [(t.date(), t.time()) for t in local] == [
                (MONDAY, time(9, 0)),
                (MONDAY, time(9, 30)),
                (MONDAY, time(13, 0)),
            ]
            booked = await book(
                session=session,
                actor=student,
                student_id=student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=slots[0].starts_at,
                now=now,
            )
            assert booked.kind is AppointmentKind.GESPREK  # type: ignore[union-attr]

        await run_unit_of_work(sessions, book_gesprek)
    finally:
        await engine.dispose()


async def test_school_create_refuses_bad_values_and_writes_nothing(database_url: str) -> None:
    assert trajectbot(database_url, "init").returncode == 0
    wrong_region = trajectbot(
        database_url,
        *[a if a != "midden" else "oost" for a in create_school(database_url)],
        lines=[PASSWORD],
    )
    assert wrong_region.returncode == 1
    assert "Unknown region “oost”: choose noord, midden or zuid." in wrong_region.stderr

    bad = trajectbot(
        database_url,
        *[a if a != "de-linde" else "De Linde!" for a in create_school(database_url)],
        "--timezone",
        "Europe/Nergens",
        lines=[PASSWORD],
    )
    assert bad.returncode == 1
    assert "Nothing was changed:" in bad.stderr
    assert "A school code has 2 to 32 characters" in bad.stderr
    assert "Unknown time zone “Europe/Nergens”" in bad.stderr

    ok = trajectbot(database_url, *create_school(database_url), lines=[PASSWORD])
    assert ok.returncode == 0, ok.stderr
    again = trajectbot(database_url, *create_school(database_url), lines=[PASSWORD])
    assert again.returncode == 1
    assert "There is already a school with code “de-linde”." in again.stderr

    refused = trajectbot(database_url, "settings", "type", "intake", "--duration", "50")
    assert refused.returncode == 1
    assert "multiples of 15 minutes" in refused.stderr
    weekday = trajectbot(database_url, "settings", "hours", "maandag", "08:00-15:00")
    assert weekday.returncode == 1
    assert "Unknown weekday “maandag”" in weekday.stderr
