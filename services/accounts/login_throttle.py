"""The login throttle's rows: recent failures at the login form (`LoginFailure`).

Reads the counters `services.accounts.rules.required_wait` needs, records a failure, clears a
(username, address) pair after a successful login. Runs inside the caller's unit of work and
never begins or commits. Only digests are stored (`rules.username_key`, `rules.address_key`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.rules import THROTTLE_WINDOW, RecentFailures
from storage.models import LoginFailure


async def recent_failures(
    *, session: AsyncSession, username_hash: str, address_hash: str, now: datetime
) -> RecentFailures:
    """The failures within the window of this username from this address, and of the address."""
    since = now - THROTTLE_WINDOW
    recent = (LoginFailure.address_hash == address_hash, LoginFailure.failed_at > since)
    pair, pair_last = (
        await session.execute(
            select(func.count(), func.max(LoginFailure.failed_at)).where(
                *recent, LoginFailure.username_hash == username_hash
            )
        )
    ).one()
    address, usernames, address_last = (
        await session.execute(
            select(
                func.count(),
                func.count(LoginFailure.username_hash.distinct()),
                func.max(LoginFailure.failed_at),
            ).where(*recent)
        )
    ).one()
    return RecentFailures(
        pair=int(pair),
        pair_last=_aware(pair_last),
        address=int(address),
        address_usernames=int(usernames),
        address_last=_aware(address_last),
    )


async def record_failure(
    *, session: AsyncSession, username_hash: str, address_hash: str, now: datetime
) -> RecentFailures:
    """Count one failure (sweeping those past the window) and return the counters after it."""
    expired = LoginFailure.failed_at <= now - THROTTLE_WINDOW
    await session.execute(delete(LoginFailure).where(expired))
    session.add(LoginFailure(username_hash=username_hash, address_hash=address_hash, failed_at=now))
    await session.flush()
    return await recent_failures(
        session=session, username_hash=username_hash, address_hash=address_hash, now=now
    )


async def clear_failures(*, session: AsyncSession, username_hash: str, address_hash: str) -> None:
    """Forget the failures of this username from this address (after a successful login)."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.username_hash == username_hash,
            LoginFailure.address_hash == address_hash,
        )
    )


def _aware(value: datetime | None) -> datetime | None:
    # An aggregate (max) bypasses the column type: SQLite hands back its naive UTC text.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
