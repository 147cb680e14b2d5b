"""Reading typed dates (day-month order first, as Dutch people write them)."""

from __future__ import annotations

from datetime import date

import pytest

from dialogs.dates import parse_date
from tests.dialogs.helpers import TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30-11", date(2026, 11, 30)),
        ("30/11/2026", date(2026, 11, 30)),
        ("2026-11-30", date(2026, 11, 30)),
        ("30.11.26", date(2026, 11, 30)),
        ("30 11", date(2026, 11, 30)),
        ("  1-12  ", date(2026, 12, 1)),
        ("23-11", TODAY),  # today is not "passed"
        ("1-1", date(2027, 1, 1)),  # without a year: the next such day
        ("20-11", date(2026, 11, 20)),  # just passed: this year's, so it reads as passed
        ("5-1", date(2027, 1, 5)),  # months back: next year's
        ("14-12-2026", date(2026, 12, 14)),
    ],
)
def test_parse_date_reads_common_forms(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_a_date_without_a_year_rolls_over_at_new_year() -> None:
    assert parse_date("5-1", today=date(2026, 12, 28)) == date(2027, 1, 5)


@pytest.mark.parametrize(
    "text",
    ["", "31-2", "29-2-2027", "0-1", "1-13", "2026-13-01", "tomorrow", "30-11-2026-1", "1130"],
)
def test_parse_date_returns_none_for_nonsense(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


def test_parse_date_accepts_a_leap_day() -> None:
    assert parse_date("29-2-2028", today=TODAY) == date(2028, 2, 29)
