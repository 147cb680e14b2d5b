"""Indicators per school and month, checked against values computed by hand.

The fixture (`tests.support.indicator_world`) is small enough to follow on paper; every
expected value below comes with its arithmetic. The period is January-March 2026 and "now"
is 20 March 2026, so March is the running month (its figures are as of today, the 20th).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.indicators.periods import Month, months_between
from services.indicators.report import Figure, Indicator, IndicatorOutput, IndicatorReport
from services.indicators.rules import SMALL_GROUP
from services.indicators.views import (
    partnership_indicators,
    partnership_school_indicators,
    school_indicators,
)
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from storage.models import AuditLog, Person, Role
from tests.support.factories import add_person
from tests.support.indicator_world import (
    FEB,
    JAN,
    MAR,
    NOW,
    build_indicator_world,
)
from tests.support.units import unit


def SHOWN(value: float) -> Figure:  # noqa: N802 - reads like the Figure it stands for
    """A shown figure equal to ``value`` up to rounding."""
    return Figure(pytest.approx(value))  # type: ignore[arg-type]


def values(report: IndicatorReport, indicator: Indicator, school: int = 0) -> list[float | None]:
    return [month[indicator].value for month in report.schools[school].months]


async def test_school_figures_match_the_hand_computed_values(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session,
            school_indicators,
            viewer=world.coordinator,
            first=JAN,
            last=MAR,
            now=NOW,
        )
    assert report.months == (JAN, FEB, MAR)
    assert [s.name for s in report.schools] == ["Noord College"]
    assert report.total is None
    assert report.suppressed is False
    # Nothing is hidden on the school's own view (only questionnaire figures ever are).
    assert not any(
        figure.hidden for month in report.schools[0].months for figure in month.figures.values()
    )

    assert values(report, Indicator.ENROLLED) == [10, 10, 10]
    # Jan {s1, s2} (s2 twice counts once); Feb {s4 (00:30 local on 1 Feb), s3}; Mar {s5}.
    assert values(report, Indicator.REFERRED) == [2, 2, 1]
    assert values(report, Indicator.REFERRED_SHARE) == [2 / 10, 2 / 10, 1 / 10]
    # Observations recorded as held: 20 Jan (s1), 10 Feb (a teacher), 3 Mar (the class); the
    # open request is not counted.
    assert values(report, Indicator.CLASS_OBSERVATIONS) == [1, 1, 1]
    # Jan: T1, T2. Feb: T1 (closed 10 Feb), T2, T3, T5. Mar: T2, T3, T5.
    assert values(report, Indicator.ACTIVE_TRAJECTORIES) == [2, 4, 3]
    # Jan: T1 31-5 = 26 days, T2 31-26 = 5 days → mean (26+5)/2 = 15.5, median 15.5.
    # Feb: T1 10 Feb - 5 Jan = 36, T2 28 Feb - 26 Jan = 33, T3 28-2 = 26, T5 28-16 = 12
    #      → mean 107/4 = 26.75, median (26+33)/2 = 29.5.
    # Mar (as of the 20th): T2 20 Mar - 26 Jan = 53, T3 20 Mar - 2 Feb = 46,
    #      T5 20 Mar - 16 Feb = 32 → mean 131/3, median 46.
    assert values(report, Indicator.LENGTH_MEAN_DAYS) == [15.5, 26.75, pytest.approx(131 / 3)]
    assert values(report, Indicator.LENGTH_MEDIAN_DAYS) == [15.5, 29.5, 46]
    # Attended time-outs: Feb 10, 12 (T2), 17, 18 (T3) = 4; Mar 3 (T2), 2 (T5) = 2; the
    # cancelled one and the no-show do not count.
    assert values(report, Indicator.TIMEOUTS_ATTENDED) == [0, 4, 2]
    # Per student with an active trajectory: 0/2, 4/4, 2/3.
    assert values(report, Indicator.TIMEOUTS_PER_STUDENT) == [0, 1, pytest.approx(2 / 3)]
    # Jan (31st): nothing overdue. Feb (28th): T2 (interim due 20 Feb, held only 2 Mar) and
    # T3 (week of 16 Feb: 2 time-outs, 1 allowed); T1 is closed. Mar (20th): T3 (end 13 Mar
    # passed) and T5 (a time-out in the week of 2 March, none allowed); T2's evaluation is
    # held by now and its weeks stay within 2.
    assert values(report, Indicator.OVERDUE) == [0, 2, 2]


async def test_questionnaire_figures_come_from_the_survey_report_with_small_groups_hidden(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session,
            school_indicators,
            viewer=world.coordinator,
            first=JAN,
            last=MAR,
            now=NOW,
        )
    jan, feb, mar = report.schools[0].months
    hidden = Figure(None, hidden=True)
    # Teachers in February (t1..t5 completed then):
    #   T1 (4+5+3+4+5)/5 = 4.2, T2 (5+4+4+3+5)/5 = 4.2, T3 (3+4+5+4+4)/5 = 4.0;
    #   T4 has only 4 scored answers (t1 said "don't know") → hidden even here.
    assert feb.questions["teacher", "T1"] == SHOWN(21 / 5)
    assert feb.questions["teacher", "T2"] == SHOWN(21 / 5)
    assert feb.questions["teacher", "T3"] == SHOWN(4.0)
    assert feb.questions["teacher", "T4"] == hidden
    # One student answer (S1 = 5) is one person's answer: hidden.
    assert feb.questions["student", "S1"] == hidden
    # March: only t6 → hidden; January: nothing answered → no mean, not hidden.
    assert mar.questions["teacher", "T1"] == hidden
    assert jan.questions["teacher", "T1"] == Figure(None)
    # Response rate of the February invitations: teachers 6 of 6 (t6 answered in March, so
    # far counts) = 1.0; one student and one parent invited → hidden.
    assert feb.response_rates["teacher"] == Figure(1.0)
    assert feb.response_rates["student"] == hidden
    assert feb.response_rates["parent"] == hidden
    assert mar.response_rates["teacher"] == Figure(None)
    # Open questions have no mean and no column.
    assert ("teacher", "T5") not in feb.questions
    assert report.respondent_types == ("student", "parent", "teacher")
    assert report.question_keys[:2] == (("student", "S1"), ("student", "S2"))
    assert report.question_keys[-1] == ("teacher", "T4")

    async with session_factory() as session:
        partnership = await unit(
            session,
            partnership_indicators,
            viewer=world.viewer,
            first=JAN,
            last=MAR,
            now=NOW,
        )
    assert partnership.total is not None
    total_feb = partnership.total.months[1]
    # Only Noord has answers: the pooled total is Noord's 4.2 over the same five teachers.
    assert total_feb.questions["teacher", "T1"] == SHOWN(21 / 5)
    assert total_feb.questions["teacher", "T4"] == hidden
    assert total_feb.response_rates["teacher"] == Figure(1.0)


async def test_partnership_view_hides_small_groups_and_totals_that_would_reveal_them(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session,
            partnership_indicators,
            viewer=world.viewer,
            first=JAN,
            last=MAR,
            now=NOW,
        )
    assert report.suppressed is True
    assert [s.name for s in report.schools] == ["Noord College", "West Mavo", "Zuid Lyceum"]
    noord, west, zuid = range(3)
    assert report.total is not None
    hidden = Figure(None, hidden=True)

    def total(indicator: Indicator) -> list[Figure]:
        assert report.total is not None
        return [month[indicator] for month in report.total.months]

    def cells(indicator: Indicator, school: int) -> list[Figure]:
        return [month[indicator] for month in report.schools[school].months]

    # Enrolled 10, 8, 6: all at least five; total 24.
    assert values(report, Indicator.ENROLLED, noord) == [10, 10, 10]
    assert total(Indicator.ENROLLED) == [Figure(24)] * 3
    # Referred: Noord 2, 2, 1 (all hidden); West 0, 0, 6; Zuid 0, 3, 0 (3 hidden).
    assert cells(Indicator.REFERRED, noord) == [hidden] * 3
    assert cells(Indicator.REFERRED, west) == [Figure(0), Figure(0), Figure(6)]
    assert cells(Indicator.REFERRED, zuid) == [Figure(0), hidden, Figure(0)]
    # Jan: total 2 is itself a small group → hidden.
    # Feb: total 2 + 3 = 5; the hidden parts add up to 5, so the total reveals no group
    #      below five → shown.
    # Mar: total 1 + 6 = 7, but then 7 - 6 would give Noord's 1 → hidden.
    assert total(Indicator.REFERRED) == [hidden, Figure(5), hidden]
    # The share hides with its count: Feb total 5 / 24; West Mar 6 / 8.
    assert total(Indicator.REFERRED_SHARE) == [hidden, Figure(5 / 24), hidden]
    assert cells(Indicator.REFERRED_SHARE, west)[2] == Figure(6 / 8)
    assert cells(Indicator.REFERRED_SHARE, noord) == [hidden] * 3
    # Noord's 2-4 active trajectories are hidden with their lengths and time-outs; the other
    # schools have none (0 shown, means without data are empty, not hidden).
    for indicator in (
        Indicator.ACTIVE_TRAJECTORIES,
        Indicator.LENGTH_MEAN_DAYS,
        Indicator.LENGTH_MEDIAN_DAYS,
        Indicator.TIMEOUTS_ATTENDED,
        Indicator.TIMEOUTS_PER_STUDENT,
    ):
        assert cells(indicator, noord) == [hidden] * 3, indicator
        assert total(indicator) == [hidden] * 3, indicator
    assert cells(Indicator.ACTIVE_TRAJECTORIES, west) == [Figure(0)] * 3
    assert cells(Indicator.LENGTH_MEAN_DAYS, west) == [Figure(None)] * 3
    # Overdue: Noord 0, 2, 2 → Jan shown as 0, the others hidden.
    assert cells(Indicator.OVERDUE, noord) == [Figure(0), hidden, hidden]
    assert total(Indicator.OVERDUE) == [Figure(0), hidden, hidden]


async def test_the_period_counts_each_student_once_with_small_groups_hidden(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """The summary's row per school: January-March as one span, shown only where every month
    of it is shown (and, for all schools together, every school's)."""
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session, partnership_indicators, viewer=world.viewer, first=JAN, last=MAR, now=NOW
        )
    noord, west, zuid = (school.period for school in report.schools)
    assert report.total is not None
    total = report.total.period
    hidden = Figure(None, hidden=True)
    # Enrolled at any time in the period: Noord s1-s10 and s11 (from 1 March) = 11 (each
    # month 10: the period counts each student once, not 30); 25 in all.
    assert [noord[Indicator.ENROLLED], total[Indicator.ENROLLED]] == [Figure(11), Figure(25)]
    # Referred: West 0, 0, 6 → 6 over the period, 6 / 8 of its students.
    assert west[Indicator.REFERRED] == Figure(6)
    assert west[Indicator.REFERRED_SHARE] == SHOWN(6 / 8)
    # Noord referred five distinct students (s1, s2 twice in January; s4 and s3 in February;
    # s5 in March), five or more, but its months 2, 2, 1 are hidden: shown, the five would
    # give March's 1 back as 5 - (January to February's 4). Hidden, with the share.
    assert noord[Indicator.REFERRED] == hidden
    assert noord[Indicator.REFERRED_SHARE] == hidden
    # Zuid's February 3 is hidden, so is its period; and so is the total (14 - 5 - 6 would
    # give Zuid's 3 back; January's and March's totals are hidden as well).
    assert zuid[Indicator.REFERRED] == hidden
    assert total[Indicator.REFERRED] == hidden
    # Noord's trajectories (its months hide them) hide over the period too; West has none.
    assert noord[Indicator.ACTIVE_TRAJECTORIES] == hidden
    assert noord[Indicator.LENGTH_MEDIAN_DAYS] == hidden
    assert west[Indicator.ACTIVE_TRAJECTORIES] == Figure(0)
    assert total[Indicator.ACTIVE_TRAJECTORIES] == hidden


