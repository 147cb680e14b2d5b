"""A forced erasure of a student whose trajectory is open (issue 13): the coming appointment is
cancelled as a normal cancellation (its place given back, no notice to the erased student) and
the trajectory closed; the student is erased."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.booking import book
from services.appointments.views import AppointmentView
from services.kernel.uow import run_unit_of_work
from services.privacy.views import Channel, erase
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentSlot,
    AppointmentStatus,
    Outbox,
    OutboxStatus,
    Person,
    Trajectory,
    TrajectoryStatus,
)
from tests.support.booking_world import NOW, TUESDAY, at, build_world


async def test_force_cancels_the_coming_appointment_and_closes_the_trajectory(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_world(session_factory)
    booked = await run_unit_of_work(
        session_factory,
        lambda s: book(
            session=s,
            actor=world.student,
            student_id=world.student.id,
            kind=AppointmentKind.GESPREK,
            starts_at=at(TUESDAY, 9, 30),
            now=NOW,
        ),
    )
    assert isinstance(booked, AppointmentView)

    await run_unit_of_work(
        session_factory,
        lambda s: erase(
            session=s,
            actor=None,
            person_id=world.student.id,
            now=NOW,
            channel=Channel.CLI,
            force=True,
        ),
    )

    async with session_factory() as session, session.begin():
        appointment = await session.scalar(
            select(Appointment).where(Appointment.student_id == world.student.id)
        )
        assert appointment is not None
        assert appointment.status is AppointmentStatus.CANCELLED
        assert sum(await session.scalars(select(AppointmentSlot.booked))) == 0
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.student_id == world.student.id)
        )
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.CLOSED
        student = await session.get_one(Person, world.student.id)
        assert student.erased_at is not None
        waiting = list(
            await session.scalars(
                select(Outbox.id).where(
                    Outbox.recipient_id == world.student.id,
                    Outbox.status == OutboxStatus.PENDING,
                )
            )
        )
        assert waiting == []
