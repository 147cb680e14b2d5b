"""Indicators per school and month (seed 004), for the school and across the partnership.

Read-only figures computed from the stored referrals, trajectories, evaluations, time-out
appointments and (through `services.surveys.report`) exit questionnaires. The results hold
numbers only: no child's name or id ever leaves this module (rows read inside it carry ids
to count distinct students; the dataclasses returned carry none).

Definitions (also in docs/decisions.md and on the page's footnote):

* **month**: a calendar month in the school's time zone; a stored UTC instant belongs to the
  month of its local date.
* **enrolled**: people with the role *student* at the school now (the product keeps no
  enrolment history, so the same number serves every month).
* **referred**: distinct students with a referral submitted in the month; **share** = referred
  / enrolled.
* **class observations**: accepted referrals that ask for observation in class, counted in
  the month of acceptance (the trajectory's creation). The product records no observation as
  such; the seeds place the observation at the start, to clarify the help question.
* **active trajectories**: trajectories active at any time in the month (activated on or
  before its last day, not closed before its first day). **Length**: days from activation to
  closing, or to the month's end (today in the running month); mean and median.
* **time-outs per student**: time-out appointments attended in the month / distinct students
  with an active trajectory in the month.
* **overdue**: trajectories not closed at the month's end (today in the running month) that
  the trajectory list would flag on that day (`services.trajectories.view.overdue_flags`, reused):
  past their end date, or an evaluation due before that day and not held by then, or a week
  (begun by then) with more time-outs (booked, confirmed or attended) than the plan allows,
  or any time-out while time-out is not in the plan.
* **questionnaire** (`services.surveys.report`, reused): mean score (1-5, "don't know" left out)
  per question and respondent type over the questionnaires completed in the month; response
  rate per respondent type = answered / invited, of the invitations created in the month
  (answered so far: a recent month's rate can still rise).

Small groups (`SMALL_GROUP`): on the partnership's view every figure is about a number of
children or respondents, its *base*. A figure whose base is 1-4 is hidden ("< 5"); the
all-schools total of a figure is hidden too when the bases of the schools hidden for it add
up to 1-4, so a hidden figure can never be derived as total minus the shown schools. Zero
describes no child and is shown. Questionnaire figures follow the rule on the school's own
view as well: answers may be anonymous, and staff must not read one person's answers off a
mean.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed
from services.surveys.report import survey_report
from services.trajectories.view import COUNTED_TIMEOUT_STATUSES, EvaluationFacts, overdue_flags
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
    TrajectoryStatus,
)

log = logging.getLogger(__name__)

#: Figures about fewer children or respondents than this are hidden on aggregate views.
SMALL_GROUP = 5
#: The longest period one request may cover.
MAX_MONTHS = 24

_K = TypeVar("_K")

#: Read a little beyond the period in UTC, then bucket by local date (exact in any time zone).
_MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month (``2026-03``)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1900 <= self.year <= 9999):
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, value: str) -> Month:
        """``"2026-03"`` → ``Month(2026, 3)``; `ValueError` for anything else."""
        year, sep, month = value.strip().partition("-")
        if not sep or len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
            raise ValueError(f"not a month: {value!r}")
        return cls(int(year), int(month))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month ``day`` lies in."""
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Month:
        """The month after this one."""
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        """The month before this one."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> tuple[Month, ...]:
    """Every month from ``first`` to ``last``, both included (empty when last < first)."""
    months: list[Month] = []
    current = first
    while current <= last:
        months.append(current)
        current = current.next()
    return tuple(months)


def validate_period(first: Month, last: Month, *, today: date) -> Text | None:
    """What is wrong with the period, or ``None`` when it can be shown."""
    if last < first:
        return Text.of(N_("The first month must not lie after the last month."))
    if last > Month.of(today):
        return Text.of(N_("The period cannot end after the current month."))
    if len(months_between(first, last)) > MAX_MONTHS:
        return Text.plural_of(
            "Choose a period of at most {count} month.",
            "Choose a period of at most {count} months.",
            MAX_MONTHS,
        )
    return None


class Indicator(StrEnum):
    """The figures per school and month, in the order tables show them."""

    ENROLLED = "enrolled"
    REFERRED = "referred"
    REFERRED_SHARE = "referred_share"
    CLASS_OBSERVATIONS = "class_observations"
    ACTIVE_TRAJECTORIES = "active_trajectories"
    LENGTH_MEAN_DAYS = "length_mean_days"
    LENGTH_MEDIAN_DAYS = "length_median_days"
    TIMEOUTS_ATTENDED = "timeouts_attended"
    TIMEOUTS_PER_STUDENT = "timeouts_per_student"
    OVERDUE = "overdue"


class IndicatorOutput(StrEnum):
    """How the figures left the system (kept in the audit trail)."""

    PAGE = "page"
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class Figure:
    """One published number.

    ``value`` is ``None`` when there is nothing to compute (a mean of no trajectories) or when
    the figure is ``hidden`` by the small-group rule; a hidden figure keeps no trace of its
    value or its base.
    """

    value: float | None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Every figure of one school (or of all schools together) in one month.

    ``questions``: mean score per (respondent type, question code); ``response_rates``: share
    of invitations answered, per respondent type (0-1).
    """

    month: Month
    figures: Mapping[Indicator, Figure]
    questions: Mapping[tuple[str, str], Figure] = field(
        default_factory=lambda: MappingProxyType({})
    )
    response_rates: Mapping[str, Figure] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, indicator: Indicator) -> Figure:
        return self.figures[indicator]


