"""Reminders, calendar rows and the mentor's question: written to the outbox with the change.

A reminder goes out the day before (18:00 school time) and an hour before; a move withdraws
the old ones and schedules new ones, a cancellation withdraws them; nothing is lost or sent
twice across a restart of the worker.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.attendance import confirm_mentor_presence
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.errors import BookingRefused
from services.appointments.notices import (
    APPOINTMENT_CALENDAR,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_MENTOR_CONFIRM,
    APPOINTMENT_MENTOR_DECLINED,
    APPOINTMENT_REMINDER,
)
from services.appointments.views import AppointmentView
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.outbox.store import claim_due, mark_sent
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Outbox,
    OutboxStatus,
    Person,
)
from tests.support.booking_world import (
    MONDAY,
    NOW,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    World,
    at,
    build_world,
)

Factory = async_sessionmaker[AsyncSession]

#: What a payload may hold: ids, codes, times, flags. Never a name.
PAYLOAD_KEYS = {
    "appointment_id",
    "version",
    "kind",
    "starts_at",
    "ends_at",
    "when",
    "cancelled",
    "late",
    "queue_item_id",
}


@pytest.fixture
async def world(session_factory: Factory) -> World:
    world = await build_world(session_factory)
    async with session_factory() as session, session.begin():
        # Everyone can be reached by Telegram, so the worker really claims their rows.
        for person in await session.scalars(select(Person)):
            person.telegram_chat_id = 1000 + person.id
        # The referrals behind the trajectories told the care coordinator long ago.
        await session.execute(delete(Outbox))
    return world


async def _rows(session_factory: Factory, *kinds: str) -> list[Outbox]:
    async with session_factory() as session:
        query = select(Outbox).order_by(Outbox.next_attempt_at, Outbox.recipient_id, Outbox.id)
        if kinds:
            query = query.where(Outbox.kind.in_(kinds))
        return list(await session.scalars(query))


async def _gesprek(session_factory: Factory, world: World, when: datetime) -> AppointmentView:
    async with session_factory() as session:
        booked = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=when,
                now=NOW,
            ),
        )
    assert isinstance(booked, AppointmentView)
    return booked


async def _intake(session_factory: Factory, world: World, when: datetime) -> AppointmentView:
    async with session_factory() as session:
        booked = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=when,
                now=NOW,
            ),
        )
    assert isinstance(booked, AppointmentView)
    return booked


async def test_a_confirmed_booking_schedules_calendar_and_two_reminders_per_attendee(
    session_factory: Factory, world: World
) -> None:
    booked = await _gesprek(session_factory, world, at(WEDNESDAY, 9))
    rows = await _rows(session_factory)
    attendees = {world.student.id, world.coach.id}
    calendars = [r for r in rows if r.kind == APPOINTMENT_CALENDAR]
    reminders = [r for r in rows if r.kind == APPOINTMENT_REMINDER]
    assert {r.recipient_id for r in calendars} == attendees
    assert all(r.next_attempt_at == NOW for r in calendars)
    assert {(r.recipient_id, r.payload["when"], r.next_attempt_at) for r in reminders} == {
        (person, when, due)
        for person in attendees
        for when, due in (("day", at(TUESDAY, 18)), ("hour", at(WEDNESDAY, 8)))
    }
    assert all(r.payload["appointment_id"] == booked.appointment_id for r in rows)
    assert all(r.payload["version"] == 1 for r in rows)
    assert all(set(r.payload) <= PAYLOAD_KEYS for r in rows)
    assert all(r.dedup_key.startswith(f"appt:{booked.appointment_id}:v1:") for r in rows)


async def test_a_reminder_whose_time_has_passed_is_left_out(
    session_factory: Factory, world: World
) -> None:
    # Booked Monday 10:30 for Monday 13:00: the day-before reminder (Sunday 18:00) has passed.
    await _gesprek(session_factory, world, at(MONDAY, 13))
    reminders = await _rows(session_factory, APPOINTMENT_REMINDER)
    assert {r.payload["when"] for r in reminders} == {"hour"}
    assert all(r.next_attempt_at == at(MONDAY, 12) for r in reminders)


async def test_reminders_are_sent_once_across_a_restart(
    database_url: str, session_factory: Factory, world: World
) -> None:
    booked = await _gesprek(session_factory, world, at(WEDNESDAY, 9))

    async def send_due(factory: Factory, now: datetime) -> list[str]:
        async with factory() as session, session.begin():
            claimed = await claim_due(session=session, now=now, limit=100)
        for message in claimed:
            async with factory() as session, session.begin():
                assert await mark_sent(session=session, outbox_id=message.outbox_id, now=now)
        return sorted(f"{m.kind}:{m.payload.get('when', '-')}:{m.recipient_id}" for m in claimed)

    first = await send_due(session_factory, at(TUESDAY, 18))
    # A crash between claim and outcome: this row is claimed but never marked.
    async with session_factory() as session, session.begin():
        lost = await claim_due(session=session, now=at(WEDNESDAY, 8), limit=1)
    assert len(lost) == 1

    # Restart: a new engine and session factory on the same database.
    engine = create_engine(database_url)
    try:
        restarted = create_sessionmaker(engine)
        second = await send_due(restarted, at(WEDNESDAY, 8))
        third = await send_due(restarted, at(WEDNESDAY, 12))
    finally:
        await engine.dispose()

    student, coach = world.student.id, world.coach.id
    assert first == sorted(
        f"{kind}:{when}:{person}"
        for person in (student, coach)
        for kind, when in ((APPOINTMENT_CALENDAR, "-"), (APPOINTMENT_REMINDER, "day"))
    )
    hour = {f"{APPOINTMENT_REMINDER}:hour:{p}" for p in (student, coach)}
    crashed = f"{lost[0].kind}:hour:{lost[0].recipient_id}"
    assert len(second) == 1
    assert set(second) | {crashed} == hour
    # The crashed claim was never handed over (nothing reached Telegram): once its lease has
    # run out it is claimed again and sent, once (issue 13: leases).
    assert third == [crashed]
    rows = await _rows(session_factory)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert sorted(r.attempts for r in rows) == [1, 1, 1, 1, 1, 2]
    assert len({r.dedup_key for r in rows}) == len(rows) == 6
    assert booked.appointment_id


async def test_a_move_withdraws_the_old_reminders_and_schedules_new_ones(
    session_factory: Factory, world: World
) -> None:
    booked = await _gesprek(session_factory, world, at(WEDNESDAY, 9))
    async with session_factory() as session:
        moved = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.GESPREK,
                starts_at=at(THURSDAY, 14),
                now=NOW,
                move_appointment_id=booked.appointment_id,
            ),
        )
    assert isinstance(moved, AppointmentView)
    assert moved.version == 2
    rows = await _rows(session_factory)
    old = [r for r in rows if r.payload["version"] == 1]
    new = [r for r in rows if r.payload["version"] == 2]
    assert {r.status for r in old} == {OutboxStatus.CANCELLED}
    assert {r.status for r in new} == {OutboxStatus.PENDING}
    assert {
        (r.kind, r.payload.get("when"), r.next_attempt_at)
        for r in new
        if r.recipient_id == world.student.id
    } == {
        (APPOINTMENT_CALENDAR, None, NOW),
        (APPOINTMENT_REMINDER, "day", at(WEDNESDAY, 18)),
        (APPOINTMENT_REMINDER, "hour", at(THURSDAY, 13)),
    }
    assert all(r.payload["starts_at"] == at(THURSDAY, 14).isoformat() for r in new)


async def test_a_cancellation_withdraws_reminders_and_cancels_the_calendar_entry(
    session_factory: Factory, world: World
) -> None:
    booked = await _gesprek(session_factory, world, at(WEDNESDAY, 9))
    async with session_factory() as session:
        cancelled = await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=booked.appointment_id, now=NOW
            ),
        )
    assert cancelled.version == 2
    rows = await _rows(session_factory)
    reminders = [r for r in rows if r.kind == APPOINTMENT_REMINDER]
    assert {r.status for r in reminders} == {OutboxStatus.CANCELLED}
    cancels = [r for r in rows if r.kind == APPOINTMENT_CALENDAR and r.payload["cancelled"]]
    assert {r.recipient_id for r in cancels} == {world.student.id, world.coach.id}
    assert {r.payload["version"] for r in cancels} == {2}
    assert {r.status for r in cancels} == {OutboxStatus.PENDING}


# --- the intake and the mentor ---------------------------------------------------------------


async def test_an_intake_waits_for_the_mentor_who_is_asked_in_chat(
    session_factory: Factory, world: World
) -> None:
    booked = await _intake(session_factory, world, at(WEDNESDAY, 10))
    assert booked.status is AppointmentStatus.BOOKED
    assert not booked.mentor_confirmed
    rows = await _rows(session_factory)
    assert [(r.kind, r.recipient_id) for r in rows] == [
        (APPOINTMENT_MENTOR_CONFIRM, world.mentor.id)
    ]
    assert rows[0].payload == {
        "appointment_id": booked.appointment_id,
        "version": 1,
        "kind": "intake",
        "starts_at": at(WEDNESDAY, 10).isoformat(),
    }

    async with session_factory() as session:
        confirmed = await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=booked.appointment_id,
                now=NOW,
                present=True,
                version=1,
            ),
        )
    assert confirmed.status is AppointmentStatus.CONFIRMED
    assert confirmed.mentor_confirmed
    calendars = await _rows(session_factory, APPOINTMENT_CALENDAR)
    # Everyone at the table: the student, the parent, the mentor and the coach.
    assert {r.recipient_id for r in calendars} == {
        world.newcomer.id,
        world.parent.id,
        world.mentor.id,
        world.coach.id,
    }
    assert len(await _rows(session_factory, APPOINTMENT_REMINDER)) == 8
    async with session_factory() as session:
        again = await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=booked.appointment_id,
                now=NOW,
                present=True,
            ),
        )
    assert again == confirmed
    assert len(await _rows(session_factory, APPOINTMENT_CALENDAR)) == 4


async def test_a_mentor_who_cannot_come_cancels_the_intake_and_the_booker_is_told(
    session_factory: Factory, world: World
) -> None:
    booked = await _intake(session_factory, world, at(WEDNESDAY, 10))
    async with session_factory() as session:
        declined = await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=booked.appointment_id,
                now=NOW,
                present=False,
            ),
        )
    assert declined.status is AppointmentStatus.CANCELLED
    told = await _rows(session_factory, APPOINTMENT_MENTOR_DECLINED)
    # Still to be sent: the cancellation's withdrawal of pending notices spares it.
    assert [(r.recipient_id, r.status) for r in told] == [(world.parent.id, OutboxStatus.PENDING)]
    notices = await _rows(session_factory, APPOINTMENT_CANCELLED)
    # The student and the coach hear it was cancelled; the parent got the mentor's answer.
    assert {r.recipient_id for r in notices} == {world.newcomer.id, world.coach.id}
    asked = await _rows(session_factory, APPOINTMENT_MENTOR_CONFIRM)
    assert {r.status for r in asked} == {OutboxStatus.CANCELLED}
    async with session_factory() as session:
        assert {s.booked for s in await session.scalars(select(AppointmentSlot))} == {0}


async def test_only_the_students_mentor_answers_and_only_for_the_current_time(
    session_factory: Factory, world: World
) -> None:
    booked = await _intake(session_factory, world, at(WEDNESDAY, 10))
    for stranger in (world.coach, world.parent):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await run_unit_of_work(
                    session,
                    lambda work: confirm_mentor_presence(
                        session=work,
                        mentor=stranger,  # noqa: B023 - awaited at once
                        appointment_id=booked.appointment_id,
                        now=NOW,
                        present=True,
                    ),
                )
    async with session_factory() as session:
        moved = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=at(THURSDAY, 10),
                now=NOW,
                move_appointment_id=booked.appointment_id,
            ),
        )
    assert isinstance(moved, AppointmentView)
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            # An answer to the question about Wednesday does not confirm Thursday.
            await run_unit_of_work(
                session,
                lambda work: confirm_mentor_presence(
                    session=work,
                    mentor=world.mentor,
                    appointment_id=booked.appointment_id,
                    now=NOW,
                    present=True,
                    version=1,
                ),
            )
    asked = await _rows(session_factory, APPOINTMENT_MENTOR_CONFIRM)
    assert [(r.payload["version"], r.status) for r in asked] == [
        (1, OutboxStatus.CANCELLED),
        (2, OutboxStatus.PENDING),
    ]


async def test_a_moved_intake_needs_the_mentor_again(
    session_factory: Factory, world: World
) -> None:
    booked = await _intake(session_factory, world, at(WEDNESDAY, 10))
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: confirm_mentor_presence(
                session=work,
                mentor=world.mentor,
                appointment_id=booked.appointment_id,
                now=NOW,
                present=True,
            ),
        )
    async with session_factory() as session:
        moved = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=world.parent,
                student_id=world.newcomer.id,
                kind=AppointmentKind.INTAKE,
                starts_at=at(THURSDAY, 10),
                now=NOW,
                move_appointment_id=booked.appointment_id,
            ),
        )
    assert isinstance(moved, AppointmentView)
    assert moved.status is AppointmentStatus.BOOKED
    assert not moved.mentor_confirmed
    reminders = await _rows(session_factory, APPOINTMENT_REMINDER)
    assert {r.status for r in reminders} == {OutboxStatus.CANCELLED}


async def test_no_intake_confirmation_after_it_started(
    session_factory: Factory, world: World
) -> None:
    booked = await _intake(session_factory, world, at(WEDNESDAY, 10))
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            await run_unit_of_work(
                session,
                lambda work: confirm_mentor_presence(
                    session=work,
                    mentor=world.mentor,
                    appointment_id=booked.appointment_id,
                    now=at(WEDNESDAY, 10, 1),
                    present=True,
                ),
            )
