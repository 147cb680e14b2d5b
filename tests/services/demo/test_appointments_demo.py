"""The demo school can book from the first minute: types, hours, the coach, two trajectories."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.access import bookable_kinds, bookable_students
from services.appointments.booking import book
from services.appointments.slots import free_slots
from services.appointments.views import AppointmentView
from services.demo.booking import demo_closed_days
from services.demo.school import create_demo_data
from services.kernel.uow import run_unit_of_work
from storage.models import AppointmentKind, AppointmentStatus, ClosedDay, Person
from tests.support.units import unit


async def test_the_demo_student_and_parent_can_book(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with session_factory() as session:
        summary = await unit(session, create_demo_data, if_empty=True, with_appointments=True)
    async with session_factory() as session:
        people = {
            p.external_id: p
            for p in await session.scalars(
                select(Person).where(Person.school_id == summary.school_id)
            )
        }
        closed = set(await session.scalars(select(ClosedDay.day)))
    assert closed == set(demo_closed_days(now.date()))
    daan, amira, ouder1 = people["lln01"], people["lln15"], people["ouder1"]

    async with session_factory() as session:
        kinds = await bookable_kinds(session=session, person=daan, student_id=daan.id, now=now)
        slots = await free_slots(
            session=session,
            person=daan,
            student_id=daan.id,
            kind=AppointmentKind.TIME_OUT,
            now=now,
        )
        children = await bookable_students(session=session, person=ouder1)
        intake_kinds = await bookable_kinds(
            session=session, person=ouder1, student_id=amira.id, now=now
        )
        intake_slots = await free_slots(
            session=session,
            person=ouder1,
            student_id=amira.id,
            kind=AppointmentKind.INTAKE,
            now=now,
        )
    assert kinds == [AppointmentKind.GESPREK, AppointmentKind.TIME_OUT]
    assert slots
    assert all(slot.free_places == 4 for slot in slots)
    assert {student_id for student_id, _ in children} == {amira.id, people["lln03"].id}
    assert intake_kinds == [AppointmentKind.INTAKE]
    assert intake_slots

    async with session_factory() as session:
        timeout = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=daan,
                student_id=daan.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=slots[0].starts_at,
                now=now,
            ),
        )
    async with session_factory() as session:
        intake = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=ouder1,
                student_id=amira.id,
                kind=AppointmentKind.INTAKE,
                starts_at=intake_slots[0].starts_at,
                now=now,
            ),
        )
    assert isinstance(timeout, AppointmentView)
    assert timeout.status is AppointmentStatus.CONFIRMED
    assert isinstance(intake, AppointmentView)
    assert intake.status is AppointmentStatus.BOOKED  # waits for mentor2
    assert intake.coach_name == people["coach"].display_name
