"""Months and periods of the indicators: a calendar month, the months of a period, and which
periods can be asked for (pure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dialogs.text import N_, Text

#: The longest period one request may cover.
MAX_MONTHS = 24


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


#: A school year runs from 1 August to 31 July; it is named by the year it starts in.
SCHOOL_YEAR_FIRST_MONTH = 8


def school_year_of(day: date) -> int:
    """The school year ``day`` lies in (2026 for 1 August 2026 - 31 July 2027)."""
    return day.year if day.month >= SCHOOL_YEAR_FIRST_MONTH else day.year - 1


def school_year_bounds(year: int) -> tuple[date, date]:
    """The first and last day of school year ``year``."""
    return date(year, SCHOOL_YEAR_FIRST_MONTH, 1), date(year + 1, SCHOOL_YEAR_FIRST_MONTH, 1) - (
        timedelta(days=1)
    )


def school_years_of(months: tuple[Month, ...] | list[Month]) -> tuple[int, ...]:
    """The school years the months lie in, oldest first."""
    return tuple(sorted({school_year_of(month.first_day) for month in months}))


def school_year_label(year: int) -> str:
    """``2026-2027``."""
    return f"{year}-{year + 1}"
