"""The report of an import run (`sync.SyncResult`): what it found, would do and did.

Lines of translatable text, each with whether it is a problem; the command line
(`bot.cli_import`) and the administrator's import page (`web.routes.people_import`) show the
same lines. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from dialogs.text import N_, Text
from services.accounts.roster.plan import Plan
from services.accounts.roster.sync import SyncResult
from storage.models import Role

__all__ = ["report_lines"]


def report_lines(result: SyncResult, *, dry_run: bool, fix_hint: Text) -> list[tuple[Text, bool]]:
    """What an import run found and did, line by line, each with whether it is a problem.

    The command line prints these (problems to stderr) and the administrator's import page
    shows them: one report in both channels. ``fix_hint`` is the channel's own advice when bad
    rows stopped the import (an option there, a check box here).
    """
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
        lines.append((fix_hint, True))
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
            lines.append((fix_hint, True))
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
