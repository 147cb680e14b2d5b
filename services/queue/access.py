"""Who may handle a referral's queue item: re-read from the database on every action.

The actor is re-read, must hold the care coordinator role, and the item must belong to their
school. An item of another school and an id that does not exist give the same `NotAllowed`,
so ids cannot be probed. A coach of the school may read (never act on) an accepted referral.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor, require_role
from services.kernel.errors import NotAllowed
from storage.models import Person, QueueDecision, QueueItem, Referral, Role

log = logging.getLogger(__name__)

NOT_AVAILABLE = N_("This referral is not available to you.")


async def coordinator_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int, lock: bool
) -> tuple[Person, QueueItem, Referral]:
    """The fresh actor, the item and its referral, if the actor may handle the item.

    ``lock`` takes a row lock on the item (PostgreSQL; SQLite has one writer anyway), so two
    coordinators acting at once are serialised and the second sees the first one's result.
    """
    actor = await require_role(session=session, actor=actor, role=Role.CARE_COORDINATOR)
    item, referral = await _item_of_school(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=lock
    )
    return actor, item, referral


async def readable_item(
    *, session: AsyncSession, actor: Person, queue_item_id: int
) -> tuple[Person, QueueItem, Referral]:
    """As `coordinator_item` for a care coordinator; a coach may read an accepted referral of
    their own school. Any other case gets the same refusal as an unknown id."""
    fresh = await reload_actor(session=session, actor=actor)
    if fresh.has_role(Role.CARE_COORDINATOR) or not fresh.has_role(Role.COACH):
        return await coordinator_item(
            session=session, actor=fresh, queue_item_id=queue_item_id, lock=False
        )
    item, referral = await _item_of_school(
        session=session,
        actor=fresh,
        queue_item_id=queue_item_id,
        lock=False,
        only=QueueItem.decision == QueueDecision.ACCEPTED,
    )
    return fresh, item, referral


async def _item_of_school(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    lock: bool,
    only: ColumnElement[bool] | None = None,
) -> tuple[QueueItem, Referral]:
    """The item and its referral in the actor's school (and matching ``only``), or the refusal
    (`NotAllowed`) that an unknown id gets too."""
    query = (
        select(QueueItem, Referral)
        .join(Referral, Referral.id == QueueItem.referral_id)
        .where(
            QueueItem.id == queue_item_id,
            QueueItem.school_id == actor.school_id,
            Referral.school_id == actor.school_id,
        )
        # Objects kept from an earlier transaction (expire_on_commit=False) may be stale.
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(only)
    if lock:
        query = query.with_for_update(of=QueueItem)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        # One answer for "another school's" and "no such item": ids cannot be probed.
        log.info("refused: queue_item_id=%s for person_id=%s", queue_item_id, actor.id)
        raise NotAllowed(Text.of(NOT_AVAILABLE))
    item, referral = row
    return item, referral
