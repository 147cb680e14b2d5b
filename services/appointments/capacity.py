"""Holding and releasing places: the only code that changes ``appointment_slot.booked``.

A place is taken by a conditional UPDATE (``booked = booked + 1 … WHERE booked < capacity``)
whose RETURNING says whether it worked, in the caller's transaction, so the appointment row
and its places commit or roll back together. There is no read-then-write: on PostgreSQL a
second transaction's UPDATE of the same row waits for the first to commit and then re-checks
the condition against the committed value; on SQLite transactions are serialised (BEGIN
IMMEDIATE). The CHECK constraint ``booked <= capacity`` would stop an over-booking even if the
condition were lost.

Rows are created on first use with ``INSERT … ON CONFLICT DO NOTHING``. Every change is one
statement per row, in one global order (resource, start), so two transactions touching
overlapping rows take their locks in the same order and cannot deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import null, select, type_coerce, union_all, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments.holds import Held, held_by_others
from storage.models import AppointmentSlot, SlotHold

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, order=True)
class Change:
    """Take (``delta`` +1) or give back (-1) one place of one slot row."""

    resource: str
    starts_at: datetime
    delta: int
    capacity: int = 1


def changes_for(
    *, resource: str, cells: Iterable[datetime], delta: int, capacity: int = 1
) -> list[Change]:
    """One `Change` per cell."""
    return [Change(resource, cell, delta, capacity) for cell in cells]


async def apply_changes(
    *,
    session: AsyncSession,
    school_id: int,
    changes: Iterable[Change],
    now: datetime | None = None,
    holder_id: int | None = None,
) -> bool:
    """Apply every change or none (an operation): False when a place was not free.

    With ``now`` a place kept by someone else's hold (`holds`: not ``holder_id``'s, not
    expired at ``now``) is not free either.

    A cell both given back and taken (a move onto an overlapping time) nets out and is not
    touched. On a refusal the changes already made are undone in this transaction, so the
    caller may go on (try another coach, answer with alternatives).
    """
    net: dict[tuple[str, datetime], Change] = {}
    for change in changes:
        key = (change.resource, change.starts_at)
        before = net.get(key)
        delta = change.delta + (before.delta if before else 0)
        capacity = max(change.capacity, before.capacity if before else 0)
        net[key] = Change(change.resource, change.starts_at, delta, capacity)
    done: list[Change] = []
    for change in sorted(c for c in net.values() if c.delta != 0):
        if await _apply(
            session=session, school_id=school_id, change=change, now=now, holder_id=holder_id
        ):
            done.append(change)
            continue
        for made in reversed(done):
            undone = await _apply(
                session=session,
                school_id=school_id,
                change=Change(made.resource, made.starts_at, -made.delta, made.capacity),
            )
            if not undone:  # pragma: no cover - we hold these rows; cannot happen
                raise RuntimeError("could not undo a place change held by this transaction")
        return False
    return True


async def _apply(
    *,
    session: AsyncSession,
    school_id: int,
    change: Change,
    now: datetime | None = None,
    holder_id: int | None = None,
) -> bool:
    where = (
        AppointmentSlot.school_id == school_id,
        AppointmentSlot.resource == change.resource,
        AppointmentSlot.starts_at == change.starts_at,
    )
    if change.delta > 0:
        await _ensure_row(session=session, school_id=school_id, change=change)
        taken = AppointmentSlot.booked + change.delta
        if now is not None:
            # The places others hold for a few minutes count as taken (`holds`).
            taken = taken + held_by_others(
                school_id=school_id,
                resource=change.resource,
                starts_at=change.starts_at,
                now=now,
                holder_id=holder_id,
            )
        statement = (
            update(AppointmentSlot)
            .where(*where, taken <= AppointmentSlot.capacity)
            .values(booked=AppointmentSlot.booked + change.delta)
        )
    else:
        statement = (
            update(AppointmentSlot)
            .where(*where, AppointmentSlot.booked + change.delta >= 0)
            .values(booked=AppointmentSlot.booked + change.delta)
        )
    changed = await session.scalar(
        statement.returning(AppointmentSlot.id).execution_options(synchronize_session=False)
    )
    if changed is None and change.delta < 0:
        # Nothing to give back: the row was never taken (data from before this code). Logged,
        # not fatal: releasing must not block a cancellation.
        log.warning("slot %s at %s had no place to release", change.resource, change.starts_at)
        return True
    return changed is not None


async def _ensure_row(*, session: AsyncSession, school_id: int, change: Change) -> None:
    values = {
        "school_id": school_id,
        "resource": change.resource,
        "starts_at": change.starts_at,
        "capacity": change.capacity,
        "booked": 0,
    }
    keys = ["school_id", "resource", "starts_at"]
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            postgresql_insert(AppointmentSlot)
            .values(values)
            .on_conflict_do_nothing(index_elements=keys)
        )
    else:
        await session.execute(
            sqlite_insert(AppointmentSlot)
            .values(values)
            .on_conflict_do_nothing(index_elements=keys)
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """What is taken of some slot rows: (capacity, booked) of the rows that exist, and the
    holds on them that have not expired (`holds`; anyone's, the caller tells whose)."""

    places: dict[tuple[str, datetime], tuple[int, int]]
    holds: list[Held]


async def usage(
    *,
    session: AsyncSession,
    school_id: int,
    resources: Iterable[str],
    start: datetime,
    end: datetime,
    now: datetime,
) -> Usage:
    """The slot rows of ``resources`` in [start, end) and their holds at ``now``. One query
    (the two tables as one UNION ALL: every booking step reads it)."""
    wanted = sorted(set(resources))
    if not wanted:
        return Usage({}, [])
    rows = select(
        AppointmentSlot.resource,
        AppointmentSlot.starts_at,
        AppointmentSlot.capacity,
        AppointmentSlot.booked,
        null().label("holder_id"),
        null().label("expires_at"),
    ).where(
        AppointmentSlot.school_id == school_id,
        AppointmentSlot.resource.in_(wanted),
        AppointmentSlot.starts_at >= start,
        AppointmentSlot.starts_at < end,
    )
    held = select(
        SlotHold.resource,
        SlotHold.starts_at,
        null(),
        null(),
        SlotHold.holder_id,
        SlotHold.expires_at,
    ).where(
        SlotHold.school_id == school_id,
        SlotHold.resource.in_(wanted),
        SlotHold.starts_at >= start,
        SlotHold.starts_at < end,
        SlotHold.expires_at > now,
    )
    places: dict[tuple[str, datetime], tuple[int, int]] = {}
    holds: list[Held] = []
    # The columns' types come from the first SELECT: ``expires_at`` is read by its own.
    query = union_all(rows, held).subquery()
    for resource, at, capacity, booked, holder_id, expires_at in await session.execute(
        select(
            query.c.resource,
            query.c.starts_at,
            query.c.capacity,
            query.c.booked,
            query.c.holder_id,
            type_coerce(query.c.expires_at, SlotHold.expires_at.type),
        )
    ):
        if holder_id is None:
            places[(resource, at)] = (capacity, booked)
        else:
            holds.append(Held(holder_id, resource, at, expires_at))
    return Usage(places, holds)
