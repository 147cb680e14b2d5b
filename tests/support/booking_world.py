"""A small school for the appointment tests: defaults installed, one coach, a few families.

Every name is invented. The clock: `NOW` is Monday 2 March 2026, 10:30 in Amsterdam (CET), so
with the default lead time of two hours the first bookable time is Monday 12:30 (a time-out
needs no notice: its block running at 10:10 can still be booked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.defaults import install_defaults
from storage.models import (
    ClosedDay,
    CoachAvailability,
    Guardianship,
    Person,
    PersonRole,
    Referral,
    Role,
    School,
    Trajectory,
    TrajectoryStatus,
    Urgency,
)
from tests.support.factories import add_mentorship, add_person, add_school, add_trajectory

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)
THURSDAY = date(2026, 3, 5)
FRIDAY = date(2026, 3, 6)
SATURDAY = date(2026, 3, 7)
NEXT_MONDAY = date(2026, 3, 9)
ALL_SCHOOL_DAYS = ("mon", "tue", "wed", "thu", "fri")
#: A closed day in the test school (a study day).
CLOSED = date(2026, 3, 11)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in Amsterdam."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMS).astimezone(UTC)


@dataclass(frozen=True)
class World:
    school: School
    zoco: Person
    coach: Person
    mentor: Person
    #: Active trajectory, time-out in the plan (2 per week); parent: `parent`.
    student: Person
    parent: Person
    #: Accepted referral: planned trajectory, intake to be booked (the mentor can attend any
    #: school day); parent: `parent` too.
    newcomer: Person
    #: No trajectory at all.
    outsider: Person
    #: A parent of `outsider` only.
    other_parent: Person


async def add_guardian(session: AsyncSession, parent: Person, student: Person) -> None:
    session.add(
        Guardianship(school_id=parent.school_id, parent_id=parent.id, student_id=student.id)
    )
    await session.flush()


async def build_world(
    session_factory: async_sessionmaker[AsyncSession], *, timeout_places: int = 4
) -> World:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        await install_defaults(session=session, school_id=school.id, timeout_places=timeout_places)
        zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR, given_name="Zora")
        coach = await add_person(session, school, "c1", Role.COACH, given_name="Coen")
        mentor = await add_person(session, school, "m1", Role.MENTOR, given_name="Mila")
        student = await add_person(session, school, "s1", Role.STUDENT, given_name="Sam")
        newcomer = await add_person(session, school, "s2", Role.STUDENT, given_name="Nina")
        outsider = await add_person(session, school, "s3", Role.STUDENT, given_name="Otto")
        parent = await add_person(session, school, "p1", Role.PARENT, given_name="Pia")
        other_parent = await add_person(session, school, "p2", Role.PARENT, given_name="Piet")
        for child in (student, newcomer, outsider):
            await add_mentorship(session, mentor, child)
        await add_guardian(session, parent, student)
        await add_guardian(session, parent, newcomer)
        await add_guardian(session, other_parent, outsider)
        await add_trajectory(session, mentor, student)
        planned = await add_trajectory(session, mentor, newcomer, status=TrajectoryStatus.PLANNED)
        # The mentor can attend any school day from today (a test narrows it itself).
        referral = await session.get(Referral, planned.referral_id)
        assert referral is not None
        referral.intake_from = MONDAY
        referral.intake_days = list(ALL_SCHOOL_DAYS)
        for weekday in range(5):
            session.add(
                CoachAvailability(
                    school_id=school.id,
                    coach_id=coach.id,
                    weekday=weekday,
                    starts_at=time(9),
                    ends_at=time(16),
                )
            )
        session.add(ClosedDay(school_id=school.id, day=CLOSED))
    return World(school, zoco, coach, mentor, student, parent, newcomer, outsider, other_parent)


async def add_students_with_trajectories(
    session: AsyncSession, school: School, mentor: Person, count: int, *, prefix: str = "bulk"
) -> list[Person]:
    """``count`` students, each with an active trajectory with time-out in the plan (bulk)."""
    students = [
        Person(
            school_id=school.id,
            external_id=f"{prefix}{n:04d}",
            given_name="Leerling",
            family_name=f"Nummer {n}",
            roles=[PersonRole(role=Role.STUDENT)],
        )
        for n in range(count)
    ]
    session.add_all(students)
    await session.flush()
    referrals = [
        Referral(
            school_id=school.id,
            student_id=student.id,
            mentor_id=mentor.id,
            help_question_student="Rust in de klas.",
            help_question_teacher="Hoe help ik?",
            tried="Gesprekjes.",
            urgency=Urgency.NORMAL,
            parents_informed=True,
            support=["time_out"],
            intake_from=MONDAY,
            intake_days=["mon"],
            text_language="nl",
            created_at=NOW,
        )
        for student in students
    ]
    session.add_all(referrals)
    await session.flush()
    session.add_all(
        Trajectory(
            school_id=school.id,
            student_id=referral.student_id,
            referral_id=referral.id,
            status=TrajectoryStatus.ACTIVE,
            timeouts_in_plan=True,
            timeouts_per_week=2,
            activated_at=NOW,
            created_at=NOW,
        )
        for referral in referrals
    )
    await session.flush()
    return students
