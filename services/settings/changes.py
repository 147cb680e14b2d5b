"""The admin's settings: appointment types, opening hours, closed days, coaches' hours and the
booking rules (lead time, late cancel, horizon, reminder hour, the time-out cap).

Every change is checked first (`services.settings.rules`; `InputInvalid` with what was expected,
nothing written), made in the caller's unit of work and audited (``settings.<what>``, ids and
codes only). ``actor`` is the administrator doing it, or ``None`` for the command line (the
system, as for imports). The booking services read these rows on every booking, so a change
applies to the next question a person is asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.appointments.defaults import DEFAULT_TYPES
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.settings.holidays import holidays_for, school_years
from services.settings.rules import (
    WEEKDAYS,
    Region,
    TypeValues,
    booking_field_problems,
    label_problem,
    spans_overlap,
    type_field_problems,
)
from storage.models import (
    AppointmentKind,
    AppointmentResource,
    AppointmentType,
    BookingSettings,
    ClosedDay,
    CoachAvailability,
    OpeningHours,
    Person,
    Role,
    School,
)

log = logging.getLogger(__name__)

#: The longest run of closed days one command adds or removes (a summer holiday is ~45).
MAX_CLOSED_RANGE_DAYS = 120


def _refuse(problems: list[tuple[str, Text]]) -> None:
    if problems:
        raise SettingsInvalid([problem for _field, problem in problems], fields=problems)


class SettingsInvalid(InputInvalid):
    """Several things are wrong with a change; ``problems`` lists them all, ``reason`` the first.

    ``fields``: each problem with the field it is about, when known (a form shows it there).
    """

    def __init__(
        self, problems: list[Text], *, fields: list[tuple[str, Text]] | None = None
    ) -> None:
        super().__init__(problems[0])
        self.problems: tuple[Text, ...] = tuple(problems)
        self.fields: tuple[tuple[str, Text], ...] = tuple(fields or ())


def field_problems(error: InputInvalid) -> dict[str, Text]:
    """The first problem per field of a refused change (empty when no field is known)."""
    found: dict[str, Text] = {}
    if isinstance(error, SettingsInvalid):
        for name, problem in error.fields:
            found.setdefault(name, problem)
    return found


def problems_of(error: InputInvalid) -> tuple[Text, ...]:
    """Every problem an `InputInvalid` from this module names."""
    return error.problems if isinstance(error, SettingsInvalid) else (error.reason,)


async def require_admin(*, session: AsyncSession, actor: Person | None, school_id: int) -> None:
    """``actor`` may change the school's settings: an administrator of that school (re-read
    from the database), or ``None`` (the command line). `NotAllowed` otherwise."""
    if actor is None:
        return
    fresh = await session.get(Person, actor.id, populate_existing=True)
    if fresh is None or fresh.school_id != school_id or not fresh.has_role(Role.ADMIN):
        raise NotAllowed(Text.of(N_("Only an administrator of the school can change settings.")))


def _audit(
    session: AsyncSession,
    *,
    school_id: int,
    actor: Person | None,
    action: str,
    subject_type: str,
    subject_id: int,
    now: datetime,
    **details: int | str | bool | list[int] | list[str] | None,
) -> None:
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
        at=now,
    )


@dataclass(frozen=True, slots=True)
class TypeChange:
    """What to change in an appointment type; ``None`` keeps the current value.

    ``school_lead_time``: the type uses the school's lead time again (its own is removed).
    """

    duration_minutes: int | None = None
    step_minutes: int | None = None
    buffer_minutes: int | None = None
    capacity: int | None = None
    bookable_by: frozenset[str] | None = None
    attendees: frozenset[str] | None = None
    lead_time_minutes: int | None = None
    school_lead_time: bool = False
    active: bool | None = None


async def set_appointment_type(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    kind: AppointmentKind,
    change: TypeChange,
    now: datetime,
) -> AppointmentType:
    """Change the school's type ``kind`` (created from the defaults when it has none yet)."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    row = await session.scalar(
        select(AppointmentType).where(
            AppointmentType.school_id == school_id, AppointmentType.kind == kind
        )
    )
    if row is None:
        spec = DEFAULT_TYPES[kind]
        row = AppointmentType(
            school_id=school_id,
            kind=kind,
            resource=spec.resource,
            duration_minutes=spec.duration_minutes,
            step_minutes=spec.step_minutes,
            buffer_minutes=spec.buffer_minutes,
            capacity=1 if spec.resource is AppointmentResource.COACH else 4,
            bookable_by=[role.value for role in spec.bookable_by],
            attendees=[role.value for role in spec.attendees],
            active=True,
            lead_time_minutes=spec.lead_time_minutes,
        )
    lead_time = (
        None
        if change.school_lead_time
        else change.lead_time_minutes
        if change.lead_time_minutes is not None
        else row.lead_time_minutes
    )
    values = TypeValues(
        resource=row.resource,
        duration_minutes=_keep(change.duration_minutes, row.duration_minutes),
        step_minutes=_keep(change.step_minutes, row.step_minutes),
        buffer_minutes=_keep(change.buffer_minutes, row.buffer_minutes),
        capacity=_keep(change.capacity, row.capacity),
        bookable_by=change.bookable_by
        if change.bookable_by is not None
        else frozenset(row.bookable_by),
        attendees=change.attendees if change.attendees is not None else frozenset(row.attendees),
        lead_time_minutes=lead_time,
    )
    _refuse(type_field_problems(values))
    row.duration_minutes = values.duration_minutes
    row.step_minutes = values.step_minutes
    row.buffer_minutes = values.buffer_minutes
    row.capacity = values.capacity
    row.bookable_by = sorted(values.bookable_by)
    row.attendees = sorted(values.attendees)
    row.lead_time_minutes = values.lead_time_minutes
    if change.active is not None:
        row.active = change.active
    session.add(row)
    await session.flush()
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.appointment_type",
        subject_type="appointment_type",
        subject_id=row.id,
        now=now,
        kind=kind.value,
        duration=row.duration_minutes,
        step=row.step_minutes,
        buffer=row.buffer_minutes,
        capacity=row.capacity,
        bookable_by=row.bookable_by,
        attendees=row.attendees,
        lead_time=row.lead_time_minutes,
        active=row.active,
    )
    return row


