"""The plan flow through the runtime on a real database (issue 11: the plan is made at the
intake, in the chat too): saved through `set_plan`, which activates the trajectory after its
intake; refused for someone who is not staff of the school and for a closed trajectory, with
the reason in the person's language.

The world is `booking_world` (Monday 2 March 2026): ``newcomer`` has an accepted (``planned``)
trajectory with goals and dates but no evaluations and no coach; ``student`` an active one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Action, Event, typed
from dialogs.flows.plan import PLAN, TRAJECTORY
from dialogs.i18n import Catalogs
from dialogs.render import render_reply
from dialogs.state import Status
from services.conversations.plan_chat import open_plan
from services.conversations.runtime import Turn, handle_event, open_flow
from services.kernel.errors import InvalidTransition, NotAllowed
from services.trajectories.plans import plans_to_complete
from storage.models import (
    AuditLog,
    EvaluationKind,
    Person,
    PersonRole,
    Role,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.booking_world import NOW, TUESDAY, World, build_world
from tests.support.factories import add_person, add_school
from tests.support.units import unit

EN = Catalogs().get("en")
Factory = async_sessionmaker[AsyncSession]
GOALS = "Nina vraagt zelf om hulp voordat het in de les te veel wordt."


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


@dataclass
class Chat:
    """One person's plan flow, every event in its own unit of work."""

    factory: Factory
    person: Person
    turn: Turn | None = None
    now: datetime = NOW

    async def open(self, trajectory_id: int) -> Chat:
        async with self.factory() as session, session.begin():
            self.turn = await open_flow(
                session=session,
                person=self.person,
                flow_id=PLAN.id,
                now=self.now,
                preset={TRAJECTORY: str(trajectory_id)},
            )
        return self

    async def send(self, event: Event) -> Turn:
        async with self.factory() as session, session.begin():
            self.turn = await handle_event(
                session=session, person=self.person, flow_id=PLAN.id, event=event, now=self.now
            )
        return self.turn

    @property
    def texts(self) -> list[str]:
        assert self.turn is not None
        return [render_reply(reply, EN).text for reply in self.turn.replies]

    async def press(self, label: str) -> Turn:
        assert self.turn is not None
        found = [b for b in self.turn.replies[-1].buttons if EN.render(b.label) == label]
        assert found, f"no {label!r} in {self.texts[-1]}"
        return await self.send(found[0].event)

    async def to_summary(self, coach: str = "Coen Persoon-c1") -> None:
        for answer in (GOALS, "3-3-2026", "12-6-2026", "17-4-2026"):
            await self.send(typed(answer))
        await self.press("Skip")
        await self.press(coach)


async def _trajectory(factory: Factory, student: Person) -> Trajectory:
    async with factory() as session:
        found = await session.scalar(select(Trajectory).where(Trajectory.student_id == student.id))
    assert found is not None
    return found


async def _intake_held(factory: Factory, trajectory_id: int) -> None:
    async with factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.id == trajectory_id)
            .values(status=TrajectoryStatus.INTAKE_HELD, intake_held_at=NOW)
        )


async def test_a_coach_completes_the_plan_after_the_intake_and_it_activates(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.newcomer)
    await _intake_held(session_factory, trajectory.id)
    chat = await Chat(session_factory, world.coach).open(trajectory.id)
    first = chat.texts[-1]
    assert "Question 1 of 6" in first
    assert "The plan of Nina Persoon-s2." in first
    assert "Planned now: Rustig blijven in de les" in first  # the stored goals
    await chat.to_summary()
    summary = chat.texts[-1]
    assert "Coach: Coen Persoon-c1" in summary
    assert "Time-out is part of the plan, at most 2 times a week" in summary
    turn = await chat.press("Save the plan ✓")
    assert turn.state.status is Status.COMPLETED
    assert chat.texts == ["The plan is saved and complete: the trajectory is active now."]

    async with session_factory() as session:
        saved = await session.get(Trajectory, trajectory.id)
        assert saved is not None
        evaluations = list(
            await session.execute(
                select(TrajectoryEvaluation.kind, TrajectoryEvaluation.due_on)
                .where(TrajectoryEvaluation.trajectory_id == trajectory.id)
                .order_by(TrajectoryEvaluation.due_on)
            )
        )
        actions = list(
            await session.scalars(
                select(AuditLog.action).where(
                    AuditLog.subject_type == "trajectory", AuditLog.subject_id == trajectory.id
                )
            )
        )
    assert saved.status is TrajectoryStatus.ACTIVE
    assert saved.goals == GOALS
    assert (saved.start_date, saved.end_date) == (TUESDAY, TUESDAY + timedelta(weeks=14, days=3))
    assert saved.coach_id == world.coach.id
    assert saved.timeouts_in_plan is True  # kept as stored
    assert saved.timeouts_per_week == 2
    assert [(kind, day.isoformat()) for kind, day in evaluations] == [
        (EvaluationKind.INTERIM, "2026-04-17"),
        (EvaluationKind.FINAL, "2026-06-12"),
    ]
    assert actions.count("trajectory.plan") == 1
    assert actions.count("trajectory.activate") == 1


