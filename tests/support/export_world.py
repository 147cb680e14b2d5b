"""A small school for the export tests: known appointments in week 2026-W10 (Monday 2 March to
Sunday 8 March 2026, CET), logbook entries and notes with text that must never leave the
school, one closed trajectory, one still planned, and a second school. Every name is invented.

The week's boundary is tested with appointments at odd hours: Sunday 1 March 23:30 and Monday
9 March 00:30 (outside), Monday 2 March 00:15 (inside), all school time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    EvaluationKind,
    LogbookEntry,
    Person,
    QueueItem,
    QueueNote,
    Role,
    School,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.factories import NOW, add_mentorship, add_person, add_school, add_trajectory

AMS = ZoneInfo("Europe/Amsterdam")
WEEK = "2026-W10"
MONDAY = date(2026, 3, 2)
#: Text only the school may read: none of it may appear in an export to another system.
PRIVATE_LOGBOOK = "PRIVE-logboek: thuis speelt een scheiding"
PRIVATE_EVALUATION = "PRIVE-evaluatie: zorgen over slaap"
PRIVATE_QUEUE_NOTE = "PRIVE-notitie van de zorgcoordinator"
ADVICE = "Vaste plek vooraan; pauzes vooraf afspreken."
FINAL_NOTES = "Doelen gehaald; vraagt zelf om hulp."
GOALS = "Rustig blijven in de les en hulp vragen als het te veel wordt."


_K, _S = AppointmentKind, AppointmentStatus


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in Amsterdam."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMS).astimezone(UTC)


@dataclass
class ExportWorld:
    school: School
    zoco: Person
    admin: Person
    coach: Person
    mentor: Person
    parent: Person
    sam: Person
    nina: Person
    otto: Person
    planned: Person
    other_zoco: Person
    trajectories: dict[str, int] = field(default_factory=dict)
    appointments: dict[str, int] = field(default_factory=dict)


async def add_appointment(
    session: AsyncSession,
    trajectory: Trajectory,
    *,
    kind: AppointmentKind,
    status: AppointmentStatus,
    starts_at: datetime,
    minutes: int,
    booked_by: Person,
) -> Appointment:
    """An appointment row as booking and attendance would leave it (inserted directly)."""
    ends_at = starts_at + timedelta(minutes=minutes)
    appointment = Appointment(
        school_id=trajectory.school_id,
        trajectory_id=trajectory.id,
        student_id=trajectory.student_id,
        kind=kind,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        busy_until=ends_at,
        resource="room:time_out" if kind is AppointmentKind.TIME_OUT else "coach:1",
        booked_by_id=booked_by.id,
        mentor_confirmed=True,
        created_at=NOW,
        updated_at=NOW,
        cancelled_at=NOW if status is AppointmentStatus.CANCELLED else None,
    )
    session.add(appointment)
    await session.flush()
    return appointment


async def build_export_world(session: AsyncSession) -> ExportWorld:
    """The world, in the caller's transaction."""
    school = await add_school(session, "vmbo-noord")
    zoco = await add_person(session, school, "z1", Role.CARE_COORDINATOR, given_name="Zora")
    admin = await add_person(session, school, "a1", Role.ADMIN, given_name="Ada")
    coach = await add_person(
        session, school, "c1", Role.COACH, given_name="Coen", family_name="Brandsma"
    )
    mentor = await add_person(
        session, school, "m1", Role.MENTOR, given_name="Mila", family_name="Terpstra"
    )
    parent = await add_person(session, school, "p1", Role.PARENT, given_name="Pia")
    sam = await add_person(
        session,
        school,
        "100234",
        Role.STUDENT,
        given_name="Sam",
        family_name="de Vries",
        group_name="2B",
    )
    nina = await add_person(
        session,
        school,
        "100117",
        Role.STUDENT,
        given_name="Nina",
        family_name="Aydın",
        group_name="2B",
    )
    otto = await add_person(
        session,
        school,
        "100301",
        Role.STUDENT,
        given_name="Otto",
        family_name="Bakker",
        group_name="3A",
    )
    planned = await add_person(session, school, "100400", Role.STUDENT, given_name="Pim")
    for student in (sam, nina, otto, planned):
        await add_mentorship(session, mentor, student)
    sam_t = await add_trajectory(session, mentor, sam)
    sam_t.coach_id = coach.id
    nina_t = await add_trajectory(session, mentor, nina)
    otto_t = await add_trajectory(session, mentor, otto, end=date(2026, 3, 13))
    otto_t.coach_id = coach.id
    planned_t = await add_trajectory(session, mentor, planned, status=TrajectoryStatus.PLANNED)
    world = ExportWorld(school, zoco, admin, coach, mentor, parent, sam, nina, otto, planned, zoco)
    world.trajectories = {
        "sam": sam_t.id,
        "nina": nina_t.id,
        "otto": otto_t.id,
        "planned": planned_t.id,
    }

    plan = [
        # name, trajectory, kind, status, start, minutes
        ("before", sam_t, _K.GESPREK, _S.ATTENDED, at(date(2026, 3, 1), 23, 30), 30),
        ("first", sam_t, _K.GESPREK, _S.ATTENDED, at(MONDAY, 0, 15), 30),
        ("sam_talk", sam_t, _K.GESPREK, _S.ATTENDED, at(MONDAY, 10, 0), 45),
        ("sam_timeout", sam_t, _K.TIME_OUT, _S.ATTENDED, at(date(2026, 3, 3), 10, 10), 20),
        ("sam_cancelled", sam_t, _K.GESPREK, _S.CANCELLED, at(date(2026, 3, 4), 9, 0), 45),
        ("sam_unmarked", sam_t, _K.GESPREK, _S.CONFIRMED, at(date(2026, 3, 6), 11, 0), 45),
        ("nina_missed", nina_t, _K.GESPREK, _S.NO_SHOW, at(date(2026, 3, 4), 14, 0), 45),
        ("nina_evaluation", nina_t, _K.EVALUATION, _S.ATTENDED, at(date(2026, 3, 5), 9, 0), 30),
        ("nina_timeout_missed", nina_t, _K.TIME_OUT, _S.NO_SHOW, at(date(2026, 3, 5), 13, 30), 20),
        ("otto_intake", otto_t, _K.INTAKE, _S.ATTENDED, at(MONDAY, 8, 30), 60),
        ("after", sam_t, _K.GESPREK, _S.ATTENDED, at(date(2026, 3, 9), 0, 30), 30),
    ]
    for name, trajectory, kind, status, starts_at, minutes in plan:
        appointment = await add_appointment(
            session,
            trajectory,
            kind=kind,
            status=status,
            starts_at=starts_at,
            minutes=minutes,
            booked_by=zoco,
        )
        world.appointments[name] = appointment.id

    for moment in (
        at(date(2026, 3, 3), 15, 0),
        at(date(2026, 3, 5), 16, 0),
        at(date(2026, 3, 5), 16, 30),
    ):
        session.add(
            LogbookEntry(
                school_id=school.id,
                trajectory_id=sam_t.id,
                author_id=coach.id,
                text=PRIVATE_LOGBOOK,
                created_at=moment,
            )
        )
    # Outside the week: not counted.
    session.add(
        LogbookEntry(
            school_id=school.id,
            trajectory_id=sam_t.id,
            author_id=coach.id,
            text=PRIVATE_LOGBOOK,
            created_at=at(date(2026, 3, 10), 9, 0),
        )
    )
    session.add(
        TrajectoryEvaluation(
            school_id=school.id,
            trajectory_id=nina_t.id,
            kind=EvaluationKind.INTERIM,
            due_on=date(2026, 3, 5),
            held_on=date(2026, 3, 5),
            notes=PRIVATE_EVALUATION,
        )
    )
    # Otto's trajectory was closed on Friday 6 March with its final evaluation and advice.
    session.add_all(
        [
            TrajectoryEvaluation(
                school_id=school.id,
                trajectory_id=otto_t.id,
                kind=EvaluationKind.INTERIM,
                due_on=date(2026, 3, 4),
                held_on=None,
            ),
            TrajectoryEvaluation(
                school_id=school.id,
                trajectory_id=otto_t.id,
                kind=EvaluationKind.FINAL,
                due_on=date(2026, 3, 6),
                held_on=date(2026, 3, 6),
                notes=FINAL_NOTES,
            ),
        ]
    )
    otto_t.status = TrajectoryStatus.CLOSED
    otto_t.closed_at = at(date(2026, 3, 6), 15, 0)
    otto_t.closed_by_id = zoco.id
    otto_t.advice = ADVICE
    session.add(
        QueueNote(
            school_id=school.id,
            queue_item_id=await _item_of(session, sam_t),
            author_id=zoco.id,
            text=PRIVATE_QUEUE_NOTE,
            created_at=NOW,
        )
    )

    other = await add_school(session, "vmbo-zuid")
    world.other_zoco = await add_person(session, other, "z9", Role.CARE_COORDINATOR)
    other_mentor = await add_person(session, other, "m9", Role.MENTOR)
    other_student = await add_person(session, other, "900001", Role.STUDENT)
    await add_mentorship(session, other_mentor, other_student)
    other_t = await add_trajectory(session, other_mentor, other_student)
    await add_appointment(
        session,
        other_t,
        kind=AppointmentKind.GESPREK,
        status=AppointmentStatus.ATTENDED,
        starts_at=at(MONDAY, 11, 0),
        minutes=45,
        booked_by=world.other_zoco,
    )
    await session.flush()
    return world


async def _item_of(session: AsyncSession, trajectory: Trajectory) -> int:
    item_id = await session.scalar(
        select(QueueItem.id).where(QueueItem.referral_id == trajectory.referral_id)
    )
    assert item_id is not None
    return item_id