def _keep(new: int | None, current: int) -> int:
    return current if new is None else new


async def set_opening_hours(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    weekday: int,
    hours: tuple[time, time] | None,
    now: datetime,
) -> None:
    """Open on ``weekday`` (0 = Monday) from ``hours[0]`` to ``hours[1]``; ``None``: closed."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    if hours is not None and hours[1] <= hours[0]:
        raise InputInvalid(Text.of(N_("Closing time must be after opening time.")))
    await session.execute(
        delete(OpeningHours).where(
            OpeningHours.school_id == school_id, OpeningHours.weekday == weekday
        )
    )
    if hours is not None:
        session.add(
            OpeningHours(
                school_id=school_id, weekday=weekday, opens_at=hours[0], closes_at=hours[1]
            )
        )
    await session.flush()
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.opening_hours",
        subject_type="school",
        subject_id=school_id,
        now=now,
        weekday=WEEKDAYS[weekday],
        opens=hours[0].isoformat("minutes") if hours else None,
        closes=hours[1].isoformat("minutes") if hours else None,
    )


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise InputInvalid(Text.of(N_("The last day must be on or after the first day.")))
    if (end - start).days >= MAX_CLOSED_RANGE_DAYS:
        raise InputInvalid(
            Text.of(
                N_("At most {count} days at a time."),
                count=MAX_CLOSED_RANGE_DAYS,
            )
        )
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


async def add_closed_days(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    start: date,
    end: date,
    label: str | None,
    now: datetime,
) -> int:
    """Close every day from ``start`` to ``end`` (a day already closed gets the new label).

    Returns how many days were newly closed. Appointments already booked on them stay: the
    care coordinator moves or cancels them (a closed day only stops new bookings).
    """
    await require_admin(session=session, actor=actor, school_id=school_id)
    label = label.strip() if label else None
    if label:
        problem = label_problem(label)
        if problem is not None:
            raise InputInvalid(problem)
    days = _days(start, end)
    existing = {
        row.day: row
        for row in await session.scalars(
            select(ClosedDay).where(
                ClosedDay.school_id == school_id, ClosedDay.day.between(start, end)
            )
        )
    }
    added = 0
    for day in days:
        if day in existing:
            if label:
                existing[day].label = label
            continue
        session.add(ClosedDay(school_id=school_id, day=day, label=label or None))
        added += 1
    await session.flush()
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.closed_days.add",
        subject_type="school",
        subject_id=school_id,
        now=now,
        start=start.isoformat(),
        end=end.isoformat(),
        added=added,
    )
    return added


async def remove_closed_days(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    start: date,
    end: date,
    now: datetime,
) -> int:
    """Open again every closed day from ``start`` to ``end``; returns how many were closed."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    _days(start, end)
    removed = await session.execute(
        delete(ClosedDay)
        .where(ClosedDay.school_id == school_id, ClosedDay.day.between(start, end))
        .returning(ClosedDay.id)
    )
    count = len(removed.all())
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.closed_days.remove",
        subject_type="school",
        subject_id=school_id,
        now=now,
        start=start.isoformat(),
        end=end.isoformat(),
        removed=count,
    )
    return count


