"""Free times: which start times can be offered to a student, with how many places are left.

`free_slots` is what the booking flow offers; `alternatives` what a refused booking suggests
instead; `candidates_at` checks that a requested start is one the timetable offers at all.
Places are counted here only to *offer* times: taking one is `placing.take_places`' conditional
UPDATE, never a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments import rules
from services.appointments.access import (
    appointment_to_move,
    find_student,
    intake_days,
    kind_problem,
    open_trajectory,
    rule_for,
)
from services.appointments.capacity import usage
from services.appointments.errors import BookingRefused
from services.appointments.rules import HOLDING
from services.appointments.schedule import Candidate, Schedule, TypeRule, cells_of, load_schedule
from services.kernel.access import reload_actor
from services.kernel.uow import update_cache
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentResource,
    Person,
    PersonRole,
    Role,
    Trajectory,
)

#: How many alternatives a refused booking offers.
ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start time with how many places are still free.

    For a coach appointment ``free_places`` counts the coaches free at that time.
    """

    kind: AppointmentKind
    starts_at: datetime
    ends_at: datetime
    free_places: int
    #: The free resources at this start, the first to be taken first (what a hold keeps).
    places: tuple[Candidate, ...] = ()
    #: Until when the person listing holds this time (`holds`), if they do.
    held_until: datetime | None = None


async def free_slots(
    *,
    session: AsyncSession,
    person: Person,
    student_id: int,
    kind: AppointmentKind,
    now: datetime,
    days: int = 21,
    move_appointment_id: int | None = None,
) -> list[Slot]:
    """Free, bookable start times of ``kind`` for the student from today on, ``days`` days.

    Only times inside the opening hours (and a coach's availability), after the lead time,
    within the school's horizon, not on closed days, with a free place, and not overlapping
    the student's other appointments. A query. `NotAllowed` when ``person`` may not book this
    kind for the student; `BookingRefused` when a rule says no (no active trajectory, ...).
    With ``move_appointment_id`` the times are those that appointment can move to.
    """
    actor = await reload_actor(session=session, actor=person)
    student = await find_student(session=session, actor=actor, student_id=student_id)
    schedule = await load_schedule(
        session=session,
        school_id=actor.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
        for_kinds=(kind,),
    )
    rule = await rule_for(
        session=session, actor=actor, student=student, schedule=schedule, kind=kind, now=now
    )
    moving = None
    if move_appointment_id is not None:
        moving = await appointment_to_move(
            session=session,
            actor=actor,
            appointment_id=move_appointment_id,
            student_id=student.id,
            kind=kind,
            now=now,
            lock=False,
        )
    trajectory = await open_trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=False
    )
    problem = await kind_problem(
        session=session,
        kind=kind,
        trajectory=trajectory,
        student_id=student.id,
        school_id=actor.school_id,
        moving_id=None if moving is None else moving.id,
    )
    if problem is not None:
        raise BookingRefused(problem)
    coaches = await coaches_for(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory
    )
    found = await _open_candidates(
        session=session,
        schedule=schedule,
        rule=rule,
        days=await _days_for(
            session=session, rule=rule, trajectory=trajectory, days=_days(schedule, now, days)
        ),
        coaches=coaches,
        now=now,
        student_id=student.id,
        moving=moving,
        holder_id=actor.id,
    )
    slots = _merge(kind, found)
    if moving is not None:
        slots = [slot for slot in slots if slot.starts_at != moving.starts_at]
    return slots


async def alternatives(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    trajectory: Trajectory,
    student_id: int,
    starts_at: datetime,
    now: datetime,
    moving: Appointment | None,
    holder_id: int | None,
) -> tuple[Slot, ...]:
    """The free slots nearest to ``starts_at`` (the same day first, then the days around);
    places others hold are not free, ``holder_id``'s own are (`holds`)."""
    coaches = await coaches_for(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory
    )
    found = await _open_candidates(
        session=session,
        schedule=schedule,
        rule=rule,
        days=await _days_for(
            session=session,
            rule=rule,
            trajectory=trajectory,
            days=_days(schedule, now, schedule.rules.horizon_days),
        ),
        coaches=coaches,
        now=now,
        student_id=student_id,
        moving=moving,
        holder_id=holder_id,
    )
    slots = [s for s in _merge(rule.kind, found) if s.starts_at != starts_at]
    slots.sort(key=lambda s: (abs(s.starts_at - starts_at), s.starts_at))
    return tuple(sorted(slots[:ALTERNATIVES], key=lambda s: s.starts_at))


async def candidates_at(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    trajectory: Trajectory,
    starts_at: datetime,
) -> list[Candidate]:
    """The candidates (one per resource) starting exactly at ``starts_at``, or `BookingRefused`
    when the timetable does not offer that start (opening hours, coach hours, grid)."""
    coaches = await coaches_for(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory
    )
    candidates = [
        c
        for c in schedule.candidates(rule.kind, schedule.local_day(starts_at), coaches)
        if c.starts_at == starts_at
    ]
    if not candidates:
        raise BookingRefused(
            Text.of(N_("That time cannot be booked. Please pick one of the times offered."))
        )
    return candidates


async def coaches_for(
    *, session: AsyncSession, schedule: Schedule, rule: TypeRule, trajectory: Trajectory | None
) -> list[int]:
    """Coaches a coach appointment may be with: the trajectory's own coach if it has one.

    The school's coaches come from the process cache inside a Telegram update while the cache
    version stands (people and roles bump it)."""
    if rule.resource is not AppointmentResource.COACH:
        return []
    cache = await update_cache()
    key = ("coach_ids", schedule.school_id)
    if cache is not None and key in cache:
        coaches: list[int] = list(cache.get(key))
    else:
        coaches = list(
            await session.scalars(
                select(Person.id)
                .join(PersonRole, PersonRole.person_id == Person.id)
                .where(Person.school_id == schedule.school_id, PersonRole.role == Role.COACH)
                .order_by(Person.id)
            )
        )
        if cache is not None:
            cache.put(key, tuple(coaches))
    if trajectory is not None and trajectory.coach_id in coaches:
        return [trajectory.coach_id]
    return coaches


