"""The intake report (issue 11, item 4): written to the outbox for the student, each parent and
each mentor when the trajectory becomes active (once, never again on a later plan change),
read in the chat by exactly those people, and read by the school's staff for the PDF, every
read audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.outbox.kinds import OutboxKind
from services.trajectories.intake_report import (
    DOWNLOAD,
    READ,
    ReaderRole,
    intake_report_for_reader,
    intake_report_for_staff,
)
from services.trajectories.lifecycle import TrajectoryPlan, hold_intake, set_plan
from storage.models import (
    AuditLog,
    EvaluationKind,
    Outbox,
    Person,
    Role,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.booking_world import NOW, TUESDAY, World, build_world
from tests.support.factories import add_person, add_school
from tests.support.units import unit

Factory = async_sessionmaker[AsyncSession]

GOALS = "Rustig blijven in de les en op tijd hulp vragen bij de mentor."
INTERIM = TUESDAY + timedelta(weeks=4)
END = TUESDAY + timedelta(weeks=10)


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


def _plan(coach: Person, goals: str = GOALS) -> TrajectoryPlan:
    return TrajectoryPlan(
        goals=goals,
        start=TUESDAY,
        end=END,
        evaluations=(INTERIM,),
        timeouts_in_plan=True,
        timeouts_per_week=2,
        coach_id=coach.id,
    )


async def _newcomers_trajectory(session_factory: Factory, world: World) -> int:
    async with session_factory() as session:
        trajectory_id = await session.scalar(
            select(Trajectory.id).where(Trajectory.student_id == world.newcomer.id)
        )
    assert trajectory_id is not None
    return trajectory_id


async def _set_plan(
    session_factory: Factory, world: World, trajectory_id: int, plan: TrajectoryPlan
) -> None:
    await run_unit_of_work(
        session_factory,
        lambda s: set_plan(
            session=s, actor=world.coach, trajectory_id=trajectory_id, plan=plan, now=NOW
        ),
    )


async def _hold_intake(session_factory: Factory, world: World, trajectory_id: int) -> None:
    async def work(session: AsyncSession) -> TrajectoryStatus:
        trajectory = await session.get(Trajectory, trajectory_id)
        assert trajectory is not None
        return await hold_intake(
            session=session, trajectory=trajectory, actor_id=world.coach.id, now=NOW
        )

    await run_unit_of_work(session_factory, work)


async def _notices(session_factory: Factory) -> list[Outbox]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Outbox).where(Outbox.kind == OutboxKind.INTAKE_REPORT).order_by(Outbox.id)
            )
        )


async def _audits(session_factory: Factory, action: str) -> list[AuditLog]:
    async with session_factory() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


async def _activated(session_factory: Factory, world: World) -> int:
    """The newcomer's trajectory: the plan made by the coach, then the intake held."""
    trajectory_id = await _newcomers_trajectory(session_factory, world)
    await _set_plan(session_factory, world, trajectory_id, _plan(world.coach))
    await _hold_intake(session_factory, world, trajectory_id)
    return trajectory_id


async def test_activation_sends_the_report_to_student_parents_and_mentor_once(
    session_factory: Factory, world: World
) -> None:
    trajectory_id = await _newcomers_trajectory(session_factory, world)
    await _set_plan(session_factory, world, trajectory_id, _plan(world.coach))
    assert await _notices(session_factory) == []  # a plan before the intake sends nothing

    await _hold_intake(session_factory, world, trajectory_id)
    notices = await _notices(session_factory)
    assert sorted(n.recipient_id for n in notices) == sorted(
        [world.newcomer.id, world.parent.id, world.mentor.id]
    )
    # Ids only (a lock screen may show the notice): no goals, no name in the payload.
    assert all(n.payload == {"trajectory_id": trajectory_id} for n in notices)
    assert all(n.school_id == world.school.id for n in notices)

    # A later change of the plan (and the intake marked again) does not send it again.
    await _set_plan(
        session_factory, world, trajectory_id, _plan(world.coach, goals=GOALS + " Ook thuis.")
    )
    await _hold_intake(session_factory, world, trajectory_id)
    assert len(await _notices(session_factory)) == 3
    assert len(await _audits(session_factory, "trajectory.activate")) == 1


