"""A school's timetable for appointments: which start times exist on a day, for which resource.

Pure computations on a `Schedule` loaded once per request (`load_schedule`). Times are built in
the school's time zone and returned in UTC; a day is a school-local date.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.uow import update_cache
from storage.models import (
    COACH_CELL_MINUTES,
    AppointmentKind,
    AppointmentResource,
    AppointmentType,
    BookingSettings,
    ClosedDay,
    CoachAvailability,
    OpeningHours,
    School,
)

#: Defaults for a school without a `BookingSettings` row (the column defaults, repeated here so
#: reading never needs a write).
DEFAULT_LEAD_TIME_MINUTES = 120
DEFAULT_LATE_CANCEL_HOURS = 24
DEFAULT_HORIZON_DAYS = 21
DEFAULT_DAY_REMINDER_HOUR = 18

_CELL = timedelta(minutes=COACH_CELL_MINUTES)


@dataclass(frozen=True, slots=True)
class Rules:
    """A school's booking settings (``lead_time``: for types without their own)."""

    lead_time: timedelta
    late_cancel: timedelta
    horizon_days: int
    day_reminder_hour: int


@dataclass(frozen=True, slots=True)
class TypeRule:
    """One appointment type, detached from the session."""

    kind: AppointmentKind
    resource: AppointmentResource
    #: Minimum notice for this type: its own, or the school's.
    lead_time: timedelta
    duration: timedelta
    step: timedelta
    buffer: timedelta
    capacity: int
    bookable_by: frozenset[str]
    attendees: frozenset[str]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One start time of one resource, with the slot rows a booking of it holds."""

    starts_at: datetime
    ends_at: datetime
    busy_until: datetime
    resource: str
    coach_id: int | None
    cells: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Everything that decides which start times exist at one school."""

    school_id: int
    zone: ZoneInfo
    rules: Rules
    types: Mapping[AppointmentKind, TypeRule]
    opening: Mapping[int, tuple[time, time]]
    closed: frozenset[date]
    #: coach id -> weekday -> intervals
    availability: Mapping[int, Mapping[int, tuple[tuple[time, time], ...]]]

    def local_day(self, at: datetime) -> date:
        """The school-local date of an instant."""
        return at.astimezone(self.zone).date()

    def local(self, day: date, at: time) -> datetime:
        """The instant (UTC) of a school-local wall-clock time."""
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants of the start of ``day`` and of the next day, school time."""
        return self.local(day, time()), self.local(day + timedelta(days=1), time())

    def is_open(self, day: date) -> bool:
        """Whether the trajectvoorziening is open on ``day`` at all."""
        return day.weekday() in self.opening and day not in self.closed

    def candidates(
        self, kind: AppointmentKind, day: date, coaches: Sequence[int] = ()
    ) -> list[Candidate]:
        """Every start time of ``kind`` on ``day``, per resource, ignoring who booked what.

        Room kinds: blocks of ``step`` from opening time that end by closing time. Coach kinds:
        for each coach in ``coaches``, starts every ``step`` on the quarter-hour grid inside
        both the coach's hours and the opening hours.
        """
        rule = self.types.get(kind)
        if rule is None or not self.is_open(day):
            return []
        opens, closes = self.opening[day.weekday()]
        if rule.resource is AppointmentResource.ROOM:
            resource = room_resource(kind)
            return [
                Candidate(start, end, end, resource, None, (start,))
                for start, end in _starts(self, day, opens, closes, rule, aligned=False)
            ]
        found: list[Candidate] = []
        for coach_id in coaches:
            resource = coach_resource(coach_id)
            # Overlapping spans of one coach (entered twice) give each start once.
            seen: set[datetime] = set()
            for begin, finish in self.availability.get(coach_id, {}).get(day.weekday(), ()):
                start_at, end_at = max(begin, opens), min(finish, closes)
                if end_at <= start_at:
                    continue
                for start, end in _starts(self, day, start_at, end_at, rule, aligned=True):
                    if start in seen:
                        continue
                    seen.add(start)
                    busy_until = end + rule.buffer
                    found.append(
                        Candidate(
                            start, end, busy_until, resource, coach_id, _cells(start, busy_until)
                        )
                    )
        return found


def room_resource(kind: AppointmentKind) -> str:
    """The resource key of the room used by ``kind``."""
    return f"room:{kind.value}"


def coach_resource(coach_id: int) -> str:
    """The resource key of one coach."""
    return f"coach:{coach_id}"


def cells_of(*, resource: str, starts_at: datetime, busy_until: datetime) -> tuple[datetime, ...]:
    """The slot rows an appointment on ``resource`` holds (what a cancellation releases)."""
    if resource.startswith("room:"):
        return (starts_at,)
    return _cells(starts_at, busy_until)


def _cells(start: datetime, until: datetime) -> tuple[datetime, ...]:
    cells = []
    at = start
    while at < until:
        cells.append(at)
        at += _CELL
    return tuple(cells)


def _starts(
    schedule: Schedule, day: date, begin: time, finish: time, rule: TypeRule, *, aligned: bool
) -> Iterable[tuple[datetime, datetime]]:
    # Wall-clock arithmetic in naive local time, then localised: opening hours never cross a
    # DST change (those happen at night).
    at = datetime.combine(day, begin)
    if aligned:
        minutes = at.hour * 60 + at.minute
        at = at.replace(second=0, microsecond=0) + timedelta(minutes=-minutes % COACH_CELL_MINUTES)
    end_of_window = datetime.combine(day, finish)
    while at + rule.duration <= end_of_window:
        start = at.replace(tzinfo=schedule.zone).astimezone(UTC)
        yield start, (at + rule.duration).replace(tzinfo=schedule.zone).astimezone(UTC)
        at += rule.step


async def load_schedule(
    *,
    session: AsyncSession,
    school_id: int,
    from_day: date,
    for_kinds: Collection[AppointmentKind] | None = None,
) -> Schedule:
    """The school's timetable (closed days from ``from_day`` on). A query.

    With ``for_kinds`` the coaches' availability is only read when one of those kinds is a
    coach appointment (a time-out in the room does not need it). Inside a Telegram update from
    the process cache while the cache version stands (every table read here bumps it).
    """
    cache = await update_cache()
    key = (
        "schedule",
        school_id,
        from_day,
        None if for_kinds is None else frozenset(for_kinds),
    )
    if cache is not None and key in cache:
        cached: Schedule = cache.get(key)
        return cached
    schedule = await _load_schedule(
        session=session, school_id=school_id, from_day=from_day, for_kinds=for_kinds
    )
    if cache is not None:
        cache.put(key, schedule)
    return schedule


async def _load_schedule(
    *,
    session: AsyncSession,
    school_id: int,
    from_day: date,
    for_kinds: Collection[AppointmentKind] | None = None,
) -> Schedule:
    row = (
        await session.execute(
            select(School.timezone, BookingSettings)
            .outerjoin(BookingSettings, BookingSettings.school_id == School.id)
            .where(School.id == school_id)
        )
    ).one_or_none()
    if row is None:
        raise LookupError(f"school_id={school_id} does not exist")
    timezone, settings = row
    rules = Rules(
        lead_time=timedelta(
            minutes=DEFAULT_LEAD_TIME_MINUTES if settings is None else settings.lead_time_minutes
        ),
        late_cancel=timedelta(
            hours=DEFAULT_LATE_CANCEL_HOURS if settings is None else settings.late_cancel_hours
        ),
        horizon_days=DEFAULT_HORIZON_DAYS if settings is None else settings.horizon_days,
        day_reminder_hour=(
            DEFAULT_DAY_REMINDER_HOUR if settings is None else settings.day_reminder_hour
        ),
    )
    types = {
        row.kind: TypeRule(
            kind=row.kind,
            resource=row.resource,
            lead_time=(
                rules.lead_time
                if row.lead_time_minutes is None
                else timedelta(minutes=row.lead_time_minutes)
            ),
            duration=timedelta(minutes=row.duration_minutes),
            step=timedelta(minutes=row.step_minutes),
            buffer=timedelta(minutes=row.buffer_minutes),
            capacity=row.capacity,
            bookable_by=frozenset(row.bookable_by),
            attendees=frozenset(row.attendees),
        )
        for row in await session.scalars(
            select(AppointmentType).where(
                AppointmentType.school_id == school_id, AppointmentType.active.is_(True)
            )
        )
    }
    opening = {
        row.weekday: (row.opens_at, row.closes_at)
        for row in await session.scalars(
            select(OpeningHours).where(OpeningHours.school_id == school_id)
        )
    }
    closed = frozenset(
        await session.scalars(
            select(ClosedDay.day).where(ClosedDay.school_id == school_id, ClosedDay.day >= from_day)
        )
    )
    availability: dict[int, dict[int, list[tuple[time, time]]]] = {}
    spans = (
        await session.scalars(
            select(CoachAvailability)
            .where(CoachAvailability.school_id == school_id)
            .order_by(CoachAvailability.starts_at)
        )
        if for_kinds is None
        or any(
            types[kind].resource is AppointmentResource.COACH for kind in for_kinds if kind in types
        )
        else ()
    )
    for span in spans:
        availability.setdefault(span.coach_id, {}).setdefault(span.weekday, []).append(
            (span.starts_at, span.ends_at)
        )
    return Schedule(
        school_id=school_id,
        zone=ZoneInfo(timezone),
        rules=rules,
        types=MappingProxyType(types),
        opening=MappingProxyType(opening),
        closed=closed,
        availability=MappingProxyType(
            {
                coach: MappingProxyType({day: tuple(spans) for day, spans in days.items()})
                for coach, days in availability.items()
            }
        ),
    )
