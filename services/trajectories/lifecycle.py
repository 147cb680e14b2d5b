"""Trajectories: created when the care coordinator accepts a referral, activated by the intake,
closed at the end (which starts the exit questionnaire).

Every function here takes a session already in a transaction and never begins one (the entry
point does, through `services.kernel.uow.run_unit_of_work`). Only a care coordinator of the
trajectory's school changes a plan or closes a trajectory; every change is audited with ids
only (goals are free text and stay out of the audit trail and the logs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text, validate_length
from services.surveys.invitations import create_invitations
from storage.models import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    EvaluationKind,
    Person,
    Referral,
    Role,
    SupportKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

GOALS_MIN = 10
GOALS_MAX = 2000
#: A week cap above this is a typing error rather than a plan.
TIMEOUTS_PER_WEEK_MAX = 10

_NOT_AVAILABLE = N_("This trajectory is not available to you.")


@dataclass(frozen=True, slots=True)
class TrajectoryPlan:
    """What the care coordinator agrees for a trajectory (at acceptance or after the intake).

    ``evaluations`` are the dates of the interim evaluations; the last date of the plan is the
    final evaluation, on ``end``.
    """

    goals: str
    start: date
    end: date
    evaluations: tuple[date, ...] = ()
    timeouts_in_plan: bool = False
    timeouts_per_week: int = DEFAULT_TIMEOUTS_PER_WEEK


def validate_plan(plan: TrajectoryPlan) -> dict[str, Text]:
    """What is wrong with ``plan``, by field name (empty when it is fine)."""
    problems: dict[str, Text] = {}
    goals_problem = validate_length(clean_text(plan.goals), GOALS_MIN, GOALS_MAX)
    if goals_problem is not None:
        problems["goals"] = goals_problem
    if plan.end < plan.start:
        problems["end"] = Text.of(N_("The end date must be on or after the start date."))
    for day in plan.evaluations:
        if not plan.start <= day <= plan.end:
            problems["evaluations"] = Text.of(
                N_("Evaluation dates must lie between the start and the end date.")
            )
    if not 0 <= plan.timeouts_per_week <= TIMEOUTS_PER_WEEK_MAX:
        problems["timeouts_per_week"] = Text.of(
            N_("Time-outs per week must be a number from {minimum} to {maximum}."),
            minimum=0,
            maximum=TIMEOUTS_PER_WEEK_MAX,
        )
    return problems


async def create_for_referral(
    *,
    session: AsyncSession,
    actor: Person,
    referral: Referral,
    plan: TrajectoryPlan | None,
    now: datetime,
) -> Trajectory:
    """The ``planned`` trajectory of an accepted referral (the caller authorized the actor).

    Without a plan the trajectory starts empty and time-out is in the plan only when the
    referral asked for it; the coordinator completes the plan after the intake.
    """
    if await open_trajectory_of(session=session, student_id=referral.student_id) is not None:
        # Also guaranteed by a partial unique index; this check gives the readable answer.
        raise InvalidTransition(Text.of(N_("This student already has an open trajectory.")))
    trajectory = Trajectory(
        school_id=referral.school_id,
        student_id=referral.student_id,
        referral_id=referral.id,
        status=TrajectoryStatus.PLANNED,
        timeouts_in_plan=SupportKind.TIME_OUT.value in referral.support,
        created_at=now,
    )
    session.add(trajectory)
    await session.flush()
    if plan is not None:
        await _apply_plan(session=session, trajectory=trajectory, plan=plan)
        await session.flush()
    record_audit(
        session=session,
        school_id=referral.school_id,
        actor_id=actor.id,
        action="trajectory.create",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"referral_id": referral.id, "with_plan": plan is not None},
        at=now,
    )
    return trajectory


async def set_plan(
    *, session: AsyncSession, actor: Person, trajectory_id: int, plan: TrajectoryPlan, now: datetime
) -> Trajectory:
    """Replace the plan of an open trajectory (care coordinator only).

    `InputInvalid` with the first problem for a bad plan; planned evaluation dates that were
    not held yet are replaced, held ones are kept.
    """
    actor, trajectory = await _authorized(
        session=session, actor=actor, trajectory_id=trajectory_id, role=Role.CARE_COORDINATOR
    )
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
    await _apply_plan(session=session, trajectory=trajectory, plan=plan)
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.plan",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )
    return trajectory


async def _apply_plan(
    *, session: AsyncSession, trajectory: Trajectory, plan: TrajectoryPlan
) -> None:
    problems = validate_plan(plan)
    if problems:
        raise InputInvalid(next(iter(problems.values())))
    trajectory.goals = clean_text(plan.goals)
    trajectory.start_date = plan.start
    trajectory.end_date = plan.end
    trajectory.timeouts_in_plan = plan.timeouts_in_plan
    trajectory.timeouts_per_week = plan.timeouts_per_week
    # A new plan replaces the evaluations still to come; held ones are history and stay.
    await session.execute(
        delete(TrajectoryEvaluation).where(
            TrajectoryEvaluation.school_id == trajectory.school_id,
            TrajectoryEvaluation.trajectory_id == trajectory.id,
            TrajectoryEvaluation.held_on.is_(None),
        )
    )
    held = {
        (kind, day)
        for kind, day in await session.execute(
            select(TrajectoryEvaluation.kind, TrajectoryEvaluation.due_on).where(
                TrajectoryEvaluation.school_id == trajectory.school_id,
                TrajectoryEvaluation.trajectory_id == trajectory.id,
            )
        )
    }
    planned = [(EvaluationKind.INTERIM, day) for day in sorted(set(plan.evaluations))]
    planned.append((EvaluationKind.FINAL, plan.end))
    for kind, day in planned:
        if (kind, day) not in held:
            session.add(
                TrajectoryEvaluation(
                    school_id=trajectory.school_id,
                    trajectory_id=trajectory.id,
                    kind=kind,
                    due_on=day,
                )
            )


async def activate(
    *, session: AsyncSession, trajectory: Trajectory, actor_id: int | None, now: datetime
) -> None:
    """The intake took place: ``planned`` becomes ``active`` (idempotent)."""
    if trajectory.status is not TrajectoryStatus.PLANNED:
        return
    trajectory.status = TrajectoryStatus.ACTIVE
    trajectory.activated_at = now
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor_id,
        action="trajectory.activate",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )


async def open_trajectory_of(*, session: AsyncSession, student_id: int) -> Trajectory | None:
    """The student's trajectory that is not closed (there is at most one), or ``None``."""
    return await session.scalar(
        select(Trajectory).where(
            Trajectory.student_id == student_id, Trajectory.status != TrajectoryStatus.CLOSED
        )
    )


