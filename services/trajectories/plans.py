"""The plans still to complete, and one trajectory's stored plan, for the chat (issue 11: the
plan is made at the intake, by a coach or the care coordinator, on the web and in the chat).

Saving is not here: the chat saves through `services.trajectories.lifecycle.set_plan`, the
one writer of a plan, which also activates the trajectory once its intake was held. These
read for staff (care coordinator, coach) of the trajectory's school only, from the database;
another school's trajectory and an unknown id get the same refusal. Operations in the
caller's unit of work; the list is audited with ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition
from services.trajectories.access import require_staff, staff_trajectory
from services.trajectories.lifecycle import plan_gaps_of
from services.trajectories.rules import PlanGap
from storage.models import (
    EvaluationKind,
    Person,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

#: At most this many plans are listed in the chat (the oldest intakes first).
PLANS_LISTED = 20

CLOSED = N_("This trajectory is closed.")


@dataclass(frozen=True, slots=True)
class PlanToComplete:
    """One trajectory whose plan is still incomplete: the intake was held without a complete
    plan (``intake_held``), or it is accepted and its plan not complete yet (``planned``)."""

    trajectory_id: int
    status: TrajectoryStatus
    student_name: str
    group_name: str | None
    gaps: tuple[PlanGap, ...]


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """A trajectory's plan as stored now (what the chat shows next to its questions and
    keeps unchanged: the time-out agreements)."""

    trajectory_id: int
    status: TrajectoryStatus
    student_name: str
    group_name: str | None
    goals: str | None
    start: date | None
    end: date | None
    interim: tuple[date, ...]
    coach_id: int | None
    coach_name: str | None
    timeouts_in_plan: bool
    timeouts_per_week: int


async def plans_to_complete(
    *, session: AsyncSession, viewer: Person, now: datetime
) -> list[PlanToComplete]:
    """The trajectories of the viewer's school whose plan is to be completed: intake held
    first, then those before their intake that still lack part of the plan; oldest first.

    Care coordinators and coaches only (`NotAllowed` otherwise); audited
    (``trajectory.plans``, ids only).
    """
    viewer = await require_staff(session=session, actor=viewer)
    rows = await session.execute(
        select(Trajectory, Person)
        .join(Person, Person.id == Trajectory.student_id)
        .where(
            Trajectory.school_id == viewer.school_id,
            Trajectory.status.in_((TrajectoryStatus.INTAKE_HELD, TrajectoryStatus.PLANNED)),
        )
        .order_by(Trajectory.created_at, Trajectory.id)
    )
    found: list[PlanToComplete] = []
    for trajectory, student in rows:
        gaps = await plan_gaps_of(session=session, trajectory=trajectory)
        if trajectory.status is TrajectoryStatus.PLANNED and not gaps:
            continue  # complete already: it becomes active when the intake is held
        found.append(
            PlanToComplete(
                trajectory_id=trajectory.id,
                status=trajectory.status,
                student_name=student.display_name,
                group_name=student.group_name,
                gaps=gaps,
            )
        )
    found.sort(key=lambda plan: plan.status is not TrajectoryStatus.INTAKE_HELD)
    found = found[:PLANS_LISTED]
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="trajectory.plans",
        subject_type="school",
        subject_id=viewer.school_id,
        details={"trajectory_ids": [plan.trajectory_id for plan in found]},
        at=now,
    )
    log.info("plans to complete listed by person_id=%s: %s", viewer.id, len(found))
    return found


async def stored_plan(*, session: AsyncSession, actor: Person, trajectory_id: int) -> StoredPlan:
    """The stored plan of an open trajectory of the actor's school.

    `NotAllowed` unless the actor (re-read) is a care coordinator or coach of the
    trajectory's school; `InvalidTransition` when the trajectory is closed.
    """
    actor, trajectory, _zone = await staff_trajectory(
        session=session, actor=actor, trajectory_id=trajectory_id
    )
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(CLOSED))
    student = await session.get(Person, trajectory.student_id)
    assert student is not None  # noqa: S101 - a foreign key guarantees it
    coach = None if trajectory.coach_id is None else await session.get(Person, trajectory.coach_id)
    interim = await session.scalars(
        select(TrajectoryEvaluation.due_on)
        .where(
            TrajectoryEvaluation.school_id == trajectory.school_id,
            TrajectoryEvaluation.trajectory_id == trajectory.id,
            TrajectoryEvaluation.kind == EvaluationKind.INTERIM,
        )
        .order_by(TrajectoryEvaluation.due_on)
    )
    return StoredPlan(
        trajectory_id=trajectory.id,
        status=trajectory.status,
        student_name=student.display_name,
        group_name=student.group_name,
        goals=trajectory.goals,
        start=trajectory.start_date,
        end=trajectory.end_date,
        interim=tuple(interim),
        coach_id=trajectory.coach_id,
        coach_name=None if coach is None else coach.display_name,
        timeouts_in_plan=trajectory.timeouts_in_plan,
        timeouts_per_week=trajectory.timeouts_per_week,
    )


__all__ = ["PLANS_LISTED", "PlanToComplete", "StoredPlan", "plans_to_complete", "stored_plan"]
