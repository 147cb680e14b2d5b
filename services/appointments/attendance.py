"""After booking: the mentor's answer about an intake (`confirm_mentor_presence`) and the
coach's mark of attendance (`mark_attendance`), in the caller's transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.appointments import notices, rules
from services.appointments.access import (
    NOT_AVAILABLE,
    attendees,
    load_appointment,
    mentor_ids,
    still_ahead,
)
from services.appointments.cancelling import release_and_cancel
from services.appointments.errors import BookingRefused
from services.appointments.schedule import load_schedule
from services.appointments.views import AppointmentView, upcoming_for, view_of
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.outbox.store import cancel_pending
from services.trajectories.evaluations import hold_for_appointment
from services.trajectories.lifecycle import hold_intake
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Person,
    Role,
    Trajectory,
)

log = logging.getLogger(__name__)


async def intake_question(
    *, session: AsyncSession, mentor: Person, appointment_id: int, now: datetime
) -> AppointmentView:
    """The intake a mentor is asked about, with the student's name (a query).

    What the notice's "Which student?" shows in Telegram and the web chat's intake page: only
    an upcoming intake of a student the person mentors; `NotAllowed` for anything else (an
    unknown id, another mentor's student, a cancelled or past intake: the same answer).
    """
    if mentor.has_role(Role.MENTOR):
        for view in await upcoming_for(session=session, person=mentor, now=now):
            if view.appointment_id == appointment_id and view.kind is AppointmentKind.INTAKE:
                return view
    log.info(
        "refused: intake question appointment_id=%s to person_id=%s", appointment_id, mentor.id
    )
    raise NotAllowed(Text.of(NOT_AVAILABLE))


async def open_intake_questions(
    *, session: AsyncSession, mentor: Person, now: datetime
) -> list[AppointmentView]:
    """The upcoming intakes of the person's mentees still waiting for their answer (a query;
    empty for anyone who is no mentor). Earliest first."""
    if not mentor.has_role(Role.MENTOR):
        return []
    return [
        view
        for view in await upcoming_for(session=session, person=mentor, now=now)
        if view.kind is AppointmentKind.INTAKE and not view.mentor_confirmed
    ]


async def confirm_mentor_presence(
    *,
    session: AsyncSession,
    mentor: Person,
    appointment_id: int,
    now: datetime,
    present: bool,
    version: int | None = None,
) -> AppointmentView:
    """A mentor of the student says whether they will be at the intake.

    Yes: the intake becomes ``confirmed`` (calendar files and reminders go out); saying yes
    again changes nothing. No: the intake is cancelled (its places released) and whoever
    booked it is told (``appointment.mentor_declined``). ``version`` (from the question's
    button) refuses an answer to a question about an earlier time of a moved intake.
    `NotAllowed` unless ``mentor`` is a mentor of the student; `BookingRefused` when the intake
    was cancelled, has started, or changed since the question.
    """
    mentor = await require_role(session=session, actor=mentor, role=Role.MENTOR)
    appointment = await load_appointment(
        session=session, school_id=mentor.school_id, appointment_id=appointment_id, lock=True
    )
    if (
        appointment is None
        or appointment.kind is not AppointmentKind.INTAKE
        or mentor.id
        not in await mentor_ids(
            session=session, school_id=mentor.school_id, student_id=appointment.student_id
        )
    ):
        log.info(
            "refused: mentor answer on appointment_id=%s by person_id=%s",
            appointment_id,
            mentor.id,
        )
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    if version is not None and version != appointment.version:
        raise BookingRefused(
            Text.of(N_("This intake has been changed since. Please look at the newest message."))
        )
    still_ahead(appointment, now)
    if present:
        if not appointment.mentor_confirmed:
            await _mentor_yes(session=session, mentor=mentor, appointment=appointment, now=now)
    else:
        await release_and_cancel(
            session=session,
            actor_id=mentor.id,
            appointment=appointment,
            now=now,
            notify_except=(appointment.booked_by_id,),
        )
        # After the cancellation: it withdraws every pending notice of the appointment, and
        # would withdraw this one too (the booker never heard the mentor cannot come).
        notices.mentor_declined(session, appointment=appointment, now=now)
        record_audit(
            session=session,
            school_id=appointment.school_id,
            actor_id=mentor.id,
            action="appointment.mentor_decline",
            subject_type="appointment",
            subject_id=appointment.id,
            at=now,
        )
    return await view_of(session=session, appointment=appointment)


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
    recipients = await attendees(
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


async def mark_attendance(
    *,
    session: AsyncSession,
    coach: Person,
    appointment_id: int,
    attended: bool,
    now: datetime,
    notes: str | None = None,
) -> AppointmentView:
    """The coach marks an appointment that has started as ``attended`` or ``no_show``.

    In the caller's transaction; a mark can be corrected. An attended intake is the intake
    held (`services.trajectories.lifecycle.hold_intake`: active with a complete plan, else
    "intake held — plan to complete"; the referral's queue item is resolved). An attended
    evaluation appointment holds the matching planned evaluation, with the coach's ``notes``
    (optional; `services.trajectories.evaluations.hold_for_appointment`). An intake the mentor never
    confirmed cannot be marked as held (no intake without the mentor). `NotAllowed` unless
    ``coach`` is a coach of the appointment's school; `BookingRefused` for a cancelled
    appointment or one that has not started yet.
    """
    coach = await require_role(session=session, actor=coach, role=Role.COACH)
    appointment = await load_appointment(
        session=session, school_id=coach.school_id, appointment_id=appointment_id, lock=True
    )
    if appointment is None:
        log.info(
            "refused: attendance of appointment_id=%s by person_id=%s", appointment_id, coach.id
        )
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    problem = rules.attendance_problem(
        kind=appointment.kind,
        status=appointment.status,
        starts_at=appointment.starts_at,
        mentor_confirmed=appointment.mentor_confirmed,
        attended=attended,
        now=now,
    )
    if problem is not None:
        raise BookingRefused(problem)
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
                await hold_intake(
                    session=session, trajectory=trajectory, actor_id=coach.id, now=now
                )
        if attended and appointment.kind is AppointmentKind.EVALUATION:
            await hold_for_appointment(
                session=session, appointment=appointment, actor_id=coach.id, now=now, notes=notes
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
        log.info("appointment_id=%s marked %s by person_id=%s", appointment.id, status, coach.id)
    return await view_of(session=session, appointment=appointment)
