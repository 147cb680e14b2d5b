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
from sqlalchemy.orm import aliased

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import InvalidTransition, NotAllowed
from services.kernel.uow import update_cache
from services.trajectories.access import NOT_AVAILABLE, require_staff
from services.trajectories.lifecycle import plan_gaps_of
from services.trajectories.rules import PlanGap
from storage.models import (
    EvaluationKind,
    Person,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    name_of,
)
from storage.versions import wrote_cases

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
    trajectory's school; `InvalidTransition` when the trajectory is closed. Inside a Telegram
    update the plan comes from the process cache while both versions stand (a trajectory or
    its evaluations written bump the case version, a person the people version); the actor is
    checked again every time.
    """
    actor = await require_staff(session=session, actor=actor)
    cache = await update_cache()
    key = ("stored_plan", actor.school_id, trajectory_id)
    if cache is not None and key in cache:
        plan: StoredPlan | None = cache.get(key)
    else:
        plan = await _read_plan(session, school_id=actor.school_id, trajectory_id=trajectory_id)
        if cache is not None and not wrote_cases(session):
            # Not from a transaction that wrote a case itself (it may not be committed).
            cache.put(key, plan, cases=True)
    if plan is None:
        # One answer for "another school's" and "no such trajectory": ids cannot be probed.
        log.info("refused: trajectory_id=%s for person_id=%s", trajectory_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    if plan.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(CLOSED))
    return plan


async def _read_plan(
    session: AsyncSession, *, school_id: int, trajectory_id: int
) -> StoredPlan | None:
    """The trajectory of the school with its student's and coach's names and its interim
    evaluations, in one query (one row per interim evaluation); ``None`` when there is none."""
    student = aliased(Person, name="student")
    coach = aliased(Person, name="coach")
    rows = (
        await session.execute(
            select(
                Trajectory.id,
                Trajectory.status,
                Trajectory.goals,
                Trajectory.start_date,
                Trajectory.end_date,
                Trajectory.coach_id,
                Trajectory.timeouts_in_plan,
                Trajectory.timeouts_per_week,
                student.given_name.label("student_given_name"),
                student.family_name.label("student_family_name"),
                student.group_name.label("student_group_name"),
                coach.given_name.label("coach_given_name"),
                coach.family_name.label("coach_family_name"),
                TrajectoryEvaluation.due_on,
            )
            .join(student, student.id == Trajectory.student_id)
            .outerjoin(coach, coach.id == Trajectory.coach_id)
            .outerjoin(
                TrajectoryEvaluation,
                (TrajectoryEvaluation.school_id == Trajectory.school_id)
                & (TrajectoryEvaluation.trajectory_id == Trajectory.id)
                & (TrajectoryEvaluation.kind == EvaluationKind.INTERIM),
            )
            .where(Trajectory.id == trajectory_id, Trajectory.school_id == school_id)
            .order_by(TrajectoryEvaluation.due_on)
        )
    ).all()
    if not rows:
        return None
    first = rows[0]
    return StoredPlan(
        trajectory_id=first.id,
        status=first.status,
        student_name=name_of(first.student_given_name, first.student_family_name),
        group_name=first.student_group_name,
        goals=first.goals,
        start=first.start_date,
        end=first.end_date,
        interim=tuple(row.due_on for row in rows if row.due_on is not None),
        coach_id=first.coach_id,
        coach_name=(
            None
            if first.coach_id is None
            else name_of(first.coach_given_name, first.coach_family_name)
        ),
        timeouts_in_plan=first.timeouts_in_plan,
        timeouts_per_week=first.timeouts_per_week,
    )


__all__ = ["PLANS_LISTED", "PlanToComplete", "StoredPlan", "plans_to_complete", "stored_plan"]
