"""Reading dates the way people type them in a chat (Dutch day-month order first)."""

from __future__ import annotations

import re
from datetime import date

_DMY = re.compile(r"^\s*(\d{1,2})\s*[-/.\s]\s*(\d{1,2})(?:\s*[-/.\s]\s*(\d{2}|\d{4}))?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_date(text: str, *, today: date) -> date | None:
    """Parse ``14-12-2026``, ``14/12/26``, ``14.12``, ``14 12`` or ``2026-12-14``.

    A date without a year means the next such day from ``today`` on. Returns None when the text
    is not a real date (31-2, letters), never raises.
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
            return candidate if candidate >= today else date(today.year + 1, month, day)
        year = int(dmy[3])
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None
