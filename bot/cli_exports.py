"""`trajectbot export …`: files for the school's own systems (issue 12, the seed systems).

    trajectbot export magister --school CODE --week 2026-W49 --out FILE
    trajectbot export lvs --school CODE --week 2026-W49 --out FILE [--text]
    trajectbot export closing-report --trajectory ID [--school CODE] --out FILE
    trajectbot export intake-report --trajectory ID [--school CODE] --out FILE

Registered on `bot.cli.main`. Like `bot.cli`, this module imports only click and
`dialogs.text`: each command imports its machinery (`bot.export_files`) when it runs, so
`trajectbot --help` stays fast (`tests/bot/test_cli_imports.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

_SCHOOL = click.option(
    "--school", "school_code", help="School code (may be left out if there is one)."
)
_WEEK = click.option(
    "--week", required=True, help="The ISO week, e.g. 2026-W49 (Monday to Sunday)."
)
_OUT = click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write ('-': standard output).",
)


@click.group(
    "export",
    help="Files for the school's own systems: attendance for Magister, the weekly summary for "
    "the student tracking system (LVS), the closing report for the student file. Audited.",
)
def export() -> None:
    """Commands that write export files."""


@export.command(
    "magister",
    help="Attendance of support moments in a week (CSV for Magister: student number, date, "
    "time, kind, present/absent; ';', UTF-8 with BOM).",
)
@_SCHOOL
@_WEEK
@_OUT
def export_magister(school_code: str | None, week: str, out: Path) -> None:
    """The appointments marked attended or no-show that started in the week."""
    from bot.export_files import magister  # noqa: PLC0415

    sys.exit(magister(school_code=school_code, week=week, out=out))


@export.command(
    "lvs",
    help="The weekly summary per student for the student tracking system (CSV, or --text): "
    "facts only, no free text.",
)
@_SCHOOL
@_WEEK
@_OUT
@click.option("--text", "as_text", is_flag=True, help="Readable text instead of CSV.")
def export_lvs(school_code: str | None, week: str, out: Path, as_text: bool) -> None:
    """One row per student whose trajectory ran in the week."""
    from bot.export_files import lvs  # noqa: PLC0415

    sys.exit(lvs(school_code=school_code, week=week, out=out, as_text=as_text))


@export.command(
    "closing-report", help="The closing report of a closed trajectory (PDF for the student file)."
)
@click.option("--trajectory", "trajectory_id", required=True, type=int, help="The trajectory's id.")
@_SCHOOL
@_OUT
def export_closing_report(trajectory_id: int, school_code: str | None, out: Path) -> None:
    """Goals, period, evaluations, the final evaluation, the advice, the support given."""
    from bot.export_files import closing_report  # noqa: PLC0415

    sys.exit(closing_report(school_code=school_code, trajectory_id=trajectory_id, out=out))


@export.command(
    "intake-report", help="The intake report of a trajectory (PDF for the student file)."
)
@click.option("--trajectory", "trajectory_id", required=True, type=int, help="The trajectory's id.")
@_SCHOOL
@_OUT
def export_intake_report(trajectory_id: int, school_code: str | None, out: Path) -> None:
    """Goals, period, agreements and evaluation dates, as agreed at the intake."""
    from bot.export_files import intake_report  # noqa: PLC0415

    sys.exit(intake_report(school_code=school_code, trajectory_id=trajectory_id, out=out))
