"""`trajectbot privacy …`: the AVG rights from the command line (issue 13).

    trajectbot privacy export EXTERNAL_ID [--school CODE] --out DIR
    trajectbot privacy erase EXTERNAL_ID [--school CODE] --yes [--force]
    trajectbot privacy retention [--dry-run]
    trajectbot privacy set-retention MONTHS [--school CODE]

Registered on `bot.cli.main`. Like `bot.cli`, this module imports only click and
`dialogs.text`: each command imports its machinery (`bot.privacy_commands`) when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli import main

_SCHOOL = click.option(
    "--school", "school_code", help="School code (may be left out if there is one)."
)


@main.group(
    "privacy",
    help="The AVG rights: export everything about a person, erase a person, and the "
    "retention rule (care data of closed trajectories, old sessions). Audited.",
)
def privacy() -> None:
    """Commands for the rights of a person."""


@privacy.command(
    "export", help="Write everything stored about a person to DIR, as JSON and as a PDF."
)
@click.argument("external_id")
@_SCHOOL
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory to write the two files to (made if missing).",
)
def privacy_export(external_id: str, school_code: str | None, out: Path) -> None:
    """The person's data as JSON and PDF (in CLI_LANGUAGE)."""
    from bot.privacy_commands import export  # noqa: PLC0415

    sys.exit(export(school_code=school_code, external_id=external_id, out=out))


@privacy.command(
    "erase",
    help="Erase a person: names, contacts, accounts and free text removed; the counts and "
    "the audit trail kept without identity. Cannot be undone.",
)
@click.argument("external_id")
@_SCHOOL
@click.option("--yes", is_flag=True, help="Confirm: erase now (required).")
@click.option(
    "--force", is_flag=True, help="Also when the student's trajectory is still open (closes it)."
)
def privacy_erase(external_id: str, school_code: str | None, yes: bool, force: bool) -> None:
    """Pseudonymise the person ("Verwijderd 1234") and remove what they wrote."""
    from bot.privacy_commands import erase  # noqa: PLC0415

    sys.exit(erase(school_code=school_code, external_id=external_id, yes=yes, force=force))


@privacy.command(
    "retention",
    help="Erase the care data of trajectories closed longer ago than the school's retention "
    "period, and prune old update ids, expired sessions and used invitations (the worker "
    "does this daily).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be erased and pruned.")
def privacy_retention(dry_run: bool) -> None:
    """The retention rule of every school and the pruning."""
    from bot.privacy_commands import retention  # noqa: PLC0415

    sys.exit(retention(dry_run=dry_run))


@privacy.command(
    "set-retention", help="How many months after closing a trajectory's care data is kept."
)
@click.argument("months", type=int)
@_SCHOOL
def privacy_set_retention(months: int, school_code: str | None) -> None:
    """Change the school's retention period (default 24 months)."""
    from bot.privacy_commands import set_retention  # noqa: PLC0415

    sys.exit(set_retention(school_code=school_code, months=months))