async def test_one_school_of_the_partnership_reads_as_its_column_of_the_partnership(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """A school's own page of the partnership: the same months, school years and period as
    its column of the whole view, small groups hidden the same way, and no total."""
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        whole = await unit(
            session, partnership_indicators, viewer=world.viewer, first=JAN, last=MAR, now=NOW
        )
    for school in whole.schools:
        async with session_factory() as session:
            one = await unit(
                session,
                partnership_school_indicators,
                viewer=world.viewer,
                school_id=school.school_id,
                first=JAN,
                last=MAR,
                now=NOW,
            )
        assert one.suppressed is True
        assert one.total is None
        assert one.schools == (school,)
    west = next(school for school in whole.schools if school.name == "West Mavo")
    assert [month[Indicator.REFERRED] for month in west.months] == [
        Figure(0),
        Figure(0),
        Figure(6),
    ]


async def test_one_school_of_the_partnership_is_for_partnership_viewers_only(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(
                session,
                partnership_school_indicators,
                viewer=world.coordinator,
                school_id=world.noord.id,
                first=JAN,
                last=MAR,
                now=NOW,
            )
    async with session_factory() as session:
        with pytest.raises(NotFound):
            await unit(
                session,
                partnership_school_indicators,
                viewer=world.viewer,
                school_id=world.noord.id + 1000,
                first=JAN,
                last=MAR,
                now=NOW,
            )
    async with session_factory() as session:
        rows = list(await session.scalars(select(AuditLog).where(AuditLog.action.like("indic%"))))
    assert rows == []  # refused or unknown: no view row


def _leaves(value: object, path: str = "") -> list[tuple[str, object]]:
    """Every (field path, value) at the bottom of a report: dataclasses, mappings, tuples."""
    if is_dataclass(value) and not isinstance(value, type):
        return [
            leaf
            for f in fields(value)
            for leaf in _leaves(getattr(value, f.name), f"{path}.{f.name}")
        ]
    if isinstance(value, Mapping):
        return [
            leaf
            for key, item in value.items()
            for leaf in (*_leaves(key, f"{path}[key]"), *_leaves(item, f"{path}[]"))
        ]
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in _leaves(item, f"{path}[]")]
    return [(path, value)]


async def test_no_child_data_in_the_results(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        report = await unit(
            session,
            partnership_indicators,
            viewer=world.viewer,
            first=JAN,
            last=MAR,
            now=NOW,
        )
    leaves = _leaves(report)
    assert len(leaves) > 100  # the walk reached the figures
    shown = repr(report)
    assert not any(name in shown for name in world.student_names)
    # The only ids are schools'; every other leaf is a figure, a month or a label.
    id_fields = {path.rsplit(".", 1)[-1] for path, _ in leaves if path.endswith("_id")}
    assert id_fields == {"school_id"}
    strings = {value for _, value in leaves if isinstance(value, str)}
    labels = {code for _kind, code in report.question_keys} | set(report.respondent_types)
    assert strings <= {s.name for s in report.schools} | {""} | set(Indicator) | labels


async def test_small_group_threshold_is_five() -> None:
    assert SMALL_GROUP == 5


@pytest.mark.parametrize(
    "role", [Role.COACH, Role.MENTOR, Role.STUDENT, Role.PARENT, Role.PARTNERSHIP_VIEWER]
)
async def test_only_care_coordinators_and_admins_see_their_school(
    session_factory: async_sessionmaker[AsyncSession], role: Role
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session, session.begin():
        person = await add_person(session, world.noord, f"x-{role.value}", role)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(session, school_indicators, viewer=person, first=JAN, last=MAR, now=NOW)
    async with session_factory() as session:
        report = await unit(
            session, school_indicators, viewer=world.admin, first=MAR, last=MAR, now=NOW
        )
    assert values(report, Indicator.REFERRED) == [1]


@pytest.mark.parametrize("role", [Role.CARE_COORDINATOR, Role.ADMIN, Role.COACH])
async def test_only_partnership_viewers_see_across_schools(
    session_factory: async_sessionmaker[AsyncSession], role: Role
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session, session.begin():
        person = await add_person(session, world.noord, f"x-{role.value}", role)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(session, partnership_indicators, viewer=person, first=JAN, last=MAR, now=NOW)


async def test_roles_are_read_from_the_database_not_from_the_caller(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    forged = Person(id=world.coach.id, school_id=world.noord.id, roles=[])
    forged.roles = world.coordinator.roles  # a caller claiming the coordinator's roles
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(session, school_indicators, viewer=forged, first=JAN, last=MAR, now=NOW)


async def test_every_view_is_audited_with_who_what_and_how_but_no_child_data(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        await unit(
            session,
            school_indicators,
            viewer=world.coordinator,
            first=JAN,
            last=FEB,
            now=NOW,
            output=IndicatorOutput.XLSX,
        )
    async with session_factory() as session:
        await unit(
            session,
            partnership_indicators,
            viewer=world.viewer,
            first=FEB,
            last=MAR,
            now=NOW,
        )
    async with session_factory() as session:
        rows = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action.like("indicators.%")).order_by(AuditLog.id)
            )
        )
    assert [(r.action, r.actor_id, r.subject_type) for r in rows] == [
        ("indicators.view", world.coordinator.id, "school"),
        ("indicators.partnership_view", world.viewer.id, "partnership"),
    ]
    assert rows[0].subject_id == world.noord.id
    assert rows[0].details == {"from": "2026-01", "to": "2026-02", "output": "xlsx"}
    assert rows[1].details["output"] == "page"
    assert len(rows[1].details["schools"]) == 3


async def test_a_refused_view_is_not_audited_as_a_view(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        with pytest.raises(NotAllowed):
            await unit(session, school_indicators, viewer=world.coach, first=JAN, last=MAR, now=NOW)
    async with session_factory() as session:
        assert (
            await session.scalar(select(AuditLog.id).where(AuditLog.action == "indicators.view"))
            is None
        )


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (MAR, JAN),  # backwards
        (MAR, Month(2026, 4)),  # ends after the running month
        (Month(2024, 2), MAR),  # 26 months
    ],
)
async def test_a_bad_period_is_refused_with_a_reason(
    session_factory: async_sessionmaker[AsyncSession], first: Month, last: Month
) -> None:
    world = await build_indicator_world(session_factory)
    async with session_factory() as session:
        with pytest.raises(InputInvalid):
            await unit(
                session,
                school_indicators,
                viewer=world.coordinator,
                first=first,
                last=last,
                now=NOW,
            )


def test_months_parse_and_count() -> None:
    assert Month.parse("2026-03") == MAR
    assert str(Month(2025, 12).next()) == "2026-01"
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2024, 2).last_day == date(2024, 2, 29)
    assert months_between(Month(2025, 11), FEB) == (
        Month(2025, 11),
        Month(2025, 12),
        JAN,
        FEB,
    )
    for bad in ("2026-13", "2026-3", "march", "", "2026-03-01"):
        with pytest.raises(ValueError, match="not a month"):
            Month.parse(bad)
