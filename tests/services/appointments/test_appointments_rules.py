"""Booking rules from the seeds: who may book what, when, and what goes to the care coordinator.

Each test names one rule and fails when that rule is removed from `services.appointments`.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.access import bookable_kinds, bookable_students
from services.appointments.booking import book
from services.appointments.cancelling import cancel
from services.appointments.errors import BookingRefused
from services.appointments.slots import free_slots
from services.appointments.timeout_requests import BookingRequested
from services.appointments.views import AppointmentView
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    AuditLog,
    Base,
    BookingSettings,
    CoachAvailability,
    Mentorship,
    Outbox,
    QueueItem,
    QueueKind,
    Referral,
    Role,
    TimeoutRequest,
    TimeoutRequestReason,
    Trajectory,
)
from tests.support.booking_world import (
    AMS,
    CLOSED,
    FRIDAY,
    MONDAY,
    NEXT_MONDAY,
    NOW,
    SATURDAY,
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
    session_factory: Factory, world: World, kind: AppointmentKind, when: object, **kw: object
) -> AppointmentView | BookingRequested:
    actor = kw.pop("actor", world.student)
    student = kw.pop("student", world.student)
    async with session_factory() as session:
        return await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=actor,  # type: ignore[arg-type]
                student_id=student.id,  # type: ignore[attr-defined]
                kind=kind,
                starts_at=when,  # type: ignore[arg-type]
                now=kw.pop("now", NOW),  # type: ignore[arg-type]
            ),
        )


async def _count(session_factory: Factory, model: type[Base]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- who may book what -----------------------------------------------------------------------


async def test_a_student_books_a_gesprek_and_a_time_out_for_themself(
    session_factory: Factory, world: World
) -> None:
    gesprek = await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9))
    timeout = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    assert isinstance(gesprek, AppointmentView)
    assert isinstance(timeout, AppointmentView)
    assert gesprek.status is AppointmentStatus.CONFIRMED
    assert gesprek.coach_name is not None
    assert gesprek.ends_at - gesprek.starts_at == timedelta(minutes=30)
    assert timeout.ends_at - timeout.starts_at == timedelta(minutes=50)
    assert timeout.coach_name is None
    async with session_factory() as session:
        actions = list(await session.scalars(select(AuditLog.action)))
    assert actions.count("appointment.book") == 2


async def test_a_student_cannot_book_for_another_student(
    session_factory: Factory, world: World
) -> None:
    with pytest.raises(NotAllowed):
        await _book(
            session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9), student=world.newcomer
        )


async def test_a_parent_books_only_for_their_own_children(
    session_factory: Factory, world: World
) -> None:
    booked = await _book(
        session_factory,
        world,
        AppointmentKind.INTAKE,
        at(TUESDAY, 10),
        actor=world.parent,
        student=world.newcomer,
    )
    assert isinstance(booked, AppointmentView)
    with pytest.raises(NotAllowed):
        await _book(
            session_factory,
            world,
            AppointmentKind.INTAKE,
            at(TUESDAY, 13),
            actor=world.other_parent,
            student=world.newcomer,
        )


async def test_a_student_of_another_school_is_refused_like_an_unknown_id(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        elsewhere = await add_school(session, "elders")
        stranger = await add_person(session, elsewhere, "x1", Role.STUDENT)
    with pytest.raises(NotAllowed) as other_school:
        await _book(
            session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9), student=stranger
        )
    with pytest.raises(NotAllowed) as unknown:
        async with session_factory() as session:
            await run_unit_of_work(
                session,
                lambda work: book(
                    session=work,
                    actor=world.student,
                    student_id=999_999,
                    kind=AppointmentKind.GESPREK,
                    starts_at=at(TUESDAY, 9),
                    now=NOW,
                ),
            )
    assert other_school.value.reason == unknown.value.reason


async def test_who_may_book_comes_from_the_type(session_factory: Factory, world: World) -> None:
    # A student may not book an intake (parents and the care coordinator do), a parent no
    # time-out (the student asks for it themself).
    with pytest.raises(NotAllowed):
        await _book(
            session_factory,
            world,
            AppointmentKind.INTAKE,
            at(TUESDAY, 10),
            actor=world.newcomer,
            student=world.newcomer,
        )
    with pytest.raises(NotAllowed):
        await _book(
            session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11), actor=world.parent
        )


async def test_bookable_students_are_themself_or_own_children(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session:
        as_student = await bookable_students(session=session, person=world.student)
        as_parent = await bookable_students(session=session, person=world.parent)
        as_other = await bookable_students(session=session, person=world.other_parent)
        as_mentor = await bookable_students(session=session, person=world.mentor)
    assert [sid for sid, _ in as_student] == [world.student.id]
    assert {sid for sid, _ in as_parent} == {world.student.id, world.newcomer.id}
    assert [sid for sid, _ in as_other] == [world.outsider.id]
    assert as_mentor == []


async def test_bookable_kinds_follow_role_and_trajectory(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session:
        student_kinds = await bookable_kinds(
            session=session, person=world.student, student_id=world.student.id, now=NOW
        )
        parent_active = await bookable_kinds(
            session=session, person=world.parent, student_id=world.student.id, now=NOW
        )
        parent_planned = await bookable_kinds(
            session=session, person=world.parent, student_id=world.newcomer.id, now=NOW
        )
        newcomer_kinds = await bookable_kinds(
            session=session, person=world.newcomer, student_id=world.newcomer.id, now=NOW
        )
        outsider_parent = await bookable_kinds(
            session=session, person=world.other_parent, student_id=world.outsider.id, now=NOW
        )
    assert student_kinds == [AppointmentKind.GESPREK, AppointmentKind.TIME_OUT]
    assert parent_active == [AppointmentKind.EVALUATION]
    assert parent_planned == [AppointmentKind.INTAKE]
    assert newcomer_kinds == []
    assert outsider_parent == []


# --- trajectory rules ------------------------------------------------------------------------


async def test_gesprek_and_time_out_need_an_active_trajectory(
    session_factory: Factory, world: World
) -> None:
    for kind in (AppointmentKind.GESPREK, AppointmentKind.TIME_OUT):
        for student in (world.newcomer, world.outsider):  # planned; none at all
            with pytest.raises(BookingRefused):
                await _book(
                    session_factory, world, kind, at(TUESDAY, 11), actor=student, student=student
                )
    assert await _count(session_factory, Appointment) == 0


async def test_an_intake_needs_an_accepted_referral(session_factory: Factory, world: World) -> None:
    with pytest.raises(BookingRefused):  # no trajectory: the referral was not accepted
        await _book(
            session_factory,
            world,
            AppointmentKind.INTAKE,
            at(TUESDAY, 10),
            actor=world.other_parent,
            student=world.outsider,
        )
    with pytest.raises(BookingRefused):  # active: the intake already took place
        await _book(
            session_factory, world, AppointmentKind.INTAKE, at(TUESDAY, 10), actor=world.parent
        )


async def test_an_intake_needs_a_mentor(session_factory: Factory, world: World) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(delete(Mentorship).where(Mentorship.student_id == world.newcomer.id))
    with pytest.raises(BookingRefused):
        await _book(
            session_factory,
            world,
            AppointmentKind.INTAKE,
            at(TUESDAY, 10),
            actor=world.parent,
            student=world.newcomer,
        )


async def test_one_intake_at_a_time(session_factory: Factory, world: World) -> None:
    await _book(
        session_factory,
        world,
        AppointmentKind.INTAKE,
        at(TUESDAY, 10),
        actor=world.parent,
        student=world.newcomer,
    )
    with pytest.raises(BookingRefused):
        await _book(
            session_factory,
            world,
            AppointmentKind.INTAKE,
            at(WEDNESDAY, 10),
            actor=world.zoco,
            student=world.newcomer,
        )


async def test_the_care_coordinator_may_book_an_intake(
    session_factory: Factory, world: World
) -> None:
    booked = await _book(
        session_factory,
        world,
        AppointmentKind.INTAKE,
        at(TUESDAY, 10),
        actor=world.zoco,
        student=world.newcomer,
    )
    assert isinstance(booked, AppointmentView)
    assert booked.status is AppointmentStatus.BOOKED
    assert booked.booked_by_id == world.zoco.id


async def _mentor_days(session_factory: Factory, world: World, start: object, *days: str) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Referral)
            .where(
                Referral.student_id == world.newcomer.id,
                Referral.school_id == world.school.id,
            )
            .values(intake_from=start, intake_days=list(days))
        )


async def test_the_intake_is_offered_only_on_the_days_the_mentor_can_attend(
    session_factory: Factory, world: World
) -> None:
    # The referral: "intake possible from Wednesday, on Wednesdays and Fridays".
    await _mentor_days(session_factory, world, WEDNESDAY, "wed", "fri")
    async with session_factory() as session:
        slots = await free_slots(
            session=session,
            person=world.parent,
            student_id=world.newcomer.id,
            kind=AppointmentKind.INTAKE,
            now=NOW,
        )
    local_days = sorted({slot.starts_at.astimezone(AMS).date() for slot in slots})
    assert local_days[0] == WEDNESDAY
    assert {day.weekday() for day in local_days} == {2, 4}


async def test_an_intake_on_a_day_the_mentor_cannot_attend_is_refused(
    session_factory: Factory, world: World
) -> None:
    await _mentor_days(session_factory, world, WEDNESDAY, "wed", "fri")
    for day, why in ((THURSDAY, "can attend the intake on"), (TUESDAY, r"from \{date\} on")):
        with pytest.raises(BookingRefused, match=why):
            await _book(
                session_factory,
                world,
                AppointmentKind.INTAKE,
                at(day, 14),
                actor=world.parent,
                student=world.newcomer,
            )
    for actor in (world.parent, world.zoco):  # nobody books around the mentor
        with pytest.raises(BookingRefused):
            await _book(
                session_factory,
                world,
                AppointmentKind.INTAKE,
                at(NEXT_MONDAY, 14),
                actor=actor,
                student=world.newcomer,
            )
    booked = await _book(
        session_factory,
        world,
        AppointmentKind.INTAKE,
        at(FRIDAY, 14),
        actor=world.parent,
        student=world.newcomer,
    )
    assert isinstance(booked, AppointmentView)


# --- time-out: inside the plan, at most N per week -------------------------------------------


async def test_time_out_above_the_weekly_cap_goes_to_the_care_coordinator(
    session_factory: Factory, world: World
) -> None:
    first = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    second = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(WEDNESDAY, 11))
    third = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(THURSDAY, 11))
    assert isinstance(first, AppointmentView)
    assert isinstance(second, AppointmentView)
    assert isinstance(third, BookingRequested)
    async with session_factory() as session:
        appointments = list(await session.scalars(select(Appointment)))
        item = await session.get(QueueItem, third.queue_item_id)
        request = await session.scalar(select(TimeoutRequest))
        told = list(await session.scalars(select(Outbox).where(Outbox.kind == "timeout.requested")))
    assert len(appointments) == 2  # the third was not booked
    assert item is not None
    assert item.kind is QueueKind.TIMEOUT_REQUEST
    assert request is not None
    assert request.reason is TimeoutRequestReason.OVER_CAP
    assert request.starts_at == at(THURSDAY, 11)
    assert [(o.recipient_id, o.payload) for o in told] == [
        (world.zoco.id, {"queue_item_id": third.queue_item_id})
    ]


async def test_the_cap_counts_per_week_and_comes_from_the_trajectory(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_per_week=1)
        )
    assert isinstance(
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(FRIDAY, 11)),
        AppointmentView,
    )
    assert isinstance(
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(THURSDAY, 11)),
        BookingRequested,
    )
    # Next week (ISO week, Monday to Sunday) starts afresh.
    assert isinstance(
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(NEXT_MONDAY, 11)),
        AppointmentView,
    )


async def test_a_cancelled_time_out_does_not_count_against_the_cap(
    session_factory: Factory, world: World
) -> None:
    first = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    await _book(session_factory, world, AppointmentKind.TIME_OUT, at(WEDNESDAY, 11))
    assert isinstance(first, AppointmentView)
    async with session_factory() as session:
        await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=first.appointment_id, now=NOW
            ),
        )
    assert isinstance(
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(THURSDAY, 11)),
        AppointmentView,
    )


async def test_time_out_outside_the_plan_goes_to_the_care_coordinator(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=False)
        )
    outcome = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    assert isinstance(outcome, BookingRequested)
    async with session_factory() as session:
        request = await session.scalar(select(TimeoutRequest))
    assert request is not None
    assert request.reason is TimeoutRequestReason.OUTSIDE_PLAN
    assert await _count(session_factory, Appointment) == 0


async def test_time_out_after_the_plan_ends_goes_to_the_care_coordinator(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(end_date=MONDAY)
        )
    outcome = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    assert isinstance(outcome, BookingRequested)


async def test_asking_twice_for_the_same_time_out_is_one_request(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Trajectory)
            .where(Trajectory.student_id == world.student.id)
            .values(timeouts_in_plan=False)
        )
    first = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    again = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    assert first == again
    assert await _count(session_factory, QueueItem) == 3  # two referrals + one request


# --- time rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "why"),
    [
        (at(MONDAY, 9, 20), "in the past"),
        (at(CLOSED, 11), "on a closed day"),
        (at(SATURDAY, 11), "on a day without opening hours"),
        (at(TUESDAY, 7, 40), "before opening"),
        (at(TUESDAY, 16, 0), "a block that would end after closing"),
        (at(TUESDAY, 11, 5), "not a block start"),
        (at(MONDAY, 11) + timedelta(days=21), "beyond the horizon of three weeks"),
    ],
)
async def test_time_out_times_that_cannot_be_booked(
    session_factory: Factory, world: World, when: object, why: str
) -> None:
    with pytest.raises(BookingRefused):
        await _book(session_factory, world, AppointmentKind.TIME_OUT, when)
    assert await _count(session_factory, Appointment) == 0, why


async def test_the_lead_time_is_a_school_setting(session_factory: Factory, world: World) -> None:
    with pytest.raises(BookingRefused, match=r"at least \{count\} hour ahead"):
        await _book(session_factory, world, AppointmentKind.GESPREK, at(MONDAY, 11))
    async with session_factory() as session, session.begin():
        session.add(BookingSettings(school_id=world.school.id, lead_time_minutes=15))
    booked = await _book(session_factory, world, AppointmentKind.GESPREK, at(MONDAY, 11))
    assert isinstance(booked, AppointmentView)


async def _type_lead_time(session_factory: Factory, world: World, minutes: int | None) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            update(AppointmentType)
            .where(
                AppointmentType.school_id == world.school.id,
                AppointmentType.kind == AppointmentKind.TIME_OUT,
            )
            .values(lead_time_minutes=minutes)
        )


async def test_a_time_out_is_for_now_it_needs_no_notice(
    session_factory: Factory, world: World
) -> None:
    # 10:30: the next block (11:00) is inside the school's two hours, and bookable.
    booked = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 11))
    assert isinstance(booked, AppointmentView)
    assert booked.status is AppointmentStatus.CONFIRMED


async def test_the_running_time_out_block_is_bookable_while_half_of_it_is_left(
    session_factory: Factory, world: World
) -> None:
    # The block 10:10-11:00 is running at 10:30 (25 of its 50 minutes left at 10:35).
    with pytest.raises(BookingRefused, match="already passed"):
        await _book(
            session_factory,
            world,
            AppointmentKind.TIME_OUT,
            at(MONDAY, 10, 10),
            now=at(MONDAY, 10, 36),
        )
    booked = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 10, 10))
    assert isinstance(booked, AppointmentView)
    assert booked.starts_at == at(MONDAY, 10, 10)
    async with session_factory() as session:
        reminders = await session.scalar(
            select(func.count(Outbox.id)).where(Outbox.kind == "appointment.reminder")
        )
    assert reminders == 0  # both reminder times have passed: none is sent late


async def test_a_type_without_its_own_lead_time_uses_the_schools(
    session_factory: Factory, world: World
) -> None:
    await _type_lead_time(session_factory, world, None)
    with pytest.raises(BookingRefused, match=r"at least \{count\} hour ahead"):
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 11))
    with pytest.raises(BookingRefused, match="already passed"):
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 10, 10))
    await _type_lead_time(session_factory, world, 30)
    with pytest.raises(BookingRefused, match=r"at least \{count\} minute ahead"):
        await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 10, 10 + 40))
    booked = await _book(session_factory, world, AppointmentKind.TIME_OUT, at(MONDAY, 11, 50))
    assert isinstance(booked, AppointmentView)


async def test_a_gesprek_only_inside_the_coachs_hours(
    session_factory: Factory, world: World
) -> None:
    # Open from 8:30, but the coach starts at 9:00.
    with pytest.raises(BookingRefused):
        await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 8, 30))
    assert isinstance(
        await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9)),
        AppointmentView,
    )


async def test_a_student_cannot_be_in_two_places_at_once(
    session_factory: Factory, world: World
) -> None:
    await _book(session_factory, world, AppointmentKind.TIME_OUT, at(TUESDAY, 11))
    with pytest.raises(BookingRefused):
        await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 11, 30))


async def test_free_slots_offer_only_bookable_times(session_factory: Factory, world: World) -> None:
    async with session_factory() as session:
        slots = await free_slots(
            session=session,
            person=world.student,
            student_id=world.student.id,
            kind=AppointmentKind.TIME_OUT,
            now=NOW,
        )
    starts = [slot.starts_at for slot in slots]
    assert starts == sorted(starts)
    # A time-out is for now: the block running at 10:30 (10:10-11:00) and the next ones.
    assert min(starts) == at(MONDAY, 10, 10)
    assert at(MONDAY, 9, 20) not in starts  # over
    assert at(MONDAY, 11) in starts  # inside the school's two hours: no notice needed
    assert at(MONDAY, 12, 40) in starts  # 8:30 + 5 lesson blocks of 50 minutes
    assert all(slot.free_places == 4 for slot in slots)
    local_days = {slot.starts_at.astimezone(AMS).date() for slot in slots}
    assert MONDAY in local_days
    assert CLOSED not in local_days
    assert SATURDAY not in local_days
    assert max(local_days) == FRIDAY + timedelta(days=14)  # three weeks, today included


async def test_free_slots_refuse_what_cannot_be_booked(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            await free_slots(
                session=session,
                person=world.newcomer,
                student_id=world.newcomer.id,
                kind=AppointmentKind.GESPREK,
                now=NOW,
            )
        with pytest.raises(NotAllowed):
            await free_slots(
                session=session,
                person=world.student,
                student_id=world.student.id,
                kind=AppointmentKind.INTAKE,
                now=NOW,
            )


# --- cancelling ------------------------------------------------------------------------------


async def test_a_cancellation_close_to_the_start_is_allowed_but_flagged(
    session_factory: Factory, world: World
) -> None:
    soon = await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9))
    later = await _book(session_factory, world, AppointmentKind.GESPREK, at(THURSDAY, 9))
    assert isinstance(soon, AppointmentView)
    assert isinstance(later, AppointmentView)
    async with session_factory() as session:
        # Tuesday 9:00 is 22.5 hours after NOW: inside the 24-hour window.
        late = await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=soon.appointment_id, now=NOW
            ),
        )
    async with session_factory() as session:
        in_time = await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.student, appointment_id=later.appointment_id, now=NOW
            ),
        )
    assert late.status is AppointmentStatus.CANCELLED
    assert late.late_cancel
    assert in_time.status is AppointmentStatus.CANCELLED
    assert not in_time.late_cancel
    async with session_factory() as session:
        flags = list(
            await session.scalars(
                select(AuditLog.details).where(AuditLog.action == "appointment.cancel")
            )
        )
    assert sorted(d["late"] for d in flags) == [False, True]


async def test_only_people_involved_may_cancel(session_factory: Factory, world: World) -> None:
    booked = await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9))
    assert isinstance(booked, AppointmentView)
    for stranger in (world.other_parent, world.newcomer, world.mentor):
        async with session_factory() as session:
            with pytest.raises(NotAllowed):
                await run_unit_of_work(
                    session,
                    lambda work: cancel(
                        session=work,
                        actor=stranger,  # noqa: B023 - awaited at once
                        appointment_id=booked.appointment_id,
                        now=NOW,
                    ),
                )
    async with session_factory() as session:
        by_parent = await run_unit_of_work(
            session,
            lambda work: cancel(
                session=work, actor=world.parent, appointment_id=booked.appointment_id, now=NOW
            ),
        )
    assert by_parent.status is AppointmentStatus.CANCELLED


async def test_what_has_started_cannot_be_cancelled(session_factory: Factory, world: World) -> None:
    booked = await _book(session_factory, world, AppointmentKind.GESPREK, at(TUESDAY, 9))
    assert isinstance(booked, AppointmentView)
    async with session_factory() as session:
        with pytest.raises(BookingRefused):
            await run_unit_of_work(
                session,
                lambda work: cancel(
                    session=work,
                    actor=world.student,
                    appointment_id=booked.appointment_id,
                    now=at(TUESDAY, 9, 5),
                ),
            )


async def test_a_coach_entered_twice_for_the_same_hours_is_still_one_place(
    session_factory: Factory, world: World
) -> None:
    async with session_factory() as session, session.begin():
        session.add(
            CoachAvailability(
                school_id=world.school.id,
                coach_id=world.coach.id,
                weekday=TUESDAY.weekday(),
                starts_at=time(8, 30),
                ends_at=time(12, 0),
            )
        )
    async with session_factory() as session:
        slots = await free_slots(
            session=session,
            person=world.student,
            student_id=world.student.id,
            kind=AppointmentKind.GESPREK,
            now=NOW,
        )
    tuesday = {s.starts_at: s.free_places for s in slots if s.starts_at.date() == TUESDAY}
    assert tuesday[at(TUESDAY, 8, 30)] == 1  # only in the second span
    assert tuesday[at(TUESDAY, 10)] == 1  # in both spans: still one coach
