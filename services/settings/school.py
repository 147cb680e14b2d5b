"""A school from nothing: the school row, its first administrator, and what it starts with.

`create_school` is what `trajectbot school create` runs (one unit of work, with the admin's
web account made by `services.accounts.staff_accounts.create_staff_account` in the same unit).
A new school starts with the default appointment types and opening hours Monday to Friday
(`services.appointments.defaults`), its booking rules at their defaults and its region's
school holidays as closed days; the admin changes them with the settings
(`services.settings.changes`). People come from the import; until a coach has hours, only the
time-out room can be booked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments.defaults import install_defaults
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid
from services.kernel.languages import SUPPORTED_LANGUAGES
from services.kernel.text_input import clean_text
from services.settings.changes import (
    HolidaysInstalled,
    SettingsInvalid,
    install_holidays,
    require_admin,
)
from services.settings.rules import (
    Region,
    school_code_problem,
    school_name_problem,
    timezone_problem,
)
from storage.models import (
    AppointmentType,
    BookingSettings,
    ClosedDay,
    CoachAvailability,
    OpeningHours,
    Person,
    PersonRole,
    Role,
    School,
)

log = logging.getLogger(__name__)

NAME_PART_MAX = 100
EXTERNAL_ID_MAX = 64


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The school's first administrator (a person of the school with the admin role)."""

    external_id: str
    given_name: str
    family_name: str
    language: str = "nl"


@dataclass(frozen=True, slots=True)
class SchoolCreated:
    """What `create_school` made."""

    school: School
    admin: Person
    holidays: HolidaysInstalled


def _admin_problems(admin: FirstAdmin) -> list[Text]:
    problems: list[Text] = []
    if not admin.external_id.strip() or len(admin.external_id) > EXTERNAL_ID_MAX:
        problems.append(
            Text.of(N_("An id has 1 to {maximum} characters."), maximum=EXTERNAL_ID_MAX)
        )
    for part in (admin.given_name, admin.family_name):
        if not clean_text(part) or len(clean_text(part)) > NAME_PART_MAX:
            problems.append(
                Text.of(
                    N_("A given name and a family name have 1 to {maximum} characters."),
                    maximum=NAME_PART_MAX,
                )
            )
            break
    if admin.language not in SUPPORTED_LANGUAGES:
        problems.append(
            Text.of(
                N_("Unknown language “{language}”: use one of {languages}."),
                language=Text.raw(admin.language),
                languages=Text.raw(", ".join(SUPPORTED_LANGUAGES)),
            )
        )
    return problems


async def create_school(
    *,
    session: AsyncSession,
    code: str,
    name: str,
    timezone: str,
    region: Region,
    admin: FirstAdmin,
    now: datetime,
) -> SchoolCreated:
    """Create the school, its first administrator and its starting settings.

    `InputInvalid` (`SettingsInvalid` for several problems) when a value is wrong or the code
    is taken; nothing is written then. Audited as ``school.create`` (codes and ids only).
    """
    code = code.strip().lower()
    problems = [
        problem
        for problem in (
            school_code_problem(code),
            school_name_problem(name),
            timezone_problem(timezone),
        )
        if problem is not None
    ]
    problems.extend(_admin_problems(admin))
    if not problems and await session.scalar(select(School.id).where(School.code == code)):
        problems.append(
            Text.of(N_("There is already a school with code “{code}”."), code=Text.raw(code))
        )
    if problems:
        raise InputInvalid(problems[0]) if len(problems) == 1 else SettingsInvalid(problems)
    school = School(
        code=code, name=clean_text(name), timezone=timezone, region=region.value, created_at=now
    )
    session.add(school)
    await session.flush()
    session.add(BookingSettings(school_id=school.id))
    await install_defaults(session=session, school_id=school.id)
    person = Person(
        school_id=school.id,
        external_id=admin.external_id.strip(),
        given_name=clean_text(admin.given_name),
        family_name=clean_text(admin.family_name),
        language=admin.language,
        created_at=now,
    )
    person.roles = [PersonRole(role=Role.ADMIN)]
    session.add(person)
    await session.flush()
    record_audit(
        session=session,
        school_id=school.id,
        actor_id=None,
        action="school.create",
        subject_type="school",
        subject_id=school.id,
        details={"code": code, "region": region.value, "admin_id": person.id},
        at=now,
    )
    holidays = await install_holidays(
        session=session,
        school_id=school.id,
        actor=None,
        region=region,
        today=now.astimezone(school_zone(school)).date(),
        now=now,
    )
    log.info("school created school_id=%s admin_id=%s", school.id, person.id)
    return SchoolCreated(school, person, holidays)


