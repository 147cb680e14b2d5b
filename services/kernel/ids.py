"""Row ids that arrive from outside (a URL, a form, a button's callback data, a preset answer).

Every id column is an ``INTEGER``: on PostgreSQL at most 2^31 − 1, on SQLite the driver fails
on anything past 2^63 − 1. An id outside ``1 … MAX_ID`` cannot name a row, so it is answered
as "not found" before it reaches the database — never as a driver error (a 500, or an
unanswered update). Web paths (``web.app``), callback data (``bot.telegram.callbacks``) and the
services that read ids from presets all use this one rule.
"""

from __future__ import annotations

#: The largest id any table can hold (PostgreSQL's ``integer``).
MAX_ID = 2**31 - 1


def id_in_range(value: int) -> bool:
    """Whether ``value`` can be the id of a row."""
    return 1 <= value <= MAX_ID


def parse_id(raw: object) -> int | None:
    """``raw`` as a row id, or ``None`` when it is not ASCII digits naming a possible row."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if id_in_range(raw) else None
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if id_in_range(value) else None
