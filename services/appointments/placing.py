"""Placing an appointment: taking its places, writing the row (new or moved), announcing it.

Shared by a booking (`booking.book`) and an approved time-out request
(`timeout_requests.approve_timeout_request`): the rules are checked by the caller before; what
happens here is the same for both. Operations in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments import notices, rules
from services.appointments.access import attendees, mentor_ids
from services.appointments.capacity import Change, apply_changes, changes_for
from services.appointments.errors import BookingRefused
from services.appointments.schedule import Candidate, Schedule, TypeRule, cells_of
from services.kernel.audit import record_audit
from services.outbox.store import cancel_pending
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Person,
    Trajectory,
)

log = logging.getLogger(__name__)


def refuse_bad_time(
    *, schedule: Schedule, rule: TypeRule, starts_at: datetime, now: datetime
) -> None:
    """`BookingRefused` when the time rules say no to ``starts_at`` (past, the type's lead
    time, horizon, closed day; `rules.time_problem`)."""
    problem = rules.time_problem(
        calendar=schedule,
        lead_time=rule.lead_time,
        horizon_days=schedule.rules.horizon_days,
        starts_at=starts_at,
        now=now,
        duration=rule.duration,
    )
    if problem is not None:
        raise BookingRefused(problem)


async def take_places(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    candidates: Sequence[Candidate],
    moving: Appointment | None,
    now: datetime,
    holder_id: int | None,
) -> Candidate | None:
    """Take the places of the first candidate that has them (a move gives its old ones back in
    the same step); ``None`` when every candidate is full (nothing kept). A place others hold
    at ``now`` is not free; ``holder_id``'s own hold is (`holds`)."""
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
            session=session,
            school_id=schedule.school_id,
            changes=[*release, *take],
            now=now,
            holder_id=holder_id,
        ):
            return candidate
    return None


async def insert_appointment(
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
        status=rules.status_when_booked(kind),
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


async def move_appointment(
    *,
    session: AsyncSession,
    actor: Person,
    appointment: Appointment,
    chosen: Candidate,
    now: datetime,
) -> Appointment:
    """Move the appointment to ``chosen`` (its places already moved): a new version, pending
    reminders withdrawn, and a moved intake waits for the mentor again."""
    await cancel_pending(session=session, key_prefix=notices.key_prefix(appointment.id))
    from_version = appointment.version
    appointment.starts_at = chosen.starts_at
    appointment.ends_at = chosen.ends_at
    appointment.busy_until = chosen.busy_until
    appointment.resource = chosen.resource
    appointment.coach_id = chosen.coach_id
    appointment.version = from_version + 1
    appointment.updated_at = now
    # The teacher was told of the old time (a notice not sent yet is withdrawn above); the
    # lesson at the new time may be someone else's.
    appointment.teacher_id = None
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


async def announce(
    *,
    session: AsyncSession,
    schedule: Schedule,
    rule: TypeRule,
    appointment: Appointment,
    now: datetime,
) -> None:
    """After a booking or move: ask the mentors (intake) or send calendar and reminders."""
    if appointment.status is AppointmentStatus.BOOKED:
        mentors = await mentor_ids(
            session=session, school_id=appointment.school_id, student_id=appointment.student_id
        )
        notices.ask_mentors(session, appointment=appointment, mentors=mentors, now=now)
        return
    recipients = await attendees(session=session, rule=rule, appointment=appointment)
    notices.schedule_confirmed(
        session, schedule=schedule, appointment=appointment, recipients=recipients, now=now
    )