async def student_busy(
    *,
    session: AsyncSession,
    student_id: int,
    start: datetime,
    end: datetime,
    except_id: int | None,
) -> list[tuple[datetime, datetime]]:
    """(start, end) of the student's appointments holding places that overlap [start, end),
    but the one with ``except_id`` (being moved)."""
    rows = await session.execute(
        select(Appointment.starts_at, Appointment.ends_at).where(
            Appointment.student_id == student_id,
            Appointment.status.in_(HOLDING),
            Appointment.starts_at < end,
            Appointment.ends_at > start,
            Appointment.id != (except_id or 0),
        )
    )
    return [(s, e) for s, e in rows]


def _days(schedule: Schedule, now: datetime, days: int) -> list[date]:
    today = schedule.local_day(now)
    count = max(0, min(days, schedule.rules.horizon_days))
    return [today + timedelta(days=offset) for offset in range(count)]


async def _days_for(
    *, session: AsyncSession, rule: TypeRule, trajectory: Trajectory | None, days: list[date]
) -> list[date]:
    """``days`` on which ``rule``'s kind may be: an intake only on the days its mentor can
    attend (the referral's intake days)."""
    mentor = await intake_days(session=session, kind=rule.kind, trajectory=trajectory)
    return days if mentor is None else [day for day in days if mentor.allows(day)]


async def _open_candidates(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    days: Sequence[date],
    coaches: Sequence[int],
    now: datetime,
    student_id: int,
    moving: Appointment | None,
    holder_id: int | None,
) -> list[tuple[Candidate, datetime | None, int]]:
    """Every candidate on ``days`` after the type's lead time (a time-out: also the block
    that is running, `rules.earliest_start`), with until when ``holder_id`` holds it (if they
    do) and its free places (> 0 only).

    The student's own appointments (but the one being moved) make overlapping times busy; a
    place someone else holds (`holds`) is taken.
    """
    earliest = rules.earliest_start(now=now, lead_time=rule.lead_time, duration=rule.duration)
    candidates = [
        candidate
        for day in days
        for candidate in schedule.candidates(rule.kind, day, coaches)
        if candidate.starts_at >= earliest
    ]
    if not candidates:
        return []
    start = min(c.starts_at for c in candidates)
    end = max(c.busy_until for c in candidates) + timedelta(minutes=1)
    taken = await usage(
        session=session,
        school_id=schedule.school_id,
        resources={c.resource for c in candidates},
        start=start,
        end=end,
        now=now,
    )
    used = taken.places
    own_hold: dict[tuple[str, datetime], datetime] = {}
    for held in taken.holds:
        key = (held.resource, held.starts_at)
        if held.holder_id == holder_id:
            own_hold[key] = held.expires_at
            continue
        capacity, booked = used.get(key, (_default_capacity(rule), 0))
        used[key] = (capacity, booked + 1)
    if moving is not None:
        # The moved appointment's own places count as free for its new time.
        for cell in cells_of(
            resource=moving.resource, starts_at=moving.starts_at, busy_until=moving.busy_until
        ):
            key = (moving.resource, cell)
            if key in used:
                capacity, booked = used[key]
                used[key] = (capacity, booked - 1)
    own = await student_busy(
        session=session,
        student_id=student_id,
        start=start,
        end=end,
        except_id=None if moving is None else moving.id,
    )
    found: list[tuple[Candidate, datetime | None, int]] = []
    for candidate in candidates:
        if any(s < candidate.ends_at and candidate.starts_at < e for s, e in own):
            continue
        if rule.resource is AppointmentResource.ROOM:
            capacity, booked = used.get(
                (candidate.resource, candidate.starts_at), (rule.capacity, 0)
            )
            free = capacity - booked
        else:
            free = int(all(_has_room(used, candidate.resource, cell) for cell in candidate.cells))
        if free > 0:
            kept = [own_hold.get((candidate.resource, cell)) for cell in candidate.cells]
            mine = [until for until in kept if until is not None]
            held_until = min(mine) if len(mine) == len(kept) else None
            found.append((candidate, held_until, free))
    return found


def _default_capacity(rule: TypeRule) -> int:
    """The places of a slot row nobody has booked yet (no row in the table)."""
    return rule.capacity if rule.resource is AppointmentResource.ROOM else 1


def _has_room(
    used: dict[tuple[str, datetime], tuple[int, int]], resource: str, cell: datetime
) -> bool:
    capacity, booked = used.get((resource, cell), (1, 0))
    return booked < capacity


def _merge(
    kind: AppointmentKind, found: Iterable[tuple[Candidate, datetime | None, int]]
) -> list[Slot]:
    """One `Slot` per start time (coach appointments: free places summed over coaches), with
    its free resources (one the person holds first) and until when they hold it."""
    by_start: dict[datetime, list[tuple[Candidate, datetime | None, int]]] = {}
    for entry in found:
        by_start.setdefault(entry[0].starts_at, []).append(entry)
    slots = []
    for start, entries in sorted(by_start.items()):
        entries.sort(key=lambda entry: entry[1] is None)  # a held resource first
        slots.append(
            Slot(
                kind=kind,
                starts_at=start,
                ends_at=entries[0][0].ends_at,
                free_places=sum(free for _, _, free in entries),
                places=tuple(candidate for candidate, _, _ in entries),
                held_until=entries[0][1],
            )
        )
    return slots