async def test_before_the_intake_the_plan_is_saved_and_waits_for_it(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.newcomer)
    chat = await Chat(session_factory, world.zoco).open(trajectory.id)
    await chat.to_summary()
    await chat.press("Save the plan ✓")
    assert chat.texts == [
        "The plan is saved. The trajectory becomes active when the intake has been held."
    ]
    async with session_factory() as session:
        saved = await session.get(Trajectory, trajectory.id)
    assert saved is not None
    assert saved.status is TrajectoryStatus.PLANNED
    assert saved.coach_id == world.coach.id


async def test_the_list_holds_the_plans_to_complete_of_the_school_only(
    session_factory: Factory, world: World
) -> None:
    newcomer = await _trajectory(session_factory, world.newcomer)
    plans = await unit(session_factory, plans_to_complete, viewer=world.coach, now=NOW)
    # The active trajectory of `student` is not listed; the planned one without a coach is.
    assert [(p.trajectory_id, p.student_name) for p in plans] == [(newcomer.id, "Nina Persoon-s2")]
    await _intake_held(session_factory, newcomer.id)
    plans = await unit(session_factory, plans_to_complete, viewer=world.zoco, now=NOW)
    assert [p.status for p in plans] == [TrajectoryStatus.INTAKE_HELD]
    for outsider in (world.mentor, world.parent, world.student):
        with pytest.raises(NotAllowed):
            await unit(session_factory, plans_to_complete, viewer=outsider, now=NOW)


async def test_someone_who_is_not_staff_of_the_school_cannot_start_it(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.newcomer)
    async with session_factory() as session, session.begin():
        other_school = await add_school(session, code="havo-zuid")
        other_coach = await add_person(session, other_school, "c9", Role.COACH)
    with pytest.raises(NotAllowed) as refused:
        await Chat(session_factory, world.mentor).open(trajectory.id)
    assert EN.render(refused.value.reason) == "This is not available for your role."
    with pytest.raises(NotAllowed) as refused:
        await Chat(session_factory, other_coach).open(trajectory.id)
    assert EN.render(refused.value.reason) == "This trajectory is not available to you."
    # A forged start without a trajectory is refused the same way.
    with pytest.raises(NotAllowed):
        async with session_factory() as session, session.begin():
            await open_flow(session=session, person=world.coach, flow_id=PLAN.id, now=NOW)


async def test_a_closed_trajectory_is_refused_at_the_start_and_at_saving(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.newcomer)
    await _intake_held(session_factory, trajectory.id)
    chat = await Chat(session_factory, world.coach).open(trajectory.id)
    await chat.to_summary()
    # Closed meanwhile (by the care coordinator, on the web).
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.id == trajectory.id)
            .values(status=TrajectoryStatus.CLOSED, closed_at=NOW)
        )
    turn = await chat.press("Save the plan ✓")
    assert turn.state.status is Status.ACTIVE  # the summary stays, nothing saved
    assert chat.texts[0] == "This trajectory is closed."
    assert "This trajectory is closed." in chat.texts[-1]  # said under the summary too
    async with session_factory() as session:
        saved = await session.get(Trajectory, trajectory.id)
    assert saved is not None
    assert saved.coach_id is None
    assert saved.goals != GOALS

    # Opening it again (an old list button) is refused, also though a run of it is open.
    with pytest.raises(InvalidTransition) as refused:
        await unit(
            session_factory, open_plan, person=world.coach, trajectory_id=trajectory.id, now=NOW
        )
    assert EN.render(refused.value.reason) == "This trajectory is closed."


async def test_a_coach_who_lost_the_role_cannot_save(
    session_factory: Factory, world: World
) -> None:
    trajectory = await _trajectory(session_factory, world.newcomer)
    chat = await Chat(session_factory, world.coach).open(trajectory.id)
    await chat.to_summary()
    async with session_factory() as session, session.begin():
        await session.execute(delete(PersonRole).where(PersonRole.person_id == world.coach.id))
        await session.execute(
            update(Trajectory).where(Trajectory.id == trajectory.id).values(coach_id=None)
        )
    # The runtime re-reads nothing of the person itself; set_plan does (reload_actor).
    turn = await chat.send(
        next(
            b.event
            for b in chat.turn.replies[-1].buttons  # type: ignore[union-attr]
            if b.event.action is Action.CONFIRM
        )
    )
    assert turn.state.status is Status.ACTIVE
    assert chat.texts[0] == "This is not available for your role."
    async with session_factory() as session:
        saved = await session.get(Trajectory, trajectory.id)
    assert saved is not None
    assert saved.coach_id is None
