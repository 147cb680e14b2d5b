"""`trajectbot import`: people from the school's administration system.

A OneRoster CSV bundle (a directory or a .zip) or the project's CSV, in any common encoding
and delimiter. ``--dry-run`` shows what would be added, changed and ended and every bad row;
without it the same plan is written in batches (`services.accounts.roster`). Registered in
`bot/cli.py`; like it, this module imports only click and `dialogs.text` at the top.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dialogs.text import N_, Text

if TYPE_CHECKING:
    from services.accounts.roster.sync import SyncResult


@click.command(
    "import",
    help=(
        "Import students, parents, teachers and mentors from a OneRoster bundle (a directory "
        "or .zip) or the project's CSV file."
    ),
)
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option(
    "--org",
    help="OneRoster: the school's org (sourcedId or identifier, e.g. the BRIN number) when its "
    "identifier is not the school code.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--full/--partial",
    default=None,
    help=(
        "Full: people not in the file leave (ended). Default: full for a OneRoster bundle, "
        "partial for the CSV."
    ),
)
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some are bad.")
@click.option(
    "--batch-size", type=click.IntRange(1, 10_000), default=500, help="People per transaction."
)
def import_cmd(
    source: Path,
    *,
    school_code: str | None,
    org: str | None,
    dry_run: bool,
    full: bool | None,
    skip_bad_rows: bool,
    batch_size: int,
) -> None:
    """Nothing is written while there are bad rows, unless --skip-bad-rows."""
    from datetime import UTC, datetime  # noqa: PLC0415 - the CLI's lazy imports

    from bot.cli import _run, _say, build_app, load_settings  # noqa: PLC0415
    from services.accounts.roster.report import report_lines  # noqa: PLC0415
    from services.accounts.roster.sync import sync_people  # noqa: PLC0415

    settings = load_settings()

    async def go() -> SyncResult:
        async with build_app(settings) as app:
            return await sync_people(
                app.sessions,
                path=source,
                school_code=school_code,
                now=datetime.now(UTC),
                dry_run=dry_run,
                full=full,
                skip_bad_rows=skip_bad_rows,
                batch_size=batch_size,
                org=org,
            )

    result = _run(go())
    code = 0
    hint = Text.of(N_("Fix the rows, or import the others with --skip-bad-rows."))
    for text, err in report_lines(result, dry_run=dry_run, fix_hint=hint):
        _say(settings, text, err=err)
        code = 1 if err else code
    sys.exit(code)
