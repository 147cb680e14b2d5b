"""SQLAlchemy's aiosqlite dialect with one hop to the driver's thread per statement.

aiosqlite runs each SQLite call in its own thread; SQLAlchemy's adapter makes four calls for a
query (open a cursor, execute, fetch the rows, close), each a hand-over between the event loop
and that thread costing 40-80 µs of CPU, where SQLite itself answers an indexed query in a few
µs. A Telegram update made about 44 hand-overs for 5 statements. This cursor does the four in
one function on the driver's thread, so a statement costs one hand-over (issue 16).

Everything else is aiosqlite's and SQLAlchemy's own: the connection, transactions (commit and
rollback are one hand-over each), errors (sqlite3's, raised in the thread, reach SQLAlchemy
unchanged) and server-side cursors (streamed results keep the stock cursor). `storage.db`
selects it for ``sqlite+aiosqlite://`` URLs; the engine's dialect is still ``sqlite``.

**On the loop** (`ON_LOOP`, set for a Telegram update by `services.kernel.uow`): even one
hand-over costs about 70 µs of CPU, where an indexed read costs SQLite 1 µs. Inside an update
every statement runs right here on the event loop, except one that would have to wait for
another connection's write lock: reads (WAL: a reader never waits for a writer), ``BEGIN``
(deferred: takes no lock), ``COMMIT``, ``ROLLBACK`` and writes once the transaction holds the
lock run as they are; the first write of a transaction (or ``BEGIN IMMEDIATE``) runs with the
busy timeout at 0 and, when SQLite answers "busy", runs again on the driver's thread, which
waits up to the busy timeout without holding up the loop. An update's statements are small and
indexed; anything else (web pages, exports, jobs) keeps to the thread, where a long query does
not hold up the loop. `OneHopConnection.run_here` is that decision without SQLAlchemy around it:
`storage.direct` runs an update's four hot statements through it.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

#: What `SQLiteDialect` registers as (``sqlite+<DRIVER>://``).
DRIVER = "aiosqlite_onehop"

_Outcome = tuple[Any, list[Any], int, int | None]

#: Statements that cannot wait for the write lock run on the event loop (see above).
ON_LOOP: ContextVar[bool] = ContextVar("trajectbot_sqlite_on_loop", default=False)

#: SQLite's primary result code for "the lock is another connection's" (SQLITE_BUSY).
_SQLITE_BUSY = 5


def _reads_only(operation: str) -> bool:
    """A statement that takes no write lock: a query, or a deferred ``BEGIN``."""
    head = operation.lstrip()[:16].upper()
    return head.startswith(("SELECT", "BEGIN DEFERRED")) or head.rstrip(" ;") == "BEGIN"


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the driver's thread: the statement, its rows (if any) and its counts."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _done(outcome: _Outcome) -> _Outcome:
    """A statement already run on the loop, as the coroutine SQLAlchemy's greenlet awaits."""
    return outcome


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement and rows come back in one hand-over."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Not the base initialiser: it opens an aiosqlite cursor (a hand-over of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        del value  # the rows are all fetched at once

    async def _async_soft_close(self) -> None:
        return  # nothing open on the driver's side

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._perform(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        self._perform(operation, seq_of_parameters, many=True)

    def _perform(self, operation: str, parameters: Any, *, many: bool) -> None:
        adapted = self._adapt_connection
        assert isinstance(adapted, OneHopConnection)  # noqa: S101 - set by `OneHopConnection`
        try:
            outcome = adapted.run(operation, parameters, many=many)
        except Exception as error:
            adapted._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's adapted connection, handing out `OneHopCursor`s.

    It knows whether its transaction holds SQLite's write lock (a write or ``BEGIN
    IMMEDIATE`` went through), which decides what may run on the loop without asking
    (`ON_LOOP`).
    """

    __slots__ = ("_patience", "_writing")
    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writing = False
        #: The connection's busy timeout in ms (read once, when first needed).
        self._patience: int | None = None

    def holds_write_lock(self) -> bool:
        """Whether this connection's transaction holds SQLite's write lock (it wrote)."""
        return self._writing and bool(self._connection._conn.in_transaction)

    def renew_snapshot(self) -> bool:
        """A transaction that wrote nothing goes on with a fresh snapshot: ``COMMIT`` and a
        deferred ``BEGIN`` on the connection itself (SQLAlchemy's transaction goes on; two
        µs, where ending and beginning it through the session cost ≈ 0.3 ms). False (nothing
        done) when it wrote, is not in a transaction, or the thread has the connection."""
        conn: sqlite3.Connection = self._connection._conn
        if self.holds_write_lock() or not conn.in_transaction or self._execute_mutex.locked():
            return False
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        return True

    def run(self, operation: str, parameters: Any, *, many: bool) -> _Outcome:
        """One statement, on the loop when it cannot wait for the lock, else on the thread."""
        if operation.lstrip()[:6].upper() == "PRAGMA":
            # Settings (a connection's set-up): on the thread, and the busy timeout read anew.
            self._patience = None
            return self._on_thread(operation, parameters, many)
        outcome = self.run_here(operation, parameters, many=many)
        if outcome is None:
            return self._on_thread(operation, parameters, many)
        # Through await_ all the same (two greenlet switches, no hand-over): SQLAlchemy's
        # AsyncConnection insists that a statement awaited something.
        return await_(_done(outcome))

    def run_here(self, operation: str, parameters: Any, *, many: bool = False) -> _Outcome | None:
        """The statement right here on the event loop, without SQLAlchemy's greenlet, or None
        (nothing done) when it has to go to the thread: outside an update (`ON_LOOP`), while
        the thread has the connection, or when it would have to wait for another connection's
        write lock. `storage.direct` runs an update's hot statements so."""
        conn: sqlite3.Connection = self._connection._conn
        if not ON_LOOP.get() or self._execute_mutex.locked():
            return None
        if _reads_only(operation):
            if not conn.in_transaction:
                self._writing = False  # a new transaction (BEGIN) holds no lock yet
            return _run(conn, operation, parameters, many)
        if self._writing and conn.in_transaction:
            # This transaction holds the lock (SQLite has not rolled it back).
            return _run(conn, operation, parameters, many)
        # The lock may be another process's: asked for here without waiting; only when it is
        # taken does the statement wait, on the thread. A statement SQLite refused as busy
        # changed nothing, so it may run again.
        patience = self._patience_of(conn)
        conn.execute("PRAGMA busy_timeout=0")
        try:
            outcome = _run(conn, operation, parameters, many)
        except sqlite3.OperationalError as error:
            # Plain "busy" (and its variants) only; a lost snapshot (also "busy") fails again
            # on the thread, as it would have there at once.
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY:
                raise
            return None
        finally:
            conn.execute(f"PRAGMA busy_timeout={patience}")
        self._writing = conn.in_transaction
        return outcome

    def _on_thread(self, operation: str, parameters: Any, many: bool) -> _Outcome:
        outcome: _Outcome = await_(self._hop(operation, parameters, many))
        if not _reads_only(operation) and self._connection._conn.in_transaction:
            self._writing = True  # a write went through: this transaction holds the lock
        return outcome

    async def _hop(self, operation: str, parameters: Any, many: bool) -> _Outcome:
        connection = self._connection
        async with self._execute_mutex:
            outcome: _Outcome = await connection._execute(
                _run, connection._conn, operation, parameters, many
            )
        return outcome

    def _patience_of(self, conn: sqlite3.Connection) -> int:
        if self._patience is None:
            self._patience = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        return self._patience

    def commit(self) -> None:
        # A commit never waits for a lock: with the write lock held, or with nothing
        # written, it only ends the transaction.
        self._end(self._connection._conn.commit, super().commit)

    def rollback(self) -> None:
        self._end(self._connection._conn.rollback, super().rollback)

    def ends_here(self) -> bool:
        """Whether ``COMMIT`` / ``ROLLBACK`` run right here on the loop (`_end`), with no
        hand-over to the thread."""
        return (
            ON_LOOP.get()
            and not self._execute_mutex.locked()
            and self._connection._connection is not None
        )

    def _end(self, here: Callable[[], None], on_thread: Callable[[], None]) -> None:
        """End the transaction: on the loop inside an update, else through aiosqlite."""
        try:
            if self.ends_here():
                try:
                    here()
                except Exception as error:
                    self._handle_exception(error)
            else:
                on_thread()
        finally:
            self._writing = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as a DBAPI module whose connections are `OneHopConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # The loop uses the connection too (`ON_LOOP`), never at the same time as the thread:
        # a statement on the thread holds the connection's mutex until it is back.
        kw.setdefault("check_same_thread", False)
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


class SQLiteDialect(SQLiteDialect_aiosqlite):
    """``sqlite+aiosqlite_onehop://``: the aiosqlite dialect with `OneHopCursor`."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDBAPI:
        return OneHopDBAPI(__import__("aiosqlite"), __import__("sqlite3"))
