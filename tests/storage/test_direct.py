"""`storage.direct`: an update's hot statements straight to SQLite's driver, with what
SQLAlchemy's path gives (types, errors, listeners), and SQLAlchemy's path wherever the direct
one cannot go."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import DEFERRED_BEGIN, create_engine, create_sessionmaker
from storage.direct import DirectStatement, commit_here
from storage.models import ConversationStatus
from storage.models.base import UTCDateTime, str_enum
from storage.sqlite_driver import ON_LOOP
from tests.support.loop_ticks import waits_off_the_loop

metadata = MetaData()
item = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True),
    Column("status", str_enum(ConversationStatus, "item_status")),
    Column("facts", JSON),
    Column("at", UTCDateTime()),
)

READ = DirectStatement(
    lambda: select(item.c.name, item.c.status, item.c.facts, item.c.at).where(
        item.c.id == bindparam("id")
    )
)
ADD = DirectStatement(
    lambda: insert(item).values(
        name=bindparam("name"),
        status=bindparam("status"),
        facts=bindparam("facts"),
        at=bindparam("at"),
    )
)
RENAME = DirectStatement(
    lambda: update(item).where(item.c.id == bindparam("item_id")).values(name=bindparam("new_name"))
)
#: A literal in the statement (``id = 1``) is a parameter nobody passes.
FIRST = DirectStatement(lambda: select(item.c.name).where(item.c.id == 1))

AT = datetime(2026, 12, 4, 13, 30, tzinfo=UTC)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def in_update() -> Iterator[None]:
    """As `services.kernel.uow.run_update_unit` sets it for a Telegram update."""
    token, deferred = ON_LOOP.set(True), DEFERRED_BEGIN.set(True)
    yield
    DEFERRED_BEGIN.reset(deferred)
    ON_LOOP.reset(token)


class Paths:
    """Which statements went through SQLAlchemy's execution (``before_execute``) and which
    reached the driver at all (``before_cursor_execute``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.executed: list[str] = []
        self.cursor: list[str] = []
        self.after: list[str] = []
        sync = engine.sync_engine
        event.listen(sync, "before_execute", self._executed)
        event.listen(sync, "before_cursor_execute", self._cursor)
        event.listen(sync, "after_cursor_execute", self._after)

    def _executed(self, _conn: object, clause: Any, *_args: object) -> None:
        self.executed.append(str(clause).split()[0])

    def _cursor(self, _conn: object, _cur: object, statement: str, *_args: object) -> None:
        self.cursor.append(statement.split(maxsplit=1)[0])

    def _after(self, _conn: object, _cur: object, statement: str, *_args: object) -> None:
        self.after.append(statement.split(maxsplit=1)[0])


async def _add(session: AsyncSession, name: str) -> None:
    await ADD.execute(
        session,
        {"name": name, "status": ConversationStatus.ACTIVE, "facts": {"a": [1, 2]}, "at": AT},
    )


@pytest.mark.usefixtures("in_update")
async def test_inside_an_update_the_statements_skip_sqlalchemys_execution(
    sqlite_engine: AsyncEngine,
) -> None:
    paths = Paths(sqlite_engine)
    async with create_sessionmaker(sqlite_engine)() as session:
        await _add(session, "first")
        found = (await READ.execute(session, {"id": 1})).first()
        renamed = await RENAME.execute(session, {"item_id": 1, "new_name": "renamed"})
        missing = await RENAME.execute(session, {"item_id": 99, "new_name": "nobody"})
        literal = await FIRST.execute(session, {})
        await session.commit()
    # Typed as SQLAlchemy types them: the enum member, the JSON as a dict, an aware datetime.
    assert found == ("first", ConversationStatus.ACTIVE, {"a": [1, 2]}, AT)
    assert (renamed.rowcount, missing.rowcount) == (1, 0)
    assert literal.rows == [("renamed",)]
    # Nothing went through SQLAlchemy's execution; every statement reached the driver directly,
    # and the listeners (statement logs, the budget tests) heard of each.
    assert paths.executed == []
    assert paths.cursor == ["INSERT", "SELECT", "UPDATE", "UPDATE", "SELECT"]
    assert paths.after == paths.cursor
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(select(item.c.name))).scalars().all() == ["renamed"]