@dataclass(frozen=True, slots=True)
class HolidaysInstalled:
    """What `install_holidays` did."""

    region: Region
    added: int
    holidays: int
    #: School years whose dates were not yet compared with rijksoverheid.nl.
    unchecked_years: tuple[str, ...] = field(default=())


async def install_holidays(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    region: Region,
    today: date,
    now: datetime,
    school_year: str | None = None,
) -> HolidaysInstalled:
    """Close the school on the shipped school holidays of ``region`` that have not ended yet
    (only those of ``school_year``, e.g. ``"2027-2028"``, when given).

    Days already closed keep their row (their label is set when they had none). The region is
    stored as the school's. `InputInvalid` for a school year the shipped data does not have
    (or that is over).
    """
    await require_admin(session=session, actor=actor, school_id=school_id)
    if school_year is not None and school_year not in school_years(from_day=today):
        raise InputInvalid(
            Text.of(
                N_("There are no school holidays for the school year “{year}” in this version."),
                year=Text.raw(school_year),
            )
        )
    school = await session.get_one(School, school_id)
    school.region = region.value
    holidays = holidays_for(region, from_day=today, school_year=school_year)
    existing = {
        row.day: row
        for row in await session.scalars(
            select(ClosedDay).where(ClosedDay.school_id == school_id, ClosedDay.day >= today)
        )
    }
    added = 0
    for holiday in holidays:
        for day in holiday.days():
            if day < today:
                continue
            if day in existing:
                if existing[day].label is None:
                    existing[day].label = holiday.name
                continue
            row = ClosedDay(school_id=school_id, day=day, label=holiday.name)
            session.add(row)
            existing[day] = row
            added += 1
    await session.flush()
    unchecked = tuple(sorted({h.school_year for h in holidays if not h.checked}))
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.holidays",
        subject_type="school",
        subject_id=school_id,
        now=now,
        region=region.value,
        school_year=school_year,
        added=added,
    )
    return HolidaysInstalled(region, added, len(holidays), unchecked)


async def find_coach(*, session: AsyncSession, school_id: int, external_id: str) -> Person:
    """The coach ``external_id`` of the school; `NotFound` / `InputInvalid` otherwise."""
    person = await get_person_by_external_id(
        session=session, school_id=school_id, external_id=external_id
    )
    if person is None:
        raise NotFound(Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id)))
    if not person.has_role(Role.COACH):
        raise InputInvalid(
            Text.of(N_("“{id}” is not a coach of the school."), id=Text.raw(external_id))
        )
    return person


