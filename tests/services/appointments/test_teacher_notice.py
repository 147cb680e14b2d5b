"""The teacher of the lesson is told of a time-out (issue 11, item 6): the rule, the booking
flow's optional question, the notice, and what the teacher may read.

The clock is `booking_world.NOW` (Monday 2 March 2026, 10:30 in Amsterdam): the time-out block
10:10–11:00 is running and can still be booked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.flows.afspraken import BOOK
from dialogs.i18n import Catalogs
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.errors import BookingRefused
from services.appointments.rules import teacher_notice_problem
from services.appointments.teacher_notice import tell_teacher, timeout_for_teacher
from services.appointments.views import AppointmentView
from services.kernel.errors import NotAllowed
from services.outbox.kinds import OutboxKind
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    Outbox,
    OutboxStatus,
    Person,
    Role,
)
from tests.services.conversations.test_appointment_bindings import Chat
from tests.support.booking_world import MONDAY, NOW, TUESDAY, World, at, build_world
from tests.support.factories import add_person, add_school
from tests.support.units import in_unit

EN = Catalogs().get("en")
LATER = at(MONDAY, 11, 0) + timedelta(minutes=50)

# -- the rule (pure) ---------------------------------------------------------------------------


def _problem(**changes: object) -> str | None:
    facts: dict[str, object] = {
        "kind": AppointmentKind.TIME_OUT,
        "status": AppointmentStatus.CONFIRMED,
        "ends_at": LATER,
        "now": NOW,
        "teacher_roles": [Role.TEACHER],
        "same_school": True,
    }
    facts.update(changes)
    problem = teacher_notice_problem(**facts)  # type: ignore[arg-type]
    return None if problem is None else EN.render(problem)


def test_a_teacher_or_mentor_of_the_school_can_be_told_of_a_planned_time_out() -> None:
    assert _problem() is None
    assert _problem(teacher_roles=[Role.MENTOR]) is None
    assert _problem(teacher_roles=[Role.PARENT, Role.TEACHER]) is None


def test_someone_who_is_no_teacher_and_another_schools_teacher_read_the_same() -> None:
    not_teacher = _problem(teacher_roles=[Role.STUDENT])
    assert not_teacher == "Please choose one of the teachers shown."
    assert _problem(same_school=False) == not_teacher
    assert _problem(teacher_roles=[Role.COACH, Role.CARE_COORDINATOR]) == not_teacher


def test_only_a_time_out_that_is_still_planned() -> None:
    assert _problem(kind=AppointmentKind.GESPREK) == "Only a time-out is announced to the teacher."
    over = "This time-out is no longer planned, so the teacher is not told."
    assert _problem(status=AppointmentStatus.CANCELLED) == over
    assert _problem(status=AppointmentStatus.ATTENDED) == over
    assert _problem(ends_at=NOW) == over


# -- a school with teachers --------------------------------------------------------------------


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> World:
    world = await build_world(session_factory)
    async with session_factory() as session, session.begin():
        school = world.school
        await add_person(
            session, school, "t1", Role.TEACHER, given_name="Tessa", family_name="Aalbers"
        )
        await add_person(
            session, school, "t2", Role.TEACHER, given_name="Timo", family_name="Brakel"
        )
        elsewhere = await add_school(session, "elders")
        await add_person(
            session, elsewhere, "t9", Role.TEACHER, given_name="Truus", family_name="Anders"
        )
    return world


async def _person(factory: async_sessionmaker[AsyncSession], external_id: str) -> Person:
    async with factory() as session:
        person = await session.scalar(select(Person).where(Person.external_id == external_id))
        assert person is not None
        return person


async def _notices(factory: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with factory() as session:
        return list(
            await session.scalars(
                select(Outbox).where(Outbox.kind == OutboxKind.TIMEOUT_TEACHER).order_by(Outbox.id)
            )
        )


async def _book_time_out(
    factory: async_sessionmaker[AsyncSession], world: World, *, day: object = TUESDAY
) -> AppointmentView:
    result = await in_unit(
        book,
        session=factory,
        actor=world.student,
        student_id=world.student.id,
        kind=AppointmentKind.TIME_OUT,
        starts_at=at(day, 10, 10),  # type: ignore[arg-type]
        now=NOW,
    )
    assert isinstance(result, AppointmentView)
    return result


# -- the booking flow ---------------------------------------------------------------------------


async def test_booking_a_time_out_asks_whose_lesson_and_tells_that_teacher(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    tessa = await _person(session_factory, "t1")
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Monday, March 2", "10:10\u202fAM")
    assert "Question 4 of 4" in chat.question
    assert "Whose lesson are you leaving?" in chat.question
    # The school's teachers and mentors by family name; another school's teacher is not there.
    assert chat.labels()[:3] == ["Tessa Aalbers", "Timo Brakel", "Mila Persoon-m1"]
    assert "Truus Anders" not in chat.labels()
    assert "Skip" in chat.labels()
    await chat.press("Tessa Aalbers")
    assert "Teacher told: Tessa Aalbers" in chat.question  # the summary
    await chat.press("Book ✓")
    assert "The teacher gets a message with the times, not the reason." in chat.texts[-1]

    [appointment] = await _appointments(session_factory)
    assert appointment.teacher_id == tessa.id
    [notice] = await _notices(session_factory)
    assert notice.recipient_id == tessa.id
    assert notice.status is OutboxStatus.PENDING
    assert notice.next_attempt_at == NOW  # now, not later
    assert notice.payload == {
        "appointment_id": appointment.id,
        "version": 1,
        "kind": "time_out",
        "starts_at": at(MONDAY, 10, 10).isoformat(),
        "ends_at": at(MONDAY, 11, 0).isoformat(),
    }  # ids and times only: no name, no reason
    async with session_factory() as session:
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.action == "appointment.teacher_told")
        )
    assert audit is not None
    assert audit.details == {"teacher_id": tessa.id, "version": 1}


async def test_the_teacher_question_can_be_skipped_and_nobody_is_told(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Time-out moment", "Monday, March 2", "10:10\u202fAM", "Skip")
    assert "Teacher told: skipped" in chat.texts[0]
    await chat.press("Book ✓")
    assert "The teacher gets a message" not in chat.texts[-1]
    [appointment] = await _appointments(session_factory)
    assert appointment.teacher_id is None
    assert await _notices(session_factory) == []


async def test_other_kinds_are_not_asked_about_a_teacher(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    chat = await Chat(session_factory, world.student, BOOK.id).open()
    await chat.press("Support talk")
    assert "Question 2 of 3" in chat.question  # kind, day, time: no teacher question
    await chat.press_first_option()
    await chat.press_first_option()
    assert "Please check your appointment:" in chat.question


async def _appointments(factory: async_sessionmaker[AsyncSession]) -> list[Appointment]:
    async with factory() as session:
        return list(await session.scalars(select(Appointment).order_by(Appointment.id)))


# -- the server checks again -------------------------------------------------------------------


async def test_a_forged_teacher_is_refused_the_same_way(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    booked = await _book_time_out(session_factory, world)
    for someone in ("t9", "s2", "c1"):  # another school's teacher, a student, the coach
        person = await _person(session_factory, someone)
        with pytest.raises(BookingRefused) as refused:
            await in_unit(
                tell_teacher,
                session=session_factory,
                actor=world.student,
                appointment_id=booked.appointment_id,
                teacher_id=person.id,
                now=NOW,
            )
        assert EN.render(refused.value.reason) == "Please choose one of the teachers shown."
    with pytest.raises(BookingRefused):
        await in_unit(
            tell_teacher,
            session=session_factory,
            actor=world.student,
            appointment_id=booked.appointment_id,
            teacher_id=999_999,
            now=NOW,
        )
    assert await _notices(session_factory) == []


async def test_only_the_booker_or_the_student_can_tell_a_teacher(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    booked = await _book_time_out(session_factory, world)
    tessa = await _person(session_factory, "t1")
    for stranger in (world.outsider, world.other_parent, tessa):
        with pytest.raises(NotAllowed):
            await in_unit(
                tell_teacher,
                session=session_factory,
                actor=stranger,
                appointment_id=booked.appointment_id,
                teacher_id=tessa.id,
                now=NOW,
            )
    assert await _notices(session_factory) == []


async def test_telling_twice_sends_once(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    booked = await _book_time_out(session_factory, world)
    tessa = await _person(session_factory, "t1")
    for _ in range(2):
        await in_unit(
            tell_teacher,
            session=session_factory,
            actor=world.student,
            appointment_id=booked.appointment_id,
            teacher_id=tessa.id,
            now=NOW,
        )
    assert len(await _notices(session_factory)) == 1


# -- cancelled, moved, and what the teacher reads ---------------------------------------------


async def test_the_teacher_reads_the_first_name_and_a_cancellation_sends_nothing_new(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    booked = await _book_time_out(session_factory, world)
    tessa, timo = await _person(session_factory, "t1"), await _person(session_factory, "t2")
    await in_unit(
        tell_teacher,
        session=session_factory,
        actor=world.student,
        appointment_id=booked.appointment_id,
        teacher_id=tessa.id,
        now=NOW,
    )
    view = await in_unit(
        timeout_for_teacher,
        session=session_factory,
        teacher=tessa,
        appointment_id=booked.appointment_id,
        now=NOW,
    )
    assert view.student_given_name == "Sam"
    assert (view.starts_at, view.ends_at) == (at(TUESDAY, 10, 10), at(TUESDAY, 11, 0))
    assert not view.cancelled
    for other in (timo, world.mentor, world.parent):
        with pytest.raises(NotAllowed):
            await in_unit(
                timeout_for_teacher,
                session=session_factory,
                teacher=other,
                appointment_id=booked.appointment_id,
                now=NOW,
            )

    await in_unit(
        cancel,
        session=session_factory,
        actor=world.student,
        appointment_id=booked.appointment_id,
        now=NOW,
    )
    # Not sent yet: withdrawn with the appointment's other pending rows; nothing new for her.
    [notice] = await _notices(session_factory)
    assert notice.status is OutboxStatus.CANCELLED
    async with session_factory() as session:
        to_tessa = await session.scalars(select(Outbox).where(Outbox.recipient_id == tessa.id))
        assert [row.kind for row in to_tessa] == [OutboxKind.TIMEOUT_TEACHER]
    view = await in_unit(
        timeout_for_teacher,
        session=session_factory,
        teacher=tessa,
        appointment_id=booked.appointment_id,
        now=NOW,
    )
    assert view.cancelled


async def test_a_move_forgets_the_teacher(
    session_factory: async_sessionmaker[AsyncSession], world: World
) -> None:
    booked = await _book_time_out(session_factory, world)
    tessa = await _person(session_factory, "t1")
    await in_unit(
        tell_teacher,
        session=session_factory,
        actor=world.student,
        appointment_id=booked.appointment_id,
        teacher_id=tessa.id,
        now=NOW,
    )
    await in_unit(
        book,
        session=session_factory,
        actor=world.student,
        student_id=world.student.id,
        kind=AppointmentKind.TIME_OUT,
        starts_at=at(TUESDAY, 11, 0),
        now=NOW,
        move_appointment_id=booked.appointment_id,
    )
    [appointment] = await _appointments(session_factory)
    assert appointment.teacher_id is None
    [notice] = await _notices(session_factory)
    assert notice.status is OutboxStatus.CANCELLED
    with pytest.raises(NotAllowed):
        await in_unit(
            timeout_for_teacher,
            session=session_factory,
            teacher=tessa,
            appointment_id=booked.appointment_id,
            now=NOW,
        )