async def close_trajectory(
    *, session: AsyncSession, actor: Person, trajectory_id: int, now: datetime
) -> Trajectory:
    """Close an open trajectory (care coordinator only); audited.

    Closing is where the exit questionnaire starts: the invitations are created in this same
    transaction, so a closed trajectory never lacks them.
    """
    actor, trajectory = await _authorized(
        session=session,
        actor=actor,
        trajectory_id=trajectory_id,
        role=Role.CARE_COORDINATOR,
        lock=True,
    )
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is already closed.")))
    trajectory.status = TrajectoryStatus.CLOSED
    trajectory.closed_at = now
    trajectory.closed_by_id = actor.id
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.close",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
    )
    await session.flush()
    # The exit questionnaire invitations, in this transaction: a closed trajectory never
    # lacks them.
    await create_invitations(session=session, trajectory=trajectory, now=now)
    log.info("trajectory_id=%s closed by person_id=%s", trajectory.id, actor.id)
    return trajectory


async def _authorized(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    role: Role,
    lock: bool = False,
) -> tuple[Person, Trajectory]:
    actor = await require_role(session=session, actor=actor, role=role)
    query = (
        select(Trajectory)
        .where(Trajectory.id == trajectory_id, Trajectory.school_id == actor.school_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    trajectory = await session.scalar(query)
    if trajectory is None:
        # One answer for "another school's" and "no such trajectory": ids cannot be probed.
        log.info("refused: trajectory_id=%s for person_id=%s", trajectory_id, actor.id)
        raise NotAllowed(Text.of(_NOT_AVAILABLE))
    return actor, trajectory
