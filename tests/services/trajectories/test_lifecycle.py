"""The lifecycle enforced by the services (issue 11): the intake held with or without the plan,
activation only with a complete plan and a coach, evaluations held by their appointments, and
closing that closes (future appointments cancelled and their reminders withdrawn, open
time-out requests declined, the referral's queue item resolved). Each defect of the issue has a
test here that fails on the old behaviour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.attendance import confirm_mentor_presence, mark_attendance
from services.appointments.booking import book
from services.appointments.closing import close_trajectory
from services.appointments.errors import BookingRefused
from services.appointments.notices import APPOINTMENT_REMINDER, TRAJECTORY_CLOSED, key_prefix
from services.appointments.timeout_requests import (
    CLOSED_TRAJECTORY_REASON,
    BookingRequested,
    approve_timeout_request,
)
from services.appointments.views import AppointmentView
from services.kernel.errors import InputInvalid, InvalidTransition
from services.kernel.uow import run_unit_of_work
from services.outbox.kinds import OutboxKind
from services.trajectories.lifecycle import (
    Closing,
    TrajectoryPlan,
    open_trajectory_of,
    set_plan,
)
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    EvaluationKind,
    Outbox,
    OutboxStatus,
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    WaitingReason,
)
from tests.support.booking_world import NOW, THURSDAY, TUESDAY, WEDNESDAY, World, at, build_world
from tests.support.factories import CLOSING

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


def _plan(coach: Person | None) -> TrajectoryPlan:
    return TrajectoryPlan(
        goals="Rustig blijven in de les en op tijd hulp vragen.",
        start=TUESDAY,
        end=TUESDAY + timedelta(weeks=10),
        evaluations=(WEDNESDAY + timedelta(weeks=1),),
        timeouts_in_plan=True,
        coach_id=None if coach is None else coach.id,
    )


async def _book(
    session_factory: Factory,
    actor: Person,
    student: Person,
    kind: AppointmentKind,
    when: object,
) -> AppointmentView | BookingRequested:
    async with session_factory() as session:
        return await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=actor,
                student_id=student.id,
                kind=kind,
                starts_at=when,  # type: ignore[arg-type]
                now=NOW,
            ),
        )


async def _trajectory(session_factory: Factory, student: Person) -> Trajectory:
    async with session_factory() as session:
        trajectory = await session.scalar(
            select(Trajectory)
            .where(Trajectory.student_id == student.id)
            .order_by(Trajectory.id.desc())
            .limit(1)
        )
    assert trajectory is not None
    return trajectory


async def _confirmed_intake(session_factory: Factory, world: World) -> AppointmentView:
    """The newcomer's parent books the intake on Tuesday 10:00; the mentor says yes."""
    intake = await _book(
        session_factory, world.parent, world.newcomer, AppointmentKind.INTAKE, at(TUESDAY, 10)
    )
    assert isinstance(intake, AppointmentView)
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=intake.appointment_id,
                now=NOW,
                present=True,
            ),
        )
    return intake


async def _attend(
    session_factory: Factory,
    world: World,
    appointment_id: int,
    when: object,
    notes: str | None = None,
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: mark_attendance(
                session=work,
                coach=world.coach,
                appointment_id=appointment_id,
                attended=True,
                now=when,  # type: ignore[arg-type]
                notes=notes,
            ),
        )


async def _close(
    session_factory: Factory, world: World, trajectory_id: int, closing: Closing = CLOSING
) -> Trajectory:
    async with session_factory() as session:
        return await run_unit_of_work(
            session,
            lambda work: close_trajectory(
                session=work,
                actor=world.zoco,
                trajectory_id=trajectory_id,
                closing=closing,
                now=NOW,
            ),
        )


async def _set_plan(
    session_factory: Factory, actor: Person, trajectory_id: int, plan: TrajectoryPlan
) -> None:
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: set_plan(
                session=work, actor=actor, trajectory_id=trajectory_id, plan=plan, now=NOW
            ),
        )


# --- closing closes --------------------------------------------------------------------------