async def test_completing_the_plan_after_the_intake_sends_the_report(
    session_factory: Factory, world: World
) -> None:
    trajectory_id = await _newcomers_trajectory(session_factory, world)
    await _hold_intake(session_factory, world, trajectory_id)  # no coach yet: plan to complete
    async with session_factory() as session:
        trajectory = await session.get(Trajectory, trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.INTAKE_HELD
    assert await _notices(session_factory) == []

    await _set_plan(session_factory, world, trajectory_id, _plan(world.coach))
    notices = await _notices(session_factory)
    assert {n.recipient_id for n in notices} == {
        world.newcomer.id,
        world.parent.id,
        world.mentor.id,
    }
    async with session_factory() as session:
        keys = await session.scalar(
            select(func.count(func.distinct(Outbox.dedup_key))).where(
                Outbox.kind == OutboxKind.INTAKE_REPORT
            )
        )
    assert keys == 3


async def test_the_student_a_parent_and_the_mentor_read_the_report_and_nobody_else(
    session_factory: Factory, world: World
) -> None:
    trajectory_id = await _activated(session_factory, world)
    for reader, role in (
        (world.newcomer, ReaderRole.STUDENT),
        (world.parent, ReaderRole.PARENT),
        (world.mentor, ReaderRole.MENTOR),
    ):
        view = await unit(
            session_factory,
            intake_report_for_reader,
            reader=reader,
            trajectory_id=trajectory_id,
            now=NOW,
        )
        assert view.reader_role is role
        report = view.report
        assert report.goals == GOALS
        assert (report.start, report.end) == (TUESDAY, END)
        assert report.interim_dates == (INTERIM,)
        assert report.final_date == END
        assert report.coach_name == world.coach.display_name
        assert report.care_coordinator_names == (world.zoco.display_name,)
        assert report.student_name == world.newcomer.display_name
    reads = await _audits(session_factory, READ)
    assert {r.actor_id for r in reads} == {world.newcomer.id, world.parent.id, world.mentor.id}
    assert len(reads) == 3
    assert all(r.subject_id == trajectory_id for r in reads)
    assert all(GOALS not in str(r.details) for r in reads)

    # Another student, another child's parent, the coach (staff read the PDF) and an unknown
    # id get the same refusal, and nothing is audited for them.
    refusals = []
    for reader, target in (
        (world.outsider, trajectory_id),
        (world.other_parent, trajectory_id),
        (world.coach, trajectory_id),
        (world.parent, 999_999),
    ):
        with pytest.raises(NotAllowed) as refused:
            await unit(
                session_factory,
                intake_report_for_reader,
                reader=reader,
                trajectory_id=target,
                now=NOW,
            )
        refusals.append(refused.value.reason.msgid)
    assert len(set(refusals)) == 1
    assert len(await _audits(session_factory, READ)) == 3


async def test_there_is_no_report_before_activation(session_factory: Factory, world: World) -> None:
    trajectory_id = await _newcomers_trajectory(session_factory, world)
    await _set_plan(session_factory, world, trajectory_id, _plan(world.coach))  # intake not held
    with pytest.raises(NotAllowed) as refused:
        await run_unit_of_work(
            session_factory,
            lambda s: intake_report_for_reader(
                session=s, reader=world.parent, trajectory_id=trajectory_id, now=NOW
            ),
        )
    assert "intake has been held" in refused.value.reason.msgid
    with pytest.raises(NotAllowed):
        await run_unit_of_work(
            session_factory,
            lambda s: intake_report_for_staff(
                session=s, actor=world.zoco, trajectory_id=trajectory_id, now=NOW
            ),
        )
    assert await _audits(session_factory, DOWNLOAD) == []


async def test_staff_of_the_school_read_the_report_for_the_file_audited(
    session_factory: Factory, world: World
) -> None:
    trajectory_id = await _activated(session_factory, world)
    report = await run_unit_of_work(
        session_factory,
        lambda s: intake_report_for_staff(
            session=s, actor=world.zoco, trajectory_id=trajectory_id, now=NOW
        ),
    )
    assert report.parent_names == (world.parent.display_name,)
    assert report.mentor_names == (world.mentor.display_name,)
    assert report.timeouts_in_plan
    assert report.timeouts_per_week == 2
    assert report.intake_held_on == date(2026, 3, 2)
    assert [e.kind for e in report.evaluations] == [EvaluationKind.INTERIM, EvaluationKind.FINAL]
    (download,) = await _audits(session_factory, DOWNLOAD)
    assert (download.actor_id, download.subject_id) == (world.zoco.id, trajectory_id)

    # The mentor is no staff; another school's coordinator cannot probe the id.
    async with session_factory() as session, session.begin():
        elsewhere = await add_school(session, "elders")
        stranger = await add_person(session, elsewhere, "z9", Role.CARE_COORDINATOR)
    for actor in (world.mentor, stranger):
        with pytest.raises(NotAllowed):
            await unit(
                session_factory,
                intake_report_for_staff,
                actor=actor,
                trajectory_id=trajectory_id,
                now=NOW,
            )
    assert len(await _audits(session_factory, DOWNLOAD)) == 1
