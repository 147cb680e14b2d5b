"""The indicators' arithmetic and the small-group rule (pure: no I/O; the facts come from
`services.indicators.facts`).

Figures per school and month (seed 004), for the school and across the partnership, from the
stored referrals, trajectories, evaluations, time-out appointments and exit questionnaires.
The facts carry student ids only to count distinct students; the published report carries
none.

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
  the trajectory list would flag on that day (`services.trajectories.rules.overdue_flags`, reused):
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

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import TypeVar

from services.indicators.periods import Month, months_between, school_year_bounds
from services.indicators.report import (
    Figure,
    Indicator,
    IndicatorReport,
    MonthFigures,
    SchoolIndicators,
    YearFigures,
)
from services.surveys.rules import SMALL_GROUP as SURVEY_SMALL_GROUP
from services.trajectories.rules import EvaluationFacts, overdue_flags
from storage.models import StudentEventKind, TrajectoryStatus

#: Figures about fewer children or respondents than this are hidden on aggregate views (one
#: number with the survey report's rule for anonymous answers).
SMALL_GROUP = SURVEY_SMALL_GROUP

_K = TypeVar("_K")


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


@dataclass(frozen=True, slots=True)
class TrajectoryFacts:
    """What the figures need of one trajectory, with school-local dates."""

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


#: (first local day, last local day or ``None`` while going on, how many students).
Enrolment = tuple[tuple[date | None, date | None, int], ...]
#: (student, first day, last day or ``None``) of one kind of student event.
EventSpans = tuple[tuple[int, date, date | None], ...]


@dataclass(frozen=True, slots=True)
class SchoolFacts:
    """What the figures need of one school: its enrolment history, its local today, referrals
    (student, day), trajectories, the days of attended time-outs, observations in class held
    (day, student when about one), teacher support held (days), the student events per kind
    and the visitation reports (days)."""

    enrolment: Enrolment
    today: date
    referrals: tuple[tuple[int, date], ...]
    trajectories: tuple[TrajectoryFacts, ...]
    attended_timeouts: tuple[date, ...]
    observations: tuple[tuple[date, int | None], ...] = ()
    teacher_support: tuple[date, ...] = ()
    events: Mapping[str, EventSpans] = field(default_factory=lambda: MappingProxyType({}))
    visitations: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class MonthRaw:
    """Unpublished figures of one month (or school year) with what they are about; pooled
    across schools."""

    enrolled: int = 0
    referred: frozenset[int] = frozenset()
    class_observations: int = 0
    observed: frozenset[int] = frozenset()
    teacher_support: int = 0
    #: Students per event kind (``StudentEventKind`` values) in the period.
    events: Mapping[str, frozenset[int]] = field(default_factory=lambda: MappingProxyType({}))
    #: Students whose afstroom / VAVO in the period came with an OPP recorded before.
    outflow_with_opp: frozenset[int] = frozenset()
    vavo_with_opp: frozenset[int] = frozenset()
    visitations: int = 0
    active_students: frozenset[int] = frozenset()
    lengths: tuple[int, ...] = ()
    timeouts_attended: int = 0
    overdue: int = 0
    survey: SurveyMonth = field(default_factory=SurveyMonth)


@dataclass(frozen=True, slots=True)
class Measure:
    """An unpublished figure and its base (what the small-group rule looks at)."""

    value: float | None
    #: How many children (or respondents) the value is about.
    base: int


def enrolled_between(enrolment: Enrolment, first: date, last: date) -> int:
    """Students with an active student role at any time from ``first`` to ``last``."""
    return sum(
        count
        for start, end, count in enrolment
        if (start is None or start <= last) and (end is None or end >= first)
    )


def _event_students(spans: EventSpans, first: date, last: date) -> frozenset[int]:
    """Students with an event in the period (a span counts when it overlaps it)."""
    return frozenset(
        student for student, on, until in spans if on <= last and (until or on) >= first
    )


def _with_opp(spans: EventSpans, opp: EventSpans, first: date, last: date) -> frozenset[int]:
    """Of the students with an event in the period, those with an OPP recorded on or before
    the event's day."""
    opp_from: dict[int, date] = {}
    for student, on, _until in opp:
        opp_from[student] = min(on, opp_from.get(student, on))
    return frozenset(
        student
        for student, on, _until in spans
        if first <= on <= last and student in opp_from and opp_from[student] <= on
    )


