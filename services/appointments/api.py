"""Appointments (issue 4): booking, moving, cancelling, the mentor's confirmation, attendance.

The public API for the channels (``dialogs`` bindings, ``bot``, ``web``). All datetimes are
timezone-aware UTC; ``date`` values are school-local days (Europe/Amsterdam). Units of work own
their transaction (``session`` must not be in one); ``*_in_transaction`` operations join the
caller's.

The rules the product enforces (domain.md, "pitfalls"), each checked here from the database:

- who may book what: a type's ``bookable_by`` roles, and the person's link to the student
  (the student themself, a parent through `Guardianship`, a care coordinator of the school);
- an intake only once the care coordinator accepted the referral (trajectory ``planned``), and
  only when the student has a mentor; it stays ``booked`` until a mentor confirms being there;
- a begeleidingsgesprek, time-out or evaluation only with an ``active`` trajectory (after the
  intake); a time-out outside the plan (not in the plan, or outside its dates) or above the
  trajectory's cap per ISO week goes to the care coordinator's queue instead of being booked;
- no booking in the past, closer than the lead time, beyond the horizon, on a closed day, or
  at a time that is not one of the offered start times (opening hours, coach availability);
- capacity: places are taken with conditional UPDATEs on `AppointmentSlot` rows
  (`services.appointments.capacity`), never by counting first; a full time answers `SlotTaken` with
  the nearest free alternatives;
- a cancellation close to the start is allowed and flagged (``late_cancel``).

Bookings of one student are serialised by a row lock on their trajectory (PostgreSQL; SQLite
has one writer at a time), so the week's cap and the "one appointment at a time" check cannot
be raced. Every booking, move, cancellation, confirmation and attendance is audited (ids and
codes only); notifications go through the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.people import care_coordinators_of
from services.appointments import notices
from services.appointments.calendar import CalendarEntry
from services.appointments.calendar import calendar_file as _calendar_file
from services.appointments.capacity import Change, apply_changes, changes_for, usage
from services.appointments.schedule import (
    Candidate,
    Schedule,
    TypeRule,
    cells_of,
    load_schedule,
)
from services.kernel.access import reload_actor, require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed, StorageError
from services.kernel.text_input import clean_text, validate_length
from services.outbox.store import cancel_pending
from services.queue.actions import DECLINE_REASON_MAX, DECLINE_REASON_MIN
from services.trajectories.lifecycle import activate_in_transaction
from storage.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentResource,
    AppointmentStatus,
    Guardianship,
    Mentorship,
    Person,
    PersonRole,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    TimeoutRequest,
    TimeoutRequestReason,
    Trajectory,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

__all__ = [
    "AppointmentKind",
    "AppointmentStatus",
    "AppointmentView",
    "BookingRefused",
    "BookingRequested",
    "Slot",
    "SlotTaken",
    "TimeoutRequestView",
    "appointments_of_trajectory",
    "appointments_on",
    "approve_timeout_request",
    "book",
    "book_in_transaction",
    "bookable_kinds",
    "bookable_students",
    "calendar_file",
    "cancel",
    "cancel_in_transaction",
    "confirm_mentor_presence",
    "decline_timeout_request",
    "decline_timeout_request_in_transaction",
    "free_slots",
    "mark_attendance",
    "open_timeout_request",
    "upcoming_for",
]

#: How many alternatives a refused booking offers.
ALTERNATIVES = 3

_HOLDING = tuple(AppointmentStatus(status) for status in HOLDING_STATUSES)
_NOT_AVAILABLE = N_("This appointment is not available to you.")
_STUDENT_NOT_AVAILABLE = N_("You cannot book appointments for this student.")


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start time with how many places are still free.

    For a coach appointment ``free_places`` counts the coaches free at that time.
    """

    kind: AppointmentKind
    starts_at: datetime
    ends_at: datetime
    free_places: int


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """One appointment as the people involved see it.

    ``version`` is the calendar file's SEQUENCE. Names are for display inside the chat or
    the web page only, never for logs or notifications.
    """

    appointment_id: int
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    student_id: int
    student_name: str
    booked_by_id: int
    coach_name: str | None
    mentor_confirmed: bool
    late_cancel: bool
    version: int
    coach_id: int | None = None
    trajectory_id: int | None = None
    school_id: int | None = None


@dataclass(frozen=True, slots=True)
class BookingRequested:
    """Nothing was booked: the time-out request went to the care coordinator's queue."""

    queue_item_id: int


@dataclass(frozen=True, slots=True)
class TimeoutRequestView:
    """A time-out request as the care coordinator sees it in the queue."""

    queue_item_id: int
    status: QueueStatus
    decision: QueueDecision | None
    student_id: int
    student_name: str
    group_name: str | None
    starts_at: datetime
    reason: TimeoutRequestReason
    timeouts_per_week: int
    timeouts_in_plan: bool
    appointment_id: int | None
    #: The trajectory and its plan's dates (what "outside the plan" is measured against).
    trajectory_id: int | None = None
    plan_start: date | None = None
    plan_end: date | None = None
    #: Who asked (the student, or a parent for them) and when.
    requested_by_name: str | None = None
    requested_at: datetime | None = None
    #: The decision: who, when, and a decline's reason (internal, care coordinators only).
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


class SlotTaken(StorageError):  # noqa: N818 - the agreed API name
    """The time has no free place (any more); ``alternatives`` are the nearest free slots."""

    def __init__(self, reason: Text, alternatives: tuple[Slot, ...]) -> None:
        super().__init__(reason.msgid)
        self.reason = reason
        self.alternatives = alternatives


