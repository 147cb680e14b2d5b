"""The exports' reads: the facts `services.exports.rules` turns into rows. Queries only.

Each query is bounded by the week's UTC instants (`rules.Week.bounds`) and the school; the
rules decide again by the school-local date. The LVS read selects the logbook's timestamps
only (its text is never loaded), and no note or free text of any kind.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.people import people_by_id
from services.exports.rules import (
    MARKED,
    AttendanceFact,
    ClosingEvaluation,
    ClosingReport,
    TrajectoryWeekFacts,
    attended_by_kind,
)
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    LogbookEntry,
    Mentorship,
    Person,
    School,
    SurveyInvitation,
    Trajectory,
    TrajectoryEvaluation,
)


async def attendance_facts(
    *, session: AsyncSession, school_id: int, start: datetime, end: datetime
) -> list[AttendanceFact]:
    """The school's marked appointments (attended / no-show) starting in [start, end)."""
    rows = await session.execute(
        select(
            Appointment.id,
            Person.external_id,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.kind,
            Appointment.status,
        )
        .join(
            Person,
            (Person.id == Appointment.student_id) & (Person.school_id == Appointment.school_id),
        )
        .where(
            Appointment.school_id == school_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status.in_(MARKED),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [
        AttendanceFact(appointment_id, number, starts_at, ends_at, kind, status)
        for appointment_id, number, starts_at, ends_at, kind, status in rows
    ]


async def week_facts(
    *,
    session: AsyncSession,
    school_id: int,
    start: datetime,
    end: datetime,
    first_day: date,
    last_day: date,
) -> list[TrajectoryWeekFacts]:
    """The trajectories of the school that ran in [start, end), with that week's facts:
    marked appointments, evaluations held from ``first_day`` to ``last_day``, and the times
    of logbook entries (never their text)."""
    began = Trajectory.intake_held_at.is_not(None) | Trajectory.activated_at.is_not(None)
    trajectories = list(
        (
            await session.execute(
                select(Trajectory, Person.external_id, Person.given_name, Person.family_name)
                .join(
                    Person,
                    (Person.id == Trajectory.student_id)
                    & (Person.school_id == Trajectory.school_id),
                )
                .where(
                    Trajectory.school_id == school_id,
                    began,
                    or_(
                        Trajectory.intake_held_at < end,
                        and_(Trajectory.intake_held_at.is_(None), Trajectory.activated_at < end),
                    ),
                    or_(Trajectory.closed_at.is_(None), Trajectory.closed_at >= start),
                )
                .order_by(Trajectory.id)
            )
        ).all()
    )
    ids = [trajectory.id for trajectory, *_rest in trajectories]
    if not ids:
        return []
    appointments: dict[int, list[tuple[AppointmentKind, AppointmentStatus, datetime]]] = (
        defaultdict(list)
    )
    for trajectory_id, kind, status, starts_at in await session.execute(
        select(
            Appointment.trajectory_id, Appointment.kind, Appointment.status, Appointment.starts_at
        )
        .where(
            Appointment.school_id == school_id,
            Appointment.trajectory_id.in_(ids),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status.in_(MARKED),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ):
        appointments[trajectory_id].append((kind, status, starts_at))
    evaluations: dict[int, list[date]] = defaultdict(list)
    for trajectory_id, held_on in await session.execute(
        select(TrajectoryEvaluation.trajectory_id, TrajectoryEvaluation.held_on).where(
            TrajectoryEvaluation.school_id == school_id,
            TrajectoryEvaluation.trajectory_id.in_(ids),
            TrajectoryEvaluation.held_on >= first_day,
            TrajectoryEvaluation.held_on <= last_day,
        )
    ):
        if held_on is not None:
            evaluations[trajectory_id].append(held_on)
    logbook: dict[int, list[datetime]] = defaultdict(list)
    # The timestamps only: the text of an entry is not read at all.
    for trajectory_id, created_at in await session.execute(
        select(LogbookEntry.trajectory_id, LogbookEntry.created_at)
        .where(
            LogbookEntry.school_id == school_id,
            LogbookEntry.trajectory_id.in_(ids),
            LogbookEntry.created_at >= start,
            LogbookEntry.created_at < end,
        )
        .order_by(LogbookEntry.created_at)
    ):
        logbook[trajectory_id].append(created_at)
    return [
        TrajectoryWeekFacts(
            trajectory_id=trajectory.id,
            student_number=number,
            student_name=f"{given} {family}",
            intake_held_at=trajectory.intake_held_at,
            activated_at=trajectory.activated_at,
            closed_at=trajectory.closed_at,
            appointments=tuple(appointments[trajectory.id]),
            evaluations_held=tuple(evaluations[trajectory.id]),
            logbook_at=tuple(logbook[trajectory.id]),
        )
        for trajectory, number, given, family in trajectories
    ]


async def closed_in(
    *, session: AsyncSession, school_id: int, start: datetime, end: datetime
) -> list[tuple[int, str, str, datetime]]:
    """The school's trajectories closed in [start, end): id, student number and name, when."""
    rows = await session.execute(
        select(
            Trajectory.id,
            Person.external_id,
            Person.given_name,
            Person.family_name,
            Trajectory.closed_at,
        )
        .join(
            Person,
            (Person.id == Trajectory.student_id) & (Person.school_id == Trajectory.school_id),
        )
        .where(
            Trajectory.school_id == school_id,
            Trajectory.closed_at >= start,
            Trajectory.closed_at < end,
        )
        .order_by(Trajectory.closed_at, Trajectory.id)
    )
    return [
        (trajectory_id, number, f"{given} {family}", closed_at)
        for trajectory_id, number, given, family, closed_at in rows
        if closed_at is not None
    ]


async def closing_facts(
    *, session: AsyncSession, trajectory: Trajectory, zone: ZoneInfo, now: datetime
) -> ClosingReport:
    """The closing report of a closed ``trajectory``."""
    assert trajectory.closed_at is not None  # noqa: S101 - the caller checked the status
    school_id = trajectory.school_id
    evaluations = tuple(
        ClosingEvaluation(kind, due_on, held_on, notes)
        for kind, due_on, held_on, notes in await session.execute(
            select(
                TrajectoryEvaluation.kind,
                TrajectoryEvaluation.due_on,
                TrajectoryEvaluation.held_on,
                TrajectoryEvaluation.notes,
            )
            .where(
                TrajectoryEvaluation.school_id == school_id,
                TrajectoryEvaluation.trajectory_id == trajectory.id,
            )
            .order_by(TrajectoryEvaluation.due_on, TrajectoryEvaluation.id)
        )
    )
    attended, missed = attended_by_kind(
        (kind, status)
        for kind, status in await session.execute(
            select(Appointment.kind, Appointment.status).where(
                Appointment.school_id == school_id, Appointment.trajectory_id == trajectory.id
            )
        )
    )
    people = await people_by_id(
        session=session,
        school_id=school_id,
        ids=(trajectory.student_id, trajectory.coach_id, trajectory.closed_by_id),
    )
    mentors = await session.scalars(
        select(Person)
        .join(
            Mentorship,
            (Mentorship.mentor_id == Person.id) & (Mentorship.school_id == Person.school_id),
        )
        .where(Mentorship.school_id == school_id, Mentorship.student_id == trajectory.student_id)
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    invitations = list(
        await session.scalars(
            select(SurveyInvitation.completed_at).where(
                SurveyInvitation.school_id == school_id,
                SurveyInvitation.trajectory_id == trajectory.id,
            )
        )
    )
    school_name = await session.scalar(select(School.name).where(School.id == school_id))
    student = people.get(trajectory.student_id)
    coach = people.get(trajectory.coach_id) if trajectory.coach_id else None
    closer = people.get(trajectory.closed_by_id) if trajectory.closed_by_id else None
    held_at = trajectory.intake_held_at or trajectory.activated_at
    return ClosingReport(
        trajectory_id=trajectory.id,
        school_name=school_name or "",
        student_name="" if student is None else student.display_name,
        student_number="" if student is None else student.external_id,
        group_name=None if student is None else student.group_name,
        goals=trajectory.goals or "",
        start=trajectory.start_date,
        end=trajectory.end_date,
        intake_held_on=None if held_at is None else held_at.astimezone(zone).date(),
        closed_on=trajectory.closed_at.astimezone(zone).date(),
        coach_name="" if coach is None else coach.display_name,
        mentor_names=tuple(person.display_name for person in mentors),
        closed_by_name="" if closer is None else closer.display_name,
        evaluations=evaluations,
        advice=trajectory.advice or "",
        attended=attended,
        missed=missed,
        questionnaires=(sum(1 for done in invitations if done is not None), len(invitations)),
        made_on=now.astimezone(zone).date(),
    )
