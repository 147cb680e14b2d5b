"""Trajectories: created when the care coordinator accepts a referral, the intake held (with
the plan, or "intake held — plan to complete"), the plan completed (which activates), and
closed at the end (final evaluation and advice; then the exit questionnaire).

The rules of every step are `services.trajectories.rules` (the lifecycle table): this module
loads the facts, asks them, and writes. Every function here takes a session already in a
transaction and never begins one (the entry point does, through
`services.kernel.uow.run_unit_of_work`). The plan is made by a coach or care coordinator of
the trajectory's school, closing is the care coordinator's; every change is audited with ids
only (goals, notes and advice are free text and stay out of the audit trail and the logs).

Closing also winds down what belongs to the appointments (future appointments cancelled,
open time-out requests declined); that package is above this one, so the entry point is
`services.appointments.closing.close_trajectory`, which hands its part in as ``wind_down``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.schools import school_timeout_cap
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.text_input import clean_text, validate_text
from services.queue.rules import QueueAction, system_actions
from services.queue.status import move_item
from services.surveys.invitations import check_teachers, create_invitations
from services.trajectories import rules
from services.trajectories.access import school_zone
from services.trajectories.intake_report import send_intake_report
from services.trajectories.rules import PlanFacts, PlanGap, Step, plan_gaps
from services.trajectories.student_events import record_closing_events, request_from_referral
from storage.models import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    EvaluationKind,
    Person,
    PersonRole,
    QueueItem,
    QueueKind,
    QueueStatus,
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
    """What is agreed for a trajectory (at acceptance, or at the intake by the coach or the
    care coordinator).

    ``evaluations`` are the dates of the interim evaluations; the last date of the plan is the
    final evaluation, on ``end``. ``coach_id``: the coach who is the fixed point of contact
    (``None`` keeps the coach already assigned).
    """

    goals: str
    start: date
    end: date
    evaluations: tuple[date, ...] = ()
    timeouts_in_plan: bool = False
    timeouts_per_week: int = DEFAULT_TIMEOUTS_PER_WEEK
    coach_id: int | None = None


@dataclass(frozen=True, slots=True)
class Closing:
    """What closing records: the advice for the school (handelingsadvies) and, when the final
    evaluation was not marked held before, what it concluded (it is held now)."""

    advice: str
    final_evaluation: str | None = None
    #: The student moves to a lower level (afstroom) or to VAVO (seed 004's indicators).
    outflow: bool = False
    vavo: bool = False
    #: Teachers the care coordinator invites to the exit questionnaire besides the student,
    #: the parents and the mentors (checked: teachers or mentors of the school).
    teacher_ids: tuple[int, ...] = ()


#: What closing asks of the packages above this one (the appointments): cancel the future
#: appointments and decide the open time-out requests, in the same transaction.
WindDown = Callable[[AsyncSession, Person, Trajectory, datetime], Awaitable[None]]


def validate_plan(plan: TrajectoryPlan) -> dict[str, Text]:
    """What is wrong with ``plan``, by field name (empty when it is fine)."""
    problems: dict[str, Text] = {}
    goals_problem = validate_text(plan.goals, GOALS_MIN, GOALS_MAX)
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

    Without a plan the trajectory starts empty, time-out is in the plan only when the
    referral asked for it, with the school's time-out cap (`BookingSettings.timeouts_per_week`,
    set by the admin); the coordinator completes the plan after the intake.
    """
    if await open_trajectory_of(session=session, student_id=referral.student_id) is not None:
        # Also guaranteed by a partial unique index; this check gives the readable answer.
        raise InvalidTransition(Text.of(N_("This student already has an open trajectory.")))
    cap = await school_timeout_cap(session=session, school_id=referral.school_id)
    trajectory = Trajectory(
        school_id=referral.school_id,
        student_id=referral.student_id,
        referral_id=referral.id,
        status=TrajectoryStatus.PLANNED,
        timeouts_in_plan=SupportKind.TIME_OUT.value in referral.support,
        timeouts_per_week=cap,
        created_at=now,
    )
    session.add(trajectory)
    await session.flush()
    if SupportKind.CLASS_OBSERVATION.value in referral.support:
        # The referral's "observation wanted" tick becomes an observation request.
        session.add(request_from_referral(trajectory, requested_by_id=actor.id, now=now))
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
    """Store the plan of an open trajectory (a coach or care coordinator of its school).

    `InputInvalid` with the first problem for a bad plan or a coach who is not one of the
    school's; `InvalidTransition` for a closed trajectory, or an active one whose plan would
    no longer be complete. Planned evaluation dates that were not held yet are replaced, held
    ones are kept. After the intake ("intake held — plan to complete") a complete plan
    activates the trajectory (`rules.status_after_plan`).
    """
    actor, trajectory = await _authorized(
        session=session, actor=actor, trajectory_id=trajectory_id, step=Step.COMPLETE_PLAN
    )
    if trajectory.status is TrajectoryStatus.CLOSED:
        raise InvalidTransition(Text.of(N_("This trajectory is closed.")))
    await _apply_plan(session=session, trajectory=trajectory, plan=plan)
    await session.flush()
    gaps = await plan_gaps_of(session=session, trajectory=trajectory)
    problem = rules.plan_refusal(trajectory.status, gaps)
    if problem is not None:
        raise InvalidTransition(problem)
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.plan",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"complete": not gaps},
        at=now,
    )
    # Only a change of status activates: a plan changed on an active trajectory does not
    # activate it (and send its intake report) again.
    if (
        trajectory.status is not TrajectoryStatus.ACTIVE
        and rules.status_after_plan(trajectory.status, gaps) is TrajectoryStatus.ACTIVE
    ):
        await _activate(trajectory=trajectory, actor_id=actor.id, now=now, session=session)
    return trajectory