def school_zone(school: School) -> ZoneInfo:
    """The school's time zone."""
    return ZoneInfo(school.timezone)


@dataclass(frozen=True, slots=True)
class TypeSetting:
    """One appointment type as the settings show it."""

    kind: str
    resource: str
    duration_minutes: int
    step_minutes: int
    buffer_minutes: int
    capacity: int
    bookable_by: tuple[str, ...]
    attendees: tuple[str, ...]
    lead_time_minutes: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class CoachHours:
    """One coach's hours: weekday (0 = Monday) → spans."""

    coach_id: int
    external_id: str
    name: str
    hours: dict[int, tuple[tuple[time, time], ...]]


@dataclass(frozen=True, slots=True)
class SchoolSettings:
    """Everything the settings area shows."""

    code: str
    name: str
    timezone: str
    region: str | None
    types: tuple[TypeSetting, ...]
    opening_hours: dict[int, tuple[time, time]]
    closed_days: tuple[tuple[date, str | None], ...]
    coaches: tuple[CoachHours, ...]
    lead_time_minutes: int
    late_cancel_hours: int
    horizon_days: int
    day_reminder_hour: int
    timeouts_per_week: int
    #: Months after closing that a trajectory's care data is kept (`services.privacy`).
    care_retention_months: int = 24


async def school_settings(
    *, session: AsyncSession, school_id: int, from_day: date
) -> SchoolSettings:
    """The school's settings (closed days from ``from_day`` on)."""
    school = await session.get_one(School, school_id)
    rules = await session.get(BookingSettings, school_id)
    types = tuple(
        TypeSetting(
            kind=row.kind.value,
            resource=row.resource.value,
            duration_minutes=row.duration_minutes,
            step_minutes=row.step_minutes,
            buffer_minutes=row.buffer_minutes,
            capacity=row.capacity,
            bookable_by=tuple(row.bookable_by),
            attendees=tuple(row.attendees),
            lead_time_minutes=row.lead_time_minutes,
            active=row.active,
        )
        for row in await session.scalars(
            select(AppointmentType)
            .where(AppointmentType.school_id == school_id)
            .order_by(AppointmentType.id)
        )
    )
    opening = {
        row.weekday: (row.opens_at, row.closes_at)
        for row in await session.scalars(
            select(OpeningHours).where(OpeningHours.school_id == school_id)
        )
    }
    closed = tuple(
        (row.day, row.label)
        for row in await session.scalars(
            select(ClosedDay)
            .where(ClosedDay.school_id == school_id, ClosedDay.day >= from_day)
            .order_by(ClosedDay.day)
        )
    )
    coaches = []
    for coach in await session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.school_id == school_id, PersonRole.role == Role.COACH)
        .order_by(Person.family_name, Person.given_name, Person.id)
    ):
        spans: dict[int, list[tuple[time, time]]] = {}
        for row in await session.scalars(
            select(CoachAvailability)
            .where(CoachAvailability.school_id == school_id, CoachAvailability.coach_id == coach.id)
            .order_by(CoachAvailability.weekday, CoachAvailability.starts_at)
        ):
            spans.setdefault(row.weekday, []).append((row.starts_at, row.ends_at))
        coaches.append(
            CoachHours(
                coach.id,
                coach.external_id,
                coach.display_name,
                {day: tuple(found) for day, found in spans.items()},
            )
        )
    return SchoolSettings(
        code=school.code,
        name=school.name,
        timezone=school.timezone,
        region=school.region,
        types=types,
        opening_hours=opening,
        closed_days=closed,
        coaches=tuple(coaches),
        lead_time_minutes=rules.lead_time_minutes if rules else 120,
        late_cancel_hours=rules.late_cancel_hours if rules else 24,
        horizon_days=rules.horizon_days if rules else 21,
        day_reminder_hour=rules.day_reminder_hour if rules else 18,
        timeouts_per_week=rules.timeouts_per_week if rules else 2,
        care_retention_months=school.care_retention_months,
    )


async def settings_for_admin(
    *, session: AsyncSession, actor: Person, now: datetime
) -> SchoolSettings:
    """The settings of ``actor``'s school as its administrator sees them (closed days from
    today, school-local); `NotAllowed` unless ``actor`` is an administrator of that school
    (re-read from the database)."""
    await require_admin(session=session, actor=actor, school_id=actor.school_id)
    school = await session.get_one(School, actor.school_id)
    today = now.astimezone(school_zone(school)).date()
    return await school_settings(session=session, school_id=school.id, from_day=today)
