"""Planned evaluations of a trajectory: marking one as held (the page's button).

Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition, NotAllowed
from services.trajectories.access import NOT_AVAILABLE, require_staff, staff_trajectory
from storage.models import Person, TrajectoryEvaluation, TrajectoryStatus

log = logging.getLogger(__name__)


async def mark_evaluation_held(
    *, session: AsyncSession, actor: Person, trajectory_id: int, evaluation_id: int, now: datetime
) -> date:
    """Mark an evaluation as held today (school-local); returns that day. Idempotent.

    For a care coordinator or coach of the school; the trajectory must not be
    closed. An evaluation held before its date counts as held. Audited as
    ``trajectory.evaluation_held``.
    """
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
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
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