class BookingRefused(StorageError):  # noqa: N818 - the agreed API name
    """A rule says no (no active trajectory, closed day, lead time, ...): ``reason`` says it."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


# --- who may book for whom -------------------------------------------------------------------


async def bookable_students(*, session: AsyncSession, person: Person) -> list[tuple[int, str]]:
    """(student_id, display name) of the students ``person`` may book for. A query.

    A student: themself. A parent: their children (`Guardianship`). A care coordinator: the
    students of their school with an open trajectory. Themself first, then by name.
    """
    person = await reload_actor(session=session, actor=person)
    found: dict[int, Person] = {}
    if person.has_role(Role.STUDENT):
        found[person.id] = person
    if person.has_role(Role.PARENT):
        children = await session.scalars(
            select(Person)
            .join(
                Guardianship,
                (Guardianship.student_id == Person.id)
                & (Guardianship.school_id == Person.school_id),
            )
            .where(Guardianship.parent_id == person.id, Guardianship.school_id == person.school_id)
        )
        for child in children:
            found.setdefault(child.id, child)
    if person.has_role(Role.CARE_COORDINATOR):
        students = await session.scalars(
            select(Person)
            .join(Trajectory, Trajectory.student_id == Person.id)
            .where(
                Trajectory.school_id == person.school_id,
                Person.school_id == person.school_id,
                Trajectory.status != TrajectoryStatus.CLOSED,
            )
        )
        for student in students:
            found.setdefault(student.id, student)
    ordered = sorted(
        found.values(),
        key=lambda p: (p.id != person.id, p.family_name, p.given_name, p.id),
    )
    return [(p.id, p.display_name) for p in ordered]


async def _relations(*, session: AsyncSession, actor: Person, student: Person) -> set[str]:
    """The roles in which ``actor`` may act for ``student`` (as role codes)."""
    relations: set[str] = set()
    if actor.id == student.id and actor.has_role(Role.STUDENT):
        relations.add(Role.STUDENT.value)
    if actor.has_role(Role.PARENT):
        link = await session.scalar(
            select(Guardianship.id).where(
                Guardianship.parent_id == actor.id,
                Guardianship.student_id == student.id,
                Guardianship.school_id == actor.school_id,
            )
        )
        if link is not None:
            relations.add(Role.PARENT.value)
    for staff in (Role.CARE_COORDINATOR, Role.COACH):
        if actor.has_role(staff):
            relations.add(staff.value)
    return relations


async def _student(*, session: AsyncSession, actor: Person, student_id: int) -> Person:
    student = await session.scalar(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.id == student_id,
            Person.school_id == actor.school_id,
            PersonRole.role == Role.STUDENT,
        )
    )
    if student is None:
        # One answer for "another school's", "not a student" and "no such id".
        log.info("refused: student_id=%s for person_id=%s", student_id, actor.id)
        raise NotAllowed(Text.of(_STUDENT_NOT_AVAILABLE))
    return student


async def _mentor_ids(*, session: AsyncSession, school_id: int, student_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Mentorship.mentor_id)
            .where(Mentorship.school_id == school_id, Mentorship.student_id == student_id)
            .order_by(Mentorship.mentor_id)
        )
    )


async def _trajectory(
    *, session: AsyncSession, school_id: int, student_id: int, lock: bool
) -> Trajectory | None:
    query = (
        select(Trajectory)
        .where(
            Trajectory.school_id == school_id,
            Trajectory.student_id == student_id,
            Trajectory.status != TrajectoryStatus.CLOSED,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _kind_problem(
    *,
    session: AsyncSession,
    kind: AppointmentKind,
    trajectory: Trajectory | None,
    student_id: int,
    school_id: int,
    moving_id: int | None,
) -> Text | None:
    """Why ``kind`` cannot be booked for the student now (trajectory rules), or ``None``."""
    if kind is AppointmentKind.INTAKE:
        if trajectory is None:
            return Text.of(
                N_("An intake can be booked once the care coordinator has accepted the referral.")
            )
        if trajectory.status is not TrajectoryStatus.PLANNED:
            return Text.of(N_("The intake has already taken place."))
        if not await _mentor_ids(session=session, school_id=school_id, student_id=student_id):
            return Text.of(
                N_(
                    "An intake needs the mentor, and no mentor is known for this student. "
                    "Please contact the school."
                )
            )
        planned = await session.scalar(
            select(Appointment.id).where(
                Appointment.trajectory_id == trajectory.id,
                Appointment.kind == AppointmentKind.INTAKE,
                Appointment.status.in_(_HOLDING),
                Appointment.id != (moving_id or 0),
            )
        )
        if planned is not None:
            return Text.of(
                N_("An intake is already planned. You can move it under My appointments.")
            )
        return None
    if trajectory is None or trajectory.status is not TrajectoryStatus.ACTIVE:
        return Text.of(N_("This can be booked after the intake, once the support has started."))
    return None


# --- reading the timetable -------------------------------------------------------------------


async def _coaches_for(
    *, session: AsyncSession, schedule: Schedule, rule: TypeRule, trajectory: Trajectory | None
) -> list[int]:
    """Coaches a coach appointment may be with: the trajectory's own coach if it has one."""
    if rule.resource is not AppointmentResource.COACH:
        return []
    coaches = list(
        await session.scalars(
            select(Person.id)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(Person.school_id == schedule.school_id, PersonRole.role == Role.COACH)
            .order_by(Person.id)
        )
    )
    if trajectory is not None and trajectory.coach_id in coaches:
        return [trajectory.coach_id]
    return coaches


def _days(schedule: Schedule, now: datetime, days: int) -> list[date]:
    today = schedule.local_day(now)
    count = max(0, min(days, schedule.rules.horizon_days))
    return [today + timedelta(days=offset) for offset in range(count)]


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
) -> list[tuple[Candidate, int]]:
    """Every candidate on ``days`` after the lead time, with its free places (> 0 only).

    The student's own appointments (but the one being moved) make overlapping times busy.
    """
    earliest = now + schedule.rules.lead_time
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
    used = await usage(
        session=session,
        school_id=schedule.school_id,
        resources={c.resource for c in candidates},
        start=start,
        end=end,
    )
    if moving is not None:
        # The moved appointment's own places count as free for its new time.
        for cell in cells_of(
            resource=moving.resource, starts_at=moving.starts_at, busy_until=moving.busy_until
        ):
            key = (moving.resource, cell)
            if key in used:
                capacity, booked = used[key]
                used[key] = (capacity, booked - 1)
    own = await _student_busy(
        session=session,
        student_id=student_id,
        start=start,
        end=end,
        except_id=None if moving is None else moving.id,
    )
    found: list[tuple[Candidate, int]] = []
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
            found.append((candidate, free))
    return found


async def _student_busy(
    *,
    session: AsyncSession,
    student_id: int,
    start: datetime,
    end: datetime,
    except_id: int | None,
) -> list[tuple[datetime, datetime]]:
    rows = await session.execute(
        select(Appointment.starts_at, Appointment.ends_at).where(
            Appointment.student_id == student_id,
            Appointment.status.in_(_HOLDING),
            Appointment.starts_at < end,
            Appointment.ends_at > start,
            Appointment.id != (except_id or 0),
        )
    )
    return [(s, e) for s, e in rows]


def _has_room(
    used: dict[tuple[str, datetime], tuple[int, int]], resource: str, cell: datetime
) -> bool:
    capacity, booked = used.get((resource, cell), (1, 0))
    return booked < capacity


def _merge(kind: AppointmentKind, found: Iterable[tuple[Candidate, int]]) -> list[Slot]:
    """One `Slot` per start time (coach appointments: free places summed over coaches)."""
    by_start: dict[datetime, tuple[datetime, int]] = {}
    for candidate, free in found:
        ends, places = by_start.get(candidate.starts_at, (candidate.ends_at, 0))
        by_start[candidate.starts_at] = (ends, places + free)
    return [
        Slot(kind=kind, starts_at=start, ends_at=ends, free_places=places)
        for start, (ends, places) in sorted(by_start.items())
    ]


