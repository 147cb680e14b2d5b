"""The Dutch school holidays per region, shipped as data (`holidays.toml`). Pure: no database.

Installed as a school's closed days by `services.settings.changes.install_holidays`; after that
the rows are the school's own and can be changed like any closed day.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.settings.rules import Region

HOLIDAYS_FILE = Path(__file__).with_name("holidays.toml")


@dataclass(frozen=True, slots=True)
class Holiday:
    """One school holiday of one region: ``start`` to ``end``, both included."""

    school_year: str
    name: str
    region: Region
    start: date
    end: date
    #: Compared with rijksoverheid.nl (see the file's header).
    checked: bool

    def days(self) -> list[date]:
        """Every day of the holiday."""
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


@lru_cache(maxsize=1)
def all_holidays(path: Path = HOLIDAYS_FILE) -> tuple[Holiday, ...]:
    """Every holiday in the file, in order."""
    with path.open("rb") as source:
        data: dict[str, Any] = tomllib.load(source)
    found: list[Holiday] = []
    for year in data["year"]:
        for holiday in year["holiday"]:
            for region in Region:
                start, end = holiday[region.value]
                found.append(
                    Holiday(
                        school_year=str(year["name"]),
                        name=str(holiday["name"]),
                        region=region,
                        start=date.fromisoformat(start),
                        end=date.fromisoformat(end),
                        checked=bool(holiday["checked"]),
                    )
                )
    return tuple(found)


def holidays_for(
    region: Region, *, from_day: date, school_year: str | None = None
) -> list[Holiday]:
    """The region's holidays that have not ended before ``from_day`` (of ``school_year`` only,
    when given)."""
    return [
        h
        for h in all_holidays()
        if h.region is region
        and h.end >= from_day
        and (school_year is None or h.school_year == school_year)
    ]


def school_years(*, from_day: date) -> list[str]:
    """The school years in the file with a holiday not ended before ``from_day``, in order."""
    years: list[str] = []
    for holiday in all_holidays():
        if holiday.end >= from_day and holiday.school_year not in years:
            years.append(holiday.school_year)
    return years