async def test_closing_cancels_a_future_intake_and_withdraws_its_reminders(
    session_factory: Factory, world: World
) -> None:
    # The defect: a parent got a reminder for an intake of a closed trajectory.
    intake = await _confirmed_intake(session_factory, world)
    prefix = key_prefix(intake.appointment_id)
    async with session_factory() as session:
        reminders = list(
            await session.scalars(
                select(Outbox).where(
                    Outbox.kind == APPOINTMENT_REMINDER,
                    Outbox.dedup_key.startswith(prefix),
                    Outbox.recipient_id == world.parent.id,
                )
            )
        )
    assert reminders
    assert all(r.status is OutboxStatus.PENDING for r in reminders)

    trajectory = await _trajectory(session_factory, world.newcomer)
    closed = await _close(session_factory, world, trajectory.id)
    assert closed.status is TrajectoryStatus.CLOSED

    async with session_factory() as session:
        rows = list(
            await session.scalars(
                select(Outbox)
                .where(Outbox.dedup_key.startswith(prefix), Outbox.recipient_id == world.parent.id)
                .order_by(Outbox.id)
            )
        )
        stored = await session.get(Appointment, intake.appointment_id)
    assert stored is not None
    assert stored.status is AppointmentStatus.CANCELLED
    assert stored.cancelled_by_id == world.zoco.id
    pending = [r for r in rows if r.status is OutboxStatus.PENDING]
    # The parent is sent the cancellation (the cancelling calendar file), never the reminder.
    assert [r.kind for r in pending] == [OutboxKind.APPOINTMENT_CALENDAR]
    assert pending[0].payload["cancelled"] is True
    assert all(r.status is OutboxStatus.CANCELLED for r in rows if r.kind == APPOINTMENT_REMINDER)


async def test_closing_declines_open_time_out_requests_with_the_reason(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=False)
        )
    requested = await _book(
        session_factory, world.student, world.student, AppointmentKind.TIME_OUT, at(TUESDAY, 11)
    )
    assert isinstance(requested, BookingRequested)
    trajectory = await _trajectory(session_factory, world.student)
    await _close(session_factory, world, trajectory.id)

    async with session_factory() as session:
        item = await session.get_one(QueueItem, requested.queue_item_id)
        told = list(
            await session.scalars(
                select(Outbox).where(
                    Outbox.kind == OutboxKind.TIMEOUT_DECIDED,
                    Outbox.recipient_id == world.student.id,
                )
            )
        )
    assert item.status is QueueStatus.CLOSED
    assert item.decision is QueueDecision.DECLINED
    assert item.decision_reason == CLOSED_TRAJECTORY_REASON
    assert item.decided_by_id == world.zoco.id
    assert [(r.payload["approved"], r.payload["reason"]) for r in told] == [
        (False, TRAJECTORY_CLOSED)
    ]
    # Approving it afterwards says why, instead of "can be booked after the intake".
    async with session_factory() as session:
        with pytest.raises(InvalidTransition) as refused:
            await run_unit_of_work(
                session,
                lambda work: approve_timeout_request(
                    session=work, actor=world.zoco, queue_item_id=requested.queue_item_id, now=NOW
                ),
            )
    assert "already been decided" in refused.value.reason.msgid


async def test_closing_needs_the_final_evaluation_and_the_advice(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.student)
    for closing in (
        Closing(advice=CLOSING.advice),  # no final evaluation held, none given
        Closing(advice="", final_evaluation=CLOSING.final_evaluation),  # no advice
    ):
        with pytest.raises(InvalidTransition):
            await _close(session_factory, world, trajectory.id, closing)
    assert (await _trajectory(session_factory, world.student)).status is TrajectoryStatus.ACTIVE
    await _close(session_factory, world, trajectory.id)
    async with session_factory() as session:
        final = await session.scalar(
            select(TrajectoryEvaluation).where(
                TrajectoryEvaluation.trajectory_id == trajectory.id,
                TrajectoryEvaluation.kind == EvaluationKind.FINAL,
            )
        )
        stored = await session.get_one(Trajectory, trajectory.id)
    assert final is not None
    assert final.held_on is not None
    assert final.notes == CLOSING.final_evaluation
    assert stored.advice == CLOSING.advice


# --- the intake, the plan, activation --------------------------------------------------------


async def _accepted(session_factory: Factory, world: World) -> int:
    """The newcomer's referral item as accepting leaves it: waiting for the intake."""
    trajectory = await _trajectory(session_factory, world.newcomer)
    async with session_factory() as session, session.begin():
        item = await session.scalar(
            select(QueueItem).where(
                QueueItem.referral_id == trajectory.referral_id,
                QueueItem.kind == QueueKind.REFERRAL,
            )
        )
        assert item is not None
        item.status = QueueStatus.WAITING
        item.waiting_reason = WaitingReason.INTAKE
        item.waiting_since = NOW
        item.decision = QueueDecision.ACCEPTED
        item.decided_at = NOW
        item.decided_by_id = world.zoco.id
        return item.id


