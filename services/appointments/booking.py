"""Booking and moving an appointment (`book`), in the caller's transaction.

A booking: the actor and the student re-read (`access`) → the student's open trajectory
locked (serialises that student's bookings) → rules (trajectory state, time, plan and week's
cap; a time-out outside them becomes a request to the care coordinator instead) → the start
must be one the timetable offers → places taken (`placing.take_places`; full → `SlotTaken`
with the nearest free alternatives, nothing kept) → the appointment → outbox and audit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
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
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.holds import release
from services.appointments.placing import (
    announce,
    insert_appointment,
    move_appointment,
    refuse_bad_time,
    take_places,
)
from services.appointments.schedule import Schedule, load_schedule
from services.appointments.slots import alternatives, candidates_at, student_busy
from services.appointments.timeout_requests import BookingRequested, request_timeout
from services.appointments.views import AppointmentView, view_of
from services.kernel.access import reload_actor
from storage.models import (
    Appointment,
    AppointmentKind,
    Person,
    TimeoutRequestReason,
    Trajectory,
)

log = logging.getLogger(__name__)


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
    """Book ``kind`` for the student at ``starts_at`` (or move an appointment there).

    In the caller's transaction (nothing is kept when it raises and the caller rolls back).
    Returns the appointment (an intake ``booked`` until a mentor confirms; the other kinds
    ``confirmed``, with their calendar file and reminders in the outbox), or
    `BookingRequested` when a time-out needs the care coordinator (nothing booked). Raises
    `NotAllowed` (not this person's to book or move), `BookingRefused` (a rule), `SlotTaken`
    (no free place at that time; nothing changed, alternatives attached).

    A move (``move_appointment_id``) keeps the appointment's id and raises its version: its
    old places are released and the new ones taken in one step, pending reminders are
    withdrawn and new ones scheduled, the calendar file is updated; a moved intake needs the
    mentor's confirmation again. A time-out is not moved into a week above the cap.
    """
    actor = await reload_actor(session=session, actor=actor)
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
    # Serialises this student's bookings (PostgreSQL): the week's cap and the overlap check
    # below cannot be raced by a second booking of the same student.
    trajectory = await open_trajectory(
        session=session, school_id=actor.school_id, student_id=student.id, lock=True
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
            lock=True,
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
    refuse_bad_time(schedule=schedule, rule=rule, starts_at=starts_at, now=now)
    assert trajectory is not None  # kind_problem refuses without one  # noqa: S101
    mentor = await intake_days(session=session, kind=kind, trajectory=trajectory)
    if mentor is not None and (day_problem := mentor.problem(schedule.local_day(starts_at))):
        raise BookingRefused(day_problem)
    if kind is AppointmentKind.TIME_OUT:
        outside = await _timeout_request_reason(
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
            await candidates_at(
                session=session,
                schedule=schedule,
                rule=rule,
                trajectory=trajectory,
                starts_at=starts_at,
            )
            return await request_timeout(
                session=session,
                actor=actor,
                trajectory=trajectory,
                starts_at=starts_at,
                reason=outside,
                now=now,
            )
    candidates = await candidates_at(
        session=session, schedule=schedule, rule=rule, trajectory=trajectory, starts_at=starts_at
    )
    busy = await student_busy(
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
    chosen = await take_places(
        session=session,
        schedule=schedule,
        rule=rule,
        candidates=candidates,
        moving=moving,
        now=now,
        holder_id=actor.id,
    )
    if chosen is None:
        nearest = await alternatives(
            session=session,
            schedule=schedule,
            rule=rule,
            trajectory=trajectory,
            student_id=student.id,
            starts_at=starts_at,
            now=now,
            moving=moving,
            holder_id=actor.id,
        )
        log.info("slot taken: %s at %s for person_id=%s", kind, starts_at.isoformat(), actor.id)
        raise SlotTaken(
            Text.of(N_("Sorry, this time has just been taken. Please pick another time.")),
            nearest,
        )
    if moving is None:
        appointment = await insert_appointment(
            session=session,
            actor=actor,
            trajectory=trajectory,
            kind=kind,
            chosen=chosen,
            now=now,
        )
    else:
        appointment = await move_appointment(
            session=session, actor=actor, appointment=moving, chosen=chosen, now=now
        )
    # The time is booked: what the summary kept for this person is theirs now (`holds`).
    await release(session=session, holder_id=actor.id)
    await announce(session=session, schedule=schedule, rule=rule, appointment=appointment, now=now)
    return await view_of(session=session, appointment=appointment)


async def _timeout_request_reason(
    *,
    session: AsyncSession,
    schedule: Schedule,
    trajectory: Trajectory,
    starts_at: datetime,
    moving_id: int | None,
) -> TimeoutRequestReason | None:
    """Why a time-out needs the care coordinator's approval, or ``None`` when it does not
    (the facts read here, the decision `rules.timeout_request_reason`'s)."""
    day = schedule.local_day(starts_at)
    outside_the_plan = rules.outside_plan(
        day=day,
        timeouts_in_plan=trajectory.timeouts_in_plan,
        plan_start=trajectory.start_date,
        plan_end=trajectory.end_date,
    )
    booked_that_week = 0
    if not outside_the_plan:
        # Counted only when it can matter: outside the plan is the answer already.
        monday, next_monday = rules.iso_week(day)
        week_start, _ = schedule.day_bounds(monday)
        week_end, _ = schedule.day_bounds(next_monday)
        used = await session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.trajectory_id == trajectory.id,
                Appointment.kind == AppointmentKind.TIME_OUT,
                Appointment.status.in_(rules.COUNTED_TIMEOUT_STATUSES),
                Appointment.starts_at >= week_start,
                Appointment.starts_at < week_end,
                Appointment.id != (moving_id or 0),
            )
        )
        booked_that_week = int(used or 0)
    return rules.timeout_request_reason(
        outside_the_plan=outside_the_plan,
        booked_that_week=booked_that_week,
        per_week=trajectory.timeouts_per_week,
    )