async def bookable_kinds(
    *, session: AsyncSession, person: Person, student_id: int, now: datetime
) -> list[AppointmentKind]:
    """The kinds ``person`` may book for the student right now (rules applied). A query.

    A time-out is listed whenever the trajectory is active: above the cap or outside the plan
    booking it becomes a request to the care coordinator (`BookingRequested`).
    """
    actor = await reload_actor(session=session, actor=person)
    student = await _student(session=session, actor=actor, student_id=student_id)
    relations = await _relations(session=session, actor=actor, student=student)
    schedule = await load_schedule(
        session=session, school_id=actor.school_id, from_day=now.astimezone(UTC).date()
    )
    trajectory = await _trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=False
    )
    kinds = []
    for kind in AppointmentKind:
        rule = schedule.types.get(kind)
        if rule is None or not relations & rule.bookable_by:
            continue
        problem = await _kind_problem(
            session=session,
            kind=kind,
            trajectory=trajectory,
            student_id=student.id,
            school_id=actor.school_id,
            moving_id=None,
        )
        if problem is None:
            kinds.append(kind)
    return kinds


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
    student = await _student(session=session, actor=actor, student_id=student_id)
    schedule = await load_schedule(
        session=session,
        school_id=actor.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
        for_kinds=(kind,),
    )
    rule = await _rule_for(
        session=session, actor=actor, student=student, schedule=schedule, kind=kind
    )
    moving = None
    if move_appointment_id is not None:
        moving = await _moving(
            session=session,
            actor=actor,
            appointment_id=move_appointment_id,
            student_id=student.id,
            kind=kind,
            now=now,
            lock=False,
        )
    trajectory = await _trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=False
    )
    problem = await _kind_problem(
        session=session,
        kind=kind,
        trajectory=trajectory,
        student_id=student.id,
        school_id=actor.school_id,
        moving_id=None if moving is None else moving.id,
    )
    if problem is not None:
        raise BookingRefused(problem)
    coaches = await _coaches_for(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory
    )
    found = await _open_candidates(
        session=session,
        schedule=schedule,
        rule=rule,
        days=_days(schedule, now, days),
        coaches=coaches,
        now=now,
        student_id=student.id,
        moving=moving,
    )
    slots = _merge(kind, found)
    if moving is not None:
        slots = [slot for slot in slots if slot.starts_at != moving.starts_at]
    return slots


async def _rule_for(
    *,
    session: AsyncSession,
    actor: Person,
    student: Person,
    schedule: Schedule,
    kind: AppointmentKind,
) -> TypeRule:
    rule = schedule.types.get(kind)
    if rule is None:
        raise BookingRefused(Text.of(N_("Your school does not offer this kind of appointment.")))
    relations = await _relations(session=session, actor=actor, student=student)
    if not relations & rule.bookable_by:
        log.info("refused: person_id=%s may not book %s", actor.id, kind)
        raise NotAllowed(Text.of(N_("You cannot book this kind of appointment.")))
    return rule


# --- booking ---------------------------------------------------------------------------------

#: How often a unit of work is tried again when SQLite stays locked beyond its busy timeout.
SQLITE_LOCKED_RETRIES = 5

_T = TypeVar("_T")


async def _unit_of_work(session: AsyncSession, work: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``work`` in a transaction of its own; on SQLite, again when the database stayed locked.

    SQLite's busy handler is not fair: under a burst of writers (every transaction begins
    IMMEDIATE) one connection can keep losing the lock to newer ones until its busy timeout
    runs out. Nothing was written then (the transaction never began, or rolled back whole), so
    trying again is safe; the conditional UPDATEs still decide who gets a place.
    """
    attempt = 0
    while True:
        try:
            async with session.begin():
                return await work()
        except OperationalError as error:
            attempt += 1
            locked = session.get_bind().dialect.name == "sqlite" and "database is locked" in str(
                error.orig
            )
            if not locked or attempt > SQLITE_LOCKED_RETRIES:
                raise
            log.warning("database locked; unit of work tried again (attempt %s)", attempt + 1)


def _time_problem(*, schedule: Schedule, starts_at: datetime, now: datetime) -> Text | None:
    if starts_at.tzinfo is None:
        raise ValueError("naive datetime; pass a timezone-aware value")
    if starts_at <= now:
        return Text.of(N_("This time has already passed. Please pick another time."))
    lead = schedule.rules.lead_time
    if starts_at < now + lead:
        minutes = int(lead.total_seconds() // 60)
        if minutes % 60 == 0:
            return Text.plural_of(
                "Appointments must be booked at least {count} hour ahead.",
                "Appointments must be booked at least {count} hours ahead.",
                minutes // 60,
            )
        return Text.plural_of(
            "Appointments must be booked at least {count} minute ahead.",
            "Appointments must be booked at least {count} minutes ahead.",
            minutes,
        )
    day = schedule.local_day(starts_at)
    horizon = schedule.rules.horizon_days
    if (day - schedule.local_day(now)).days >= horizon:
        return Text.plural_of(
            "You can book at most {count} day ahead.",
            "You can book at most {count} days ahead.",
            horizon,
        )
    if not schedule.is_open(day):
        return Text.of(N_("We are closed on that day. Please pick another day."))
    return None


async def _timeout_outside_rule(
    *,
    session: AsyncSession,
    schedule: Schedule,
    trajectory: Trajectory,
    starts_at: datetime,
    moving_id: int | None,
) -> TimeoutRequestReason | None:
    """Why a time-out needs the care coordinator's approval, or ``None`` when it does not."""
    day = schedule.local_day(starts_at)
    if (
        not trajectory.timeouts_in_plan
        or (trajectory.start_date is not None and day < trajectory.start_date)
        or (trajectory.end_date is not None and day > trajectory.end_date)
    ):
        return TimeoutRequestReason.OUTSIDE_PLAN
    monday = day - timedelta(days=day.weekday())
    week_start, _ = schedule.day_bounds(monday)
    week_end, _ = schedule.day_bounds(monday + timedelta(days=7))
    used = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.trajectory_id == trajectory.id,
            Appointment.kind == AppointmentKind.TIME_OUT,
            # As the trajectory page's flag counts: held or holding, not cancelled/no-show.
            Appointment.status.in_(
                (
                    AppointmentStatus.BOOKED,
                    AppointmentStatus.CONFIRMED,
                    AppointmentStatus.ATTENDED,
                )
            ),
            Appointment.starts_at >= week_start,
            Appointment.starts_at < week_end,
            Appointment.id != (moving_id or 0),
        )
    )
    if int(used or 0) >= trajectory.timeouts_per_week:
        return TimeoutRequestReason.OVER_CAP
    return None


