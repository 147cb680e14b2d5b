"""Which Telegram updates have been handled: each takes effect once (webhook redelivery).

Each function runs inside the caller's unit of work (`services.kernel.uow.run_unit_of_work`);
the middleware begins one for the claim and, when handling failed, one for the release.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Insert, Table, bindparam, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.direct import DirectStatement
from storage.models import ProcessedUpdate, utcnow


async def claim_update(*, session: AsyncSession, update_id: int, savepoint: bool = True) -> bool:
    """Record ``update_id`` as being handled; False when it was already.

    ``savepoint=False`` when a duplicate rolls the whole transaction back anyway (the claim
    written with an update's first commit, `services.kernel.uow.UpdateUnit`): two statements
    fewer.
    """
    if not savepoint:
        try:
            # A plain Core INSERT into the table, not the ORM's (bulk) insert of the entity:
            # this runs on every update.
            await _CLAIM.execute(session, {"update_id": update_id, "processed_at": utcnow()})
        except IntegrityError:
            return False
        return True
    try:
        # A savepoint: a duplicate leaves the caller's transaction usable (and committable).
        async with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


def _claim_statement() -> Insert:
    table = cast(Table, ProcessedUpdate.__table__)
    return insert(table).values(
        update_id=bindparam("update_id"), processed_at=bindparam("processed_at")
    )


#: Every update writes it (`storage.direct`: straight to SQLite's driver inside one).
_CLAIM = DirectStatement(_claim_statement)


async def release_update(*, session: AsyncSession, update_id: int) -> None:
    """Forget a claim whose handling failed, so a redelivery is handled."""
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))


async def forget_old_updates(
    *, session: AsyncSession, older_than: timedelta = timedelta(days=2), now: datetime | None = None
) -> int:
    """Delete claims older than Telegram's redelivery horizon (24 h); returns how many."""
    cutoff = (now or utcnow()) - older_than
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
