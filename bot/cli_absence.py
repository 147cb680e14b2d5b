"""`trajectbot absence import FILE [--school CODE]`: long-term absence from an attendance
export (issue 14), counted by the indicators.

The file is CSV (comma or semicolon) with a header row and the columns ``student`` (the
student's number, as in the roster), ``from`` and, optionally, ``until`` (dates as
2026-01-31 or 31-01-2026; an empty ``until``: still absent). A period that starts on a day
already recorded for the student gets its end updated. Registered on `bot.cli.main`; like
`bot.cli`, this module imports its machinery when the command runs.
"""

# ruff: noqa: PLC0415 - lazy imports keep `trajectbot --help` fast (as in bot/cli.py)

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from pathlib import Path

import click

from bot.cli import main
from dialogs.text import N_, Text

__all__ = ["parse_absence_csv"]

#: The most lines one file may hold.
MAX_ROWS = 50_000


def _date(value: str) -> date:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
    raise ValueError(value)


def parse_absence_csv(data: str) -> tuple[list[tuple[str, date, date | None]], list[int]]:
    """The rows (student number, from, until) and the line numbers that could not be read."""
    sample = data[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(data), delimiter=delimiter)
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or ()}
    student_key, from_key, until_key = (
        fields.get("student"),
        fields.get("from"),
        fields.get("until"),
    )
    rows: list[tuple[str, date, date | None]] = []
    bad: list[int] = []
    if student_key is None or from_key is None:
        return rows, [1]
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            bad.append(line)
            break
        try:
            student = (row.get(student_key) or "").strip()
            first = _date(row.get(from_key) or "")
            until_text = (row.get(until_key) or "").strip() if until_key else ""
            last = _date(until_text) if until_text else None
        except ValueError:
            bad.append(line)
            continue
        if not student or (last is not None and last < first):
            bad.append(line)
            continue
        rows.append((student, first, last))
    return rows, bad


@main.group("absence", help="Long-term absence (verzuim) for the indicators.")
def absence() -> None:
    """Commands for long-term absence."""


@absence.command(
    "import",
    help="Read long-term absence periods from an attendance export (CSV with the columns "
    "student, from, until).",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
def absence_import(file: Path, school_code: str | None) -> None:
    """Import the file in one unit of work; prints what was added and what was not found."""
    from datetime import UTC
    from datetime import datetime as clock

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.cli_email import _execute, _say, _settings
    from services.accounts.schools import find_school
    from services.indicators.records import AbsenceImport, AbsenceRow, import_absences

    settings = _settings()
    rows, bad = parse_absence_csv(file.read_text(encoding="utf-8-sig"))
    if bad:
        _say(
            settings,
            Text.of(
                N_("These lines could not be read (nothing was imported): {lines}."),
                lines=Text.raw(", ".join(map(str, bad[:20]))),
            ),
            err=True,
        )
        sys.exit(1)

    async def work(session: AsyncSession) -> AbsenceImport:
        school = await find_school(session=session, code=school_code)
        return await import_absences(
            session=session,
            school_id=school.id,
            rows=[AbsenceRow(student, first, last) for student, first, last in rows],
            now=clock.now(UTC),
        )

    result = _execute(settings, work)
    _say(
        settings,
        Text.of(
            N_("Absence periods added: {added}; updated: {known}; students not found: {unknown}."),
            added=Text.raw(str(result.added)),
            known=Text.raw(str(result.known)),
            unknown=Text.raw(str(len(result.unknown))),
        ),
    )
