"""Reading dates the way people type them in a chat (Dutch day-month order first)."""

from __future__ import annotations

import re
from datetime import date

_DMY = re.compile(r"^\s*(\d{1,2})\s*[-/.\s]\s*(\d{1,2})(?:\s*[-/.\s]\s*(\d{2}|\d{4}))?\s*$")
_ROLL_OVER_AFTER_DAYS = 60
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str, *, today: date) -> date | None:
    """Parse ``14-12-2026``, ``14/12/26``, ``14.12``, ``14 12`` or ``2026-12-14``.

    A date without a year is this year's, unless that lies more than two months back: then it
    is next year's ("5-1" typed in December). So a day just passed reads as passed and can be
    refused as such. Returns None when the text is not a real date (31-2, letters), never
    raises.
    """
    iso = _ISO.match(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        dmy = _DMY.match(text)
        if not dmy:
            return None
        day, month = int(dmy[1]), int(dmy[2])
        if dmy[3] is None:
            candidate = date(today.year, month, day)
            if (today - candidate).days > _ROLL_OVER_AFTER_DAYS:
                return date(today.year + 1, month, day)
            return candidate
        year = int(dmy[3])
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None