async def test_outside_an_update_they_take_sqlalchemys_path_with_the_same_results(
    sqlite_engine: AsyncEngine,
) -> None:
    paths = Paths(sqlite_engine)
    async with create_sessionmaker(sqlite_engine)() as session, session.begin():
        await _add(session, "first")
        found = (await READ.execute(session, {"id": 1})).first()
        renamed = await RENAME.execute(session, {"item_id": 1, "new_name": "renamed"})
    assert found == ("first", ConversationStatus.ACTIVE, {"a": [1, 2]}, AT)
    assert renamed.rowcount == 1
    assert paths.executed == ["INSERT", "SELECT", "UPDATE"]


@pytest.mark.usefixtures("in_update")
async def test_a_query_after_unflushed_orm_changes_takes_sqlalchemys_path(
    sqlite_engine: AsyncEngine,
) -> None:
    """The direct path would not flush first, and miss what the session holds."""
    from sqlalchemy.orm import registry

    class Item:
        id: int
        name: str

    mapper = registry(metadata=MetaData())
    mapper.map_imperatively(Item, item)
    try:
        async with create_sessionmaker(sqlite_engine)() as session:
            await _add(session, "first")
            added = Item()
            added.name = "pending"
            session.add(added)
            found = await DirectStatement(
                lambda: select(item.c.name).where(item.c.name == bindparam("name"))
            ).execute(session, {"name": "pending"})
            assert found.rows == [("pending",)]
            await session.rollback()
    finally:
        mapper.dispose()


@pytest.mark.usefixtures("in_update")
async def test_a_duplicate_is_sqlalchemys_integrity_error(sqlite_engine: AsyncEngine) -> None:
    async with create_sessionmaker(sqlite_engine)() as session:
        await _add(session, "same")
        with pytest.raises(IntegrityError):
            await _add(session, "same")
        await session.commit()  # the first one stays
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(select(item.c.name))).scalars().all() == ["same"]


@pytest.mark.usefixtures("in_update")
async def test_a_missing_parameter_is_refused_before_anything_runs(
    sqlite_engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(sqlite_engine)() as session:
        await _add(session, "first")
        with pytest.raises(KeyError, match="new_name"):
            await RENAME.execute(session, {"item_id": 1})
        await session.rollback()


@pytest.mark.usefixtures("in_update")
async def test_a_write_that_must_wait_for_the_lock_waits_on_the_thread(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "direct.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    async def write() -> None:
        async with create_sessionmaker(sqlite_engine)() as session:
            await session.connection()  # the transaction begun (deferred: no lock yet)
            await _add(session, "waited")
            await session.commit()

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    # Waiting for the lock, off the loop: the loop went on meanwhile.
    assert await waits_off_the_loop(write, release) >= 10
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(select(item.c.name))).scalars().all() == ["waited"]


async def test_commit_here_only_where_nothing_but_sqlites_commit_is_left(
    sqlite_engine: AsyncEngine, in_update: None
) -> None:
    async with create_sessionmaker(sqlite_engine)() as session:
        await _add(session, "kept")
        assert commit_here(session)  # on the loop, without SQLAlchemy's greenlet
        assert not session.in_transaction()
        await _add(session, "second")
        async with session.begin_nested():
            assert not commit_here(session)  # a savepoint is open: SQLAlchemy ends it
        await session.commit()
    async with sqlite_engine.connect() as connection:
        names = (await connection.execute(select(item.c.name).order_by(item.c.id))).scalars()
        assert names.all() == ["kept", "second"]


async def test_commit_here_declines_outside_an_update(sqlite_engine: AsyncEngine) -> None:
    async with create_sessionmaker(sqlite_engine)() as session:
        await _add(session, "x")
        assert not commit_here(session)
        assert session.in_transaction()
        await session.rollback()