async def plan_gaps_of(*, session: AsyncSession, trajectory: Trajectory) -> tuple[PlanGap, ...]:
    """What the trajectory's stored plan still lacks (`rules.plan_gaps`)."""
    evaluations = await session.scalar(
        select(func.count(TrajectoryEvaluation.id)).where(
            TrajectoryEvaluation.school_id == trajectory.school_id,
            TrajectoryEvaluation.trajectory_id == trajectory.id,
        )
    )
    return plan_gaps(
        PlanFacts(
            goals=trajectory.goals,
            start=trajectory.start_date,
            end=trajectory.end_date,
            evaluations=evaluations or 0,
            coach_id=trajectory.coach_id,
        )
    )


async def coaches_of(*, session: AsyncSession, school_id: int) -> list[Person]:
    """The school's coaches (the choice of a trajectory's fixed point of contact)."""
    return list(
        await session.scalars(
            select(Person)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(Person.school_id == school_id, PersonRole.role == Role.COACH)
            .order_by(Person.family_name, Person.given_name, Person.id)
        )
    )


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
    if plan.coach_id is not None:
        coach = await session.scalar(
            select(Person.id)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(
                Person.id == plan.coach_id,
                Person.school_id == trajectory.school_id,
                PersonRole.role == Role.COACH,
            )
        )
        if coach is None:
            raise InputInvalid(Text.of(N_("Choose one of the school's coaches.")))
        trajectory.coach_id = coach
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


async def hold_intake(
    *, session: AsyncSession, trajectory: Trajectory, actor_id: int | None, now: datetime
) -> TrajectoryStatus:
    """The intake took place (its appointment marked attended): the trajectory becomes active
    when its plan is complete, else "intake held — plan to complete" (`rules.status_after_
    intake`); the accepted referral's queue item is resolved. Idempotent; the new status.

    Activation (with a complete plan) goes through `_activate`, which sends the intake
    report.
    """
    if trajectory.status is not TrajectoryStatus.PLANNED:
        return trajectory.status
    gaps = await plan_gaps_of(session=session, trajectory=trajectory)
    trajectory.status = rules.status_after_intake(trajectory.status, gaps)
    trajectory.intake_held_at = now
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor_id,
        action="trajectory.intake_held",
        subject_type="trajectory",
        subject_id=trajectory.id,
        details={"plan_complete": not gaps},
        at=now,
    )
    if trajectory.status is TrajectoryStatus.ACTIVE:
        await _activate(trajectory=trajectory, actor_id=actor_id, now=now, session=session)
    await resolve_referral_item(
        session=session,
        trajectory=trajectory,
        action=QueueAction.INTAKE_HELD,
        actor_id=actor_id,
        now=now,
    )
    return trajectory.status


async def _activate(
    *, session: AsyncSession, trajectory: Trajectory, actor_id: int | None, now: datetime
) -> None:
    """The one place a trajectory becomes active: its intake held and its plan complete
    (from `hold_intake` or `set_plan`).

    In this same transaction the intake report's notice is written to the outbox for the
    student, each parent and each mentor (`services.trajectories.intake_report`); the PDF for
    the school's student file is made from the same data on request.
    """
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
    await send_intake_report(session=session, trajectory=trajectory, now=now)


async def resolve_referral_item(
    *,
    session: AsyncSession,
    trajectory: Trajectory,
    action: QueueAction,
    actor_id: int | None,
    now: datetime,
) -> bool:
    """Close the trajectory's referral item when it still waits for the intake (`move_item`
    with a system action of `services.queue.rules`); whether it was closed. Audited as
    ``queue.resolve``."""
    item = await session.scalar(
        select(QueueItem)
        .where(
            QueueItem.school_id == trajectory.school_id,
            QueueItem.kind == QueueKind.REFERRAL,
            QueueItem.referral_id == trajectory.referral_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None or action not in system_actions(
        kind=item.kind, status=item.status, waiting_reason=item.waiting_reason
    ):
        return False
    from_status = await move_item(
        session=session, item=item, action=action, to=QueueStatus.CLOSED, now=now
    )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor_id,
        action="queue.resolve",
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "referral_id": item.referral_id,
            "because": action.value,
            "from_status": from_status.value,
            "to_status": QueueStatus.CLOSED.value,
        },
        at=now,
    )
    return True


