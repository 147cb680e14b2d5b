"""Reading what the indicators count: the facts per school (referrals, trajectories with
their evaluations and time-outs, attended time-outs, enrolment) and the questionnaire sums
per school and month (from `services.surveys.report`).

Queries only (no writes), in the caller's transaction. Dates become school-local here; the
arithmetic on them is `services.indicators.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.exit_survey import QUESTIONS
from dialogs.i18n import SCHOOL_TIMEZONE
from services.indicators.report import TARGETED, Indicator
from services.indicators.rules import SchoolFacts, SurveyMonth, TrajectoryFacts
from services.surveys.report import period_bounds
from services.trajectories.rules import COUNTED_TIMEOUT_STATUSES
from storage.models import (
    ActivityKind,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    IndicatorTarget,
    ObservationAim,
    Person,
    PersonRole,
    Referral,
    RespondentType,
    Role,
    School,
    StudentEvent,
    StudentEventKind,
    SupportActivity,
    SupportKind,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    Trajectory,
    TrajectoryEvaluation,
    VisitationReport,
)

_K = TypeVar("_K")

#: Read a little beyond the period in UTC, then bucket by local date (exact in any time zone).
_MARGIN = timedelta(days=2)


#: The scored answers (1-5; "don't know" and free text are left out), as in
#: `services.surveys.report`.
_NUMERIC = ("1", "2", "3", "4", "5")

#: A period of the figures: a key (a `Month` or a school year) and its first and last day.
Period = tuple[_K, date, date]


async def survey_periods(
    *,
    session: AsyncSession,
    school_ids: Sequence[int],
    periods: Sequence[Period[_K]],
) -> dict[tuple[int, _K], SurveyMonth]:
    """The questionnaire sums per (school, period), in two grouped queries for every school
    and period at once, with `services.surveys.report`'s definitions: answers of
    questionnaires completed in the period, invitations created in it (answered so far);
    days in the questionnaire's time zone. Open questions have no score."""
    if not periods or not school_ids:
        return {}
    begin, _ = period_bounds(min(p[1] for p in periods), min(p[1] for p in periods))
    _, stop = period_bounds(max(p[2] for p in periods), max(p[2] for p in periods))
    answers: dict[int, list[tuple[date, str, str, int, int]]] = {i: [] for i in school_ids}
    for school_id, respondent_type, code, value, completed_at, number in await session.execute(
        select(
            SurveyResponse.school_id,
            SurveyResponse.respondent_type,
            SurveyAnswer.code,
            SurveyAnswer.value,
            SurveyResponse.completed_at,
            func.count(SurveyAnswer.id),
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyResponse.school_id.in_(school_ids),
            SurveyResponse.completed_at >= begin,
            SurveyResponse.completed_at < stop,
            SurveyAnswer.value.in_(_NUMERIC),
        )
        .group_by(
            SurveyResponse.school_id,
            SurveyResponse.respondent_type,
            SurveyAnswer.code,
            SurveyAnswer.value,
            SurveyResponse.completed_at,
        )
    ):
        answers[school_id].append(
            (
                local_day(completed_at, SCHOOL_TIMEZONE),
                respondent_type.value,
                code,
                int(value or 0),
                int(number),
            )
        )
    invitations: dict[int, list[tuple[date, str, int, int]]] = {i: [] for i in school_ids}
    for school_id, respondent_type, created_at, number, done in await session.execute(
        select(
            SurveyInvitation.school_id,
            SurveyInvitation.respondent_type,
            SurveyInvitation.created_at,
            func.count(SurveyInvitation.id),
            func.count(SurveyInvitation.completed_at),
        )
        .where(
            SurveyInvitation.school_id.in_(school_ids),
            SurveyInvitation.created_at >= begin,
            SurveyInvitation.created_at < stop,
        )
        .group_by(
            SurveyInvitation.school_id,
            SurveyInvitation.respondent_type,
            SurveyInvitation.created_at,
        )
    ):
        invitations[school_id].append(
            (
                local_day(created_at, SCHOOL_TIMEZONE),
                respondent_type.value,
                int(number),
                int(done),
            )
        )
    scored = [
        (kind.value, question.code)
        for kind in RespondentType
        for question in QUESTIONS[kind.value]
        if not question.open
    ]
    result: dict[tuple[int, _K], SurveyMonth] = {}
    for school_id in school_ids:
        for key, first, last in periods:
            scores = dict.fromkeys(scored, (0.0, 0))
            for day, answer_type, code, points, count in answers[school_id]:
                if first <= day <= last and (answer_type, code) in scores:
                    total, n = scores[answer_type, code]
                    scores[answer_type, code] = (total + points * count, n + count)
            rates = {kind.value: (0, 0) for kind in RespondentType}
            for day, invited_type, count, done in invitations[school_id]:
                if first <= day <= last:
                    invited, answered = rates[invited_type]
                    rates[invited_type] = (invited + count, answered + done)
            result[school_id, key] = SurveyMonth(
                scores=MappingProxyType(scores), invitations=MappingProxyType(rates)
            )
    return result


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The school-local date of a stored instant."""
    return moment.astimezone(zone).date()


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last, datetime.min.time(), tzinfo=UTC)
    return start - _MARGIN, end + timedelta(days=1) + _MARGIN


async def read_facts(
    *, session: AsyncSession, schools: Sequence[School], first: date, last: date, now: datetime
) -> dict[int, SchoolFacts]:
    """Everything the figures from ``first`` to ``last`` need, in a few (grouped) queries for
    all ``schools`` and months at once."""
    school_ids = [school.id for school in schools]
    zones = {school.id: ZoneInfo(school.timezone) for school in schools}
    start, end = _utc_bounds(first, last)

    # Enrolment history: students per (school, role start, role end); the roster import
    # starts and ends roles in batches, so there are few groups.
    ended = func.coalesce(PersonRole.ended_at, Person.ended_at)
    enrolment: dict[int, list[tuple[date | None, date | None, int]]] = {
        school_id: [] for school_id in school_ids
    }
    for school_id, started_at, ended_at, number in await session.execute(
        select(Person.school_id, PersonRole.started_at, ended, func.count())
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.school_id.in_(school_ids), PersonRole.role == Role.STUDENT)
        .group_by(Person.school_id, PersonRole.started_at, ended)
    ):
        zone = zones[school_id]
        enrolment[school_id].append(
            (
                local_day(started_at, zone) if started_at is not None else None,
                local_day(ended_at, zone) if ended_at is not None else None,
                int(number),
            )
        )

    observations: dict[int, list[tuple[date, int | None]]] = {i: [] for i in school_ids}
    teacher_support: dict[int, list[date]] = {i: [] for i in school_ids}
    observed_student = case(
        (SupportActivity.aim == ObservationAim.STUDENT, SupportActivity.student_id), else_=None
    )
    for school_id, kind, held_on, student_id, number in await session.execute(
        select(
            SupportActivity.school_id,
            SupportActivity.kind,
            SupportActivity.held_on,
            observed_student,
            func.count(),
        )
        .where(
            SupportActivity.school_id.in_(school_ids),
            SupportActivity.held_on >= first,
            SupportActivity.held_on <= last,
        )
        .group_by(
            SupportActivity.school_id,
            SupportActivity.kind,
            SupportActivity.held_on,
            observed_student,
        )
    ):
        for _ in range(int(number)):
            if kind is ActivityKind.CLASS_OBSERVATION:
                observations[school_id].append((held_on, student_id))
            else:
                teacher_support[school_id].append(held_on)

    events: dict[int, dict[str, list[tuple[int, date, date | None]]]] = {i: {} for i in school_ids}
    for school_id, kind, student_id, on_day, until in await session.execute(
        select(
            StudentEvent.school_id,
            StudentEvent.kind,
            StudentEvent.student_id,
            StudentEvent.on_day,
            StudentEvent.until,
        ).where(
            StudentEvent.school_id.in_(school_ids),
            StudentEvent.on_day <= last,
            # An OPP counts for afstroom and VAVO later on, however old.
            or_(
                StudentEvent.kind == StudentEventKind.OPP,
                func.coalesce(StudentEvent.until, StudentEvent.on_day) >= first,
            ),
        )
    ):
        events[school_id].setdefault(kind.value, []).append((student_id, on_day, until))

    visitations: dict[int, list[date]] = {i: [] for i in school_ids}
    for school_id, held_on, number in await session.execute(
        select(VisitationReport.school_id, VisitationReport.held_on, func.count())
        .where(
            VisitationReport.school_id.in_(school_ids),
            VisitationReport.held_on >= first,
            VisitationReport.held_on <= last,
        )
        .group_by(VisitationReport.school_id, VisitationReport.held_on)
    ):
        visitations[school_id].extend([held_on] * int(number))

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
            enrolment=tuple(enrolment[school_id]),
            today=local_day(now, zones[school_id]),
            referrals=tuple(referrals[school_id]),
            trajectories=tuple(trajectories[school_id]),
            attended_timeouts=tuple(attended[school_id]),
            observations=tuple(observations[school_id]),
            teacher_support=tuple(teacher_support[school_id]),
            events=MappingProxyType(
                {kind: tuple(spans) for kind, spans in events[school_id].items()}
            ),
            visitations=tuple(visitations[school_id]),
        )
        for school_id in school_ids
    }


async def read_targets(
    *, session: AsyncSession, school_ids: Sequence[int], years: Sequence[int]
) -> dict[tuple[int, int], Mapping[Indicator, float]]:
    """The partnership's targets per (school, school year): indicator → percent (0-100).
    Targets of indicators no longer known are left out."""
    known = {indicator.value: indicator for indicator in TARGETED}
    targets: dict[tuple[int, int], dict[Indicator, float]] = {}
    for school_id, year, indicator, target in await session.execute(
        select(
            IndicatorTarget.school_id,
            IndicatorTarget.school_year,
            IndicatorTarget.indicator,
            IndicatorTarget.target,
        ).where(IndicatorTarget.school_id.in_(school_ids), IndicatorTarget.school_year.in_(years))
    ):
        if indicator in known:
            targets.setdefault((school_id, year), {})[known[indicator]] = float(target)
    return {key: MappingProxyType(value) for key, value in targets.items()}
