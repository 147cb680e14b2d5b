"""Who may book what, for whom, and who is involved in an appointment (read from the database).

A student books for themself, a parent for their children (`Guardianship`), a care coordinator
for the students of their school; an appointment type's ``bookable_by`` says which of those
relations may book it. Whoever booked an appointment, the student, a parent and the school's
care coordinators and coaches may move or cancel it. Every check re-reads the rows: ids from
a button or a form carry no authority.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments import rules
from services.appointments.errors import BookingRefused
from services.appointments.rules import HOLDING
from services.appointments.schedule import Schedule, TypeRule, load_schedule
from services.kernel.access import reload_actor
from services.kernel.adulthood import is_adult_at, parents_see
from services.kernel.errors import NotAllowed
from services.kernel.uow import update_cache, update_memo
from storage.models import (
    Appointment,
    AppointmentKind,
    Guardianship,
    Mentorship,
    Person,
    PersonRole,
    Referral,
    Role,
    Trajectory,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

NOT_AVAILABLE = N_("This appointment is not available to you.")
_STUDENT_NOT_AVAILABLE = N_("You cannot book appointments for this student.")


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
            .where(
                Guardianship.parent_id == person.id,
                Guardianship.school_id == person.school_id,
                parents_see(Guardianship.student_id),
            )
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


async def bookable_kinds(
    *,
    session: AsyncSession,
    person: Person,
    student_id: int,
    now: datetime,
    schedule: Schedule | None = None,
) -> list[AppointmentKind]:
    """The kinds ``person`` may book for the student right now (rules applied). A query.

    A time-out is listed whenever the trajectory is active: above the cap or outside the plan
    booking it becomes a request to the care coordinator (`BookingRequested`). ``schedule``:
    the school's, when the caller loaded it already. Read once per Telegram update.
    """
    memo = update_memo()
    key = ("bookable_kinds", person.id, student_id, now)
    if memo is not None and key in memo:
        return list(cast("list[AppointmentKind]", memo[key]))
    kinds = await _bookable_kinds(
        session=session, person=person, student_id=student_id, now=now, schedule=schedule
    )
    if memo is not None:
        memo[key] = list(kinds)
    return kinds


async def _bookable_kinds(
    *,
    session: AsyncSession,
    person: Person,
    student_id: int,
    now: datetime,
    schedule: Schedule | None,
) -> list[AppointmentKind]:
    actor = await reload_actor(session=session, actor=person)
    student = await find_student(session=session, actor=actor, student_id=student_id)
    relations = await relations_to(session=session, actor=actor, student=student, now=now)
    if schedule is None:
        schedule = await load_schedule(
            session=session, school_id=actor.school_id, from_day=now.astimezone(UTC).date()
        )
    trajectory = await open_trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=False
    )
    kinds = []
    for kind in AppointmentKind:
        rule = schedule.types.get(kind)
        if rule is None or not relations & rule.bookable_by:
            continue
        problem = await kind_problem(
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


async def students_by_bookability(
    *, session: AsyncSession, person: Person, now: datetime
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """`bookable_students` split in two: those for whom ``person`` may book at least one kind
    now (`bookable_kinds`), and those for whom nothing can be booked (a child without an
    accepted referral, an intake already planned, ...). A query; read once per Telegram update
    (a booking step builds its context twice)."""
    memo = update_memo()
    key = ("students_by_bookability", person.id, now)
    if memo is not None and key in memo:
        return cast("tuple[list[tuple[int, str]], list[tuple[int, str]]]", memo[key])
    found = await _students_by_bookability(session=session, person=person, now=now)
    if memo is not None:
        memo[key] = found
    return found


async def _students_by_bookability(
    *, session: AsyncSession, person: Person, now: datetime
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    can: list[tuple[int, str]] = []
    cannot: list[tuple[int, str]] = []
    students = await bookable_students(session=session, person=person)
    if not students:
        return can, cannot
    schedule = await load_schedule(
        session=session,
        school_id=person.school_id,
        from_day=now.astimezone(UTC).date(),
        for_kinds=(),  # which kinds exist and who books them; no coach hours needed
    )
    for student_id, name in students:
        kinds = await bookable_kinds(
            session=session, person=person, student_id=student_id, now=now, schedule=schedule
        )
        (can if kinds else cannot).append((student_id, name))
    return can, cannot


async def relations_to(
    *, session: AsyncSession, actor: Person, student: Person, now: datetime
) -> set[str]:
    """The roles in which ``actor`` may act for ``student`` at ``now`` (as role codes)."""
    relations: set[str] = set()
    if actor.id == student.id and actor.has_role(Role.STUDENT):
        relations.add(Role.STUDENT.value)
        if is_adult_at(actor.birth_date, now):
            # A student of 18 or older books what a parent books (the intake, the
            # evaluation) for themself (`services.kernel.adulthood`).
            relations.add(Role.PARENT.value)
    if actor.has_role(Role.PARENT):
        cache = await update_cache()
        key = ("guardian_of", actor.id, student.id, actor.school_id)
        if cache is not None and key in cache:
            link = cache.get(key)
        else:
            link = await session.scalar(
                select(Guardianship.id).where(
                    Guardianship.parent_id == actor.id,
                    Guardianship.student_id == student.id,
                    Guardianship.school_id == actor.school_id,
                    parents_see(Guardianship.student_id),
                )
            )
            if cache is not None:  # guardianships bump the cache version
                cache.put(key, link)
        if link is not None:
            relations.add(Role.PARENT.value)
    for staff in (Role.CARE_COORDINATOR, Role.COACH):
        if actor.has_role(staff):
            relations.add(staff.value)
    return relations


async def find_student(*, session: AsyncSession, actor: Person, student_id: int) -> Person:
    """The student of the actor's school with ``student_id``; `NotAllowed` otherwise.

    Inside a Telegram update from the process cache while the cache version stands.
    """
    cache = await update_cache()
    key = ("student", actor.school_id, student_id)
    cached = None if cache is None else cache.get(key)
    if cached is not None:
        return await session.merge(cached, load=False)
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
    if cache is not None:
        session.expunge(student)
        cache.put(key, student)
        return await session.merge(student, load=False)
    return student


async def rule_for(
    *,
    session: AsyncSession,
    actor: Person,
    student: Person,
    schedule: Schedule,
    kind: AppointmentKind,
    now: datetime,
) -> TypeRule:
    """The school's type rule for ``kind``, if ``actor`` may book it for ``student``.

    `BookingRefused` when the school does not offer the kind; `NotAllowed` when none of the
    actor's relations to the student is among the type's ``bookable_by``.
    """
    rule = schedule.types.get(kind)
    if rule is None:
        raise BookingRefused(Text.of(N_("Your school does not offer this kind of appointment.")))
    relations = await relations_to(session=session, actor=actor, student=student, now=now)
    if not relations & rule.bookable_by:
        log.info("refused: person_id=%s may not book %s", actor.id, kind)
        raise NotAllowed(Text.of(N_("You cannot book this kind of appointment.")))
    return rule


async def mentor_ids(*, session: AsyncSession, school_id: int, student_id: int) -> list[int]:
    """The ids of the student's mentors, lowest first."""
    return list(
        await session.scalars(
            select(Mentorship.mentor_id)
            .where(Mentorship.school_id == school_id, Mentorship.student_id == student_id)
            .order_by(Mentorship.mentor_id)
        )
    )