async def _moving(
    *,
    session: AsyncSession,
    actor: Person,
    appointment_id: int,
    student_id: int,
    kind: AppointmentKind,
    now: datetime,
    lock: bool,
) -> Appointment:
    appointment = await _appointment(
        session=session, school_id=actor.school_id, appointment_id=appointment_id, lock=lock
    )
    if (
        appointment is None
        or appointment.student_id != student_id
        or appointment.kind is not kind
        or not await _may_change(session=session, actor=actor, appointment=appointment)
    ):
        log.info("refused: move of appointment_id=%s by person_id=%s", appointment_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    _still_ahead(appointment, now)
    return appointment


def _still_ahead(appointment: Appointment, now: datetime) -> None:
    if appointment.status is AppointmentStatus.CANCELLED:
        raise BookingRefused(Text.of(N_("This appointment was cancelled.")))
    if appointment.status not in _HOLDING or appointment.starts_at <= now:
        raise BookingRefused(Text.of(N_("This appointment has already started or taken place.")))


async def book(
    *,
    session: AsyncSession,
    actor: Person,
    student_id: int,
    kind: AppointmentKind,
    starts_at: datetime,
    now: datetime,
    move_appointment_id: int | None = None,
) -> AppointmentView | BookingRequested:
    """`book_in_transaction` as a unit of work (nothing is written when it raises)."""
    return await _unit_of_work(
        session,
        lambda: book_in_transaction(
            session=session,
            actor=actor,
            student_id=student_id,
            kind=kind,
            starts_at=starts_at,
            now=now,
            move_appointment_id=move_appointment_id,
        ),
    )


async def book_in_transaction(
    *,
    session: AsyncSession,
    actor: Person,
    student_id: int,
    kind: AppointmentKind,
    starts_at: datetime,
    now: datetime,
    move_appointment_id: int | None = None,
) -> AppointmentView | BookingRequested:
    """Book ``kind`` for the student at ``starts_at`` (or move an appointment there).

    An operation. Returns the appointment (an intake ``booked`` until a mentor confirms; the
    other kinds ``confirmed``, with their calendar file and reminders in the outbox), or
    `BookingRequested` when a time-out needs the care coordinator (nothing booked). Raises
    `NotAllowed` (not this person's to book or move), `BookingRefused` (a rule), `SlotTaken`
    (no free place at that time; nothing changed, alternatives attached).

    A move (``move_appointment_id``) keeps the appointment's id and raises its version: its
    old places are released and the new ones taken in one step, pending reminders are
    withdrawn and new ones scheduled, the calendar file is updated; a moved intake needs the
    mentor's confirmation again. A time-out is not moved into a week above the cap.
    """
    actor = await reload_actor(session=session, actor=actor)
    student = await _student(session=session, actor=actor, student_id=student_id)
    schedule = await load_schedule(
        session=session,
        school_id=actor.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
        for_kinds=(kind,),
    )
    rule = await _rule_for(
        session=session, actor=actor, student=student, schedule=schedule, kind=kind
    )
    # Serialises this student's bookings (PostgreSQL): the week's cap and the overlap check
    # below cannot be raced by a second booking of the same student.
    trajectory = await _trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=True
    )
    moving = None
    if move_appointment_id is not None:
        moving = await _moving(
            session=session,
            actor=actor,
            appointment_id=move_appointment_id,
            student_id=student.id,
            kind=kind,
            now=now,
            lock=True,
        )
    problem = await _kind_problem(
        session=session,
        kind=kind,
        trajectory=trajectory,
        student_id=student.id,
        school_id=actor.school_id,
        moving_id=None if moving is None else moving.id,
    )
    if problem is None:
        problem = _time_problem(schedule=schedule, starts_at=starts_at, now=now)
    if problem is not None:
        raise BookingRefused(problem)
    assert trajectory is not None  # _kind_problem refuses without one  # noqa: S101
    if kind is AppointmentKind.TIME_OUT:
        outside = await _timeout_outside_rule(
            session=session,
            schedule=schedule,
            trajectory=trajectory,
            starts_at=starts_at,
            moving_id=None if moving is None else moving.id,
        )
        if outside is not None:
            if moving is not None:
                raise BookingRefused(
                    Text.of(N_("A time-out cannot be moved to that week: it is not in the plan."))
                )
            await _ensure_on_grid(
                session=session,
                schedule=schedule,
                rule=rule,
                trajectory=trajectory,
                starts_at=starts_at,
            )
            return await _request_timeout(
                session=session,
                actor=actor,
                trajectory=trajectory,
                starts_at=starts_at,
                reason=outside,
                now=now,
            )
    candidates = await _ensure_on_grid(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory, starts_at=starts_at
    )
    busy = await _student_busy(
        session=session,
        student_id=student.id,
        start=starts_at,
        end=candidates[0].ends_at,
        except_id=None if moving is None else moving.id,
    )
    if busy:
        raise BookingRefused(Text.of(N_("You already have an appointment at that time.")))
    if moving is not None:
        # Try the appointment's own coach first, so a move keeps the same coach if possible.
        candidates.sort(key=lambda c: c.coach_id != moving.coach_id)
    chosen = await _take_places(
        session=session, schedule=schedule, rule=rule, candidates=candidates, moving=moving
    )
    if chosen is None:
        alternatives = await _alternatives(
            session=session,
            schedule=schedule,
            rule=rule,
            trajectory=trajectory,
            student_id=student.id,
            starts_at=starts_at,
            now=now,
            moving=moving,
        )
        log.info("slot taken: %s at %s for person_id=%s", kind, starts_at.isoformat(), actor.id)
        raise SlotTaken(
            Text.of(N_("Sorry, this time has just been taken. Please pick another time.")),
            alternatives,
        )
    if moving is None:
        appointment = await _insert(
            session=session,
            actor=actor,
            trajectory=trajectory,
            kind=kind,
            chosen=chosen,
            now=now,
        )
    else:
        appointment = await _move(
            session=session, actor=actor, appointment=moving, chosen=chosen, now=now
        )
    await _announce(session=session, schedule=schedule, rule=rule, appointment=appointment, now=now)
    return await _view_of(session=session, appointment=appointment)


async def _ensure_on_grid(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    trajectory: Trajectory,
    starts_at: datetime,
) -> list[Candidate]:
    """The candidates (one per resource) starting exactly at ``starts_at``, or refused."""
    coaches = await _coaches_for(
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


async def _take_places(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    candidates: Sequence[Candidate],
    moving: Appointment | None,
) -> Candidate | None:
    release: list[Change] = []
    if moving is not None:
        release = changes_for(
            resource=moving.resource,
            cells=cells_of(
                resource=moving.resource, starts_at=moving.starts_at, busy_until=moving.busy_until
            ),
            delta=-1,
        )
    for candidate in candidates:
        take = changes_for(
            resource=candidate.resource, cells=candidate.cells, delta=1, capacity=rule.capacity
        )
        if await apply_changes(
            session=session, school_id=schedule.school_id, changes=[*release, *take]
        ):
            return candidate
    return None


async def _alternatives(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    trajectory: Trajectory,
    student_id: int,
    starts_at: datetime,
    now: datetime,
    moving: Appointment | None,
) -> tuple[Slot, ...]:
    """The free slots nearest to ``starts_at`` (the same day first, then the days around)."""
    coaches = await _coaches_for(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory
    )
    found = await _open_candidates(
        session=session,
        schedule=schedule,
        rule=rule,
        days=_days(schedule, now, schedule.rules.horizon_days),
        coaches=coaches,
        now=now,
        student_id=student_id,
        moving=moving,
    )
    slots = [s for s in _merge(rule.kind, found) if s.starts_at != starts_at]
    slots.sort(key=lambda s: (abs(s.starts_at - starts_at), s.starts_at))
    return tuple(sorted(slots[:ALTERNATIVES], key=lambda s: s.starts_at))


async def _insert(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory: Trajectory,
    kind: AppointmentKind,
    chosen: Candidate,
    now: datetime,
    approved_by: Person | None = None,
) -> Appointment:
    """Insert the appointment booked by ``actor`` (audited as theirs, or as the care
    coordinator's who ``approved_by`` a time-out request)."""
    appointment = Appointment(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        student_id=trajectory.student_id,
        kind=kind,
        # An intake waits for the mentor; everything else is settled by booking it.
        status=(
            AppointmentStatus.BOOKED
            if kind is AppointmentKind.INTAKE
            else AppointmentStatus.CONFIRMED
        ),
        starts_at=chosen.starts_at,
        ends_at=chosen.ends_at,
        busy_until=chosen.busy_until,
        resource=chosen.resource,
        coach_id=chosen.coach_id,
        booked_by_id=actor.id,
        mentor_confirmed=False,
        late_cancel=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await session.flush()
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=(approved_by or actor).id,
        action="appointment.book",
        subject_type="appointment",
        subject_id=appointment.id,
        details={
            "kind": kind.value,
            "student_id": appointment.student_id,
            "trajectory_id": trajectory.id,
            "coach_id": appointment.coach_id,
            "status": appointment.status.value,
            "booked_by_id": actor.id,
        },
        at=now,
    )
    log.info("appointment_id=%s (%s) booked by person_id=%s", appointment.id, kind, actor.id)
    return appointment


async def _move(
    *,
    session: AsyncSession,
    actor: Person,
    appointment: Appointment,
    chosen: Candidate,
    now: datetime,
) -> Appointment:
    await cancel_pending(session=session, key_prefix=notices.key_prefix(appointment.id))
    from_version = appointment.version
    appointment.starts_at = chosen.starts_at
    appointment.ends_at = chosen.ends_at
    appointment.busy_until = chosen.busy_until
    appointment.resource = chosen.resource
    appointment.coach_id = chosen.coach_id
    appointment.version = from_version + 1
    appointment.updated_at = now
    if appointment.kind is AppointmentKind.INTAKE:
        # The mentor agreed to a time, not to any time: ask again.
        appointment.status = AppointmentStatus.BOOKED
        appointment.mentor_confirmed = False
    await session.flush()
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=actor.id,
        action="appointment.move",
        subject_type="appointment",
        subject_id=appointment.id,
        details={
            "kind": appointment.kind.value,
            "version": appointment.version,
            "coach_id": appointment.coach_id,
        },
        at=now,
    )
    log.info("appointment_id=%s moved by person_id=%s", appointment.id, actor.id)
    return appointment


