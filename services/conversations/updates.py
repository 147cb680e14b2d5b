"""Which Telegram updates have been handled: each takes effect once (webhook redelivery)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, utcnow


async def claim_update(*, session: AsyncSession, update_id: int) -> bool:
    """Record ``update_id`` as being handled; False when it was already. Unit of work."""
    try:
        async with session.begin():
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


async def release_update(*, session: AsyncSession, update_id: int) -> None:
    """Forget a claim whose handling failed, so a redelivery is handled. Unit of work."""
    async with session.begin():
        await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))


async def forget_old_updates(
    *, session: AsyncSession, older_than: timedelta = timedelta(days=2), now: datetime | None = None
) -> int:
    """Delete claims older than Telegram's redelivery horizon (24 h). Unit of work."""
    cutoff = (now or utcnow()) - older_than
    async with session.begin():
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff)
        )
    return int(getattr(result, "rowcount", 0) or 0)
