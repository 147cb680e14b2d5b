"""The teacher whose lesson a student leaves for a time-out (issue 11, item 6).

There is no timetable in the product, so the one who books a time-out (the student, in the
booking flow) names the teacher, optionally, from the school's teachers and mentors
(`teachers_of_school`). `tell_teacher` checks the choice again and writes
``appointment.timeout_teacher`` (the times only: a phone on a classroom desk); the teacher's
button shows who it is inside the chat (`timeout_for_teacher`): the student's first name and
the times, never a reason. Operations in the caller's transaction; the rule is
`rules.teacher_notice_problem`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from services.appointments import notices, rules
from services.appointments.access import NOT_AVAILABLE, load_appointment
from services.appointments.errors import BookingRefused
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from storage.models import AppointmentStatus, Person, PersonRole

log = logging.getLogger(__name__)


async def teachers_of_school(*, session: AsyncSession, school_id: int) -> list[tuple[int, str]]:
    """(person id, display name) of the school's teachers and mentors, by family name. A query:
    what the booking flow offers (`tell_teacher` checks the choice again)."""
    rows = await session.execute(
        select(Person.id, Person.given_name, Person.family_name)
        .where(
            Person.school_id == school_id,
            Person.id.in_(
                select(PersonRole.person_id).where(PersonRole.role.in_(rules.TEACHER_ROLES))
            ),
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    return [(pid, f"{given} {family}") for pid, given, family in rows]


async def tell_teacher(
    *,
    session: AsyncSession,
    actor: Person,
    appointment_id: int,
    teacher_id: int,
    now: datetime,
) -> None:
    """Tell ``teacher_id`` that the student of this time-out leaves their lesson (an operation).

    ``actor`` is whoever booked the time-out or its student. Raises `NotAllowed` for anyone
    else (and for an appointment of another school or none), `BookingRefused` when the rule
    says no (not a teacher of the school, not a time-out, cancelled or over). Telling the same
    teacher again changes nothing; another teacher replaces the first (whose button then no
    longer shows the student).
    """
    actor = await reload_actor(session=session, actor=actor)
    appointment = await load_appointment(
        session=session, school_id=actor.school_id, appointment_id=appointment_id, lock=True
    )
    if appointment is None or actor.id not in {appointment.booked_by_id, appointment.student_id}:
        log.info(
            "refused: teacher notice on appointment_id=%s by person_id=%s", appointment_id, actor.id
        )
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    teacher = await session.get(Person, teacher_id, populate_existing=True)
    problem = rules.teacher_notice_problem(
        kind=appointment.kind,
        status=appointment.status,
        ends_at=appointment.ends_at,
        now=now,
        teacher_roles=[] if teacher is None else [row.role for row in teacher.roles],
        same_school=teacher is not None and teacher.school_id == appointment.school_id,
    )
    if problem is not None:
        log.info("refused: teacher notice on appointment_id=%s", appointment.id)
        raise BookingRefused(problem)
    if appointment.teacher_id == teacher_id:
        return
    appointment.teacher_id = teacher_id
    appointment.updated_at = now
    notices.tell_teacher(session, appointment=appointment, teacher_id=teacher_id, now=now)
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=actor.id,
        action="appointment.teacher_told",
        subject_type="appointment",
        subject_id=appointment.id,
        details={"teacher_id": teacher_id, "version": appointment.version},
        at=now,
    )
    log.info("appointment_id=%s: teacher notice queued", appointment.id)


@dataclass(frozen=True, slots=True)
class TeacherTimeoutView:
    """What the teacher reads inside the chat: the student's first name and the times."""

    appointment_id: int
    student_given_name: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


async def timeout_for_teacher(
    *, session: AsyncSession, teacher: Person, appointment_id: int, now: datetime
) -> TeacherTimeoutView:
    """The time-out a teacher was told of (an operation: the read is audited).

    Only the teacher the appointment names now (`NotAllowed` for anyone else, an unknown id,
    another school's appointment, or a teacher replaced or forgotten by a move: the same
    refusal). A cancelled time-out says so.
    """
    teacher = await reload_actor(session=session, actor=teacher)
    appointment = await load_appointment(
        session=session, school_id=teacher.school_id, appointment_id=appointment_id, lock=False
    )
    if appointment is None or appointment.teacher_id != teacher.id:
        log.info(
            "refused: time-out view of appointment_id=%s by person_id=%s",
            appointment_id,
            teacher.id,
        )
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    student = await session.get(Person, appointment.student_id)
    assert student is not None  # a foreign key  # noqa: S101
    record_audit(
        session=session,
        school_id=appointment.school_id,
        actor_id=teacher.id,
        action="appointment.teacher_view",
        subject_type="appointment",
        subject_id=appointment.id,
        at=now,
    )
    return TeacherTimeoutView(
        appointment_id=appointment.id,
        student_given_name=student.given_name,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        cancelled=appointment.status is AppointmentStatus.CANCELLED,
    )
