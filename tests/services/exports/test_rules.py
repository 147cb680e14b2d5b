"""The exports' pure rules: weeks in school time (summer time included), the Magister rows,
the LVS rows and their aggregation, the CSV dialect (BOM, ``;``, CRLF, formulas defused), the
closing report's outcome line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.exports.rules import (
    AttendanceFact,
    ExportTable,
    TrajectoryWeekFacts,
    Week,
    WeekState,
    closing_outcome,
    encode_csv,
    lvs_rows,
    magister_table,
    parse_week,
    ran_in,
)
from storage.models import AppointmentKind, AppointmentStatus

AMS = ZoneInfo("Europe/Amsterdam")
NL = Catalogs().get("nl")
EN = Catalogs().get("en")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-W49", Week(2026, 49)),
        ("2026W49", Week(2026, 49)),
        (" 2026-w9 ", Week(2026, 9)),
        ("2026-W53", Week(2026, 53)),  # 2026 has 53 ISO weeks
    ],
)
def test_weeks_are_read_in_iso_notation(value: str, expected: Week) -> None:
    assert parse_week(value) == expected
    assert str(expected) == f"{expected.year}-W{expected.week:02d}"


@pytest.mark.parametrize("value", ["", "49", "2026-49", "W49", "2026-W00", "2027-W53", "1999-W01"])
def test_a_bad_week_is_explained_not_raised(value: str) -> None:
    problem = parse_week(value)
    assert isinstance(problem, Text)
    assert "2026-W49" in EN.render(problem) or "has no week" in EN.render(problem)


def test_a_week_runs_from_monday_midnight_school_time() -> None:
    week = Week(2026, 49)
    start, end = week.bounds(AMS)

    assert week.monday == date(2026, 11, 30)
    assert week.sunday == date(2026, 12, 6)
    assert start == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    assert Week.of(date(2026, 12, 6)) == week
    assert Week.of(date(2026, 12, 7)) == Week(2026, 50)


def test_the_weeks_of_the_clock_changes_are_an_hour_shorter_and_longer() -> None:
    spring = Week(2026, 13)  # summer time from Sunday 29 March, 02:00
    autumn = Week(2026, 43)  # winter time from Sunday 25 October, 03:00
    spring_start, spring_end = spring.bounds(AMS)
    autumn_start, autumn_end = autumn.bounds(AMS)

    assert spring_end - spring_start == timedelta(hours=167)
    assert spring_end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert autumn_end - autumn_start == timedelta(hours=169)
    assert autumn_start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    assert autumn_end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def _fact(
    appointment_id: int,
    starts_at: datetime,
    status: AppointmentStatus = AppointmentStatus.ATTENDED,
    kind: AppointmentKind = AppointmentKind.GESPREK,
    number: str = "100234",
) -> AttendanceFact:
    return AttendanceFact(
        appointment_id, number, starts_at, starts_at + timedelta(minutes=45), kind, status
    )


def test_magister_keeps_only_marked_appointments_of_the_week_in_school_time() -> None:
    week = Week(2026, 13)
    facts = [
        _fact(1, datetime(2026, 3, 29, 21, 30, tzinfo=UTC)),  # Sunday 23:30 CEST: in
        _fact(2, datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),  # Monday 00:30 CEST: next week
        _fact(3, datetime(2026, 3, 23, 8, 0, tzinfo=UTC), AppointmentStatus.CANCELLED),
        _fact(4, datetime(2026, 3, 23, 9, 0, tzinfo=UTC), AppointmentStatus.CONFIRMED),
        _fact(5, datetime(2026, 3, 22, 23, 0, tzinfo=UTC), AppointmentStatus.NO_SHOW),  # Mon 00:00
    ]

    table = magister_table(facts, week, AMS)

    assert [tuple(NL.render(c) if isinstance(c, Text) else c for c in r) for r in table.rows] == [
        ("100234", "23-03-2026", "00:00-00:45", "begeleidingsgesprek", "afwezig"),
        ("100234", "29-03-2026", "23:30-00:15", "begeleidingsgesprek", "aanwezig"),
    ]


def test_the_csv_is_semicolon_separated_utf8_with_a_bom_and_defuses_formulas() -> None:
    table = ExportTable(
        ("Name", "Week"),
        (('=HYPERLINK("x")', "a;b"), ("+31 6", "Åsa Øberg")),
    )

    data = encode_csv(table, NL)

    assert (
        data
        == (
            "\ufeffNaam;Week\r\n" + '"\'=HYPERLINK(""x"")";"a;b"\r\n' + "'+31 6;Åsa Øberg\r\n"
        ).encode()
    )


def _week_facts(trajectory_id: int, number: str, **changes: object) -> TrajectoryWeekFacts:
    values: dict[str, object] = {
        "trajectory_id": trajectory_id,
        "student_number": number,
        "student_name": f"Leerling {number}",
        "intake_held_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        "activated_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        "closed_at": None,
    }
    values.update(changes)
    return TrajectoryWeekFacts(**values)  # type: ignore[arg-type]


def test_which_trajectories_ran_in_the_week() -> None:
    start, end = Week(2026, 10).bounds(AMS)
    running = _week_facts(1, "1")
    planned = _week_facts(2, "2", intake_held_at=None, activated_at=None)
    closed_before = _week_facts(3, "3", closed_at=start - timedelta(seconds=1))
    closed_during = _week_facts(4, "4", closed_at=start + timedelta(days=1))
    begun_after = _week_facts(5, "5", intake_held_at=end, activated_at=end)

    assert [
        ran_in(f, start, end) for f in (running, planned, closed_before, closed_during, begun_after)
    ] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_a_student_with_two_trajectories_in_one_week_gets_one_row() -> None:
    week = Week(2026, 10)
    start, _end = week.bounds(AMS)
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    old = _week_facts(
        1,
        "100234",
        closed_at=start + timedelta(hours=12),
        appointments=((AppointmentKind.GESPREK, AppointmentStatus.ATTENDED, monday),),
        logbook_at=(monday,),
    )
    new = _week_facts(
        7,
        "100234",
        intake_held_at=start + timedelta(days=2),
        activated_at=None,
        appointments=(
            (AppointmentKind.TIME_OUT, AppointmentStatus.ATTENDED, monday + timedelta(days=2)),
            (AppointmentKind.GESPREK, AppointmentStatus.NO_SHOW, monday + timedelta(days=3)),
            (AppointmentKind.GESPREK, AppointmentStatus.CANCELLED, monday + timedelta(days=3)),
        ),
        evaluations_held=(date(2026, 3, 5), date(2026, 3, 9)),
        logbook_at=(monday + timedelta(days=2), monday + timedelta(days=2, hours=1)),
    )

    (row,) = lvs_rows([new, old], week, AMS)

    assert row.trajectory_id == 7
    assert row.state is WeekState.INTAKE_HELD
    assert (row.appointments_attended, row.appointments_missed) == (1, 1)
    assert (row.timeouts_attended, row.timeouts_missed) == (1, 0)
    assert row.evaluations_held == 1
    assert row.logbook_entries == 3
    assert row.logbook_days == (date(2026, 3, 2), date(2026, 3, 4))


@pytest.mark.parametrize(
    ("end", "closed_on", "expected"),
    [
        (date(2026, 3, 13), date(2026, 3, 13), "Afgesloten op 13-03-2026, de geplande einddatum."),
        (None, date(2026, 3, 13), "Afgesloten op 13-03-2026, de geplande einddatum."),
        (
            date(2026, 3, 13),
            date(2026, 3, 12),
            "Afgesloten op 12-03-2026, 1 dag voor de geplande einddatum.",
        ),
        (
            date(2026, 3, 13),
            date(2026, 3, 20),
            "Afgesloten op 20-03-2026, 7 dagen na de geplande einddatum.",
        ),
    ],
)
def test_the_closing_outcome_compares_with_the_planned_end(
    end: date | None, closed_on: date, expected: str
) -> None:
    assert NL.render(closing_outcome(end, closed_on)) == expected