async def coach_of_school(*, session: AsyncSession, school_id: int, coach_id: int) -> Person:
    """The coach with id ``coach_id`` of the school; `NotFound` otherwise (another school's
    person and an unknown id alike)."""
    person = await session.get(Person, coach_id)
    if person is None or person.school_id != school_id or not person.has_role(Role.COACH):
        raise NotFound(Text.of(N_("This coach was not found.")))
    return person


async def set_coach_hours(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    coach: Person,
    weekday: int,
    spans: list[tuple[time, time]],
    now: datetime,
) -> None:
    """The coach's hours for appointments on ``weekday``: ``spans`` replace the day's hours
    (none: not available that day)."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    if coach.school_id != school_id or not coach.has_role(Role.COACH):
        raise InputInvalid(Text.of(N_("Only a coach of the school has hours.")))
    if any(end <= start for start, end in spans):
        raise InputInvalid(
            Text.of(N_("A span of time must end after it starts (for example 09:00-12:00)."))
        )
    if spans_overlap(spans):
        raise InputInvalid(Text.of(N_("The spans of time of one day must not overlap.")))
    await session.execute(
        delete(CoachAvailability).where(
            CoachAvailability.school_id == school_id,
            CoachAvailability.coach_id == coach.id,
            CoachAvailability.weekday == weekday,
        )
    )
    for start, end in sorted(spans):
        session.add(
            CoachAvailability(
                school_id=school_id,
                coach_id=coach.id,
                weekday=weekday,
                starts_at=start,
                ends_at=end,
            )
        )
    await session.flush()
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.coach_hours",
        subject_type="person",
        subject_id=coach.id,
        now=now,
        weekday=WEEKDAYS[weekday],
        spans=[f"{s.isoformat('minutes')}-{e.isoformat('minutes')}" for s, e in sorted(spans)],
    )


@dataclass(frozen=True, slots=True)
class BookingChange:
    """What to change in the school's booking rules; ``None`` keeps the current value."""

    lead_time_minutes: int | None = None
    late_cancel_hours: int | None = None
    horizon_days: int | None = None
    day_reminder_hour: int | None = None
    timeouts_per_week: int | None = None


async def set_booking_settings(
    *,
    session: AsyncSession,
    school_id: int,
    actor: Person | None,
    change: BookingChange,
    now: datetime,
) -> BookingSettings:
    """Change the school's booking rules (the row is made with the defaults when missing)."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    row = await session.get(BookingSettings, school_id)
    if row is None:
        row = BookingSettings(
            school_id=school_id,
            lead_time_minutes=120,
            late_cancel_hours=24,
            horizon_days=21,
            day_reminder_hour=18,
            timeouts_per_week=2,
        )
    merged = {
        "lead_time_minutes": _keep(change.lead_time_minutes, row.lead_time_minutes),
        "late_cancel_hours": _keep(change.late_cancel_hours, row.late_cancel_hours),
        "horizon_days": _keep(change.horizon_days, row.horizon_days),
        "day_reminder_hour": _keep(change.day_reminder_hour, row.day_reminder_hour),
        "timeouts_per_week": _keep(change.timeouts_per_week, row.timeouts_per_week),
    }
    _refuse(booking_field_problems(**merged))
    row.lead_time_minutes = merged["lead_time_minutes"]
    row.late_cancel_hours = merged["late_cancel_hours"]
    row.horizon_days = merged["horizon_days"]
    row.day_reminder_hour = merged["day_reminder_hour"]
    row.timeouts_per_week = merged["timeouts_per_week"]
    session.add(row)
    await session.flush()
    _audit(
        session,
        school_id=school_id,
        actor=actor,
        action="settings.booking",
        subject_type="school",
        subject_id=school_id,
        now=now,
        **merged,
    )
    return row