async def _announce(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    appointment: Appointment,
    now: datetime,
) -> None:
    """After a booking or move: ask the mentors (intake) or send calendar and reminders."""
    if appointment.status is AppointmentStatus.BOOKED:
        mentors = await _mentor_ids(
            session=session, school_id=appointment.school_id, student_id=appointment.student_id
        )
        notices.ask_mentors(session, appointment=appointment, mentors=mentors, now=now)
        return
    recipients = await _attendees(session=session, rule=rule, appointment=appointment)
    notices.schedule_confirmed(
        session, schedule=schedule, appointment=appointment, recipients=recipients, now=now
    )


async def _attendees(
    *, session: AsyncSession, rule: TypeRule | None, appointment: Appointment
) -> set[int]:
    """Who must attend (and so gets the calendar file and the reminders)."""
    roles = rule.attendees if rule is not None else frozenset({Role.STUDENT.value})
    people: set[int] = set()
    if Role.STUDENT.value in roles:
        people.add(appointment.student_id)
    if Role.PARENT.value in roles:
        people.update(
            await session.scalars(
                select(Guardianship.parent_id).where(
                    Guardianship.student_id == appointment.student_id,
                    Guardianship.school_id == appointment.school_id,
                )
            )
        )
    if Role.MENTOR.value in roles:
        people.update(
            await _mentor_ids(
                session=session,
                school_id=appointment.school_id,
                student_id=appointment.student_id,
            )
        )
    if Role.COACH.value in roles and appointment.coach_id is not None:
        people.add(appointment.coach_id)
    return people


async def _request_timeout(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory: Trajectory,
    starts_at: datetime,
    reason: TimeoutRequestReason,
    now: datetime,
) -> BookingRequested:
    """Put the time-out in the care coordinator's queue instead of booking it."""
    existing = await session.scalar(
        select(TimeoutRequest.queue_item_id)
        .join(QueueItem, QueueItem.id == TimeoutRequest.queue_item_id)
        .where(
            TimeoutRequest.trajectory_id == trajectory.id,
            TimeoutRequest.starts_at == starts_at,
            QueueItem.status != QueueStatus.CLOSED,
        )
    )
    if existing is not None:
        # Asking twice for the same time is one request.
        return BookingRequested(queue_item_id=existing)
    item = QueueItem(
        school_id=trajectory.school_id,
        kind=QueueKind.TIMEOUT_REQUEST,
        status=QueueStatus.NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    session.add(
        TimeoutRequest(
            school_id=trajectory.school_id,
            queue_item_id=item.id,
            trajectory_id=trajectory.id,
            student_id=trajectory.student_id,
            requested_by_id=actor.id,
            starts_at=starts_at,
            reason=reason,
            created_at=now,
        )
    )
    coordinators = await care_coordinators_of(session=session, school_id=trajectory.school_id)
    notices.timeout_requested(
        session,
        school_id=trajectory.school_id,
        queue_item_id=item.id,
        coordinators=[c.id for c in coordinators],
        now=now,
    )
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="timeout.request",
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "trajectory_id": trajectory.id,
            "student_id": trajectory.student_id,
            "reason": reason.value,
        },
        at=now,
    )
    await session.flush()
    log.info("time-out request queue_item_id=%s (%s) by person_id=%s", item.id, reason, actor.id)
    return BookingRequested(queue_item_id=item.id)


# --- looking, cancelling, confirming, attendance ---------------------------------------------


