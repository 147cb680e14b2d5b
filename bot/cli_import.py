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
    from collections.abc import Mapping

    from services.accounts.roster.plan import Plan
    from services.accounts.roster.sync import SyncResult
    from storage.models import Role


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
    for text, err in report_lines(result, dry_run=dry_run):
        _say(settings, text, err=err)
        code = 1 if err else code
    sys.exit(code)


def report_lines(result: SyncResult, *, dry_run: bool) -> list[tuple[Text, bool]]:
    """The lines the command prints, each with whether it goes to stderr (a problem)."""
    lines: list[tuple[Text, bool]] = []
    if result.fatal:
        lines.append((Text.of(N_("The file could not be read; nothing was imported.")), True))
        lines.extend((_problem(bad.file, bad.reason), True) for bad in result.fatal)
        return lines
    plan = result.plan
    assert plan is not None  # noqa: S101 - a result without problems always has a plan
    if result.refused and not dry_run:
        lines.append(
            (
                Text.plural_of(
                    "Nothing was imported: {count} problem found.",
                    "Nothing was imported: {count} problems found.",
                    len(plan.bad_rows),
                ),
                True,
            )
        )
        lines.extend((_problem(bad.file, bad.reason), True) for bad in plan.bad_rows)
        lines.append(
            (Text.of(N_("Fix the rows, or import the others with --skip-bad-rows.")), True)
        )
        return lines
    if dry_run:
        lines.append((Text.of(N_("Dry run: nothing was written.")), False))
    lines.extend((text, False) for text in _summary(plan))
    if plan.bad_rows:
        if result.refused:
            lines.append(
                (
                    Text.plural_of(
                        "{count} problem found: as it is, nothing would be imported.",
                        "{count} problems found: as it is, nothing would be imported.",
                        len(plan.bad_rows),
                    ),
                    True,
                )
            )
        else:
            lines.append(
                (
                    Text.of(N_("Bad rows left out: {count}."), count=len(plan.bad_rows)),
                    False,
                )
            )
        lines.extend((_problem(bad.file, bad.reason), result.refused) for bad in plan.bad_rows)
        if result.refused:
            lines.append(
                (Text.of(N_("Fix the rows, or import the others with --skip-bad-rows.")), True)
            )
    if result.written:
        lines.append(
            (
                Text.of(
                    N_("Imported. New: {created}. Changed: {changed}. Ended: {ended}."),
                    created=len(plan.added),
                    changed=len(_changed_only(plan)),
                    ended=len(plan.ended),
                ),
                False,
            )
        )
    return lines


def _problem(file: str, reason: Text) -> Text:
    return Text.of(N_("{file}: {problem}"), file=Text.raw(file), problem=reason)


def _ids(ids: list[str] | tuple[str, ...]) -> Text:
    return Text.raw(", ".join(ids))


def _changed_only(plan: Plan) -> list[str]:
    return [c.external_id for c in plan.changed if dict(c.values) != {"ended": True}]


def _summary(plan: Plan) -> list[Text]:
    lines = [
        Text.of(N_("Full sync: people of the school who are not in the file leave (ended)."))
        if plan.full
        else Text.of(N_("Partial sync: people who are not in the file are left alone.")),
    ]
    lines.extend(_role_lines(plan.role_counts))
    if plan.skipped:
        lines.append(
            Text.of(
                N_("Rows not imported on purpose (other roles, other schools): {count}."),
                count=plan.skipped,
            )
        )
    if plan.is_empty:
        lines.append(Text.of(N_("Nothing to change: the school already matches the file.")))
        return lines
    if plan.added:
        lines.append(
            Text.of(
                N_("New ({count}): {ids}"),
                count=len(plan.added),
                ids=_ids([c.external_id for c in plan.added]),
            )
        )
    lines.extend(
        Text.of(
            N_("Changed {external_id}: {fields}"),
            external_id=Text.raw(change.external_id),
            fields=Text.raw(", ".join(change.fields)),
        )
        for change in plan.changed
        if dict(change.values) != {"ended": True}
    )
    if plan.ended:
        lines.append(
            Text.of(N_("Ended ({count}): {ids}"), count=len(plan.ended), ids=_ids(plan.ended))
        )
    if plan.returned:
        lines.append(
            Text.of(
                N_("Back after leaving ({count}): {ids}"),
                count=len(plan.returned),
                ids=_ids(plan.returned),
            )
        )
    if plan.links_added or plan.links_removed:
        lines.append(
            Text.of(
                N_("Mentor and parent links: {added} new, {removed} removed."),
                added=len(plan.links_added),
                removed=len(plan.links_removed),
            )
        )
    lines.append(Text.of(N_("Unchanged: {count}."), count=plan.unchanged))
    return lines


def _role_lines(counts: Mapping[Role, int]) -> list[Text]:
    from storage.models import Role  # noqa: PLC0415 - the CLI's lazy imports

    labels = {
        Role.STUDENT: N_("Students in the file: {count}."),
        Role.PARENT: N_("Parents in the file: {count}."),
        Role.TEACHER: N_("Teachers in the file: {count}."),
        Role.MENTOR: N_("Mentors in the file: {count}."),
    }
    lines = [Text.of(labels[role], count=counts.get(role, 0)) for role in labels]
    other = sum(count for role, count in counts.items() if role not in labels)
    if other:
        lines.append(Text.of(N_("People with other roles in the file: {count}."), count=other))
    return lines
