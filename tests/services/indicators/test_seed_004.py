"""Every seed-004 indicator per month and per school year, with the partnership's targets,
checked against values computed by hand from `tests.support.indicator_world` (Noord's
recorded observations, teacher support, student events, visitations and targets are listed
in ``_seed_004_events``; enrolment: Jan 10, Feb 10, Mar 10, school year 2025-2026 11).

The period is January-March 2026, "now" 20 March 2026; the school year is 2025-2026
(1 August 2025 - 31 July 2026, counted up to today).
"""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.indicators.periods import Month, school_year_bounds, school_year_of
from services.indicators.report import Figure, Indicator, IndicatorReport
from services.indicators.views import partnership_indicators, school_indicators
from tests.support.indicator_world import FEB, JAN, MAR, NOW, build_indicator_world
from tests.support.units import unit

I = Indicator  # noqa: E741 - short in the tables below
HIDDEN = Figure(None, hidden=True)

#: Noord per month (Jan, Feb, Mar) and for the school year, with the arithmetic.
NOORD: dict[Indicator, tuple[list[float], float]] = {
    # s10 left 15 Feb (counted in Feb), s11 came 1 Mar; the year has all 11.
    I.ENROLLED: ([10, 10, 10], 11),
    # Year: s6 (Dec), s1, s2, s4, s3, s5.
    I.REFERRED: ([2, 2, 1], 6),
    I.REFERRED_SHARE: ([2 / 10, 2 / 10, 1 / 10], 6 / 11),
    # Held: 20 Jan (s1), 10 Feb (a teacher), 3 Mar (the class); the open request not.
    I.CLASS_OBSERVATIONS: ([1, 1, 1], 3),
    # Only the January observation is about a student (s1).
    I.OBSERVED_SHARE: ([1 / 10, 0, 0], 1 / 11),
    # 11 Feb advice, 20 Feb training.
    I.TEACHER_SUPPORT: ([0, 2, 0], 2),
    # s1 10 Jan, s2 5 Feb.
    I.OPP: ([1, 1, 0], 2),
    I.OPP_SHARE: ([1 / 10, 1 / 10, 0], 2 / 11),
    # s6 requested 1 Feb, granted 10 Mar.
    I.TLV_REQUESTED: ([0, 1, 0], 1),
    I.TLV_REQUESTED_SHARE: ([0, 1 / 10, 0], 1 / 11),
    I.TLV_GRANTED: ([0, 0, 1], 1),
    I.TLV_GRANTED_SHARE: ([0, 0, 1 / 10], 1 / 11),
    # s7 5 Jan - 10 Feb (Jan and Feb), s8 from 1 Mar (still absent).
    I.LONG_ABSENCE: ([1, 1, 1], 2),
    I.LONG_ABSENCE_SHARE: ([1 / 10, 1 / 10, 1 / 10], 2 / 11),
    # s9 20 Feb without an OPP; s1 10 Mar with its OPP of 10 Jan.
    I.OUTFLOW: ([0, 1, 1], 2),
    I.OUTFLOW_WITH_OPP: ([0, 0, 1], 1),
    I.OUTFLOW_SHARE: ([0, 1 / 10, 1 / 10], 2 / 11),
    # s2 15 Jan; its OPP came later (5 Feb), so without.
    I.VAVO: ([1, 0, 0], 1),
    I.VAVO_WITH_OPP: ([0, 0, 0], 0),
    I.VAVO_SHARE: ([1 / 10, 0, 0], 1 / 11),
    # 25 Feb 2026; the year adds 1 Oct 2025.
    I.VISITATIONS: ([0, 1, 0], 2),
}


async def _school_report(
    session_factory: async_sessionmaker[AsyncSession],
) -> IndicatorReport:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        return await unit(
            session, school_indicators, viewer=world.coordinator, first=JAN, last=MAR, now=NOW
        )