@dataclass(frozen=True, slots=True)
class SchoolIndicators:
    """One school's months (``name`` is the school's, never a person's)."""

    school_id: int
    name: str
    months: tuple[MonthFigures, ...]


@dataclass(frozen=True, slots=True)
class IndicatorReport:
    """What a page or an export shows.

    ``total`` pools all schools (partnership view only); ``suppressed`` tells whether the
    small-group rule was applied to every figure (partnership) or to the questionnaire only.
    """

    first: Month
    last: Month
    schools: tuple[SchoolIndicators, ...]
    total: SchoolIndicators | None
    suppressed: bool
    #: Respondent types and question codes present, in a stable order, for table columns.
    question_keys: tuple[tuple[str, str], ...] = ()
    respondent_types: tuple[str, ...] = ()

    @property
    def months(self) -> tuple[Month, ...]:
        return months_between(self.first, self.last)


# --- Survey figures (from services.surveys.report) ------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyMonth:
    """The questionnaire raw figures of one school in one month, as sums that pool exactly.

    ``scores``: (respondent type, question) → (sum of scores, number of scored answers);
    ``invitations``: respondent type → (invited, responded).
    """

    scores: Mapping[tuple[str, str], tuple[float, int]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    invitations: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))


async def _survey_months(
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


# --- Facts read from the database ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TrajectoryFacts:
    student_id: int
    created_on: date
    activated_on: date | None
    closed_on: date | None
    end_date: date | None
    timeouts_in_plan: bool
    timeouts_per_week: int
    class_observation: bool
    #: (due, held) per evaluation.
    evaluations: tuple[tuple[date, date | None], ...]
    #: School-local days of the time-outs that count against the week's cap.
    timeout_days: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class _SchoolFacts:
    enrolled: int
    today: date
    referrals: tuple[tuple[int, date], ...]
    trajectories: tuple[_TrajectoryFacts, ...]
    attended_timeouts: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class _MonthRaw:
    """Unpublished figures of one month with what they are about; pooled across schools."""

    enrolled: int = 0
    referred: frozenset[int] = frozenset()
    class_observations: int = 0
    active_students: frozenset[int] = frozenset()
    lengths: tuple[int, ...] = ()
    timeouts_attended: int = 0
    overdue: int = 0
    survey: SurveyMonth = field(default_factory=SurveyMonth)


@dataclass(frozen=True, slots=True)
class _Measure:
    value: float | None
    #: How many children (or respondents) the value is about.
    base: int


def _month_raw(facts: _SchoolFacts, month: Month, survey: SurveyMonth | None) -> _MonthRaw:
    first, last = month.first_day, month.last_day
    as_of = min(last, facts.today)
    active = [
        t
        for t in facts.trajectories
        if t.activated_on is not None
        and t.activated_on <= last
        and (t.closed_on is None or t.closed_on >= first)
    ]
    lengths = tuple(
        (min(t.closed_on or as_of, as_of) - t.activated_on).days
        for t in active
        if t.activated_on is not None
    )
    return _MonthRaw(
        enrolled=facts.enrolled,
        referred=frozenset(student for student, day in facts.referrals if first <= day <= last),
        class_observations=sum(
            1 for t in facts.trajectories if t.class_observation and first <= t.created_on <= last
        ),
        active_students=frozenset(t.student_id for t in active),
        lengths=lengths,
        timeouts_attended=sum(1 for day in facts.attended_timeouts if first <= day <= last),
        overdue=sum(1 for t in facts.trajectories if _overdue(t, as_of)),
        survey=survey or SurveyMonth(),
    )


def _overdue(trajectory: _TrajectoryFacts, as_of: date) -> bool:
    """Whether the trajectory was open on ``as_of`` and flagged as the trajectory list flags
    it (`services.trajectories.view.overdue_flags`), with what was known by that day: evaluations
    held later count as not held, time-outs count for the weeks begun by then."""
    if trajectory.created_on > as_of:
        return False
    if trajectory.closed_on is not None and trajectory.closed_on <= as_of:
        return False
    flags = overdue_flags(
        status=TrajectoryStatus.ACTIVE,
        end_date=trajectory.end_date,
        evaluations=[
            EvaluationFacts(
                due_on=due, held_on=held if held is not None and held <= as_of else None
            )
            for due, held in trajectory.evaluations
        ],
        timeouts_in_plan=trajectory.timeouts_in_plan,
        timeouts_per_week=trajectory.timeouts_per_week,
        timeout_days=[
            day for day in trajectory.timeout_days if day - timedelta(days=day.weekday()) <= as_of
        ],
        today=as_of,
    )
    return bool(flags)


def _known(day: date | None, as_of: date) -> date | None:
    """``day`` if it had come by ``as_of``, else ``None``."""
    return day if day is not None and day <= as_of else None


def _pool(raws: Iterable[_MonthRaw]) -> _MonthRaw:
    pooled = _MonthRaw()
    for raw in raws:
        scores = dict(pooled.survey.scores)
        for key, (total, n) in raw.survey.scores.items():
            old_total, old_n = scores.get(key, (0.0, 0))
            scores[key] = (old_total + total, old_n + n)
        invitations = dict(pooled.survey.invitations)
        for kind, (invited, responded) in raw.survey.invitations.items():
            old_invited, old_responded = invitations.get(kind, (0, 0))
            invitations[kind] = (old_invited + invited, old_responded + responded)
        pooled = _MonthRaw(
            enrolled=pooled.enrolled + raw.enrolled,
            referred=pooled.referred | raw.referred,
            class_observations=pooled.class_observations + raw.class_observations,
            active_students=pooled.active_students | raw.active_students,
            lengths=pooled.lengths + raw.lengths,
            timeouts_attended=pooled.timeouts_attended + raw.timeouts_attended,
            overdue=pooled.overdue + raw.overdue,
            survey=SurveyMonth(
                scores=MappingProxyType(scores), invitations=MappingProxyType(invitations)
            ),
        )
    return pooled


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _measures(raw: _MonthRaw) -> dict[Indicator, _Measure]:
    referred = len(raw.referred)
    students = len(raw.active_students)
    lengths = raw.lengths
    return {
        Indicator.ENROLLED: _Measure(raw.enrolled, raw.enrolled),
        Indicator.REFERRED: _Measure(referred, referred),
        Indicator.REFERRED_SHARE: _Measure(_ratio(referred, raw.enrolled), referred),
        Indicator.CLASS_OBSERVATIONS: _Measure(raw.class_observations, raw.class_observations),
        Indicator.ACTIVE_TRAJECTORIES: _Measure(len(lengths), students),
        Indicator.LENGTH_MEAN_DAYS: _Measure(
            statistics.fmean(lengths) if lengths else None, students
        ),
        Indicator.LENGTH_MEDIAN_DAYS: _Measure(
            float(statistics.median(lengths)) if lengths else None, students
        ),
        Indicator.TIMEOUTS_ATTENDED: _Measure(raw.timeouts_attended, students),
        Indicator.TIMEOUTS_PER_STUDENT: _Measure(_ratio(raw.timeouts_attended, students), students),
        Indicator.OVERDUE: _Measure(raw.overdue, raw.overdue),
    }


def _question_measures(raw: _MonthRaw) -> dict[tuple[str, str], _Measure]:
    return {key: _Measure(_ratio(total, n), n) for key, (total, n) in raw.survey.scores.items()}


def _rate_measures(raw: _MonthRaw) -> dict[str, _Measure]:
    return {
        kind: _Measure(_ratio(responded, invited), invited)
        for kind, (invited, responded) in raw.survey.invitations.items()
    }


def _is_small(base: int) -> bool:
    return 0 < base < SMALL_GROUP


def _publish(measure: _Measure, *, suppress: bool, hidden_parts: int = 0) -> Figure:
    """The figure as shown: hidden when about 1-4 children, or when hidden parts would show.

    ``hidden_parts`` is, for a total, the sum of the bases of its parts that are hidden.
    """
    if suppress and (_is_small(measure.base) or _is_small(hidden_parts)):
        return Figure(None, hidden=True)
    return Figure(measure.value)


def _hidden_base(parts: Sequence[Mapping[_K, _Measure]], key: _K) -> int:
    """The sum of the bases of the parts that hide the figure ``key``."""
    return sum(part[key].base for part in parts if key in part and _is_small(part[key].base))


def _published_month(
    month: Month,
    raw: _MonthRaw,
    *,
    suppress: bool,
    parts: Sequence[_MonthRaw] = (),
) -> MonthFigures:
    """Publish one month; for a total, ``parts`` are the schools it pools."""
    part_measures = [_measures(part) for part in parts]
    part_questions = [_question_measures(part) for part in parts]
    part_rates = [_rate_measures(part) for part in parts]

    figures = {
        indicator: _publish(
            measure, suppress=suppress, hidden_parts=_hidden_base(part_measures, indicator)
        )
        for indicator, measure in _measures(raw).items()
    }
    # Questionnaire figures are suppressed on every view (anonymity, see the module doc).
    questions = {
        key: _publish(measure, suppress=True, hidden_parts=_hidden_base(part_questions, key))
        for key, measure in _question_measures(raw).items()
    }
    rates = {
        kind: _publish(measure, suppress=True, hidden_parts=_hidden_base(part_rates, kind))
        for kind, measure in _rate_measures(raw).items()
    }
    return MonthFigures(
        month=month,
        figures=MappingProxyType(figures),
        questions=MappingProxyType(questions),
        response_rates=MappingProxyType(rates),
    )


def _compute_report(
    *,
    schools: Sequence[tuple[int, str, _SchoolFacts]],
    months: Sequence[Month],
    survey: Mapping[tuple[int, Month], SurveyMonth],
    with_total: bool,
) -> IndicatorReport:
    """Publish the figures of ``schools`` (pure; suppression applies when ``with_total``)."""
    raws = {
        school_id: [_month_raw(facts, month, survey.get((school_id, month))) for month in months]
        for school_id, _name, facts in schools
    }
    published = tuple(
        SchoolIndicators(
            school_id=school_id,
            name=name,
            months=tuple(
                _published_month(month, raw, suppress=with_total)
                for month, raw in zip(months, raws[school_id], strict=True)
            ),
        )
        for school_id, name, _facts in schools
    )
    total: SchoolIndicators | None = None
    if with_total:
        total_months = []
        for index, month in enumerate(months):
            parts = [raws[school_id][index] for school_id, _name, _facts in schools]
            total_months.append(_published_month(month, _pool(parts), suppress=True, parts=parts))
        total = SchoolIndicators(school_id=0, name="", months=tuple(total_months))
    question_keys: set[tuple[str, str]] = set()
    respondent_types: set[str] = set()
    for month_raws in raws.values():
        for raw in month_raws:
            question_keys.update(raw.survey.scores)
            respondent_types.update(raw.survey.invitations)
    return IndicatorReport(
        first=months[0],
        last=months[-1],
        schools=published,
        total=total,
        suppressed=with_total,
        question_keys=tuple(sorted(question_keys, key=_question_order)),
        respondent_types=tuple(sorted(respondent_types, key=_respondent_order)),
    )


_RESPONDENT_ORDER = ("student", "parent", "teacher", "mentor")


def _respondent_order(kind: str) -> tuple[int, str]:
    return (
        _RESPONDENT_ORDER.index(kind) if kind in _RESPONDENT_ORDER else len(_RESPONDENT_ORDER),
        kind,
    )


def _question_order(key: tuple[str, str]) -> tuple[tuple[int, str], str]:
    return (_respondent_order(key[0]), key[1])


# --- Reading -------------------------------------------------------------------------------


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _utc_bounds(months: Sequence[Month]) -> tuple[datetime, datetime]:
    start = datetime.combine(months[0].first_day, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(months[-1].last_day, datetime.min.time(), tzinfo=UTC)
    return start - _MARGIN, end + timedelta(days=1) + _MARGIN


async def _read_facts(
    *, session: AsyncSession, schools: Sequence[School], months: Sequence[Month], now: datetime
) -> dict[int, _SchoolFacts]:
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
        referrals[school_id].append((student_id, _local_day(created_at, zones[school_id])))

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
        timeout_days.setdefault(trajectory_id, []).append(_local_day(starts_at, zones[school_id]))

    trajectories: dict[int, list[_TrajectoryFacts]] = {school_id: [] for school_id in school_ids}
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
            _TrajectoryFacts(
                student_id=student_id,
                created_on=_local_day(created_at, zone),
                activated_on=_local_day(activated_at, zone) if activated_at else None,
                closed_on=_local_day(closed_at, zone) if closed_at else None,
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
        attended[school_id].append(_local_day(starts_at, zones[school_id]))

    return {
        school_id: _SchoolFacts(
            enrolled=int(enrolled.get(school_id, 0)),
            today=_local_day(now, zones[school_id]),
            referrals=tuple(referrals[school_id]),
            trajectories=tuple(trajectories[school_id]),
            attended_timeouts=tuple(attended[school_id]),
        )
        for school_id in school_ids
    }


def _check_period(first: Month, last: Month, now: datetime, zone: ZoneInfo) -> tuple[Month, ...]:
    problem = validate_period(first, last, today=_local_day(now, zone))
    if problem is not None:
        raise InputInvalid(problem)
    return months_between(first, last)


async def _report(
    *,
    session: AsyncSession,
    schools: Sequence[School],
    months: Sequence[Month],
    now: datetime,
    with_total: bool,
) -> IndicatorReport:
    facts = await _read_facts(session=session, schools=schools, months=months, now=now)
    survey = await _survey_months(
        session=session, school_ids=[school.id for school in schools], months=months, now=now
    )
    return _compute_report(
        schools=[(school.id, school.name, facts[school.id]) for school in schools],
        months=months,
        survey=survey,
        with_total=with_total,
    )


_SCHOOL_ROLES = (Role.CARE_COORDINATOR, Role.ADMIN)


async def school_indicators(
    *,
    session: AsyncSession,
    viewer: Person,
    first: Month,
    last: Month,
    now: datetime,
    output: IndicatorOutput = IndicatorOutput.PAGE,
) -> IndicatorReport:
    """The viewer's own school, month by month (unit of work; audited as ``indicators.view``).

    Only a care coordinator or an admin of the school sees it; anyone else gets `NotAllowed`.
    A bad period raises `InputInvalid`.
    """
    async with session.begin():
        viewer = await reload_actor(session=session, actor=viewer)
        if not any(viewer.has_role(role) for role in _SCHOOL_ROLES):
            log.info("indicators refused: person_id=%s", viewer.id)
            raise NotAllowed(Text.of(N_("This is not available for your role.")))
        school = await session.get(School, viewer.school_id)
        if school is None:  # pragma: no cover - guaranteed by the foreign key
            raise NotAllowed(Text.of(N_("You are not known at this school.")))
        months = _check_period(first, last, now, ZoneInfo(school.timezone))
        report = await _report(
            session=session, schools=[school], months=months, now=now, with_total=False
        )
        record_audit(
            session=session,
            school_id=school.id,
            actor_id=viewer.id,
            action="indicators.view",
            subject_type="school",
            subject_id=school.id,
            details={"from": str(first), "to": str(last), "output": output.value},
            at=now,
        )
    return report


async def partnership_indicators(
    *,
    session: AsyncSession,
    viewer: Person,
    first: Month,
    last: Month,
    now: datetime,
    output: IndicatorOutput = IndicatorOutput.PAGE,
) -> IndicatorReport:
    """Every school side by side plus the total, small groups hidden (unit of work).

    Only a partnership viewer sees it (`NotAllowed` otherwise); audited as
    ``indicators.partnership_view`` in the viewer's own school's trail, listing the schools.
    """
    async with session.begin():
        viewer = await reload_actor(session=session, actor=viewer)
        if not viewer.has_role(Role.PARTNERSHIP_VIEWER):
            log.info("partnership indicators refused: person_id=%s", viewer.id)
            raise NotAllowed(Text.of(N_("This is not available for your role.")))
        schools = list(await session.scalars(select(School).order_by(School.name, School.id)))
        own = next(school for school in schools if school.id == viewer.school_id)
        months = _check_period(first, last, now, ZoneInfo(own.timezone))
        report = await _report(
            session=session, schools=schools, months=months, now=now, with_total=True
        )
        record_audit(
            session=session,
            school_id=viewer.school_id,
            actor_id=viewer.id,
            action="indicators.partnership_view",
            subject_type="partnership",
            subject_id=viewer.school_id,
            details={
                "from": str(first),
                "to": str(last),
                "output": output.value,
                "schools": [school.id for school in schools],
            },
            at=now,
        )
    return report