async def open_trajectory(
    *, session: AsyncSession, school_id: int, student_id: int, lock: bool
) -> Trajectory | None:
    """The student's trajectory that is not closed, freshly read (``lock``: row-locked, which
    serialises that student's bookings on PostgreSQL)."""
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


async def kind_problem(
    *,
    session: AsyncSession,
    kind: AppointmentKind,
    trajectory: Trajectory | None,
    student_id: int,
    school_id: int,
    moving_id: int | None,
) -> Text | None:
    """Why ``kind`` cannot be booked for the student now (trajectory rules), or ``None``.

    ``moving_id``: the appointment being moved, which does not count as already planned.
    """
    problem = rules.trajectory_problem(kind, None if trajectory is None else trajectory.status)
    if problem is not None or kind is not AppointmentKind.INTAKE or trajectory is None:
        return problem
    has_mentor = bool(await mentor_ids(session=session, school_id=school_id, student_id=student_id))
    # Only asked when it can matter: without a mentor the answer is already no.
    intake_planned = (
        has_mentor
        and await session.scalar(
            select(Appointment.id).where(
                Appointment.trajectory_id == trajectory.id,
                Appointment.kind == AppointmentKind.INTAKE,
                Appointment.status.in_(HOLDING),
                Appointment.id != (moving_id or 0),
            )
        )
        is not None
    )
    return rules.intake_problem(has_mentor=has_mentor, intake_planned=intake_planned)