def month_raw(facts: SchoolFacts, month: Month, survey: SurveyMonth | None) -> MonthRaw:
    """One school's unpublished figures of ``month`` (as of its last day, or today in the
    running month)."""
    return period_raw(facts, month.first_day, month.last_day, survey)


def period_raw(facts: SchoolFacts, first: date, last: date, survey: SurveyMonth | None) -> MonthRaw:
    """One school's unpublished figures from ``first`` to ``last`` (a month or a school year;
    as of its last day, or today in the running period)."""
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
    observations = [(day, student) for day, student in facts.observations if first <= day <= last]
    opp = facts.events.get(StudentEventKind.OPP.value, ())
    return MonthRaw(
        enrolled=enrolled_between(facts.enrolment, first, last),
        referred=frozenset(student for student, day in facts.referrals if first <= day <= last),
        class_observations=len(observations),
        observed=frozenset(student for _day, student in observations if student is not None),
        teacher_support=sum(1 for day in facts.teacher_support if first <= day <= last),
        events=MappingProxyType(
            {
                kind.value: _event_students(facts.events.get(kind.value, ()), first, last)
                for kind in StudentEventKind
            }
        ),
        outflow_with_opp=_with_opp(
            facts.events.get(StudentEventKind.OUTFLOW.value, ()), opp, first, last
        ),
        vavo_with_opp=_with_opp(
            facts.events.get(StudentEventKind.VAVO.value, ()), opp, first, last
        ),
        visitations=sum(1 for day in facts.visitations if first <= day <= last),
        active_students=frozenset(t.student_id for t in active),
        lengths=lengths,
        timeouts_attended=sum(1 for day in facts.attended_timeouts if first <= day <= last),
        overdue=sum(1 for t in facts.trajectories if overdue_on(t, as_of)),
        survey=survey or SurveyMonth(),
    )


