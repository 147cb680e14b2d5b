"""Planned evaluations of a trajectory: marking one as held, from the page (with the notes of
the coach or care coordinator) or by the attendance of an evaluation appointment (the
evaluation moments are the evaluation appointments: `hold_for_appointment`).

Only while the trajectory is active (`services.trajectories.rules`, ``HOLD_EVALUATION``).
Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text
from services.trajectories import rules
from services.trajectories.access import (
    NOT_AVAILABLE,
    require_staff,
    school_zone,
    staff_trajectory,
)
from services.trajectories.rules import EvaluationSlot, Step
from storage.models import Appointment, Person, Trajectory, TrajectoryEvaluation, TrajectoryStatus

log = logging.getLogger(__name__)


async def mark_evaluation_held(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    evaluation_id: int,
    now: datetime,
    notes: str | None = None,
) -> date:
    """Mark an evaluation as held today (school-local) with ``notes`` (optional, at most
    `rules.EVALUATION_NOTES_MAX` characters); returns that day. Idempotent (notes given again
    replace the earlier ones).

    For a care coordinator or coach of the school; the trajectory must be active. An
    evaluation held before its date counts as held. Audited as ``trajectory.evaluation_held``.
    """
    problem = rules.validate_evaluation_notes(notes or "", required=False)
    if problem is not None:
        raise InputInvalid(problem)
    actor = await require_staff(session=session, actor=actor)
    evaluation = await session.scalar(
        select(TrajectoryEvaluation)
        .where(
            TrajectoryEvaluation.id == evaluation_id,
            TrajectoryEvaluation.trajectory_id == trajectory_id,
            TrajectoryEvaluation.school_id == actor.school_id,
        )
        .with_for_update()
    )
    if evaluation is None:
        log.info("refused: evaluation_id=%s for person_id=%s", evaluation_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    _actor, trajectory, zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    _ensure_active(trajectory)
    if (notes or "").strip():
        evaluation.notes = clean_text(notes or "")
    if evaluation.held_on is not None:
        return evaluation.held_on
    held_on = now.astimezone(zone).date()
    evaluation.held_on = held_on
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.evaluation_held",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"evaluation_id": evaluation.id},
        at=now,
    )
    return held_on


def _ensure_active(trajectory: Trajectory) -> None:
    if rules.step_allowed_from(Step.HOLD_EVALUATION, trajectory.status):
        return
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
    raise InvalidTransition(
        Text.of(N_("Evaluations are held once the trajectory is active (after its intake)."))
    )


async def hold_for_appointment(
    *,
    session: AsyncSession,
    appointment: Appointment,
    actor_id: int,
    now: datetime,
    notes: str | None = None,
) -> int | None:
    """An evaluation appointment was attended: the matching planned evaluation (the one not
    held yet due nearest to the appointment's day, `rules.matching_evaluation`) is held on
    that day, with the coach's ``notes``; its id (``None``: nothing left to hold, or the
    trajectory is not active). The caller (`services.appointments.attendance`) authorized
    the coach."""
    problem = rules.validate_evaluation_notes(notes or "", required=False)
    if problem is not None:
        raise InputInvalid(problem)
    trajectory = await session.scalar(
        select(Trajectory).where(
            Trajectory.id == appointment.trajectory_id,
            Trajectory.school_id == appointment.school_id,
        )
    )
    if trajectory is None or not rules.step_allowed_from(Step.HOLD_EVALUATION, trajectory.status):
        return None
    evaluations = list(
        await session.scalars(
            select(TrajectoryEvaluation)
            .where(
                TrajectoryEvaluation.school_id == trajectory.school_id,
                TrajectoryEvaluation.trajectory_id == trajectory.id,
            )
            .with_for_update()
        )
    )
    if any(e.appointment_id == appointment.id for e in evaluations):
        return None  # this appointment held one already (a corrected mark)
    zone = await school_zone(session=session, school_id=trajectory.school_id)
    day = appointment.starts_at.astimezone(zone).date()
    chosen = rules.matching_evaluation(
        (EvaluationSlot(e.id, e.kind, e.due_on, e.held_on) for e in evaluations), day
    )
    if chosen is None:
        return None
    evaluation = next(e for e in evaluations if e.id == chosen)
    evaluation.held_on = day
    evaluation.appointment_id = appointment.id
    if (notes or "").strip():
        evaluation.notes = clean_text(notes or "")
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor_id,
        action="trajectory.evaluation_held",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"evaluation_id": evaluation.id, "appointment_id": appointment.id},
        at=now,
    )
    log.info("evaluation_id=%s held by appointment_id=%s", evaluation.id, appointment.id)
    return evaluation.id