@dataclass(frozen=True, slots=True)
class IntakeDays:
    """When the mentor said, in the referral, they can attend the intake."""

    intake_from: date
    intake_days: frozenset[str]

    def allows(self, day: date) -> bool:
        """Whether the intake may be on ``day`` (`rules.mentor_can_attend`)."""
        return rules.mentor_can_attend(
            day, intake_from=self.intake_from, intake_days=self.intake_days
        )

    def problem(self, day: date) -> Text | None:
        """Why the intake may not be on ``day`` (`rules.intake_day_problem`), or ``None``."""
        return rules.intake_day_problem(
            day, intake_from=self.intake_from, intake_days=self.intake_days
        )


async def intake_days(
    *, session: AsyncSession, kind: AppointmentKind, trajectory: Trajectory | None
) -> IntakeDays | None:
    """For an intake: the days its referral's mentor can attend; ``None`` for other kinds."""
    if kind is not AppointmentKind.INTAKE or trajectory is None:
        return None
    row = (
        await session.execute(
            select(Referral.intake_from, Referral.intake_days).where(
                Referral.id == trajectory.referral_id,
                Referral.school_id == trajectory.school_id,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return IntakeDays(row.intake_from, frozenset(str(code) for code in row.intake_days or ()))


async def load_appointment(
    *, session: AsyncSession, school_id: int, appointment_id: int, lock: bool
) -> Appointment | None:
    """The appointment of the school with ``appointment_id``, freshly read (``lock``: for an
    update), or ``None``."""
    query = (
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.school_id == school_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def may_change(*, session: AsyncSession, actor: Person, appointment: Appointment) -> bool:
    """Whether ``actor`` may cancel or move ``appointment`` (same school already checked)."""
    if actor.id == appointment.student_id:
        return True
    if actor.has_role(Role.CARE_COORDINATOR) or actor.has_role(Role.COACH):
        return True
    if actor.has_role(Role.PARENT):
        # Also a parent who booked it: once an adult student withdrew their parents' access,
        # their appointments are no longer a parent's to change (`adulthood`).
        link = await session.scalar(
            select(Guardianship.id).where(
                Guardianship.parent_id == actor.id,
                Guardianship.student_id == appointment.student_id,
                Guardianship.school_id == actor.school_id,
                parents_see(Guardianship.student_id),
            )
        )
        return link is not None
    return actor.id == appointment.booked_by_id


def still_ahead(appointment: Appointment, now: datetime) -> None:
    """`BookingRefused` unless the appointment still holds its places and has not started."""
    problem = rules.change_problem(
        status=appointment.status, starts_at=appointment.starts_at, now=now
    )
    if problem is not None:
        raise BookingRefused(problem)


async def appointment_to_move(
    *,
    session: AsyncSession,
    actor: Person,
    appointment_id: int,
    student_id: int,
    kind: AppointmentKind,
    now: datetime,
    lock: bool,
) -> Appointment:
    """The appointment ``actor`` moves: the student's, of ``kind``, theirs to change, and still
    ahead (`NotAllowed` for anything else, the same for every unknown or foreign id)."""
    appointment = await load_appointment(
        session=session, school_id=actor.school_id, appointment_id=appointment_id, lock=lock
    )
    if (
        appointment is None
        or appointment.student_id != student_id
        or appointment.kind is not kind
        or not await may_change(session=session, actor=actor, appointment=appointment)
    ):
        log.info("refused: move of appointment_id=%s by person_id=%s", appointment_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    still_ahead(appointment, now)
    return appointment


async def attendees(
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
                    parents_see(Guardianship.student_id),
                )
            )
        )
    if Role.MENTOR.value in roles:
        people.update(
            await mentor_ids(
                session=session,
                school_id=appointment.school_id,
                student_id=appointment.student_id,
            )
        )
    if Role.COACH.value in roles and appointment.coach_id is not None:
        people.add(appointment.coach_id)
    return people