def overdue_on(trajectory: TrajectoryFacts, as_of: date) -> bool:
    """Whether the trajectory was open on ``as_of`` and flagged as the trajectory list flags
    it (`services.trajectories.rules.overdue_flags`), with what was known by that day: evaluations
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


def pool(raws: Iterable[MonthRaw]) -> MonthRaw:
    """Several schools' figures of one month as one: counts add up, students are counted once,
    questionnaire sums add up (so pooled means and rates are exact). Each set is joined once
    (not school by school: 30 schools would copy the growing sets 30 times)."""
    raws = list(raws)
    scores: dict[tuple[str, str], tuple[float, int]] = {}
    invitations: dict[str, tuple[int, int]] = {}
    for raw in raws:
        for key, (total, n) in raw.survey.scores.items():
            old_total, old_n = scores.get(key, (0.0, 0))
            scores[key] = (old_total + total, old_n + n)
        for kind, (invited, responded) in raw.survey.invitations.items():
            old_invited, old_responded = invitations.get(kind, (0, 0))
            invitations[kind] = (old_invited + invited, old_responded + responded)
    kinds = {kind for raw in raws for kind in raw.events}
    empty: frozenset[int] = frozenset()
    return MonthRaw(
        enrolled=sum(raw.enrolled for raw in raws),
        referred=empty.union(*(raw.referred for raw in raws)),
        class_observations=sum(raw.class_observations for raw in raws),
        observed=empty.union(*(raw.observed for raw in raws)),
        teacher_support=sum(raw.teacher_support for raw in raws),
        events=MappingProxyType(
            {kind: empty.union(*(raw.events.get(kind, empty) for raw in raws)) for kind in kinds}
        ),
        outflow_with_opp=empty.union(*(raw.outflow_with_opp for raw in raws)),
        vavo_with_opp=empty.union(*(raw.vavo_with_opp for raw in raws)),
        visitations=sum(raw.visitations for raw in raws),
        active_students=empty.union(*(raw.active_students for raw in raws)),
        lengths=tuple(length for raw in raws for length in raw.lengths),
        timeouts_attended=sum(raw.timeouts_attended for raw in raws),
        overdue=sum(raw.overdue for raw in raws),
        survey=SurveyMonth(
            scores=MappingProxyType(scores), invitations=MappingProxyType(invitations)
        ),
    )


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def measures(raw: MonthRaw) -> dict[Indicator, Measure]:
    """Every indicator of one month with the number of children it is about."""
    referred = len(raw.referred)
    students = len(raw.active_students)
    lengths = raw.lengths
    enrolled = raw.enrolled
    observed = len(raw.observed)

    def count_and_share(kind: StudentEventKind) -> tuple[Measure, Measure]:
        number = len(raw.events.get(kind.value, frozenset()))
        return Measure(number, number), Measure(_ratio(number, enrolled), number)

    opp, opp_share = count_and_share(StudentEventKind.OPP)
    tlv_requested, tlv_requested_share = count_and_share(StudentEventKind.TLV_REQUESTED)
    tlv_granted, tlv_granted_share = count_and_share(StudentEventKind.TLV_GRANTED)
    absence, absence_share = count_and_share(StudentEventKind.LONG_ABSENCE)
    outflow, outflow_share = count_and_share(StudentEventKind.OUTFLOW)
    vavo, vavo_share = count_and_share(StudentEventKind.VAVO)
    outflow_opp = len(raw.outflow_with_opp)
    vavo_opp = len(raw.vavo_with_opp)
    return {
        Indicator.ENROLLED: Measure(enrolled, enrolled),
        Indicator.REFERRED: Measure(referred, referred),
        Indicator.REFERRED_SHARE: Measure(_ratio(referred, enrolled), referred),
        # A count of observations (a class or a teacher is no child): shown below five too,
        # but hidden with the children observed when those are few.
        Indicator.CLASS_OBSERVATIONS: Measure(raw.class_observations, observed),
        Indicator.OBSERVED_SHARE: Measure(_ratio(observed, enrolled), observed),
        Indicator.TEACHER_SUPPORT: Measure(raw.teacher_support, 0),
        Indicator.OPP: opp,
        Indicator.OPP_SHARE: opp_share,
        Indicator.TLV_REQUESTED: tlv_requested,
        Indicator.TLV_REQUESTED_SHARE: tlv_requested_share,
        Indicator.TLV_GRANTED: tlv_granted,
        Indicator.TLV_GRANTED_SHARE: tlv_granted_share,
        Indicator.LONG_ABSENCE: absence,
        Indicator.LONG_ABSENCE_SHARE: absence_share,
        Indicator.OUTFLOW: outflow,
        Indicator.OUTFLOW_WITH_OPP: Measure(outflow_opp, outflow.base),
        Indicator.OUTFLOW_SHARE: outflow_share,
        Indicator.VAVO: vavo,
        Indicator.VAVO_WITH_OPP: Measure(vavo_opp, vavo.base),
        Indicator.VAVO_SHARE: vavo_share,
        Indicator.VISITATIONS: Measure(raw.visitations, 0),
        Indicator.ACTIVE_TRAJECTORIES: Measure(len(lengths), students),
        Indicator.LENGTH_MEAN_DAYS: Measure(
            statistics.fmean(lengths) if lengths else None, students
        ),
        Indicator.LENGTH_MEDIAN_DAYS: Measure(
            float(statistics.median(lengths)) if lengths else None, students
        ),
        Indicator.TIMEOUTS_ATTENDED: Measure(raw.timeouts_attended, students),
        Indicator.TIMEOUTS_PER_STUDENT: Measure(_ratio(raw.timeouts_attended, students), students),
        Indicator.OVERDUE: Measure(raw.overdue, raw.overdue),
    }


def question_measures(raw: MonthRaw) -> dict[tuple[str, str], Measure]:
    """The mean score per (respondent type, question), based on the number of answers."""
    return {key: Measure(_ratio(total, n), n) for key, (total, n) in raw.survey.scores.items()}


def rate_measures(raw: MonthRaw) -> dict[str, Measure]:
    """The response rate per respondent type, based on the number invited."""
    return {
        kind: Measure(_ratio(responded, invited), invited)
        for kind, (invited, responded) in raw.survey.invitations.items()
    }


def is_small(base: int) -> bool:
    """Whether a figure about ``base`` children is too small to show (1-4; zero is shown)."""
    return 0 < base < SMALL_GROUP


def publish(measure: Measure, *, suppress: bool, hidden_parts: int = 0) -> Figure:
    """The figure as shown: hidden when about 1-4 children, or when hidden parts would show.

    ``hidden_parts`` is, for a total, the sum of the bases of its parts that are hidden.
    """
    if suppress and (is_small(measure.base) or is_small(hidden_parts)):
        return Figure(None, hidden=True)
    return Figure(measure.value)


def hidden_base(parts: Sequence[Mapping[_K, Measure]], key: _K) -> int:
    """The sum of the bases of the parts that hide the figure ``key``."""
    return sum(part[key].base for part in parts if key in part and is_small(part[key].base))


def hidden_bases(parts: Sequence[Mapping[_K, Measure]]) -> dict[_K, int]:
    """`hidden_base` of every figure the parts hide, in one pass over the parts (a figure no
    part hides is left out: 0)."""
    bases: dict[_K, int] = {}
    for part in parts:
        for key, measure in part.items():
            if is_small(measure.base):
                bases[key] = bases.get(key, 0) + measure.base
    return bases


#: Every measure of one raw: the indicators, the questionnaire's means and response rates.
_Measured = tuple[dict[Indicator, Measure], dict[tuple[str, str], Measure], dict[str, Measure]]
#: Measures already taken, by the raw's id, with the raw itself: kept alive, so that no later
#: raw of the same report can take its id.
Memo = dict[int, tuple[MonthRaw, _Measured]]


def _measured(raw: MonthRaw, memo: Memo | None) -> _Measured:
    """The measures of ``raw``, taken once per report: a school's month is measured to publish
    it and again as a part of the total."""
    found = memo.get(id(raw)) if memo is not None else None
    if found is not None and found[0] is raw:
        return found[1]
    measured = measures(raw), question_measures(raw), rate_measures(raw)
    if memo is not None:
        memo[id(raw)] = (raw, measured)
    return measured


def _published(
    raw: MonthRaw, *, suppress: bool, parts: Sequence[MonthRaw], memo: Memo | None = None
) -> tuple[dict[Indicator, Figure], dict[tuple[str, str], Figure], dict[str, Figure]]:
    measured_parts = [_measured(part, memo) for part in parts]
    hidden = hidden_bases([part[0] for part in measured_parts])
    hidden_questions = hidden_bases([part[1] for part in measured_parts])
    hidden_rates = hidden_bases([part[2] for part in measured_parts])
    own, own_questions, own_rates = _measured(raw, memo)

    figures = {
        indicator: publish(measure, suppress=suppress, hidden_parts=hidden.get(indicator, 0))
        for indicator, measure in own.items()
    }
    # Questionnaire figures are suppressed on every view (anonymity, see the module doc).
    questions = {
        key: publish(measure, suppress=True, hidden_parts=hidden_questions.get(key, 0))
        for key, measure in own_questions.items()
    }
    rates = {
        kind: publish(measure, suppress=True, hidden_parts=hidden_rates.get(kind, 0))
        for kind, measure in own_rates.items()
    }
    return figures, questions, rates


def published_month(
    month: Month,
    raw: MonthRaw,
    *,
    suppress: bool,
    parts: Sequence[MonthRaw] = (),
    memo: Memo | None = None,
) -> MonthFigures:
    """Publish one month; for a total, ``parts`` are the schools it pools."""
    figures, questions, rates = _published(raw, suppress=suppress, parts=parts, memo=memo)
    return MonthFigures(
        month=month,
        figures=MappingProxyType(figures),
        questions=MappingProxyType(questions),
        response_rates=MappingProxyType(rates),
    )


def published_year(
    year: int,
    raw: MonthRaw,
    *,
    suppress: bool,
    targets: Mapping[Indicator, float],
    parts: Sequence[MonthRaw] = (),
    months: Sequence[MonthRaw] = (),
    published_parts: Sequence[Mapping[Indicator, Figure]] = (),
    memo: Memo | None = None,
) -> YearFigures:
    """Publish one school year with its targets; the questionnaire's small-group rule looks
    at the year's answers (so a school sees its own results once five answered that year).

    Suppressed, the year's ``months`` (all of them, also those outside the period shown) are
    parts of it as schools are of a total: a figure is hidden when the months that hide it
    are about 1-4 children together (the year minus its shown months would give them back).
    The school years are fixed, so together is enough here; a freely chosen period hides what
    any of its months hides (`published_period`). A total's year is hidden as well when any
    school's is (``published_parts``: the total minus the other schools would give it back).
    """
    figures, questions, rates = _published(raw, suppress=suppress, parts=parts, memo=memo)
    if suppress and months:
        hidden = hidden_bases([_measured(month, memo)[0] for month in months])
        figures = {
            indicator: Figure(None, hidden=True) if is_small(hidden.get(indicator, 0)) else figure
            for indicator, figure in figures.items()
        }
    if suppress:
        figures = _hidden_with(figures, (), published_parts)
    return YearFigures(
        school_year=year,
        figures=MappingProxyType(figures),
        questions=MappingProxyType(questions),
        response_rates=MappingProxyType(rates),
        targets=MappingProxyType(dict(targets)),
    )


def published_period(
    raw: MonthRaw,
    *,
    suppress: bool,
    months: Sequence[MonthFigures],
    parts: Sequence[MonthRaw] = (),
    published_parts: Sequence[Mapping[Indicator, Figure]] = (),
    memo: Memo | None = None,
) -> Mapping[Indicator, Figure]:
    """Publish the figures over a whole period (the questionnaire is left to the months and
    school years); ``months``: the same school's (or total's) published months of the period;
    for a total, ``parts`` are the schools it pools and ``published_parts`` their published
    figures over the period.

    Suppressed, a figure over the period is hidden as well when any of its months hides it
    (the period is chosen freely: the period minus its shown months, or one period minus
    another, would otherwise give a hidden month's figure back), and for a total when any
    school's figure over the period is hidden (the total minus the other schools would give
    that school's back).
    """
    figures, _questions, _rates = _published(raw, suppress=suppress, parts=parts, memo=memo)
    if suppress:
        figures = _hidden_with(figures, months, published_parts)
    return MappingProxyType(figures)


def _hidden_with(
    figures: dict[Indicator, Figure],
    months: Sequence[MonthFigures],
    published_parts: Sequence[Mapping[Indicator, Figure]],
) -> dict[Indicator, Figure]:
    """``figures`` with each one hidden that one of ``months`` or of ``published_parts`` hides
    (a sum over them would otherwise give the hidden one back by subtraction)."""
    hidden = Figure(None, hidden=True)
    return {
        indicator: hidden
        if any(month.figures[indicator].hidden for month in months if indicator in month.figures)
        or any(part[indicator].hidden for part in published_parts if indicator in part)
        else figure
        for indicator, figure in figures.items()
    }


def compute_report(
    *,
    schools: Sequence[tuple[int, str, SchoolFacts]],
    months: Sequence[Month],
    survey: Mapping[tuple[int, Month], SurveyMonth],
    with_total: bool,
    years: Sequence[int] = (),
    year_survey: Mapping[tuple[int, int], SurveyMonth] | None = None,
    targets: Mapping[tuple[int, int], Mapping[Indicator, float]] | None = None,
    suppress: bool | None = None,
) -> IndicatorReport:
    """Publish the figures of ``schools`` per month, over the whole period and per school year
    (pure); ``targets`` per (school, school year).

    The small-group rule applies when ``suppress`` (by default: when ``with_total``, the
    partnership's view); one school of the partnership on its own is suppressed without a
    total.
    """
    suppress = with_total if suppress is None else suppress
    memo: Memo = {}
    year_survey = year_survey or {}
    targets = targets or {}
    first_day, last_day = months[0].first_day, months[-1].last_day
    period_raws = {
        school_id: period_raw(facts, first_day, last_day, None)
        for school_id, _name, facts in schools
    }
    raws = {
        school_id: [month_raw(facts, month, survey.get((school_id, month))) for month in months]
        for school_id, _name, facts in schools
    }
    year_raws = {
        school_id: [
            period_raw(facts, *school_year_bounds(year), year_survey.get((school_id, year)))
            for year in years
        ]
        for school_id, _name, facts in schools
    }
    school_months = {
        school_id: tuple(
            published_month(month, raw, suppress=suppress, memo=memo)
            for month, raw in zip(months, raws[school_id], strict=True)
        )
        for school_id, _name, _facts in schools
    }
    facts_of = {school_id: facts for school_id, _name, facts in schools}

    def year_months(school_id: int, year: int) -> tuple[MonthRaw, ...]:
        """Every month of the school year (those outside the period too), when suppressed:
        the parts whose hidden figures a year's figure must not give back."""
        if not suppress:
            return ()
        shown = dict(zip(months, raws[school_id], strict=True))
        return tuple(
            shown.get(month) or month_raw(facts_of[school_id], month, None)
            for month in months_between(*(Month.of(day) for day in school_year_bounds(year)))
        )

    published = tuple(
        SchoolIndicators(
            school_id=school_id,
            name=name,
            months=school_months[school_id],
            period=published_period(
                period_raws[school_id],
                suppress=suppress,
                months=school_months[school_id],
                memo=memo,
            ),
            years=tuple(
                published_year(
                    year,
                    raw,
                    suppress=suppress,
                    targets=targets.get((school_id, year), MappingProxyType({})),
                    months=year_months(school_id, year),
                    memo=memo,
                )
                for year, raw in zip(years, year_raws[school_id], strict=True)
            ),
        )
        for school_id, name, _facts in schools
    )
    total: SchoolIndicators | None = None
    if with_total:
        total_months = []
        for index, month in enumerate(months):
            parts = [raws[school_id][index] for school_id, _name, _facts in schools]
            total_months.append(
                published_month(month, pool(parts), suppress=True, parts=parts, memo=memo)
            )
        total_years = []
        for index, year in enumerate(years):
            parts = [year_raws[school_id][index] for school_id, _name, _facts in schools]
            total_years.append(
                published_year(
                    year,
                    pool(parts),
                    suppress=True,
                    targets=MappingProxyType({}),
                    parts=parts,
                    published_parts=[school.years[index].figures for school in published],
                    memo=memo,
                )
            )
        period_parts = list(period_raws.values())
        total = SchoolIndicators(
            school_id=0,
            name="",
            months=tuple(total_months),
            years=tuple(total_years),
            period=published_period(
                pool(period_parts),
                suppress=True,
                parts=period_parts,
                months=total_months,
                published_parts=[school.period for school in published],
                memo=memo,
            ),
        )
    question_keys: set[tuple[str, str]] = set()
    respondent_types: set[str] = set()
    for month_raws in (*raws.values(), *year_raws.values()):
        for raw in month_raws:
            question_keys.update(raw.survey.scores)
            respondent_types.update(raw.survey.invitations)
    return IndicatorReport(
        first=months[0],
        last=months[-1],
        schools=published,
        total=total,
        suppressed=suppress,
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
