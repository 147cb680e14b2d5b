"""``trajectbot outbox list | retry | cancel``: the operator's view of the outbox (issue 13).

Added to the ``outbox`` group of `bot.cli_email` (which also has ``waiting``); `bot.cli`
imports this module once, near its end. Lists show ids, kinds, statuses, attempts and ages,
never names or message text. Retry and cancel are audited per row
(`services.outbox.operations`). Like `bot.cli`, only click and `dialogs.text` are imported at
the top; the machinery when a command runs.
"""

# ruff: noqa: PLC0415 - lazy imports keep `trajectbot --help` fast (as in bot/cli.py)

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from bot.cli_email import _execute, _now, _say, _settings, outbox_group
from dialogs.text import N_, Text

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from services.outbox.operations import OutboxRow, RowChange

__all__ = ["outbox_cancel", "outbox_list", "outbox_retry"]

_STATUSES = click.Choice(["pending", "sending", "uncertain", "failed", "unreachable"])
#: Outbox ids are INTEGER columns: anything outside is "not found" without a query.
_ID = click.IntRange(1, 2**31 - 1)


@outbox_group.command(
    "list", help="List outbox rows (ids, kinds, statuses, attempts, ages; no personal data)."
)
@click.option("--status", "status", type=_STATUSES, default=None, help="Only this status.")
@click.option("--kind", "kind", default=None, help="Only this kind (e.g. referral.new).")
@click.option("--limit", "limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def outbox_list(status: str | None, kind: str | None, limit: int) -> None:
    """Without --status: every row not yet sent or withdrawn."""
    from services.outbox.operations import list_rows
    from storage.models import OutboxStatus

    settings = _settings()
    now = _now()

    async def work(session: AsyncSession) -> list[OutboxRow]:
        return await list_rows(
            session=session,
            status=OutboxStatus(status) if status else None,
            kind=kind,
            limit=limit,
        )

    rows = _execute(settings, work)
    if not rows:
        _say(settings, Text.of(N_("No outbox rows match.")))
        return
    _say(settings, Text.of(N_("id\tkind\tstatus\tattempts\tage\tclaimed\tlast error")))
    for row in rows:
        click.echo(
            "\t".join(
                (
                    str(row.outbox_id),
                    row.kind,
                    row.status,
                    str(row.attempts),
                    _age(now, row.created_at),
                    _age(now, row.claimed_at),
                    row.last_error or "-",
                )
            )
        )


@outbox_group.command("retry", help="Send these rows again (failed, uncertain or cancelled).")
@click.argument("outbox_ids", nargs=-1, type=_ID, required=True)
def outbox_retry(outbox_ids: tuple[int, ...]) -> None:
    """Each row goes back to pending, due now, its attempts counted afresh; audited."""
    from services.outbox.operations import retry_rows

    settings = _settings()

    async def work(session: AsyncSession) -> list[RowChange]:
        return await retry_rows(session=session, outbox_ids=outbox_ids, now=_now())

    _report(settings, _execute(settings, work), N_("#{id}: will be sent again."))


@outbox_group.command("cancel", help="Withdraw these rows: they are not sent (any more).")
@click.argument("outbox_ids", nargs=-1, type=_ID, required=True)
def outbox_cancel(outbox_ids: tuple[int, ...]) -> None:
    """Pending, sending, uncertain or failed rows become cancelled; audited."""
    from services.outbox.operations import cancel_rows

    settings = _settings()

    async def work(session: AsyncSession) -> list[RowChange]:
        return await cancel_rows(session=session, outbox_ids=outbox_ids, now=_now())

    _report(settings, _execute(settings, work), N_("#{id}: withdrawn."))


def _report(settings: Settings, changes: list[RowChange], done: str) -> None:
    refused = False
    for change in changes:
        number = Text.raw(str(change.outbox_id))  # an id, not a quantity: no grouping
        if change.changed:
            _say(settings, Text.of(done, id=number))
        elif change.before is None:
            refused = True
            _say(settings, Text.of(N_("#{id}: no such outbox row."), id=number), err=True)
        else:
            refused = True
            _say(
                settings,
                Text.of(
                    N_("#{id} is {status}: not changed."),
                    id=number,
                    status=Text.raw(change.before),
                ),
                err=True,
            )
    if refused:
        sys.exit(1)


def _age(now: datetime, then: datetime | None) -> str:
    """``3d4h``, ``2h05m``, ``4m10s``, ``-`` for none: language-neutral, for the columns."""
    if then is None:
        return "-"
    seconds = max(int((now - then).total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s"
