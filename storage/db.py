"""Engine and session factories. Nothing is created at import time: callers build them."""

from __future__ import annotations

import sqlite3
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from storage import sqlite_driver

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/trajectbot.db"

#: Set while a Telegram update is handled (`services.kernel.uow.run_update_unit`): its SQLite
#: transaction begins DEFERRED, so the reads most updates consist of take no write lock.
DEFERRED_BEGIN: ContextVar[bool] = ContextVar("trajectbot_deferred_begin", default=False)

# Applied on every new SQLite connection: WAL lets the bot read while a writer commits;
# NORMAL is durable enough with WAL; foreign keys are off by default in SQLite; the busy
# timeout makes a second writer wait instead of failing at once.
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def create_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """Build an async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    For a SQLite file the parent directory is created and the pragmas above are set on every
    connection. ``foreign_keys=False`` is for migrations only (see `storage.migrate`).

    Bound parameters (names, care texts) never appear in logs or in error messages
    (``hide_parameters``); ``echo`` stays off (`bot.logging_setup`).
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return create_async_engine(sa_url, pool_pre_ping=True, hide_parameters=True)

    database = sa_url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if sa_url.get_driver_name() == "aiosqlite":
        # The same driver, one hand-over to its thread per statement (`storage.sqlite_driver`).
        registry.register(f"sqlite.{sqlite_driver.DRIVER}", sqlite_driver.__name__, "SQLiteDialect")
        sa_url = sa_url.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    engine = create_async_engine(sa_url, hide_parameters=True)
    pragmas = _SQLITE_PRAGMAS if foreign_keys else (*_SQLITE_PRAGMAS, "PRAGMA foreign_keys=OFF")

    def set_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        _set_sqlite_pragmas(dbapi_connection, pragmas)

    event.listen(engine.sync_engine, "connect", set_pragmas)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    # The driver's own implicit BEGIN is DEFERRED: a transaction that reads first and writes
    # later then fails at once with "database is locked" when another writer got there first
    # (busy_timeout does not apply to that upgrade). We take over BEGIN (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in pragmas:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # Every transaction takes the write lock up front and waits up to busy_timeout for it,
    # so concurrent updates queue instead of failing; WAL keeps plain readers unblocked.
    # A Telegram update begins DEFERRED instead (DEFERRED_BEGIN): its first write takes the
    # lock, and a lost upgrade ("database is locked") redoes the whole update.
    statement = "BEGIN" if DEFERRED_BEGIN.get() else "BEGIN IMMEDIATE"
    adapted: object = connection.connection.dbapi_connection
    if not isinstance(adapted, sqlite_driver.OneHopConnection):
        connection.exec_driver_sql(statement)
        return
    # Straight to the driver (every unit of work begins here; SQLAlchemy's execution of a
    # statement cost more than SQLite's BEGIN), its errors wrapped as SQLAlchemy would: the
    # unit of work retries on an OperationalError whose ``orig`` says "database is locked".
    try:
        adapted.run(statement, None, many=False)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


async def renew_read_snapshot(session: AsyncSession) -> bool:
    """SQLite: when ``session``'s transaction has written nothing (no pending ORM changes, no
    write lock taken), let it go on with a fresh snapshot (`OneHopConnection.renew_snapshot`)
    and return True. False otherwise, and always on PostgreSQL (no stale snapshots there; its
    transaction may hold the person's lock and row locks)."""
    if not session.in_transaction() or session.in_nested_transaction():
        return False  # (a COMMIT would end a savepoint SQLAlchemy still means to release)
    if session.new or session.dirty or session.deleted:
        return False
    # The transaction's connection as it is (no I/O: it exists while the transaction does),
    # read without the two greenlet hand-overs of ``await session.connection()`` and
    # ``get_raw_connection()`` (≈ 40 µs each; this runs on most button presses).
    adapted: object = session.sync_session.connection().connection.dbapi_connection
    return isinstance(adapted, sqlite_driver.OneHopConnection) and adapted.renew_snapshot()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; objects stay readable after commit (``expire_on_commit=False``).

    Every session bumps the cache version with a write to a cached table (`storage.versions`).
    """
    from storage import versions  # noqa: PLC0415 - imports the models; db.py must not

    versions.install()
    return async_sessionmaker(engine, expire_on_commit=False)
