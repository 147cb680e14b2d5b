"""What an operator does with outbox rows: list them, send one again, withdraw one (audited).

Operations behind ``trajectbot outbox list | retry | cancel`` (`bot.cli_outbox`). Listing
shows ids, kinds, statuses, attempts and ages only, never names or message text. A retry or a
cancel is audited per row (``outbox.retry`` / ``outbox.cancel``, the row's status before).
Every function joins the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.audit import record_audit
from storage.models import Outbox, OutboxStatus

log = logging.getLogger(__name__)

#: The statuses a row may be sent again from (a claim still held is left to its worker).
RETRYABLE = frozenset({OutboxStatus.FAILED, OutboxStatus.UNCERTAIN, OutboxStatus.CANCELLED})
#: The statuses a row may be withdrawn from (not yet sent, or sent nobody knows).
CANCELLABLE = frozenset(
    {OutboxStatus.PENDING, OutboxStatus.UNCERTAIN, OutboxStatus.FAILED, OutboxStatus.SENDING}
)
#: ``last_error`` of a row an operator withdrew.
CANCELLED_BY_OPERATOR = "operator"

__all__ = [
    "CANCELLABLE",
    "RETRYABLE",
    "OutboxRow",
    "RowChange",
    "cancel_rows",
    "list_rows",
    "retry_rows",
]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One row as the operator sees it: ids, codes and times only."""

    outbox_id: int
    school_id: int
    kind: str
    status: str
    attempts: int
    created_at: datetime
    claimed_at: datetime | None
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class RowChange:
    """What a retry or cancel did to one id: ``before`` is None for an unknown id."""

    outbox_id: int
    before: str | None
    changed: bool


async def list_rows(
    *,
    session: AsyncSession,
    status: OutboxStatus | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> list[OutboxRow]:
    """Rows of ``status`` (default: every status but sent and cancelled) and ``kind``.

    A query, oldest first, at most ``limit``.
    """
    query = select(Outbox)
    if status is not None:
        query = query.where(Outbox.status == status)
    else:
        query = query.where(Outbox.status.not_in([OutboxStatus.SENT, OutboxStatus.CANCELLED]))
    if kind:
        query = query.where(Outbox.kind == kind)
    rows = await session.scalars(query.order_by(Outbox.created_at, Outbox.id).limit(limit))
    return [
        OutboxRow(
            outbox_id=row.id,
            school_id=row.school_id,
            kind=row.kind,
            status=str(row.status),
            attempts=row.attempts,
            created_at=row.created_at,
            claimed_at=row.claimed_at,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
        )
        for row in rows
    ]


async def retry_rows(
    *, session: AsyncSession, outbox_ids: Collection[int], now: datetime
) -> list[RowChange]:
    """Send these rows again: ``pending``, due now, with a fresh count of attempts.

    Only from `RETRYABLE`; audited per row changed (``outbox.retry``).
    """
    return await _change(
        session,
        outbox_ids,
        allowed=RETRYABLE,
        action="outbox.retry",
        now=now,
        values={
            "status": OutboxStatus.PENDING,
            "next_attempt_at": now,
            "attempts": 0,
            "claimed_at": None,
            "lease_until": None,
            "handed_at": None,
            "last_error": None,
        },
    )


async def cancel_rows(
    *, session: AsyncSession, outbox_ids: Collection[int], now: datetime
) -> list[RowChange]:
    """Withdraw these rows (``cancelled``, ``last_error`` ``operator``): never sent by a worker.

    Only from `CANCELLABLE`; a row a worker is sending right now keeps what it sends, but its
    outcome is no longer stored. Audited per row changed (``outbox.cancel``).
    """
    return await _change(
        session,
        outbox_ids,
        allowed=CANCELLABLE,
        action="outbox.cancel",
        now=now,
        values={
            "status": OutboxStatus.CANCELLED,
            "lease_until": None,
            "last_error": CANCELLED_BY_OPERATOR,
        },
    )


async def _change(
    session: AsyncSession,
    outbox_ids: Collection[int],
    *,
    allowed: frozenset[OutboxStatus],
    action: str,
    now: datetime,
    values: dict[str, object],
) -> list[RowChange]:
    changes = []
    for outbox_id in sorted(set(outbox_ids)):
        row = (
            await session.execute(
                select(Outbox.status, Outbox.school_id).where(Outbox.id == outbox_id)
            )
        ).one_or_none()
        if row is None:
            changes.append(RowChange(outbox_id, None, changed=False))
            continue
        before, school_id = row
        if before not in allowed:
            changes.append(RowChange(outbox_id, str(before), changed=False))
            continue
        await session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id, Outbox.status == before)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        record_audit(
            session=session,
            school_id=school_id,
            actor_id=None,
            action=action,
            subject_type="outbox",
            subject_id=outbox_id,
            details={"before": str(before)},
            at=now,
        )
        changes.append(RowChange(outbox_id, str(before), changed=True))
    await session.flush()
    log.info("%s: outbox_ids=%s", action, [c.outbox_id for c in changes if c.changed])
    return changes