async def test_the_referral_item_closes_when_the_intake_is_held(
    session_factory: Factory, world: World
) -> None:
    # The defect: accepted referrals stayed "waiting for intake" in the queue forever.
    item_id = await _accepted(session_factory, world)
    intake = await _confirmed_intake(session_factory, world)
    await _attend(session_factory, world, intake.appointment_id, at(TUESDAY, 10, 30))
    async with session_factory() as session:
        item = await session.get_one(QueueItem, item_id)
        resolved = await session.scalar(select(AuditLog).where(AuditLog.action == "queue.resolve"))
    assert item.status is QueueStatus.CLOSED
    assert item.decision is QueueDecision.ACCEPTED  # the decision stays as it was
    assert resolved is not None
    assert resolved.subject_id == item_id
    assert resolved.details["because"] == "intake_held"


async def test_activation_is_refused_without_a_coach_and_a_plan(
    session_factory: Factory, world: World
) -> None:
    # The defect: a trajectory could be active without goals, end date or coach.
    intake = await _confirmed_intake(session_factory, world)
    await _attend(session_factory, world, intake.appointment_id, at(TUESDAY, 10, 30))
    trajectory = await _trajectory(session_factory, world.newcomer)
    assert trajectory.status is TrajectoryStatus.INTAKE_HELD
    assert trajectory.intake_held_at == at(TUESDAY, 10, 30)
    assert trajectory.activated_at is None

    # A plan without a coach is kept, but the trajectory stays "plan to complete".
    await _set_plan(session_factory, world.zoco, trajectory.id, _plan(None))
    trajectory = await _trajectory(session_factory, world.newcomer)
    assert trajectory.status is TrajectoryStatus.INTAKE_HELD
    refused = await _book_gesprek(session_factory, world)
    assert isinstance(refused, BookingRefused)

    # The coach completes it with themself as the fixed point of contact: active.
    await _set_plan(session_factory, world.coach, trajectory.id, _plan(world.coach))
    trajectory = await _trajectory(session_factory, world.newcomer)
    assert trajectory.status is TrajectoryStatus.ACTIVE
    assert trajectory.coach_id == world.coach.id
    assert trajectory.activated_at is not None
    assert isinstance(await _book_gesprek(session_factory, world), AppointmentView)


async def _book_gesprek(
    session_factory: Factory, world: World
) -> AppointmentView | BookingRequested | BookingRefused:
    try:
        return await _book(
            session_factory,
            world.newcomer,
            world.newcomer,
            AppointmentKind.GESPREK,
            at(THURSDAY, 9),
        )
    except BookingRefused as refused:
        return refused


async def test_an_active_trajectory_keeps_a_complete_plan(
    session_factory: Factory, world: World
) -> None:
    # world.student's trajectory is active but has no coach (data from before issue 11): a plan
    # without one is refused with what is missing; choosing a coach completes it.
    trajectory = await _trajectory(session_factory, world.student)
    with pytest.raises(InvalidTransition) as refused:
        await _set_plan(session_factory, world.zoco, trajectory.id, _plan(None))
    assert refused.value.reason.msgid.startswith("The plan is not complete yet")
    with pytest.raises(InputInvalid):
        # The mentor's account is no coach.
        await _set_plan(session_factory, world.zoco, trajectory.id, _plan(world.mentor))
    await _set_plan(session_factory, world.zoco, trajectory.id, _plan(world.coach))
    assert (await _trajectory(session_factory, world.student)).coach_id == world.coach.id


# --- evaluations -----------------------------------------------------------------------------


async def test_an_attended_evaluation_appointment_holds_the_evaluation_with_notes(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.student)
    await _set_plan(session_factory, world.zoco, trajectory.id, _plan(world.coach))
    evaluation = await _book(
        session_factory, world.zoco, world.student, AppointmentKind.EVALUATION, at(WEDNESDAY, 10)
    )
    assert isinstance(evaluation, AppointmentView)
    await _attend(
        session_factory,
        world,
        evaluation.appointment_id,
        at(WEDNESDAY, 10, 30),
        notes="Gaat goed; doelen blijven staan.",
    )
    async with session_factory() as session:
        held = list(
            await session.scalars(
                select(TrajectoryEvaluation).where(
                    TrajectoryEvaluation.trajectory_id == trajectory.id,
                    TrajectoryEvaluation.held_on.is_not(None),
                )
            )
        )
    # The interim evaluation (a week later) is the nearest one not held: it is held now.
    assert [(e.kind, e.held_on, e.notes, e.appointment_id) for e in held] == [
        (
            EvaluationKind.INTERIM,
            WEDNESDAY,
            "Gaat goed; doelen blijven staan.",
            evaluation.appointment_id,
        )
    ]
    assert (await open_trajectory_of_student(session_factory, world)).status is (
        TrajectoryStatus.ACTIVE
    )


async def open_trajectory_of_student(session_factory: Factory, world: World) -> Trajectory:
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=world.student.id)
    assert trajectory is not None
    return trajectory
