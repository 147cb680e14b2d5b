"""No double booking, ever: capacity held by the database, under real concurrency.

The concurrency test fires 500 `book()` calls at one time-out block with 10 places, each in its
own session and transaction, all at once: exactly 10 are booked and 490 refused with
alternatives, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.capacity import Change, apply_changes
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.slots import free_slots
from services.appointments.timeout_requests import BookingRequested
from services.appointments.views import AppointmentView
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import Appointment, AppointmentKind, AppointmentSlot, AppointmentStatus, Person
from tests.support.booking_world import (
    NOW,
    TUESDAY,
    WEDNESDAY,
    World,
    add_students_with_trajectories,
    at,
    build_world,
)

Factory = async_sessionmaker[AsyncSession]

ATTEMPTS = 500
PLACES = 10


async def _attempt(
    session_factory: Factory, student: Person, when: object
) -> AppointmentView | BookingRequested | SlotTaken:
    async with session_factory() as session:
        try:
            return await run_unit_of_work(
                session,
                lambda work: book(
                    session=work,
                    actor=student,
                    student_id=student.id,
                    kind=AppointmentKind.TIME_OUT,
                    starts_at=when,  # type: ignore[arg-type]
                    now=NOW,
                ),
            )
        except SlotTaken as taken:
            return taken


async def test_500_concurrent_attempts_at_10_places_book_exactly_10(
    session_factory: Factory,
) -> None:
    world = await build_world(session_factory, timeout_places=PLACES)
    async with session_factory() as session, session.begin():
        students = await add_students_with_trajectories(
            session, world.school, world.mentor, ATTEMPTS
        )
    block = at(TUESDAY, 11)

    outcomes = await asyncio.gather(*(_attempt(session_factory, s, block) for s in students))

    booked = [o for o in outcomes if isinstance(o, AppointmentView)]
    refused = [o for o in outcomes if isinstance(o, SlotTaken)]
    assert len(booked) == PLACES
    assert len(refused) == ATTEMPTS - PLACES
    assert len({view.student_id for view in booked}) == PLACES
    # Every refusal is clear and offers the nearest free blocks instead (the same day).
    for taken in refused:
        assert taken.reason.msgid.startswith("Sorry, this time has just been taken")
        assert len(taken.alternatives) == 3
        assert block not in {slot.starts_at for slot in taken.alternatives}
        assert all(slot.free_places > 0 for slot in taken.alternatives)
    assert {s.starts_at for s in refused[0].alternatives} == {
        at(TUESDAY, 9, 20),
        at(TUESDAY, 10, 10),
        at(TUESDAY, 11, 50),
    }
    async with session_factory() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.status == AppointmentStatus.CONFIRMED)
        )
        slot = await session.scalar(
            select(AppointmentSlot).where(AppointmentSlot.starts_at == block)
        )
    assert rows == PLACES
    assert slot is not None
    assert (slot.capacity, slot.booked) == (PLACES, PLACES)


async def test_the_database_refuses_more_than_capacity_itself(
    session_factory: Factory, world: World
) -> None:
    booked = await _attempt(session_factory, world.student, at(TUESDAY, 11))
    assert isinstance(booked, AppointmentView)
    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            # Code that forgot the condition still cannot over-book: CHECK (booked <= capacity).
            await session.execute(
                update(AppointmentSlot).values(booked=AppointmentSlot.capacity + 1)
            )


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory, timeout_places=1)


async def test_a_full_block_is_refused_with_alternatives(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        (other,) = await add_students_with_trajectories(session, world.school, world.mentor, 1)
    assert isinstance(await _attempt(session_factory, other, at(TUESDAY, 11)), AppointmentView)
    taken = await _attempt(session_factory, world.student, at(TUESDAY, 11))
    assert isinstance(taken, SlotTaken)
    assert [s.starts_at for s in taken.alternatives] == [
        at(TUESDAY, 9, 20),
        at(TUESDAY, 10, 10),
        at(TUESDAY, 11, 50),
    ]
    async with session_factory() as session:
        slots = await free_slots(
            session=session,
            person=world.student,
            student_id=world.student.id,
            kind=AppointmentKind.TIME_OUT,
            now=NOW,
        )
    assert at(TUESDAY, 11) not in {s.starts_at for s in slots}


async def test_a_coach_is_one_place_across_kinds_and_lengths(
    session_factory: Factory, world: World
) -> None:
    # The newcomer's intake (10:00-11:00, 15 minutes buffer) holds the coach until 11:15.
    async with session_factory() as session:
        intake = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=at(TUESDAY, 10),
                now=NOW,
            ),
        )
    assert isinstance(intake, AppointmentView)
    for busy in (at(TUESDAY, 10, 30), at(TUESDAY, 11)):
        async with session_factory() as session:
            with pytest.raises(SlotTaken):
                await run_unit_of_work(
                    session,
                    lambda work: book(
                        session=work,
                        actor=world.student,
                        student_id=world.student.id,
                        kind=AppointmentKind.GESPREK,
                        starts_at=busy,  # noqa: B023 - awaited at once
                        now=NOW,
                    ),
                )
    async with session_factory() as session:
        after = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=at(TUESDAY, 9, 30),
                now=NOW,
            ),
        )
    assert isinstance(after, AppointmentView)


async def test_a_cancellation_gives_the_place_back(session_factory: Factory, world: World) -> None:
    async with session_factory() as session, session.begin():
        (other,) = await add_students_with_trajectories(session, world.school, world.mentor, 1)
    first = await _attempt(session_factory, other, at(TUESDAY, 11))
    assert isinstance(first, AppointmentView)
    assert isinstance(await _attempt(session_factory, world.student, at(TUESDAY, 11)), SlotTaken)
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=other, appointment_id=first.appointment_id, now=NOW
            ),
        )
    assert isinstance(
        await _attempt(session_factory, world.student, at(TUESDAY, 11)), AppointmentView
    )


async def test_a_move_takes_the_new_place_and_gives_the_old_one_back(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        (other,) = await add_students_with_trajectories(session, world.school, world.mentor, 1)
    first = await _attempt(session_factory, world.student, at(TUESDAY, 11))
    assert isinstance(first, AppointmentView)
    async with session_factory() as session:
        moved = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=at(WEDNESDAY, 11),
                now=NOW,
                move_appointment_id=first.appointment_id,
            ),
        )
    assert isinstance(moved, AppointmentView)
    assert moved.appointment_id == first.appointment_id
    assert moved.version == first.version + 1
    assert moved.starts_at == at(WEDNESDAY, 11)
    # The old block is free again, the new one is full.
    assert isinstance(await _attempt(session_factory, other, at(TUESDAY, 11)), AppointmentView)
    assert isinstance(await _attempt(session_factory, other, at(WEDNESDAY, 11)), SlotTaken)


async def test_a_move_onto_a_full_block_changes_nothing(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        (other,) = await add_students_with_trajectories(session, world.school, world.mentor, 1)
    mine = await _attempt(session_factory, world.student, at(TUESDAY, 11))
    assert isinstance(mine, AppointmentView)
    assert isinstance(await _attempt(session_factory, other, at(WEDNESDAY, 11)), AppointmentView)
    async with session_factory() as session:
        with pytest.raises(SlotTaken):
            await run_unit_of_work(
                session,
                lambda work: book(
                    session=work,
                    actor=world.student,
                    student_id=world.student.id,
                    kind=AppointmentKind.TIME_OUT,
                    starts_at=at(WEDNESDAY, 11),
                    now=NOW,
                    move_appointment_id=mine.appointment_id,
                ),
            )
    async with session_factory() as session:
        kept = await session.get(Appointment, mine.appointment_id)
        slots = {s.starts_at: s.booked for s in await session.scalars(select(AppointmentSlot))}
    assert kept is not None
    assert kept.starts_at == at(TUESDAY, 11)
    assert kept.version == 1
    assert slots == {at(TUESDAY, 11): 1, at(WEDNESDAY, 11): 1}


async def test_someone_elses_appointment_cannot_be_moved(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        (other,) = await add_students_with_trajectories(session, world.school, world.mentor, 1)
    theirs = await _attempt(session_factory, other, at(TUESDAY, 11))
    assert isinstance(theirs, AppointmentView)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await run_unit_of_work(
                session,
                lambda work: book(
                    session=work,
                    actor=world.student,
                    student_id=world.student.id,
                    kind=AppointmentKind.TIME_OUT,
                    starts_at=at(WEDNESDAY, 11),
                    now=NOW,
                    move_appointment_id=theirs.appointment_id,
                ),
            )


async def test_a_refused_place_change_undoes_the_places_taken_before_it(
    session_factory: Factory, world: World
) -> None:
    # Three quarters of a coach: the middle one is full, so none may stay taken.
    first, middle, last = (at(TUESDAY, 9) + timedelta(minutes=15 * n) for n in range(3))
    resource = f"coach:{world.coach.id}"
    async with session_factory() as session, session.begin():
        assert await apply_changes(
            session=session,
            school_id=world.school.id,
            changes=[Change(resource, middle, 1)],
        )
    async with session_factory() as session, session.begin():
        taken = await apply_changes(
            session=session,
            school_id=world.school.id,
            changes=[Change(resource, cell, 1) for cell in (first, middle, last)],
        )
        booked = {
            s.starts_at: s.booked
            for s in await session.scalars(
                select(AppointmentSlot).where(AppointmentSlot.resource == resource)
            )
        }
    assert not taken
    assert booked == {first: 0, middle: 1}


async def test_refusals_leave_nothing_behind(session_factory: Factory, world: World) -> None:
    with pytest.raises(BookingRefused):
        await _attempt(session_factory, world.student, at(TUESDAY, 11, 5))
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(AppointmentSlot)) == 0
