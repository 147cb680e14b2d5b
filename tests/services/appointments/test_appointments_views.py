"""Who sees which appointments, the coach's day and attendance, the care coordinator's decision
on a time-out request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.attendance import confirm_mentor_presence, mark_attendance
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.errors import BookingRefused
from services.appointments.timeout_requests import (
    BookingRequested,
    approve_timeout_request,
    decline_timeout_request,
    open_timeout_request,
)
from services.appointments.views import (
    AppointmentView,
    appointments_of_trajectory,
    appointments_on,
    upcoming_for,
)
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.trajectories.lifecycle import TrajectoryPlan, open_trajectory_of, set_plan
from storage.models import (
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    Outbox,
    Person,
    QueueDecision,
    QueueItem,
    QueueStatus,
    Role,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.booking_world import (
    NOW,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    World,
    at,
    build_world,
)
from tests.support.factories import add_person, add_school

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


async def _book(
    session_factory: Factory,
    actor: Person,
    student: Person,
    kind: AppointmentKind,
    when: object,
) -> AppointmentView:
    async with session_factory() as session:
        booked = await run_unit_of_work(
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
    assert isinstance(booked, AppointmentView)
    return booked


async def _upcoming(session_factory: Factory, person: Person) -> set[int]:
    async with session_factory() as session:
        return {
            v.appointment_id for v in await upcoming_for(session=session, person=person, now=NOW)
        }


async def test_everyone_sees_only_what_belongs_to_them(
    session_factory: Factory, world: World
) -> None:
    gesprek = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(TUESDAY, 9)
    )
    timeout = await _book(
        session_factory, world.student, world.student, AppointmentKind.TIME_OUT, at(TUESDAY, 11)
    )
    intake = await _book(
        session_factory, world.parent, world.newcomer, AppointmentKind.INTAKE, at(WEDNESDAY, 10)
    )
    cancelled = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(THURSDAY, 9)
    )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=cancelled.appointment_id, now=NOW
            ),
        )
    assert await _upcoming(session_factory, world.student) == {
        gesprek.appointment_id,
        timeout.appointment_id,
    }
    assert await _upcoming(session_factory, world.newcomer) == {intake.appointment_id}
    assert await _upcoming(session_factory, world.parent) == {
        gesprek.appointment_id,
        timeout.appointment_id,
        intake.appointment_id,
    }
    assert await _upcoming(session_factory, world.other_parent) == set()
    # The mentor sees the intake they must attend, not the student's own gesprekken.
    assert await _upcoming(session_factory, world.mentor) == {intake.appointment_id}
    assert await _upcoming(session_factory, world.coach) == {
        gesprek.appointment_id,
        intake.appointment_id,
    }
    async with session_factory() as session:
        views = await upcoming_for(session=session, person=world.parent, now=NOW)
        later = await upcoming_for(session=session, person=world.student, now=at(TUESDAY, 12))
    assert [v.starts_at for v in views] == sorted(v.starts_at for v in views)
    assert later == []  # what is over is not upcoming


async def test_the_coach_sees_the_whole_day_and_nobody_else_does(
    session_factory: Factory, world: World
) -> None:
    gesprek = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(TUESDAY, 9)
    )
    timeout = await _book(
        session_factory, world.student, world.student, AppointmentKind.TIME_OUT, at(TUESDAY, 11)
    )
    await _book(
        session_factory, world.parent, world.newcomer, AppointmentKind.INTAKE, at(WEDNESDAY, 10)
    )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=gesprek.appointment_id, now=NOW
            ),
        )
    async with session_factory() as session:
        day = await appointments_on(session=session, coach=world.coach, day=TUESDAY)
    assert [(v.appointment_id, v.status, v.late_cancel) for v in day] == [
        (gesprek.appointment_id, AppointmentStatus.CANCELLED, True),
        (timeout.appointment_id, AppointmentStatus.CONFIRMED, False),
    ]
    assert day[1].student_name == world.student.display_name
    for person in (world.student, world.parent, world.mentor):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await appointments_on(session=session, coach=person, day=TUESDAY)


async def test_attendance_is_marked_once_the_appointment_started(
    session_factory: Factory, world: World
) -> None:
    booked = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(TUESDAY, 9)
    )
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            await run_unit_of_work(
                session,
                lambda work: mark_attendance(
                    session=work,
                    coach=world.coach,
                    appointment_id=booked.appointment_id,
                    attended=True,
                    now=at(TUESDAY, 8, 59),
                ),
            )
    async with session_factory() as session:
        marked = await run_unit_of_work(
            session,
            lambda work: mark_attendance(
                session=work,
                coach=world.coach,
                appointment_id=booked.appointment_id,
                attended=False,
                now=at(TUESDAY, 9, 20),
            ),
        )
    assert marked.status is AppointmentStatus.NO_SHOW
    async with session_factory() as session:
        corrected = await run_unit_of_work(
            session,
            lambda work: mark_attendance(
                session=work,
                coach=world.coach,
                appointment_id=booked.appointment_id,
                attended=True,
                now=at(TUESDAY, 9, 25),
            ),
        )
    assert corrected.status is AppointmentStatus.ATTENDED
    async with session_factory() as session:
        trail = list(
            await session.scalars(
                select(AuditLog.details).where(AuditLog.action == "appointment.attendance")
            )
        )
    assert [d["to_status"] for d in trail] == ["no_show", "attended"]


async def test_only_a_coach_of_the_school_marks_attendance(
    session_factory: Factory, world: World
) -> None:
    booked = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(TUESDAY, 9)
    )
    async with session_factory() as session, session.begin():
        elsewhere = await add_school(session, "elders")
        other_coach = await add_person(session, elsewhere, "c9", Role.COACH)
    for person in (world.student, world.mentor, other_coach):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await run_unit_of_work(
                    session,
                    lambda work: mark_attendance(
                        session=work,
                        coach=person,  # noqa: B023 - awaited at once
                        appointment_id=booked.appointment_id,
                        attended=True,
                        now=at(TUESDAY, 9, 20),
                    ),
                )


async def test_an_attended_intake_with_the_plan_completed_starts_the_trajectory(
    session_factory: Factory, world: World
) -> None:
    intake = await _book(
        session_factory, world.parent, world.newcomer, AppointmentKind.INTAKE, at(TUESDAY, 10)
    )
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            # No intake without the mentor: unconfirmed, it cannot be marked as held.
            await run_unit_of_work(
                session,
                lambda work: mark_attendance(
                    session=work,
                    coach=world.coach,
                    appointment_id=intake.appointment_id,
                    attended=True,
                    now=at(TUESDAY, 10, 30),
                ),
            )
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
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: mark_attendance(
                session=work,
                coach=world.coach,
                appointment_id=intake.appointment_id,
                attended=True,
                now=at(TUESDAY, 10, 30),
            ),
        )
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=world.newcomer.id)
    assert trajectory is not None
    # Held, but no plan yet: "intake held — plan to complete", no support bookable.
    assert trajectory.status is TrajectoryStatus.INTAKE_HELD
    with pytest.raises(BookingRefused):
        await _book(
            session_factory,
            world.newcomer,
            world.newcomer,
            AppointmentKind.GESPREK,
            at(THURSDAY, 9),
        )
    # The coach completes the plan (goals, dates, evaluations, themself as coach): active.
    held = trajectory
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: set_plan(
                session=work,
                actor=world.coach,
                trajectory_id=held.id,
                plan=TrajectoryPlan(
                    goals="Rustig blijven in de les en op tijd hulp vragen.",
                    start=TUESDAY,
                    end=TUESDAY + timedelta(weeks=10),
                    evaluations=(TUESDAY + timedelta(weeks=5),),
                    coach_id=world.coach.id,
                ),
                now=at(TUESDAY, 11),
            ),
        )
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=world.newcomer.id)
    assert trajectory is not None
    assert trajectory.status is TrajectoryStatus.ACTIVE
    # Support can be booked now.
    gesprek = await _book(
        session_factory, world.newcomer, world.newcomer, AppointmentKind.GESPREK, at(THURSDAY, 9)
    )
    assert gesprek.status is AppointmentStatus.CONFIRMED


async def test_the_trajectory_page_lists_its_appointments_for_staff_only(
    session_factory: Factory, world: World
) -> None:
    booked = await _book(
        session_factory, world.student, world.student, AppointmentKind.GESPREK, at(TUESDAY, 9)
    )
    async with session_factory() as session:
        trajectory = await open_trajectory_of(session=session, student_id=world.student.id)
    assert trajectory is not None
    for viewer in (world.zoco, world.coach):
        async with session_factory() as session:
            views = await appointments_of_trajectory(
                session=session, viewer=viewer, trajectory_id=trajectory.id
            )
        assert [v.appointment_id for v in views] == [booked.appointment_id]
    async with session_factory() as session, session.begin():
        elsewhere = await add_school(session, "elders")
        other_zoco = await add_person(session, elsewhere, "z9", Role.CARE_COORDINATOR)
    for viewer in (world.parent, world.mentor, other_zoco):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await appointments_of_trajectory(
                    session=session, viewer=viewer, trajectory_id=trajectory.id
                )


# --- time-out requests -----------------------------------------------------------------------


async def _request(session_factory: Factory, world: World) -> int:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=False)
        )
    async with session_factory() as session:
        outcome = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=at(TUESDAY, 11),
                now=NOW,
            ),
        )
    assert isinstance(outcome, BookingRequested)
    return outcome.queue_item_id


async def test_the_care_coordinator_approves_a_time_out_request(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session:
        seen = await run_unit_of_work(
            session,
            lambda work: open_timeout_request(
                session=work, viewer=world.zoco, queue_item_id=item_id
            ),
        )
    assert seen.student_id == world.student.id
    assert seen.starts_at == at(TUESDAY, 11)
    assert not seen.timeouts_in_plan
    async with session_factory() as session:
        booked = await run_unit_of_work(
            session,
            lambda work: approve_timeout_request(
                session=work, actor=world.zoco, queue_item_id=item_id, now=NOW
            ),
        )
    assert booked.kind is AppointmentKind.TIME_OUT
    assert booked.starts_at == at(TUESDAY, 11)
    assert booked.booked_by_id == world.student.id
    async with session_factory() as session:
        audited_by = await session.scalar(
            select(AuditLog.actor_id).where(AuditLog.action == "appointment.book")
        )
    assert audited_by == world.zoco.id  # the care coordinator's decision, in the trail
    async with session_factory() as session:
        item = await session.get(QueueItem, item_id)
        told = await session.scalar(select(Outbox).where(Outbox.kind == "timeout.decided"))
    assert item is not None
    assert (item.status, item.decision) == (QueueStatus.CLOSED, QueueDecision.ACCEPTED)
    assert told is not None
    assert told.recipient_id == world.student.id
    assert told.payload == {
        "queue_item_id": item_id,
        "approved": True,
        "appointment_id": booked.appointment_id,
    }
    async with session_factory() as session:
        with pytest.raises(InvalidTransition):
            await run_unit_of_work(
                session,
                lambda work: approve_timeout_request(
                    session=work, actor=world.zoco, queue_item_id=item_id, now=NOW
                ),
            )


async def test_the_care_coordinator_declines_a_time_out_request(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    async with session_factory() as session:
        with pytest.raises(InputInvalid):
            await run_unit_of_work(
                session,
                lambda work: decline_timeout_request(
                    session=work, actor=world.zoco, queue_item_id=item_id, reason="nee", now=NOW
                ),
            )
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: decline_timeout_request(
                session=work,
                actor=world.zoco,
                queue_item_id=item_id,
                reason="Eerst het plan bespreken met de mentor.",
                now=NOW,
            ),
        )
    async with session_factory() as session:
        item = await session.get(QueueItem, item_id)
        told = await session.scalar(select(Outbox).where(Outbox.kind == "timeout.decided"))
    assert item is not None
    assert item.decision is QueueDecision.DECLINED
    assert told is not None
    assert told.payload == {"queue_item_id": item_id, "approved": False}


async def test_only_a_care_coordinator_decides_on_a_time_out_request(
    session_factory: Factory, world: World
) -> None:
    item_id = await _request(session_factory, world)
    for person in (world.coach, world.student, world.mentor):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await run_unit_of_work(
                    session,
                    lambda work: approve_timeout_request(
                        session=work,
                        actor=person,  # noqa: B023 - awaited at once
                        queue_item_id=item_id,
                        now=NOW,
                    ),
                )
