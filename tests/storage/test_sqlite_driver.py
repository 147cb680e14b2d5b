"""The SQLite driver adapter (`storage.sqlite_driver`): one hand-over to aiosqlite's thread per
statement, and the DBAPI behaviour SQLAlchemy relies on unchanged (rows, row counts, errors,
streamed results)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_driver
from storage.db import DEFERRED_BEGIN, create_engine
from tests.support.loop_ticks import waits_off_the_loop


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def hand_overs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call aiosqlite runs on its thread, by name."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_the_engine_uses_the_one_hop_cursor(sqlite_engine: AsyncEngine) -> None:
    assert sqlite_engine.dialect.name == "sqlite"
    assert sqlite_engine.dialect.driver == sqlite_driver.DRIVER


async def test_a_query_and_its_rows_are_one_hand_over(
    sqlite_engine: AsyncEngine, hand_overs: list[str]
) -> None:
    async with sqlite_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the pool's connection, opened
        hand_overs.clear()
        result = await connection.execute(text("SELECT 41 + 1 AS answer, 'x' AS letter"))
        assert hand_overs == ["_run"]
        assert list(result.keys()) == ["answer", "letter"]
        assert result.all() == [(42, "x")]


async def test_row_counts_inserted_ids_and_many_rows(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        changed = await connection.execute(text("UPDATE item SET name = name || '!'"))
        assert changed.rowcount == 3
        none = await connection.execute(text("UPDATE item SET name = 'z' WHERE id = 99"))
        assert none.rowcount == 0
        names = await connection.scalars(text("SELECT name FROM item ORDER BY id"))
        assert names.all() == ["a!", "b!", "c!"]


async def test_a_constraint_error_is_sqlalchemys_and_the_transaction_rolls_back(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))

    async def insert_other_then_same() -> None:
        async with sqlite_engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('other')"))
            await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))

    with pytest.raises(IntegrityError):
        await insert_other_then_same()
    async with sqlite_engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM item"))
    assert count == 1


async def test_streamed_results_still_work(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(50)]
        )
    async with sqlite_engine.connect() as connection:
        stream = await connection.stream(text("SELECT name FROM item ORDER BY id"))
        names = [row[0] async for row in stream]
    assert names == [f"n{i}" for i in range(50)]


# --- On the loop (`ON_LOOP`): what cannot wait for the write lock skips the thread. ---


@pytest.fixture
def on_loop() -> Iterator[None]:
    """As for a Telegram update: on the loop, transactions begin DEFERRED."""
    token, deferred = sqlite_driver.ON_LOOP.set(True), DEFERRED_BEGIN.set(True)
    yield
    DEFERRED_BEGIN.reset(deferred)
    sqlite_driver.ON_LOOP.reset(token)


@pytest.mark.usefixtures("on_loop")
async def test_on_the_loop_nothing_hands_over_while_the_lock_is_free(
    sqlite_engine: AsyncEngine, hand_overs: list[str]
) -> None:
    async with sqlite_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the pool's connection, opened
        await connection.commit()
        hand_overs.clear()
        async with connection.begin():  # BEGIN (deferred): no lock taken
            assert await connection.scalar(text("SELECT count(*) FROM item")) == 0
            await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
            await connection.execute(text("INSERT INTO item (name) VALUES ('b')"))
            assert await connection.scalar(text("SELECT count(*) FROM item")) == 2
        async with connection.begin():
            await connection.execute(text("UPDATE item SET name = 'c' WHERE name = 'a'"))
        assert hand_overs == []
        # The first write of each ran without waiting; the connection still waits elsewhere.
        assert await connection.scalar(text("PRAGMA busy_timeout")) == 5000
    async with sqlite_engine.connect() as connection:
        names = await connection.scalars(text("SELECT name FROM item ORDER BY id"))
        assert names.all() == ["c", "b"]


@pytest.mark.usefixtures("on_loop")
async def test_after_a_rollback_nothing_written_is_kept(
    sqlite_engine: AsyncEngine, hand_overs: list[str]
) -> None:
    async with sqlite_engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        await connection.commit()
        hand_overs.clear()
        transaction = await connection.begin()
        await connection.execute(text("INSERT INTO item (name) VALUES ('gone')"))
        await transaction.rollback()
        async with connection.begin():
            await connection.execute(text("INSERT INTO item (name) VALUES ('kept')"))
        assert hand_overs == []
        assert (await connection.scalars(text("SELECT name FROM item"))).all() == ["kept"]


@pytest.mark.usefixtures("on_loop")
async def test_a_write_waiting_for_another_writer_does_not_block_the_loop(
    sqlite_engine: AsyncEngine, tmp_path: Path, hand_overs: list[str]
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO item (name) VALUES ('first')")

    async def write() -> None:
        # (A read first would make this a lost snapshot once the other commits: "database is
        # locked", which the update's unit of work redoes, beginning IMMEDIATE.)
        async with sqlite_engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('second')"))

    def release() -> None:
        assert hand_overs == ["_run"]  # busy on the loop: the INSERT went to the thread
        other.execute("COMMIT")
        other.close()

    # Waiting for the lock (busy timeout) on the thread: the loop went on meanwhile.
    assert await waits_off_the_loop(write, release) >= 10
    async with sqlite_engine.connect() as connection:
        names = await connection.scalars(text("SELECT name FROM item ORDER BY id"))
        assert names.all() == ["first", "second"]


async def test_a_begin_refused_by_a_held_lock_is_sqlalchemys_locked_error(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    """BEGIN goes straight to the driver (`storage.db._begin_immediate`); its "database is
    locked" reaches the unit of work as SQLAlchemy's OperationalError, which it retries."""
    holder = sqlite3.connect(tmp_path / "driver.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        async with sqlite_engine.connect() as connection:
            raw = await connection.get_raw_connection()
            adapted: object = raw.dbapi_connection
            assert isinstance(adapted, sqlite_driver.OneHopConnection)
            adapted._connection._conn.execute("PRAGMA busy_timeout=0")  # refuse at once
            with pytest.raises(OperationalError) as refused:
                await connection.begin()
        assert "database is locked" in str(refused.value.orig)
        holder.execute("ROLLBACK")
        async with sqlite_engine.begin() as connection:  # and once the lock is free: fine
            assert (await connection.execute(text("SELECT count(*) FROM item"))).scalar() == 0
    finally:
        holder.close()
