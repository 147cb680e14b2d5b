"""Appointments as people see them: `AppointmentView` and the lists (queries, no writes).

``upcoming_for`` (a person's own, their children's, their mentees', the ones they hold),
``appointments_on`` (a coach's day) and ``appointments_of_trajectory`` (the trajectory page).
Every list re-reads the viewer and answers only what belongs to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments.rules import HOLDING
from services.appointments.schedule import load_schedule
from services.kernel.access import reload_actor
from services.kernel.adulthood import parents_see
from services.kernel.errors import NotAllowed
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Guardianship,
    Mentorship,
    Person,
    Role,
    Trajectory,
    name_of,
)


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


async def view_of(*, session: AsyncSession, appointment: Appointment) -> AppointmentView:
    """The view of one appointment (what a booking, move or cancellation answers)."""
    return (await views_of(session=session, appointments=[appointment]))[0]


async def views_of(
    *, session: AsyncSession, appointments: Sequence[Appointment]
) -> list[AppointmentView]:
    """The views of ``appointments``, in their order (names read in one query)."""
    ids = {a.student_id for a in appointments} | {
        a.coach_id for a in appointments if a.coach_id is not None
    }
    # Only the names: a person read whole would read their roles too (a second query).
    names = (
        {
            row.id: name_of(row.given_name, row.family_name)
            for row in await session.execute(
                select(Person.id, Person.given_name, Person.family_name).where(Person.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    views = []
    for a in appointments:
        coach = names.get(a.coach_id) if a.coach_id is not None else None
        views.append(
            AppointmentView(
                appointment_id=a.id,
                kind=a.kind,
                status=a.status,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                student_id=a.student_id,
                student_name=names[a.student_id],
                booked_by_id=a.booked_by_id,
                coach_name=coach,
                mentor_confirmed=a.mentor_confirmed,
                late_cancel=a.late_cancel,
                version=a.version,
                coach_id=a.coach_id,
                trajectory_id=a.trajectory_id,
                school_id=a.school_id,
            )
        )
    return views


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
                    parents_see(Guardianship.student_id),
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
            Appointment.status.in_(HOLDING),
            Appointment.ends_at > now,
            or_(false(), *conditions),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return await views_of(session=session, appointments=list(rows))


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
    return await views_of(session=session, appointments=list(rows))


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
    return await views_of(session=session, appointments=list(rows))
