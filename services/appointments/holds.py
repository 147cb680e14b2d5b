"""A chosen time is held for a few minutes (domain.md, "Double bookings": "a slot being booked
is held for a few minutes").

When the booking flow shows its summary, the places the chosen time would take are held for
the person who chose it (`hold`) for `HOLD_FOR`, in both chats alike (the runtime is the same).
Meanwhile the free times offered to anyone else leave them out (`slots.free_slots` reads
`capacity.usage`), and another person's booking cannot take them: the conditional UPDATE that
takes a place counts the holds of others (`held_by_others`, in `capacity`). Booking ends the
hold (`release`); choosing another time replaces it.

A hold takes no place (``appointment_slot.booked`` is unchanged), so one that expired simply
stops counting: no job has to run for a place to come free again. The daily housekeeping
deletes expired rows (`services.privacy.retention.prune`). The capacity guarantee stays the
conditional UPDATE's: two people who pick the same last place in the same instant on
PostgreSQL may both see it kept, and the second to press "Book" gets the nearest free times,
as without holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SlotHold

#: How long a chosen time stays kept while the person reads the summary.
HOLD_FOR = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Held:
    """One held slot row: whose, which, until when."""

    holder_id: int
    resource: str
    starts_at: datetime
    expires_at: datetime


def held_by_others(
    *,
    school_id: int,
    resource: str,
    starts_at: datetime,
    now: datetime,
    holder_id: int | None,
) -> ColumnElement[int]:
    """SQL: how many holds of people other than ``holder_id`` (``None``: of anyone) keep a
    place of this slot row at ``now``; the conditional UPDATE that takes a place adds it."""
    query = select(func.count(SlotHold.id)).where(
        SlotHold.school_id == school_id,
        SlotHold.resource == resource,
        SlotHold.starts_at == starts_at,
        SlotHold.expires_at > now,
    )
    if holder_id is not None:
        query = query.where(SlotHold.holder_id != holder_id)
    return query.scalar_subquery()


async def hold(
    *,
    session: AsyncSession,
    school_id: int,
    holder_id: int,
    resource: str,
    cells: Sequence[datetime],
    now: datetime,
) -> datetime:
    """Keep ``cells`` of ``resource`` for ``holder_id`` until now + `HOLD_FOR` (replacing any
    other hold of theirs: one chosen time at a time); returns when it ends. An operation."""
    expires_at = now + HOLD_FOR
    await release(session=session, holder_id=holder_id)
    await session.execute(
        insert(SlotHold),
        [
            {
                "school_id": school_id,
                "holder_id": holder_id,
                "resource": resource,
                "starts_at": cell,
                "expires_at": expires_at,
            }
            for cell in cells
        ],
    )
    return expires_at


async def release(*, session: AsyncSession, holder_id: int) -> None:
    """End ``holder_id``'s hold (they booked, or hold another time). An operation."""
    await session.execute(delete(SlotHold).where(SlotHold.holder_id == holder_id))
