"""Telegram update claims: each update takes effect once; a failed handling releases it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.conversations.updates import claim_update, forget_old_updates, release_update
from storage.models import ProcessedUpdate
from tests.support.factories import NOW
from tests.support.units import unit


async def test_an_update_is_claimed_once_until_released(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    assert await unit(session_factory, claim_update, update_id=7)
    assert not await unit(session_factory, claim_update, update_id=7)
    await unit(session_factory, release_update, update_id=7)
    assert await unit(session_factory, claim_update, update_id=7)


async def test_a_duplicate_leaves_the_unit_of_work_usable(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await unit(session_factory, claim_update, update_id=1)
    async with session_factory() as session, session.begin():
        # The refused claim is only a savepoint's rollback: the transaction goes on.
        assert not await claim_update(session=session, update_id=1)
        assert await claim_update(session=session, update_id=2)
    async with session_factory() as session:
        assert sorted(await session.scalars(select(ProcessedUpdate.update_id))) == [1, 2]


async def test_old_claims_are_forgotten(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session, session.begin():
        session.add(ProcessedUpdate(update_id=1, processed_at=NOW - timedelta(days=3)))
        session.add(ProcessedUpdate(update_id=2, processed_at=NOW))
    assert await unit(session_factory, forget_old_updates, now=NOW) == 1
    async with session_factory() as session:
        assert list(await session.scalars(select(ProcessedUpdate.update_id))) == [2]