async def _appointment(
    *, session: AsyncSession, school_id: int, appointment_id: int, lock: bool
) -> Appointment | None:
    query = (
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.school_id == school_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _may_change(*, session: AsyncSession, actor: Person, appointment: Appointment) -> bool:
    """Whether ``actor`` may cancel or move ``appointment`` (same school already checked)."""
    if actor.id in (appointment.booked_by_id, appointment.student_id):
        return True
    if actor.has_role(Role.CARE_COORDINATOR) or actor.has_role(Role.COACH):
        return True
    if actor.has_role(Role.PARENT):
        link = await session.scalar(
            select(Guardianship.id).where(
                Guardianship.parent_id == actor.id,
                Guardianship.student_id == appointment.student_id,
                Guardianship.school_id == actor.school_id,
            )
        )
        return link is not None
    return False


async def upcoming_for(
    *, session: AsyncSession, person: Person, now: datetime
) -> list[AppointmentView]:
    """The person's appointments that are booked or confirmed and not over yet. A query.

    Their own (student), their children's (parent), their mentees' appointments that the
    mentor attends (intake, evaluation), and the ones they hold (coach); never anyone else's.
    Earliest first.
    """
    person = await reload_actor(session=session, actor=person)
    schedule = await load_schedule(
        session=session, school_id=person.school_id, from_day=now.astimezone(UTC).date()
    )
    conditions: list[ColumnElement[bool]] = []
    if person.has_role(Role.STUDENT):
        conditions.append(Appointment.student_id == person.id)
    if person.has_role(Role.PARENT):
        conditions.append(
            Appointment.student_id.in_(
                select(Guardianship.student_id).where(
                    Guardianship.parent_id == person.id,
                    Guardianship.school_id == person.school_id,
                )
            )
        )
    if person.has_role(Role.MENTOR):
        mentor_kinds = [
            kind for kind, rule in schedule.types.items() if Role.MENTOR.value in rule.attendees
        ]
        if mentor_kinds:
            conditions.append(
                Appointment.student_id.in_(
                    select(Mentorship.student_id).where(
                        Mentorship.mentor_id == person.id,
                        Mentorship.school_id == person.school_id,
                    )
                )
                & Appointment.kind.in_(mentor_kinds)
            )
    if person.has_role(Role.COACH):
        conditions.append(Appointment.coach_id == person.id)
    if not conditions:
        return []
    rows = await session.scalars(
        select(Appointment)
        .where(
            Appointment.school_id == person.school_id,
            Appointment.status.in_(_HOLDING),
            Appointment.ends_at > now,
            or_(false(), *conditions),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return await _views(session=session, appointments=list(rows))


async def cancel(
    *, session: AsyncSession, actor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """`cancel_in_transaction` as a unit of work."""
    return await _unit_of_work(
        session,
        lambda: cancel_in_transaction(
            session=session, actor=actor, appointment_id=appointment_id, now=now
        ),
    )


async def cancel_in_transaction(
    *, session: AsyncSession, actor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """Cancel an appointment that has not started; an operation.

    Allowed to whoever booked it, the student, a parent of the student, and the school's
    care coordinators and coaches (`NotAllowed` for anyone else and unknown ids). Closer to
    the start than the school's late-cancel window it is still cancelled, with
    ``late_cancel`` set. The places are released, pending reminders withdrawn, and the
    attendees get a cancelling calendar file (or, for an intake never confirmed, a notice).
    """
    actor = await reload_actor(session=session, actor=actor)
    appointment = await _appointment(
        session=session, school_id=actor.school_id, appointment_id=appointment_id, lock=True
    )
    if appointment is None or not await _may_change(
        session=session, actor=actor, appointment=appointment
    ):
        log.info("refused: cancel of appointment_id=%s by person_id=%s", appointment_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    _still_ahead(appointment, now)
    await _cancel(session=session, actor_id=actor.id, appointment=appointment, now=now)
    return await _view_of(session=session, appointment=appointment)


async def _cancel(
    *,
    session: AsyncSession,
    actor_id: int,
    appointment: Appointment,
    now: datetime,
    notify_except: Iterable[int] = (),
) -> None:
    schedule = await load_schedule(
        session=session,
        school_id=appointment.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
    )
    released = await apply_changes(
        session=session,
        school_id=appointment.school_id,
        changes=changes_for(
            resource=appointment.resource,
            cells=cells_of(
                resource=appointment.resource,
                starts_at=appointment.starts_at,
                busy_until=appointment.busy_until,
            ),
            delta=-1,
        ),
    )
    if not released:  # pragma: no cover - giving back never fails
        raise RuntimeError("could not release the places of an appointment")
    had_calendar = appointment.status is AppointmentStatus.CONFIRMED
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_id = actor_id
    appointment.late_cancel = appointment.starts_at - now < schedule.rules.late_cancel
    appointment.version += 1
    appointment.updated_at = now
    await cancel_pending(session=session, key_prefix=notices.key_prefix(appointment.id))
    await session.flush()
    recipients = await _attendees(
        session=session, rule=schedule.types.get(appointment.kind), appointment=appointment
    )
    if had_calendar:
        notices.calendar_cancelled(session, appointment=appointment, recipients=recipients, now=now)
    else:
        notices.cancelled_notice(
            session,
            appointment=appointment,
            recipients=recipients - {actor_id, *notify_except},
            now=now,
        )
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=actor_id,
        action="appointment.cancel",
        subject_type="appointment",
        subject_id=appointment.id,
        details={
            "kind": appointment.kind.value,
            "late": appointment.late_cancel,
            "version": appointment.version,
        },
        at=now,
    )
    log.info(
        "appointment_id=%s cancelled by person_id=%s (late=%s)",
        appointment.id,
        actor_id,
        appointment.late_cancel,
    )


async def confirm_mentor_presence(
    *,
    session: AsyncSession,
    mentor: Person,
    appointment_id: int,
    now: datetime,
    present: bool,
    version: int | None = None,
) -> AppointmentView:
    """A mentor of the student says whether they will be at the intake. A unit of work.

    Yes: the intake becomes ``confirmed`` (calendar files and reminders go out); saying yes
    again changes nothing. No: the intake is cancelled (its places released) and whoever
    booked it is told (``appointment.mentor_declined``). ``version`` (from the question's
    button) refuses an answer to a question about an earlier time of a moved intake.
    `NotAllowed` unless ``mentor`` is a mentor of the student; `BookingRefused` when the intake
    was cancelled, has started, or changed since the question.
    """
    async with session.begin():
        mentor = await require_role(session=session, actor=mentor, role=Role.MENTOR)
        appointment = await _appointment(
            session=session, school_id=mentor.school_id, appointment_id=appointment_id, lock=True
        )
        if (
            appointment is None
            or appointment.kind is not AppointmentKind.INTAKE
            or mentor.id
            not in await _mentor_ids(
                session=session, school_id=mentor.school_id, student_id=appointment.student_id
            )
        ):
            log.info(
                "refused: mentor answer on appointment_id=%s by person_id=%s",
                appointment_id,
                mentor.id,
            )
            raise NotAllowed(Text.of(_NOT_AVAILABLE))
        if version is not None and version != appointment.version:
            raise BookingRefused(
                Text.of(
                    N_("This intake has been changed since. Please look at the newest message.")
                )
            )
        _still_ahead(appointment, now)
        if present:
            if not appointment.mentor_confirmed:
                await _mentor_yes(session=session, mentor=mentor, appointment=appointment, now=now)
        else:
            notices.mentor_declined(session, appointment=appointment, now=now)
            await _cancel(
                session=session,
                actor_id=mentor.id,
                appointment=appointment,
                now=now,
                notify_except=(appointment.booked_by_id,),
            )
            record_audit(
                session=session,
                school_id=appointment.school_id,
                actor_id=mentor.id,
                action="appointment.mentor_decline",
                subject_type="appointment",
                subject_id=appointment.id,
                at=now,
            )
        return await _view_of(session=session, appointment=appointment)


async def _mentor_yes(
    *, session: AsyncSession, mentor: Person, appointment: Appointment, now: datetime
) -> None:
    schedule = await load_schedule(
        session=session,
        school_id=appointment.school_id,
        from_day=now.astimezone(UTC).date() - timedelta(days=1),
    )
    appointment.mentor_confirmed = True
    appointment.status = AppointmentStatus.CONFIRMED
    appointment.updated_at = now
    await session.flush()
    recipients = await _attendees(
        session=session, rule=schedule.types.get(appointment.kind), appointment=appointment
    )
    notices.schedule_confirmed(
        session, schedule=schedule, appointment=appointment, recipients=recipients, now=now
    )
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=mentor.id,
        action="appointment.mentor_confirm",
        subject_type="appointment",
        subject_id=appointment.id,
        details={"version": appointment.version},
        at=now,
    )
    log.info("appointment_id=%s confirmed by mentor person_id=%s", appointment.id, mentor.id)


async def appointments_on(
    *, session: AsyncSession, coach: Person, day: date
) -> list[AppointmentView]:
    """Every appointment of the coach's school on one school day, earliest first. A query.

    Cancelled ones are included (a late cancellation is worth seeing); only coaches (and
    care coordinators) of the school may look.
    """
    coach = await reload_actor(session=session, actor=coach)
    if not (coach.has_role(Role.COACH) or coach.has_role(Role.CARE_COORDINATOR)):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    schedule = await load_schedule(session=session, school_id=coach.school_id, from_day=day)
    start, end = schedule.day_bounds(day)
    rows = await session.scalars(
        select(Appointment)
        .where(
            Appointment.school_id == coach.school_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return await _views(session=session, appointments=list(rows))


async def mark_attendance(
    *, session: AsyncSession, coach: Person, appointment_id: int, attended: bool, now: datetime
) -> AppointmentView:
    """The coach marks an appointment that has started as ``attended`` or ``no_show``.

    A unit of work; a mark can be corrected. An attended intake activates the student's
    trajectory (gesprekken and time-out become bookable). An intake the mentor never
    confirmed cannot be marked as held (no intake without the mentor). `NotAllowed` unless
    ``coach`` is a coach of the appointment's school; `BookingRefused` for a cancelled
    appointment or one that has not started yet.
    """
    async with session.begin():
        coach = await require_role(session=session, actor=coach, role=Role.COACH)
        appointment = await _appointment(
            session=session, school_id=coach.school_id, appointment_id=appointment_id, lock=True
        )
        if appointment is None:
            log.info(
                "refused: attendance of appointment_id=%s by person_id=%s", appointment_id, coach.id
            )
            raise NotAllowed(Text.of(_NOT_AVAILABLE))
        if appointment.status is AppointmentStatus.CANCELLED:
            raise BookingRefused(Text.of(N_("This appointment was cancelled.")))
        if appointment.starts_at > now:
            raise BookingRefused(
                Text.of(N_("Attendance can be marked once the appointment has started."))
            )
        if (
            attended
            and appointment.kind is AppointmentKind.INTAKE
            and not appointment.mentor_confirmed
        ):
            raise BookingRefused(
                Text.of(
                    N_("The mentor has not confirmed this intake, so it cannot be marked as held.")
                )
            )
        status = AppointmentStatus.ATTENDED if attended else AppointmentStatus.NO_SHOW
        if appointment.status is not status:
            previous = appointment.status
            appointment.status = status
            appointment.attendance_marked_by_id = coach.id
            appointment.updated_at = now
            await cancel_pending(session=session, key_prefix=notices.key_prefix(appointment.id))
            if attended and appointment.kind is AppointmentKind.INTAKE:
                trajectory = await session.scalar(
                    select(Trajectory)
                    .where(
                        Trajectory.id == appointment.trajectory_id,
                        Trajectory.school_id == appointment.school_id,
                    )
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
                if trajectory is not None:
                    await activate_in_transaction(
                        session=session, trajectory=trajectory, actor_id=coach.id, now=now
                    )
            record_audit(
                session=session,
                school_id=appointment.school_id,
                actor_id=coach.id,
                action="appointment.attendance",
                subject_type="appointment",
                subject_id=appointment.id,
                details={"from_status": previous.value, "to_status": status.value},
                at=now,
            )
            await session.flush()
            log.info(
                "appointment_id=%s marked %s by person_id=%s", appointment.id, status, coach.id
            )
        return await _view_of(session=session, appointment=appointment)


async def appointments_of_trajectory(
    *, session: AsyncSession, viewer: Person, trajectory_id: int
) -> list[AppointmentView]:
    """Every appointment of one trajectory, earliest first (care coordinator or coach). A query.

    A trajectory of another school and an unknown id give the same `NotAllowed`.
    """
    viewer = await reload_actor(session=session, actor=viewer)
    if not (viewer.has_role(Role.CARE_COORDINATOR) or viewer.has_role(Role.COACH)):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    trajectory = await session.scalar(
        select(Trajectory.id).where(
            Trajectory.id == trajectory_id, Trajectory.school_id == viewer.school_id
        )
    )
    if trajectory is None:
        raise NotAllowed(Text.of(N_("This trajectory is not available to you.")))
    rows = await session.scalars(
        select(Appointment)
        .where(
            Appointment.trajectory_id == trajectory_id, Appointment.school_id == viewer.school_id
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return await _views(session=session, appointments=list(rows))


def calendar_file(
    view: CalendarEntry,
    *,
    title: str,
    location: str | None,
    cancelled: bool = False,
    stamp: datetime | None = None,
) -> bytes:
    """The .ics file of an appointment (an `AppointmentView`, or a calendar outbox payload read
    with `services.appointments.notices.parse_calendar_payload`).

    VTIMEZONE Europe/Amsterdam, a stable UID per appointment, SEQUENCE = version; with
    ``cancelled`` METHOD:CANCEL and STATUS:CANCELLED. ``title``/``location`` arrive rendered.
    """
    return _calendar_file(view, title=title, location=location, cancelled=cancelled, stamp=stamp)


# --- the care coordinator's decision on a time-out request -----------------------------------


async def _timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, TimeoutRequest]:
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    query = (
        select(QueueItem, TimeoutRequest)
        .join(TimeoutRequest, TimeoutRequest.queue_item_id == QueueItem.id)
        .where(
            QueueItem.id == queue_item_id,
            QueueItem.school_id == actor.school_id,
            QueueItem.kind == QueueKind.TIMEOUT_REQUEST,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=QueueItem)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        log.info("refused: queue_item_id=%s for person_id=%s", queue_item_id, actor.id)
        raise NotAllowed(Text.of(N_("This request is not available to you.")))
    item, request = row
    return actor, item, request


async def open_timeout_request(
    *, session: AsyncSession, viewer: Person, queue_item_id: int
) -> TimeoutRequestView:
    """A time-out request in the queue, for a care coordinator of the school. A unit of work
    (audited as ``timeout.view``)."""
    async with session.begin():
        viewer, item, request = await _timeout_request(
            session=session, actor=viewer, queue_item_id=queue_item_id, lock=False
        )
        student = await session.get(Person, request.student_id)
        trajectory = await session.get(Trajectory, request.trajectory_id)
        assert student is not None  # noqa: S101 - foreign key
        assert trajectory is not None  # noqa: S101 - foreign key
        requester = await session.get(Person, request.requested_by_id)
        decider = (
            None if item.decided_by_id is None else await session.get(Person, item.decided_by_id)
        )
        record_audit(
            session=session,
            school_id=item.school_id,
            actor_id=viewer.id,
            action="timeout.view",
            subject_type="queue_item",
            subject_id=item.id,
        )
        return TimeoutRequestView(
            queue_item_id=item.id,
            status=item.status,
            decision=item.decision,
            student_id=student.id,
            student_name=student.display_name,
            group_name=student.group_name,
            starts_at=request.starts_at,
            reason=request.reason,
            timeouts_per_week=trajectory.timeouts_per_week,
            timeouts_in_plan=trajectory.timeouts_in_plan,
            appointment_id=request.appointment_id,
            trajectory_id=trajectory.id,
            plan_start=trajectory.start_date,
            plan_end=trajectory.end_date,
            requested_by_name=None if requester is None else requester.display_name,
            requested_at=request.created_at,
            decided_by_name=None if decider is None else decider.display_name,
            decided_at=item.decided_at,
            decision_reason=item.decision_reason,
        )


async def approve_timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> AppointmentView:
    """The care coordinator approves a time-out request: it is booked as asked. A unit of work.

    The cap and the plan are what the care coordinator overrides; everything else still holds
    (a free place, opening hours, not in the past; `SlotTaken` / `BookingRefused` otherwise,
    and the request stays open). The item is closed as accepted and the student told.
    """
    async with session.begin():
        actor, item, request = await _timeout_request(
            session=session, actor=actor, queue_item_id=queue_item_id, lock=True
        )
        _open_request(item)
        trajectory = await session.scalar(
            select(Trajectory)
            .where(Trajectory.id == request.trajectory_id, Trajectory.school_id == actor.school_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if trajectory is None or trajectory.status is not TrajectoryStatus.ACTIVE:
            raise BookingRefused(
                Text.of(N_("This can be booked after the intake, once the support has started."))
            )
        schedule = await load_schedule(
            session=session,
            school_id=actor.school_id,
            from_day=now.astimezone(UTC).date() - timedelta(days=1),
        )
        rule = schedule.types.get(AppointmentKind.TIME_OUT)
        if rule is None:
            raise BookingRefused(
                Text.of(N_("Your school does not offer this kind of appointment."))
            )
        problem = _time_problem(schedule=schedule, starts_at=request.starts_at, now=now)
        if problem is not None:
            raise BookingRefused(problem)
        candidates = await _ensure_on_grid(
            session=session,
            schedule=schedule,
            rule=rule,
            trajectory=trajectory,
            starts_at=request.starts_at,
        )
        if await _student_busy(
            session=session,
            student_id=request.student_id,
            start=request.starts_at,
            end=candidates[0].ends_at,
            except_id=None,
        ):
            raise BookingRefused(
                Text.of(N_("The student already has an appointment at that time."))
            )
        chosen = await _take_places(
            session=session, schedule=schedule, rule=rule, candidates=candidates, moving=None
        )
        if chosen is None:
            raise SlotTaken(
                Text.of(N_("Sorry, this time has just been taken. Please pick another time.")),
                await _alternatives(
                    session=session,
                    schedule=schedule,
                    rule=rule,
                    trajectory=trajectory,
                    student_id=request.student_id,
                    starts_at=request.starts_at,
                    now=now,
                    moving=None,
                ),
            )
        requester = await session.get(Person, request.requested_by_id)
        assert requester is not None  # noqa: S101 - foreign key
        appointment = await _insert(
            session=session,
            actor=requester,
            trajectory=trajectory,
            kind=AppointmentKind.TIME_OUT,
            chosen=chosen,
            now=now,
            approved_by=actor,
        )
        request.appointment_id = appointment.id
        await _decide(
            session=session,
            actor=actor,
            item=item,
            decision=QueueDecision.ACCEPTED,
            reason=None,
            now=now,
        )
        await _announce(
            session=session, schedule=schedule, rule=rule, appointment=appointment, now=now
        )
        notices.timeout_decided(
            session,
            school_id=item.school_id,
            queue_item_id=item.id,
            student_id=request.student_id,
            approved=True,
            appointment_id=appointment.id,
            now=now,
        )
        return await _view_of(session=session, appointment=appointment)


async def decline_timeout_request(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> None:
    """The care coordinator declines a time-out request (``reason``: 5–1000 characters,
    internal). A unit of work; see `decline_timeout_request_in_transaction`."""
    # Checked before the transaction too: a bad reason costs no lock.
    _decline_reason(reason)
    async with session.begin():
        await decline_timeout_request_in_transaction(
            session=session, actor=actor, queue_item_id=queue_item_id, reason=reason, now=now
        )


async def decline_timeout_request_in_transaction(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> None:
    """`decline_timeout_request` as an operation: joins the caller's transaction (a chat
    flow's confirm).

    Only a care coordinator of the request's school (`NotAllowed`, the same for another
    school's item and a missing one); the reason is cleaned and 5–1000 characters
    (`InputInvalid`); a request already approved or declined is refused with
    `InvalidTransition`. The item is closed as declined with the reason (internal), the
    student told through the outbox (``timeout.decided``, without the reason) and the
    decision audited (``timeout.decide``, ids and codes only).
    """
    cleaned = _decline_reason(reason)
    actor, item, request = await _timeout_request(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    _open_request(item)
    await _decide(
        session=session,
        actor=actor,
        item=item,
        decision=QueueDecision.DECLINED,
        reason=cleaned,
        now=now,
    )
    notices.timeout_decided(
        session,
        school_id=item.school_id,
        queue_item_id=item.id,
        student_id=request.student_id,
        approved=False,
        appointment_id=None,
        now=now,
    )
    await session.flush()
    log.info("time-out request queue_item_id=%s declined by person_id=%s", item.id, actor.id)


def _decline_reason(reason: str) -> str:
    cleaned = clean_text(reason)
    problem = validate_length(cleaned, DECLINE_REASON_MIN, DECLINE_REASON_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    return cleaned


def _open_request(item: QueueItem) -> None:
    if item.status is QueueStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This request has already been decided.")))


async def _decide(
    *,
    session: AsyncSession,
    actor: Person,
    item: QueueItem,
    decision: QueueDecision,
    reason: str | None,
    now: datetime,
) -> None:
    from_status = item.status
    changed = await session.scalar(
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.status == from_status)
        .values(
            status=QueueStatus.CLOSED,
            decision=decision,
            decision_reason=reason,
            decided_at=now,
            decided_by_id=actor.id,
            assignee_id=item.assignee_id or actor.id,
            updated_at=now,
        )
        .returning(QueueItem.id)
        .execution_options(synchronize_session=False)
    )
    if changed is None:
        raise InvalidTransition(Text.of(N_("This request has already been decided.")))
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action="timeout.decide",
        subject_type="queue_item",
        subject_id=item.id,
        details={"decision": decision.value, "from_status": from_status.value},
        at=now,
    )


# --- views -----------------------------------------------------------------------------------


async def _view_of(*, session: AsyncSession, appointment: Appointment) -> AppointmentView:
    return (await _views(session=session, appointments=[appointment]))[0]


async def _views(
    *, session: AsyncSession, appointments: Sequence[Appointment]
) -> list[AppointmentView]:
    ids = {a.student_id for a in appointments} | {
        a.coach_id for a in appointments if a.coach_id is not None
    }
    people = (
        {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(ids)))}
        if ids
        else {}
    )
    views = []
    for a in appointments:
        coach = people.get(a.coach_id) if a.coach_id is not None else None
        views.append(
            AppointmentView(
                appointment_id=a.id,
                kind=a.kind,
                status=a.status,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                student_id=a.student_id,
                student_name=people[a.student_id].display_name,
                booked_by_id=a.booked_by_id,
                coach_name=None if coach is None else coach.display_name,
                mentor_confirmed=a.mentor_confirmed,
                late_cancel=a.late_cancel,
                version=a.version,
                coach_id=a.coach_id,
                trajectory_id=a.trajectory_id,
                school_id=a.school_id,
            )
        )
    return views
