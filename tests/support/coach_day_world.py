"""The coach's day (issue 14.2): the demo school with a week of appointments for its coach,
one of another coach, one of the room, and another school with its own coach.

Monday 2 March 2026 (`NOW`, 10:30 school time at `CLOCK`): the coach's talk with Noor at 09:00
has started (attendance can be marked), a talk at 15:00 has not; Tuesday's talk was cancelled
at short notice; Wednesday has a time-out in the room (no coach of its own); another coach
holds a talk with Daan today, which the coach must not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import create_demo_data
from storage.models import Appointment, AppointmentKind, AppointmentStatus, Person, Role
from tests.support.factories import (
    NOW,
    add_mentorship,
    add_person,
    add_school,
    add_trajectory,
)
from tests.support.units import unit

#: Monday 2 March 2026, 10:30 school time (CET).
CLOCK = NOW
OTHER_PASSWORD = "another-schools-password"


@dataclass(frozen=True, slots=True)
class CoachDayWorld:
    """Ids of what the tests look at."""

    coach_id: int
    other_coach_id: int
    trajectory_id: int
    started: int  # the coach's talk with Noor today at 09:00 (started)
    later: int  # the coach's talk with Noor today at 15:00 (not started)
    late_cancelled: int  # Tuesday, cancelled at short notice
    room: int  # Wednesday, a time-out in the room
    others: int  # the other coach's talk with Daan today
    elsewhere: int  # an appointment of another school
    elsewhere_coach_id: int


def _local(day: int, hour: int) -> datetime:
    """``hour`` o'clock on 2 March 2026 + ``day`` days, school time (CET = UTC+1)."""
    return datetime(2026, 3, 2 + day, hour - 1, 0, tzinfo=UTC)


def _appointment(
    trajectory_school: int,
    trajectory_id: int,
    student: Person,
    *,
    coach_id: int | None,
    starts_at: datetime,
    booked_by: Person,
    kind: AppointmentKind = AppointmentKind.GESPREK,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
    late_cancel: bool = False,
) -> Appointment:
    ends_at = starts_at + timedelta(minutes=30)
    return Appointment(
        school_id=trajectory_school,
        trajectory_id=trajectory_id,
        student_id=student.id,
        kind=kind,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        busy_until=ends_at,
        resource="room:time_out" if coach_id is None else f"coach:{coach_id}",
        coach_id=coach_id,
        booked_by_id=booked_by.id,
        mentor_confirmed=True,
        late_cancel=late_cancel,
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(days=3),
        cancelled_at=NOW if status is AppointmentStatus.CANCELLED else None,
    )


async def build_coach_day_world(session: AsyncSession) -> CoachDayWorld:
    """The world (commits its own transaction)."""
    await unit(session, create_demo_data, if_empty=True)
    async with session.begin():
        school = await find_school(session=session, code="demo")
        people: dict[str, Person] = {}
        for external_id in ("lln01", "lln02", "mentor1", "coach"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        coach = people["coach"]
        other = await add_person(session, school, "coach2", Role.COACH, given_name="Ilse")
        noor = await add_trajectory(session, people["mentor1"], people["lln02"])
        noor.coach_id = coach.id
        daan = await add_trajectory(session, people["mentor1"], people["lln01"])
        daan.coach_id = other.id
        rows = [
            _appointment(
                school.id, noor.id, people["lln02"], coach_id=coach.id,
                starts_at=_local(0, 9), booked_by=people["lln02"],
            ),
            _appointment(
                school.id, noor.id, people["lln02"], coach_id=coach.id,
                starts_at=_local(0, 15), booked_by=people["lln02"],
            ),
            _appointment(
                school.id, noor.id, people["lln02"], coach_id=coach.id,
                starts_at=_local(1, 10), booked_by=people["lln02"],
                status=AppointmentStatus.CANCELLED, late_cancel=True,
            ),
            _appointment(
                school.id, noor.id, people["lln02"], coach_id=None,
                starts_at=_local(2, 11), booked_by=people["lln02"],
                kind=AppointmentKind.TIME_OUT,
            ),
            _appointment(
                school.id, daan.id, people["lln01"], coach_id=other.id,
                starts_at=_local(0, 9), booked_by=people["lln01"],
            ),
        ]  # fmt: skip
        session.add_all(rows)
        elders = await add_school(session, "elders")
        stranger = await add_person(session, elders, "c9", Role.COACH, Role.CARE_COORDINATOR)
        await create_staff_account(
            session=session,
            person=stranger,
            username="elders-coach",
            password_hash=hash_password(OTHER_PASSWORD),
            now=NOW,
        )
        their_student = await add_person(session, elders, "s9", Role.STUDENT, given_name="Ruud")
        their_mentor = await add_person(session, elders, "m9", Role.MENTOR)
        await add_mentorship(session, their_mentor, their_student)
        theirs = await add_trajectory(session, their_mentor, their_student)
        far = _appointment(
            elders.id,
            theirs.id,
            their_student,
            coach_id=stranger.id,
            starts_at=_local(0, 9),
            booked_by=their_student,
        )
        session.add(far)
        await session.flush()
        return CoachDayWorld(
            coach_id=coach.id,
            other_coach_id=other.id,
            trajectory_id=noor.id,
            started=rows[0].id,
            later=rows[1].id,
            late_cancelled=rows[2].id,
            room=rows[3].id,
            others=rows[4].id,
            elsewhere=far.id,
            elsewhere_coach_id=stranger.id,
        )
