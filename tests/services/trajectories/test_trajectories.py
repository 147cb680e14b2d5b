"""Trajectories: created on acceptance, one open per student, plan rules, closing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.closing import close_trajectory
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.outbox.store import cancel_pending
from services.referrals.decisions import accept_for_intake, take_in_analysis
from services.trajectories.lifecycle import (
    TrajectoryPlan,
    hold_intake,
    open_trajectory_of,
    set_plan,
    validate_plan,
)
from storage.models import (
    AuditLog,
    EvaluationKind,
    Outbox,
    OutboxStatus,
    Person,
    Role,
    School,
    SupportKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.factories import (
    CLOSING,
    NOW,
    add_mentorship,
    add_person,
    add_queued_referral,
    add_school,
    add_trajectory,
)
from tests.support.units import unit

PLAN = TrajectoryPlan(
    goals="Rustig blijven in de les; twee keer per week een gesprek.",
    start=date(2026, 3, 9),
    end=date(2026, 5, 29),
    evaluations=(date(2026, 4, 17),),
    timeouts_in_plan=True,
    timeouts_per_week=1,
)


async def _world(
    session_factory: async_sessionmaker[AsyncSession],
) -> tuple[Person, Person, Person, int]:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        item = await add_queued_referral(
            session, mentor, student, support=(SupportKind.CONVERSATIONS,)
        )
    return zoco, mentor, student, item.id


async def _accept(
    session_factory: async_sessionmaker[AsyncSession],
    zoco: Person,
    item_id: int,
    plan: TrajectoryPlan | None,
) -> None:
    await unit(session_factory, take_in_analysis, actor=zoco, queue_item_id=item_id, now=NOW)
    await unit(
        session_factory, accept_for_intake, actor=zoco, queue_item_id=item_id, now=NOW, plan=plan
    )


async def test_accepting_a_referral_creates_a_planned_trajectory_with_its_plan(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, _mentor, student, item_id = await _world(session_factory)
    await _accept(session_factory, zoco, item_id, PLAN)
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=student.id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.PLANNED
        assert (trajectory.start_date, trajectory.end_date) == (PLAN.start, PLAN.end)
        assert trajectory.timeouts_per_week == 1
        assert trajectory.timeouts_in_plan is True
        evaluations = (
            await session.execute(
                select(TrajectoryEvaluation.kind, TrajectoryEvaluation.due_on).order_by(
                    TrajectoryEvaluation.due_on
                )
            )
        ).all()
        assert evaluations == [
            (EvaluationKind.INTERIM, date(2026, 4, 17)),
            (EvaluationKind.FINAL, date(2026, 5, 29)),
        ]
        actions = set(await session.scalars(select(AuditLog.action)))
        assert "trajectory.create" in actions


async def test_without_a_plan_time_out_follows_what_the_referral_asked(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, _mentor, student, item_id = await _world(session_factory)
    await _accept(session_factory, zoco, item_id, None)
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=student.id)
        assert trajectory is not None
        assert trajectory.goals is None
        assert trajectory.timeouts_in_plan is False  # the referral did not ask for time-out


async def test_a_bad_plan_is_refused_and_nothing_is_accepted(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, _mentor, student, item_id = await _world(session_factory)
    bad = TrajectoryPlan(goals="kort", start=date(2026, 3, 9), end=date(2026, 3, 1))
    with pytest.raises(InputInvalid):
        await _accept(session_factory, zoco, item_id, bad)
    async with session_factory() as session:
        assert await open_trajectory_of(session=session, student_id=student.id) is None


def test_plan_validation_names_each_problem() -> None:
    bad = TrajectoryPlan(
        goals="kort",
        start=date(2026, 3, 9),
        end=date(2026, 3, 1),
        evaluations=(date(2026, 1, 1),),
        timeouts_per_week=11,
    )
    assert set(validate_plan(bad)) == {"goals", "end", "evaluations", "timeouts_per_week"}
    assert validate_plan(PLAN) == {}


async def test_the_database_allows_one_open_trajectory_per_student(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        mentor = await add_person(session, school, "m1", Role.MENTOR)
        student = await add_person(session, school, "s1", Role.STUDENT)
        await add_mentorship(session, mentor, student)
        await add_trajectory(session, mentor, student, status=TrajectoryStatus.CLOSED)
        await add_trajectory(session, mentor, student)  # a closed one does not count
    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            await add_trajectory(session, mentor, student, status=TrajectoryStatus.PLANNED)


async def test_the_plan_is_for_the_schools_staff_and_closing_for_its_care_coordinator(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    zoco, mentor, student, item_id = await _world(session_factory)
    await _accept(session_factory, zoco, item_id, None)
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=student.id)
        assert trajectory is not None
    async with session_factory() as session, session.begin():
        other = await add_school(session, "elders")
        stranger = await add_person(session, other, "z9", Role.CARE_COORDINATOR)
        school = await session.get_one(School, zoco.school_id)
        coach = await add_person(session, school, "c1", Role.COACH)
    plan = replace(PLAN, coach_id=coach.id)
    for actor in (mentor, stranger):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    set_plan,
                    actor=actor,
                    trajectory_id=trajectory.id,
                    plan=plan,
                    now=NOW,
                )
    for actor in (mentor, stranger, coach):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await unit(
                    session,
                    close_trajectory,
                    actor=actor,
                    trajectory_id=trajectory.id,
                    closing=CLOSING,
                    now=NOW,
                )
    # The coach makes the plan at the intake.
    async with session_factory() as session:
        await unit(session, set_plan, actor=coach, trajectory_id=trajectory.id, plan=plan, now=NOW)
    await _hold_intake(session_factory, trajectory.id, coach)
    later = NOW + timedelta(days=90)
    async with session_factory() as session:
        closed = await unit(
            session,
            close_trajectory,
            actor=zoco,
            trajectory_id=trajectory.id,
            closing=CLOSING,
            now=later,
        )
        assert closed.status is TrajectoryStatus.CLOSED
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await unit(
                session,
                close_trajectory,
                actor=zoco,
                trajectory_id=trajectory.id,
                closing=CLOSING,
                now=later,
            )
        stored = await session.get(Trajectory, trajectory.id)
        assert stored is not None
        assert stored.closed_by_id == zoco.id
        assert stored.goals == PLAN.goals
        assert stored.coach_id == coach.id
        assert stored.advice == CLOSING.advice


async def _hold_intake(
    session_factory: async_sessionmaker[AsyncSession], trajectory_id: int, coach: Person
) -> TrajectoryStatus:
    async with session_factory() as session, session.begin():
        trajectory = await session.get_one(Trajectory, trajectory_id)
        return await hold_intake(session=session, trajectory=trajectory, actor_id=coach.id, now=NOW)


async def test_cancel_pending_withdraws_only_pending_rows_with_the_prefix(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        person = await add_person(session, school, "p1", Role.PARENT)
        for key, status in (
            ("appt:1:day", OutboxStatus.PENDING),
            ("appt:1:hour", OutboxStatus.PENDING),
            ("appt:1:sent", OutboxStatus.SENT),
            ("appt:12:day", OutboxStatus.PENDING),  # another appointment: same digits, longer id
            ("appt_1:day", OutboxStatus.PENDING),  # "_" is no wildcard
        ):
            session.add(
                Outbox(
                    school_id=school.id,
                    recipient_id=person.id,
                    kind="test",
                    payload={},
                    dedup_key=key,
                    status=status,
                )
            )
    async with session_factory() as session, session.begin():
        assert await cancel_pending(session=session, key_prefix="appt:1:") == 2
    async with session_factory() as session:
        rows = dict((await session.execute(select(Outbox.dedup_key, Outbox.status))).all())
    assert rows == {
        "appt:1:day": OutboxStatus.CANCELLED,
        "appt:1:hour": OutboxStatus.CANCELLED,
        "appt:1:sent": OutboxStatus.SENT,
        "appt:12:day": OutboxStatus.PENDING,
        "appt_1:day": OutboxStatus.PENDING,
    }