def test_the_school_year_runs_from_august_to_july() -> None:
    assert school_year_of(JAN.first_day) == 2025
    assert school_year_of(Month(2025, 8).first_day) == 2025
    assert school_year_of(Month(2025, 7).last_day) == 2024
    first, last = school_year_bounds(2025)
    assert (first.isoformat(), last.isoformat()) == ("2025-08-01", "2026-07-31")


async def test_every_seed_004_figure_per_month_and_school_year(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    report = await _school_report(session_factory)
    noord = report.schools[0]
    assert [month.month for month in noord.months] == [JAN, FEB, MAR]
    assert [year.school_year for year in noord.years] == [2025]
    (year,) = noord.years
    for indicator, (months, total) in NOORD.items():
        assert [m[indicator].value for m in noord.months] == pytest.approx(months), indicator
        assert year[indicator].value == pytest.approx(total), indicator
        assert not year[indicator].hidden


async def test_targets_of_the_school_year_are_shown_against_the_figure(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    (year,) = (await _school_report(session_factory)).schools[0].years
    # Set for 2025-2026 (2024-2025's target is another year's, not shown).
    assert dict(year.targets) == {
        I.REFERRED_SHARE: 5.0,
        I.OPP_SHARE: 10.0,
        I.TLV_REQUESTED_SHARE: 0.2,
    }
    # Against the figures: referred 6/11 = 54.5 % (above 5 %), OPP 2/11 = 18.2 % (above
    # 10 %), TLV requested 1/11 = 9.1 % (above 0.2 %).
    assert year[I.REFERRED_SHARE].value == pytest.approx(6 / 11)
    assert year[I.OPP_SHARE].value == pytest.approx(2 / 11)
    assert year[I.TLV_REQUESTED_SHARE].value == pytest.approx(1 / 11)


async def test_the_questionnaire_small_group_rule_applies_to_the_school_year(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    noord = (await _school_report(session_factory)).schools[0]
    (year,) = noord.years
    # Per month t6's March answers alone are hidden; the year has t1..t6: T1
    # (4+5+3+4+5+2)/6 = 23/6; T4 without t1's "don't know": (4+2+4+3+2)/5 = 3.0.
    assert noord.months[2].questions["teacher", "T1"] == HIDDEN
    assert noord.months[1].questions["teacher", "T4"] == HIDDEN
    assert year.questions["teacher", "T1"] == Figure(pytest.approx(23 / 6))  # type: ignore[arg-type]
    assert year.questions["teacher", "T4"] == Figure(pytest.approx(3.0))  # type: ignore[arg-type]
    # One student answered in the whole year: still hidden.
    assert year.questions["student", "S1"] == HIDDEN
    assert year.response_rates["teacher"] == Figure(1.0)


async def test_the_partnership_sees_school_years_with_small_groups_hidden(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session, partnership_indicators, viewer=world.viewer, first=JAN, last=MAR, now=NOW
        )
    assert report.total is not None
    names = [school.name for school in report.schools]
    noord = report.schools[names.index("Noord College")]
    (year,) = noord.years
    (total,) = report.total.years
    # 11 + 6 (Zuid) + 8 (West) enrolled. Referred 6 + 3 + 6: Noord's 6 are shown, Zuid's
    # 3 are hidden, and so is the total (15 - 6 - 6 would give Zuid's 3 away).
    assert total[I.ENROLLED] == Figure(25)
    assert year[I.REFERRED] == Figure(6)
    assert year[I.REFERRED_SHARE] == Figure(pytest.approx(6 / 11))  # type: ignore[arg-type]
    assert total[I.REFERRED] == HIDDEN
    # Noord's OPPs (2 students) are hidden, and so is the total (only Noord has any).
    assert year[I.OPP] == HIDDEN
    assert total[I.OPP] == HIDDEN
    # Zero concerns no child and is shown.
    zuid = report.schools[names.index("Zuid Lyceum")]
    assert zuid.years[0][I.OPP] == Figure(0)
    # The targets are the school's; the total has none.
    assert year.targets[I.REFERRED_SHARE] == 5.0
    assert dict(total.targets) == {}
