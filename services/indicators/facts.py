"""Reading what the indicators count: the facts per school (referrals, trajectories with
their evaluations and time-outs, attended time-outs, enrolment) and the questionnaire sums
per school and month (from `services.surveys.report`).

Queries only (no writes), in the caller's transaction. Dates become school-local here; the
arithmetic on them is `services.indicators.rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.periods import Month
from services.indicators.rules import SchoolFacts, SurveyMonth, TrajectoryFacts
from services.surveys.report import survey_report
from services.trajectories.rules import COUNTED_TIMEOUT_STATUSES
from storage.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Person,
    PersonRole,
    Referral,
    Role,
    School,
    SupportKind,
    Trajectory,
    TrajectoryEvaluation,
)

#: Read a little beyond the period in UTC, then bucket by local date (exact in any time zone).
_MARGIN = timedelta(days=2)


async def survey_months(
    *,
    session: AsyncSession,
    school_ids: Sequence[int],
    months: Sequence[Month],
    now: datetime,
) -> dict[tuple[int, Month], SurveyMonth]:
    """The questionnaire figures per (school, month), from `services.surveys.report`.

    One report per school and month (the report's own definitions: answers of questionnaires
    completed in the month, invitations created in the month); open questions have no mean.
    """
    result: dict[tuple[int, Month], SurveyMonth] = {}
    for school_id in school_ids:
        for month in months:
            report = await survey_report(
                session=session,
                school_id=school_id,
                start=month.first_day,
                end=month.last_day,
                now=now,
            )
            result[school_id, month] = SurveyMonth(
                scores=MappingProxyType(
                    {
                        (q.respondent_type.value, q.code): ((q.mean or 0.0) * q.answers, q.answers)
                        for q in report.questions
                        if not q.open
                    }
                ),
                invitations=MappingProxyType(
                    {
                        r.respondent_type.value: (r.invited, r.answered)
                        for r in report.rates
                        if r.respondent_type is not None
                    }
                ),
            )
    return result


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The school-local date of a stored instant."""
    return moment.astimezone(zone).date()


def _utc_bounds(months: Sequence[Month]) -> tuple[datetime, datetime]:
    start = datetime.combine(months[0].first_day, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(months[-1].last_day, datetime.min.time(), tzinfo=UTC)
    return start - _MARGIN, end + timedelta(days=1) + _MARGIN


async def read_facts(
    *, session: AsyncSession, schools: Sequence[School], months: Sequence[Month], now: datetime
) -> dict[int, SchoolFacts]:
    """Everything the figures need, in a few queries for all ``schools`` at once."""
    school_ids = [school.id for school in schools]
    zones = {school.id: ZoneInfo(school.timezone) for school in schools}
    start, end = _utc_bounds(months)

    enrolled = dict(
        (
            await session.execute(
                select(Person.school_id, func.count(Person.id.distinct()))
                .join(PersonRole, PersonRole.person_id == Person.id)
                .where(Person.school_id.in_(school_ids), PersonRole.role == Role.STUDENT)
                .group_by(Person.school_id)
            )
        ).all()
    )

    referrals: dict[int, list[tuple[int, date]]] = {school_id: [] for school_id in school_ids}
    for school_id, student_id, created_at in await session.execute(
        select(Referral.school_id, Referral.student_id, Referral.created_at).where(
            Referral.school_id.in_(school_ids),
            Referral.created_at >= start,
            Referral.created_at < end,
        )
    ):
        referrals[school_id].append((student_id, local_day(created_at, zones[school_id])))

    # Trajectories that can matter in the period: created before its end and not closed
    # before its start (overdue counts open ones, whenever they started).
    relevant = (
        select(Trajectory.id)
        .where(
            Trajectory.school_id.in_(school_ids),
            Trajectory.created_at < end,
            or_(Trajectory.closed_at.is_(None), Trajectory.closed_at >= start),
        )
        .scalar_subquery()
    )
    trajectory_rows = await session.execute(
        select(
            Trajectory.id,
            Trajectory.school_id,
            Trajectory.student_id,
            Trajectory.created_at,
            Trajectory.activated_at,
            Trajectory.closed_at,
            Trajectory.end_date,
            Trajectory.timeouts_in_plan,
            Trajectory.timeouts_per_week,
            Referral.support,
        )
        .join(Referral, Referral.id == Trajectory.referral_id)
        .where(Trajectory.id.in_(relevant))
    )
    evaluations: dict[int, list[tuple[date, date | None]]] = {}
    for trajectory_id, due_on, held_on in await session.execute(
        select(
            TrajectoryEvaluation.trajectory_id,
            TrajectoryEvaluation.due_on,
            TrajectoryEvaluation.held_on,
        ).where(TrajectoryEvaluation.trajectory_id.in_(relevant))
    ):
        evaluations.setdefault(trajectory_id, []).append((due_on, held_on))
    timeout_days: dict[int, list[date]] = {}
    for trajectory_id, school_id, starts_at in await session.execute(
        select(Appointment.trajectory_id, Appointment.school_id, Appointment.starts_at).where(
            Appointment.trajectory_id.in_(relevant),
            Appointment.kind == AppointmentKind.TIME_OUT,
            Appointment.status.in_(COUNTED_TIMEOUT_STATUSES),
        )
    ):
        timeout_days.setdefault(trajectory_id, []).append(local_day(starts_at, zones[school_id]))

    trajectories: dict[int, list[TrajectoryFacts]] = {school_id: [] for school_id in school_ids}
    for (
        trajectory_id,
        school_id,
        student_id,
        created_at,
        activated_at,
        closed_at,
        end_date,
        timeouts_in_plan,
        timeouts_per_week,
        support,
    ) in trajectory_rows:
        zone = zones[school_id]
        trajectories[school_id].append(
            TrajectoryFacts(
                student_id=student_id,
                created_on=local_day(created_at, zone),
                activated_on=local_day(activated_at, zone) if activated_at else None,
                closed_on=local_day(closed_at, zone) if closed_at else None,
                end_date=end_date,
                timeouts_in_plan=timeouts_in_plan,
                timeouts_per_week=timeouts_per_week,
                class_observation=SupportKind.CLASS_OBSERVATION.value in (support or ()),
                evaluations=tuple(evaluations.get(trajectory_id, ())),
                timeout_days=tuple(timeout_days.get(trajectory_id, ())),
            )
        )

    attended: dict[int, list[date]] = {school_id: [] for school_id in school_ids}
    for school_id, starts_at in await session.execute(
        select(Appointment.school_id, Appointment.starts_at).where(
            Appointment.school_id.in_(school_ids),
            Appointment.kind == AppointmentKind.TIME_OUT,
            Appointment.status == AppointmentStatus.ATTENDED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    ):
        attended[school_id].append(local_day(starts_at, zones[school_id]))

    return {
        school_id: SchoolFacts(
            enrolled=int(enrolled.get(school_id, 0)),
            today=local_day(now, zones[school_id]),
            referrals=tuple(referrals[school_id]),
            trajectories=tuple(trajectories[school_id]),
            attended_timeouts=tuple(attended[school_id]),
        )
        for school_id in school_ids
    }
