"""The one unit of work: commit on return, rollback on raise, SQLite's "locked" retried."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.conversations.updates import claim_update
from services.kernel.uow import (
    SQLITE_LOCKED_RETRIES,
    current_update_unit,
    run_unit_of_work,
    run_update_unit,
)
from storage.models import ProcessedUpdate


class RefusalError(Exception):
    """A refusal raised after changes that must stay."""


def _operational(message: str) -> OperationalError:
    # What SQLAlchemy raises when the driver fails a statement (here: BEGIN IMMEDIATE).
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(message))


async def _stored(factory: async_sessionmaker[AsyncSession]) -> list[int]:
    async with factory() as session:
        return sorted(await session.scalars(select(ProcessedUpdate.update_id)))


async def test_the_work_is_committed_when_it_returns(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def work(session: AsyncSession) -> str:
        session.add(ProcessedUpdate(update_id=1))
        return "done"

    assert await run_unit_of_work(session_factory, work) == "done"
    assert await _stored(session_factory) == [1]


async def test_a_session_without_a_transaction_runs_several_units(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def add(update_id: int, session: AsyncSession) -> None:
        session.add(ProcessedUpdate(update_id=update_id))

    async with session_factory() as session:
        await run_unit_of_work(session, lambda s: add(1, s))
        await run_unit_of_work(session, lambda s: add(2, s))
        assert not session.in_transaction()
    assert await _stored(session_factory) == [1, 2]


async def test_the_work_is_rolled_back_when_it_raises(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def work(session: AsyncSession) -> None:
        session.add(ProcessedUpdate(update_id=1))
        await session.flush()
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await run_unit_of_work(session_factory, work)
    assert await _stored(session_factory) == []


async def test_commit_on_keeps_the_changes_and_raises_after_the_commit(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def work(session: AsyncSession) -> None:
        session.add(ProcessedUpdate(update_id=1))
        await session.flush()
        raise RefusalError

    with pytest.raises(RefusalError):
        await run_unit_of_work(session_factory, work, commit_on=(RefusalError,))
    assert await _stored(session_factory) == [1]
    # Any other exception still rolls back.
    with pytest.raises(ValueError, match="other"):
        await run_unit_of_work(
            session_factory, lambda s: _add_then_raise(s, 2), commit_on=(RefusalError,)
        )
    assert await _stored(session_factory) == [1]


async def _add_then_raise(session: AsyncSession, update_id: int) -> None:
    session.add(ProcessedUpdate(update_id=update_id))
    await session.flush()
    raise ValueError("other")


async def test_a_locked_database_is_tried_again_with_nothing_kept_of_the_failed_tries(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tries: list[int] = []

    async def work(session: AsyncSession) -> int:
        tries.append(len(tries) + 1)
        session.add(ProcessedUpdate(update_id=len(tries)))
        await session.flush()
        if len(tries) < 3:
            raise _operational("database is locked")
        return len(tries)

    assert await run_unit_of_work(session_factory, work) == 3
    assert tries == [1, 2, 3]
    assert await _stored(session_factory) == [3]  # the failed tries rolled back whole


async def test_other_operational_errors_are_not_tried_again(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tries: list[int] = []

    async def work(session: AsyncSession) -> None:
        tries.append(1)
        raise _operational("disk I/O error")

    with pytest.raises(OperationalError):
        await run_unit_of_work(session_factory, work)
    assert len(tries) == 1


async def test_it_gives_up_after_the_limit(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tries: list[int] = []

    async def work(session: AsyncSession) -> None:
        tries.append(1)
        raise _operational("database is locked")

    with pytest.raises(OperationalError, match="database is locked"):
        await run_unit_of_work(session_factory, work)
    assert len(tries) == SQLITE_LOCKED_RETRIES + 1


# --- Before waiting on the network (answering a button press) ---


@pytest.mark.sqlite_only
async def test_an_update_that_only_read_ends_its_transaction_before_waiting(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    """Another update commits while this one waits (its spinner answered): this one's first
    write afterwards sees a fresh snapshot instead of failing "database is locked" and being
    done again."""
    attempts = 0

    async def work() -> None:
        nonlocal attempts
        attempts += 1
        unit = current_update_unit()
        assert unit is not None
        await unit.session.scalar(select(ProcessedUpdate.update_id).limit(1))  # a read
        await unit.before_waiting()
        # Meanwhile another update commits (the network wait of the real answer).
        async with session_factory() as other, other.begin():
            other.add(ProcessedUpdate(update_id=2))
        unit.session.add(ProcessedUpdate(update_id=3))
        await unit.session.flush()

    await run_update_unit(
        session_factory,
        work,
        claim=lambda session: claim_update(session=session, update_id=1, savepoint=False),
    )
    assert attempts == 1  # not done again
    assert await _stored(session_factory) == [1, 2, 3]  # the claim written with the commit


@pytest.mark.sqlite_only
async def test_an_update_that_wrote_keeps_its_transaction_while_waiting(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def work() -> None:
        unit = current_update_unit()
        assert unit is not None
        unit.session.add(ProcessedUpdate(update_id=3))
        await unit.session.flush()
        await unit.before_waiting()
        assert unit.session.in_transaction()  # nothing committed before its claim
        raise RefusalError

    with pytest.raises(RefusalError):
        await run_update_unit(
            session_factory,
            work,
            claim=lambda session: claim_update(session=session, update_id=1, savepoint=False),
        )
    assert await _stored(session_factory) == []  # rolled back whole
