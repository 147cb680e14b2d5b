"""The one writer of a queue item's status, with its age clock.

Every status change in the repository goes through `move_item`: the care coordinator's
decisions on referrals (`services.referrals.decisions`), time-out requests
(`services.appointments`) and exit questionnaire results (`services.surveys`). It asks the
rule (`services.queue.rules`) first, keeps the age clock right (``waiting_since``,
``paused_seconds``, read by `services.queue.listing.age`) and changes the row only from the
status it checked (compare-and-set), so of two coordinators acting at once exactly one wins.

An operation: it joins the caller's transaction and never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import Text
from services.kernel.errors import InvalidTransition
from services.queue.rules import (
    CHANGED_MEANWHILE,
    ITEM_CLOSED,
    ItemState,
    QueueAction,
    assignable,
    refusal,
)
from storage.models import QueueItem, QueueStatus

log = logging.getLogger(__name__)


def ensure_allowed(item: QueueItem, action: QueueAction, *, open_duplicate: bool = False) -> None:
    """Raise `InvalidTransition` (with the rule's reason) unless ``item`` allows ``action``.

    For a check before other work (booking an approved time-out); `move_item` checks again.
    ``open_duplicate`` is the fact a merge needs (`services.queue.duplicates`).
    """
    problem = refusal(ItemState.of(item, open_duplicate=open_duplicate), action)
    if problem is not None:
        raise InvalidTransition(problem)


async def move_item(
    *,
    session: AsyncSession,
    item: QueueItem,
    action: QueueAction,
    to: QueueStatus,
    now: datetime,
    values: Mapping[str, object] | None = None,
    open_duplicate: bool = False,
) -> QueueStatus:
    """Move ``item`` to status ``to`` for ``action`` (also setting ``values``); the old status.

    The caller has authorized the actor and read ``item`` (locked where the database can).
    Refused with `InvalidTransition` — nothing written — when the rule does not allow
    ``action`` in the item's state, or when the item changed since it was read (SQLite gives
    no row lock and reads outside the write transaction): the loser gets the refusal for the
    state it lost to. ``item`` is refreshed afterwards. The caller writes the audit row.
    ``open_duplicate`` is the fact a merge needs, read by the caller in its transaction.
    """
    ensure_allowed(item, action, open_duplicate=open_duplicate)
    from_status = item.status
    changed = await session.scalar(
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.status == from_status)
        .values(
            status=to,
            updated_at=now,
            **{**clock_after(item=item, to=to, now=now), **(values or {})},
        )
        .returning(QueueItem.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(item)
    if changed is None:
        log.info("queue_item_id=%s changed concurrently; %s refused", item.id, action.value)
        state = ItemState.of(item, open_duplicate=open_duplicate)
        raise InvalidTransition(refusal(state, action) or Text.of(CHANGED_MEANWHILE))
    return from_status


def clock_after(*, item: QueueItem, to: QueueStatus, now: datetime) -> dict[str, object]:
    """The age clock's columns after moving ``item`` to ``to`` at ``now``.

    Entering ``waiting`` starts a pause; leaving it adds the pause to ``paused_seconds``
    (a move between two waiting reasons keeps the running pause).
    """
    values: dict[str, object] = {}
    waiting = item.status is QueueStatus.WAITING
    if waiting and to is not QueueStatus.WAITING:
        since = item.waiting_since or item.updated_at
        values["paused_seconds"] = item.paused_seconds + max(int((now - since).total_seconds()), 0)
        values["waiting_since"] = None
        values["waiting_reason"] = None
    elif not waiting and to is QueueStatus.WAITING:
        values["waiting_since"] = now
    return values


async def erase_decision_reasons(*, session: AsyncSession, where: ColumnElement[bool]) -> int:
    """Empty the decline reasons of the items matching ``where`` (an erasure under the AVG:
    `services.privacy.erasure`); the status and the age clock stay. The number of items."""
    result = await session.execute(
        update(QueueItem)
        .where(where, QueueItem.decision_reason.is_not(None))
        .values(decision_reason="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def close_for_erasure(
    *, session: AsyncSession, where: ColumnElement[bool], now: datetime
) -> int:
    """Close the open items matching ``where`` of a trajectory closed because its student is
    erased (`services.privacy.erasure`, forced): no rule is asked and nobody is told, since
    the person they are about no longer exists for the school. The number of items."""
    result = await session.execute(
        update(QueueItem)
        .where(where, QueueItem.status != QueueStatus.CLOSED)
        .values(status=QueueStatus.CLOSED, waiting_since=None, waiting_reason=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def assign_item(
    *, session: AsyncSession, item: QueueItem, assignee_id: int, now: datetime
) -> None:
    """Assign an open ``item`` to ``assignee_id`` (the caller checked the person; issue 14's
    bulk assign). The status stays; only while it is the status read (compare-and-set), so an
    item closed meanwhile is refused (`InvalidTransition`) instead of reassigned."""
    if not assignable(item.status):
        raise InvalidTransition(Text.of(ITEM_CLOSED))
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(QueueItem)
        .where(QueueItem.id == item.id, QueueItem.status == item.status)
        .values(assignee_id=assignee_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(Text.of(CHANGED_MEANWHILE))