async def open_trajectory_of(*, session: AsyncSession, student_id: int) -> Trajectory | None:
    """The student's trajectory that is not closed (there is at most one), or ``None``."""
    return await session.scalar(
        select(Trajectory).where(
            Trajectory.student_id == student_id, Trajectory.status != TrajectoryStatus.CLOSED
        )
    )


async def close_trajectory(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    closing: Closing,
    now: datetime,
    wind_down: WindDown,
) -> Trajectory:
    """Close an open trajectory (care coordinator only); audited. Use
    `services.appointments.closing.close_trajectory`, which passes the appointments' part.

    Refused (`InvalidTransition`, nothing written) unless `rules.closing_refusal` allows it:
    not closed yet, the final evaluation held (or its conclusion given now) and the advice for
    the school. Then, in this one transaction: ``wind_down`` (future appointments cancelled and
    their people told, reminders withdrawn, open time-out requests declined), the final
    evaluation held, the advice kept, the status closed, the referral's queue item resolved,
    and the exit questionnaire's invitations created (a closed trajectory never lacks them).
    """
    actor, trajectory = await _authorized(
        session=session, actor=actor, trajectory_id=trajectory_id, step=Step.CLOSE, lock=True
    )
    final = await session.scalar(
        select(TrajectoryEvaluation)
        .where(
            TrajectoryEvaluation.school_id == trajectory.school_id,
            TrajectoryEvaluation.trajectory_id == trajectory.id,
            TrajectoryEvaluation.kind == EvaluationKind.FINAL,
        )
        .order_by(TrajectoryEvaluation.due_on.desc(), TrajectoryEvaluation.id.desc())
        .limit(1)
        .with_for_update()
    )
    final_held = final is not None and final.held_on is not None
    problem = rules.closing_refusal(
        status=trajectory.status,
        final_evaluation_held=final_held,
        final_notes=closing.final_evaluation,
        advice=closing.advice,
    )
    if problem is not None:
        raise InvalidTransition(problem)
    teacher_ids = await check_teachers(
        session=session, school_id=trajectory.school_id, teacher_ids=closing.teacher_ids
    )
    await wind_down(session, actor, trajectory, now)
    if not final_held:
        today = now.astimezone(await school_zone(session=session, school_id=actor.school_id))
        if final is None:
            final = TrajectoryEvaluation(
                school_id=trajectory.school_id,
                trajectory_id=trajectory.id,
                kind=EvaluationKind.FINAL,
                due_on=today.date(),
            )
            session.add(final)
        final.held_on = today.date()
        final.notes = clean_text(closing.final_evaluation or "")
    if closing.outflow or closing.vavo:
        zone = await school_zone(session=session, school_id=trajectory.school_id)
        await record_closing_events(
            session=session,
            trajectory=trajectory,
            actor_id=actor.id,
            on_day=now.astimezone(zone).date(),
            outflow=closing.outflow,
            vavo=closing.vavo,
            now=now,
        )
    trajectory.advice = clean_text(closing.advice)
    trajectory.status = TrajectoryStatus.CLOSED
    trajectory.closed_at = now
    trajectory.closed_by_id = actor.id
    await resolve_referral_item(
        session=session,
        trajectory=trajectory,
        action=QueueAction.TRAJECTORY_CLOSED,
        actor_id=actor.id,
        now=now,
    )
    record_audit(
        session=session,
        school_id=trajectory.school_id,
        actor_id=actor.id,
        action="trajectory.close",
        subject_type="trajectory",
        subject_id=trajectory.id,
        at=now,
        details={"outflow": closing.outflow, "vavo": closing.vavo},
    )
    await session.flush()
    # The exit questionnaire invitations, in this transaction: a closed trajectory never
    # lacks them.
    await create_invitations(
        session=session, trajectory=trajectory, now=now, teacher_ids=teacher_ids
    )
    log.info("trajectory_id=%s closed by person_id=%s", trajectory.id, actor.id)
    return trajectory


async def _authorized(
    *,
    session: AsyncSession,
    actor: Person,
    trajectory_id: int,
    step: Step,
    lock: bool = False,
) -> tuple[Person, Trajectory]:
    """The actor (re-read) if their roles may make ``step`` (`rules.may_make`), and the
    trajectory of their school; `NotAllowed` otherwise."""
    actor = await reload_actor(session=session, actor=actor)
    if not rules.may_make(step, [role.role for role in actor.roles]):
        log.info("refused: person_id=%s may not %s", actor.id, step.value)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
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
