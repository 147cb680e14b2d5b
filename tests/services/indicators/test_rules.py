"""The indicators' arithmetic and small-group rule (`services.indicators.rules`), without a
database: facts in, published figures out."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

import pytest

from services.indicators.periods import Month, months_between, validate_period
from services.indicators.report import Figure, Indicator, MonthFigures
from services.indicators.rules import (
    SMALL_GROUP,
    Measure,
    MonthRaw,
    SchoolFacts,
    SurveyMonth,
    TrajectoryFacts,
    compute_report,
    hidden_base,
    hidden_bases,
    is_small,
    month_raw,
    overdue_on,
    pool,
    publish,
    published_period,
)

MARCH = Month(2026, 3)
TODAY = date(2026, 3, 31)


def _school(referred: int, *, first_student: int = 1, enrolled: int = 100) -> SchoolFacts:
    """A school with ``referred`` distinct students referred on 10 March."""
    return SchoolFacts(
        enrolment=((None, None, enrolled),),
        today=TODAY,
        referrals=tuple(
            (student, date(2026, 3, 10))
            for student in range(first_student, first_student + referred)
        ),
        trajectories=(),
        attended_timeouts=(),
    )


def _trajectory(**changes: object) -> TrajectoryFacts:
    values: dict[str, object] = {
        "student_id": 1,
        "created_on": date(2026, 1, 5),
        "activated_on": date(2026, 1, 12),
        "closed_on": None,
        "end_date": date(2026, 6, 26),
        "timeouts_in_plan": True,
        "timeouts_per_week": 2,
        "class_observation": False,
        "evaluations": (),
        "timeout_days": (),
    }
    values.update(changes)
    return TrajectoryFacts(**values)  # type: ignore[arg-type]


def _report(*schools: SchoolFacts, with_total: bool = True) -> dict[str, Figure]:
    """The published ``referred`` figure of March per school name, and ``"total"``."""
    report = compute_report(
        schools=[(index, f"school {index}", facts) for index, facts in enumerate(schools, 1)],
        months=(MARCH,),
        survey={},
        with_total=with_total,
    )
    figures = {school.name: school.months[0][Indicator.REFERRED] for school in report.schools}
    if report.total is not None:
        figures["total"] = report.total.months[0][Indicator.REFERRED]
    return figures


# --- the small-group rule ------------------------------------------------------------------


def test_a_figure_about_one_to_four_children_is_hidden_zero_and_five_are_shown() -> None:
    assert SMALL_GROUP == 5
    assert [is_small(base) for base in range(7)] == [False, True, True, True, True, False, False]
    assert publish(Measure(0, 0), suppress=True) == Figure(0)
    assert publish(Measure(4, 4), suppress=True) == Figure(None, hidden=True)
    assert publish(Measure(5, 5), suppress=True) == Figure(5)


def test_a_hidden_figure_keeps_no_trace_of_its_value() -> None:
    hidden = publish(Measure(0.75, 4), suppress=True)
    assert hidden == Figure(None, hidden=True)


def test_without_suppression_small_figures_are_shown() -> None:
    assert publish(Measure(3, 3), suppress=False) == Figure(3)


def test_the_base_decides_not_the_value() -> None:
    # A share of 2 % is about 3 children: hidden; a mean of 1.5 over 8 answers is shown.
    assert publish(Measure(0.02, 3), suppress=True).hidden
    assert publish(Measure(1.5, 8), suppress=True) == Figure(1.5)


def test_a_total_is_hidden_when_its_hidden_parts_add_up_to_one_to_four() -> None:
    assert publish(Measure(20, 20), suppress=True, hidden_parts=3).hidden
    assert publish(Measure(20, 20), suppress=True, hidden_parts=7) == Figure(20)
    assert publish(Measure(20, 20), suppress=True, hidden_parts=0) == Figure(20)


def test_hidden_base_sums_only_the_parts_that_are_hidden() -> None:
    parts = [{"a": Measure(3, 3)}, {"a": Measure(10, 10)}, {"a": Measure(2, 2)}, {}]
    assert hidden_base(parts, "a") == 5
    assert hidden_base(parts, "b") == 0


def test_hidden_bases_are_hidden_base_of_every_figure_in_one_pass() -> None:
    parts = [
        {"a": Measure(3, 3), "b": Measure(0, 0), "c": Measure(1, 1)},
        {"a": Measure(10, 10), "c": Measure(4, 4)},
        {"a": Measure(2, 2), "b": Measure(7, 7)},
        {},
    ]
    assert hidden_bases(parts) == {"a": 5, "c": 5}
    assert {key: hidden_base(parts, key) for key in "abc"} == {"a": 5, "b": 0, "c": 5}
    assert hidden_bases([]) == {}


def test_one_small_school_cannot_be_recovered_from_the_total() -> None:
    # 3 + 10 + 7: showing the total 20 would give away the hidden 3 as 20 - 10 - 7.
    figures = _report(_school(3), _school(10, first_student=100), _school(7, first_student=200))
    assert figures["school 1"] == Figure(None, hidden=True)
    assert figures["school 2"] == Figure(10)
    assert figures["school 3"] == Figure(7)
    assert figures["total"] == Figure(None, hidden=True)


def test_two_small_schools_together_of_five_or_more_leave_the_total_shown() -> None:
    # 3 + 4 hidden, 10 shown: the total 17 tells only that the hidden two add up to 7.
    figures = _report(_school(3), _school(4, first_student=100), _school(10, first_student=200))
    assert figures["school 1"].hidden
    assert figures["school 2"].hidden
    assert figures["school 3"] == Figure(10)
    assert figures["total"] == Figure(17)


def test_a_total_of_one_to_four_children_is_hidden_itself() -> None:
    figures = _report(_school(0), _school(2, first_student=100))
    assert figures["school 1"] == Figure(0)
    assert figures["total"] == Figure(None, hidden=True)


def test_a_schools_own_view_shows_small_figures_but_never_small_questionnaire_figures() -> None:
    survey = SurveyMonth(
        scores=MappingProxyType({("parent", "P1"): (12.0, 3)}),
        invitations=MappingProxyType({"parent": (4, 3)}),
    )
    report = compute_report(
        schools=[(1, "school", _school(3))],
        months=(MARCH,),
        survey={(1, MARCH): survey},
        with_total=False,
    )
    month = report.schools[0].months[0]
    assert report.total is None
    assert not report.suppressed
    assert month[Indicator.REFERRED] == Figure(3)
    assert month.questions[("parent", "P1")] == Figure(None, hidden=True)
    assert month.response_rates["parent"] == Figure(None, hidden=True)


# --- pooling ---------------------------------------------------------------------------------


def test_pooling_adds_counts_and_counts_each_student_once() -> None:
    pooled = pool(
        [
            MonthRaw(enrolled=100, referred=frozenset({1, 2}), overdue=1, lengths=(10,)),
            MonthRaw(enrolled=50, referred=frozenset({2, 3}), overdue=2, lengths=(20, 30)),
        ]
    )
    assert pooled.enrolled == 150
    assert pooled.referred == frozenset({1, 2, 3})
    assert pooled.overdue == 3
    assert pooled.lengths == (10, 20, 30)


def test_pooled_questionnaire_means_and_rates_are_exact() -> None:
    first = SurveyMonth(
        scores=MappingProxyType({("student", "S1"): (8.0, 2)}),
        invitations=MappingProxyType({"student": (4, 2)}),
    )
    second = SurveyMonth(
        scores=MappingProxyType({("student", "S1"): (12.0, 4)}),
        invitations=MappingProxyType({"student": (6, 4)}),
    )
    pooled = pool([MonthRaw(survey=first), MonthRaw(survey=second)])
    assert pooled.survey.scores == {("student", "S1"): (20.0, 6)}
    assert pooled.survey.invitations == {"student": (10, 6)}


def test_pooling_nothing_gives_zeros() -> None:
    assert pool([]) == MonthRaw()


# --- one month of one school ------------------------------------------------------------------


def test_a_month_counts_referrals_active_trajectories_and_their_length() -> None:
    facts = SchoolFacts(
        enrolment=((None, None, 150), (date(2026, 3, 1), None, 40), (None, date(2026, 2, 1), 10)),
        today=TODAY,
        referrals=((1, date(2026, 2, 27)), (2, date(2026, 3, 2)), (2, date(2026, 3, 20))),
        trajectories=(
            _trajectory(student_id=1, activated_on=date(2026, 3, 1)),
            _trajectory(student_id=2, activated_on=date(2026, 2, 1), closed_on=date(2026, 3, 11)),
            _trajectory(student_id=3, activated_on=date(2026, 1, 1), closed_on=date(2026, 2, 27)),
            _trajectory(student_id=4, activated_on=None, created_on=date(2026, 3, 5)),
        ),
        attended_timeouts=(date(2026, 3, 3), date(2026, 4, 1)),
    )
    raw = month_raw(facts, MARCH, None)
    assert raw.referred == frozenset({2})
    assert raw.active_students == frozenset({1, 2})
    assert sorted(raw.lengths) == [30, 38]  # 1 Mar → 31 Mar; 1 Feb → 11 Mar
    assert raw.timeouts_attended == 1
    # Enrolled in March: 150 throughout + 40 who came on 1 March; the 10 who left on
    # 1 February are not counted. February: 150 + 10 (they were there on the 1st).
    assert raw.enrolled == 190
    assert month_raw(facts, Month(2026, 2), None).enrolled == 160


def test_overdue_is_judged_with_what_was_known_on_the_day() -> None:
    held_late = _trajectory(evaluations=((date(2026, 3, 10), date(2026, 4, 2)),))
    assert overdue_on(held_late, date(2026, 3, 31))
    assert not overdue_on(held_late, date(2026, 4, 30))
    # Closed by then, or not created yet: not counted.
    closed = _trajectory(end_date=date(2026, 3, 1), closed_on=date(2026, 3, 20))
    assert overdue_on(closed, date(2026, 3, 15))
    assert not overdue_on(closed, date(2026, 3, 31))
    assert not overdue_on(_trajectory(created_on=date(2026, 4, 1)), date(2026, 3, 31))


def test_overdue_counts_a_week_of_time_outs_only_once_it_has_begun() -> None:
    # Three time-outs in the week of Mon 30 March with a cap of two.
    busy = _trajectory(timeout_days=(date(2026, 3, 30), date(2026, 4, 1), date(2026, 4, 2)))
    assert not overdue_on(busy, date(2026, 3, 29))
    assert overdue_on(busy, date(2026, 3, 31))


# --- months and periods ----------------------------------------------------------------------


def test_months_parse_and_step_across_the_year() -> None:
    assert Month.parse("2026-03") == MARCH
    assert MARCH.first_day == date(2026, 3, 1)
    assert MARCH.last_day == date(2026, 3, 31)
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert months_between(Month(2025, 11), Month(2026, 2)) == (
        Month(2025, 11),
        Month(2025, 12),
        Month(2026, 1),
        Month(2026, 2),
    )
    assert months_between(MARCH, Month(2026, 2)) == ()
    for bad in ("2026-3", "26-03", "2026-13", "march"):
        with pytest.raises(ValueError, match="not a month"):
            Month.parse(bad)


def test_a_period_is_refused_when_reversed_in_the_future_or_too_long() -> None:
    assert validate_period(Month(2026, 1), MARCH, today=TODAY) is None
    assert validate_period(MARCH, Month(2026, 1), today=TODAY) is not None
    assert validate_period(MARCH, Month(2026, 4), today=TODAY) is not None
    assert validate_period(Month(2024, 3), MARCH, today=TODAY) is not None
    assert validate_period(Month(2024, 4), MARCH, today=TODAY) is None


def _months(**hidden: bool) -> list[MonthFigures]:
    """Two months of published figures: the referred (count and share, one base) hidden in
    the second when ``referred``."""
    shown = dict.fromkeys(Indicator, Figure(6))
    second = dict(shown)
    if hidden.get("referred"):
        second[Indicator.REFERRED] = Figure(None, hidden=True)
        second[Indicator.REFERRED_SHARE] = Figure(None, hidden=True)
    return [
        MonthFigures(month=Month(2026, 1), figures=MappingProxyType(shown)),
        MonthFigures(month=Month(2026, 2), figures=MappingProxyType(second)),
    ]


def test_a_period_hides_what_one_of_its_months_hides() -> None:
    """Eight students referred over two months, the second's 2 hidden: 8 - 6 would give it
    back, so the period hides it too; unsuppressed (a school's own view) it is shown."""
    raw = MonthRaw(enrolled=40, referred=frozenset(range(8)))
    period = published_period(raw, suppress=True, months=_months(referred=True))
    assert period[Indicator.REFERRED] == Figure(None, hidden=True)
    assert period[Indicator.REFERRED_SHARE] == Figure(None, hidden=True)
    assert period[Indicator.ENROLLED] == Figure(40)
    assert published_period(raw, suppress=True, months=_months())[Indicator.REFERRED] == Figure(8)
    own = published_period(raw, suppress=False, months=_months(referred=True))
    assert own[Indicator.REFERRED] == Figure(8)


def test_a_periods_total_hides_what_one_schools_period_hides() -> None:
    first = MonthRaw(enrolled=40, referred=frozenset(range(8)))
    second = MonthRaw(enrolled=40, referred=frozenset(range(100, 110)))
    hidden_first = published_period(first, suppress=True, months=_months(referred=True))
    shown_second = published_period(second, suppress=True, months=_months())
    total = published_period(
        pool([first, second]),
        suppress=True,
        months=_months(),
        parts=[first, second],
        published_parts=[hidden_first, shown_second],
    )
    # 18 - 10 would give the first school's hidden 8 back.
    assert total[Indicator.REFERRED] == Figure(None, hidden=True)
    assert total[Indicator.ENROLLED] == Figure(80)


def _referred_on(*days: tuple[int, date], first: int = 1) -> SchoolFacts:
    """A school whose students (numbered from ``first``) are referred in groups on days."""
    referrals = []
    student = first
    for count, day in days:
        for _ in range(count):
            referrals.append((student, day))
            student += 1
    return SchoolFacts(
        enrolment=((None, None, 200),),
        today=TODAY,
        referrals=tuple(referrals),
        trajectories=(),
        attended_timeouts=(),
    )


def test_a_school_year_hides_what_its_hidden_months_add_up_to_also_outside_the_period() -> None:
    """March alone is shown (8 referred); the school year 2025 (Aug 2025 - Jul 2026) is
    shown beside it. Its October had 2 students (hidden in a report that shows October): the
    year minus its other months would give October's 2 back, so the year hides its referred
    figure whichever period is chosen, and the total's year hides it too. Hidden months of
    five or more children together give nothing small back: the year is shown."""
    small_october = _referred_on((2, date(2025, 10, 7)), (8, date(2026, 3, 10)))
    other = _referred_on((6, date(2025, 10, 7)), (7, date(2026, 3, 10)), first=100)

    def year_figures(*schools: SchoolFacts, suppress: bool | None = None) -> list[Figure]:
        report = compute_report(
            schools=[(n, f"school {n}", facts) for n, facts in enumerate(schools, 1)],
            months=(MARCH,),
            survey={},
            with_total=True,
            years=(2025,),
            suppress=suppress,
        )
        assert report.schools[0].months[0][Indicator.REFERRED] == Figure(8)  # March: shown
        years = [school.years[0].figures[Indicator.REFERRED] for school in report.schools]
        assert report.total is not None
        return [*years, report.total.years[0].figures[Indicator.REFERRED]]

    assert year_figures(small_october, other) == [
        Figure(None, hidden=True),  # its October hides it
        Figure(13),  # October 6, March 7: nothing hidden
        Figure(None, hidden=True),  # the total minus the other school would give it back
    ]
    # Without the small October every year figure is shown.
    assert year_figures(_referred_on((8, date(2026, 3, 10))), other) == [
        Figure(8),
        Figure(13),
        Figure(21),
    ]
    # October 2 and November 3, both hidden: 5 together, so the year is shown.
    two_small_months = _referred_on(
        (2, date(2025, 10, 7)), (3, date(2025, 11, 4)), (8, date(2026, 3, 10))
    )
    assert year_figures(two_small_months, other) == [Figure(13), Figure(13), Figure(26)]
