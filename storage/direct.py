"""An update's few hot statements, straight to SQLite's driver (issue 16).

Every Telegram update runs the same four statements: the cache versions, its claim, the
conversation and its new state. Through SQLAlchemy's `AsyncSession` each costs 50-100 µs of
CPU (the greenlet hand-over, the execution context, the ORM's result), where SQLite answers
in 3 µs; together they were about a sixth of an update. A `DirectStatement` is one such
statement, written in SQLAlchemy Core as every other (the SQL and its types come from the
models), compiled once per dialect and, inside an update on SQLite, run on the session's own
connection and transaction with the types' own bind and result processing.

Anything else takes SQLAlchemy's path, with the same result: PostgreSQL, a session outside a
Telegram update (web pages, jobs, tests), a session with ORM changes not yet flushed (the
statement would not see them), a transaction that has no connection yet, or a write that would
have to wait for another connection's write lock (`OneHopConnection.run_here`). Statements run
directly are announced to the engine's ``before_cursor_execute`` / ``after_cursor_execute``
listeners as any other (statement logging, the statement-budget tests), and the driver's
errors reach the caller as SQLAlchemy's (``IntegrityError``, ``OperationalError``).
`commit_here` ends such a transaction the same way when nothing but SQLite's ``COMMIT`` is left.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

from storage.sqlite_driver import ON_LOOP, OneHopConnection

Processor = Callable[[Any], Any]

#: A parameter the statement names but has no value for: the caller must pass it.
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class DirectResult:
    """What a statement returned: its rows (processed as SQLAlchemy would) and row count."""

    rows: Sequence[tuple[Any, ...]]
    rowcount: int

    def first(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    #: A parameter's own value (a literal in the statement), used when not passed.
    defaults: tuple[Any, ...]
    binds: tuple[Processor | None, ...]
    results: tuple[Processor | None, ...]


class DirectStatement:
    """One fixed statement with named parameters (``bindparam``), built once per process."""

    __slots__ = ("_build", "_compiled", "_statement")

    def __init__(self, build: Callable[[], Executable]) -> None:
        self._build = build
        self._statement: Executable | None = None
        self._compiled: dict[str, _Compiled] = {}

    @property
    def statement(self) -> Executable:
        """The SQLAlchemy statement (built on first use: the models are imported by then)."""
        if self._statement is None:
            self._statement = self._build()
        return self._statement

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> DirectResult:
        """Run the statement in ``session``'s transaction (directly where it can, see above)."""
        bound = bound_connection(session)
        if bound is None and _begins_on_sqlite(session):
            # The update's first statement: its transaction begins here (the connection and a
            # BEGIN, through SQLAlchemy), the statement itself goes directly.
            await session.connection()
            bound = bound_connection(session)
        if bound is not None:
            connection, driver = bound
            compiled = self._compiled_for(connection.dialect)
            parameters = _parameters(compiled, params)
            # The engine's listeners (where statement logs and counters listen), asked on the
            # engine's own dispatcher: the connection's joins it anew on every question.
            listeners = connection.engine.dispatch
            heard = bool(listeners.before_cursor_execute or listeners.after_cursor_execute)
            if heard:
                connection.dispatch.before_cursor_execute(
                    connection, None, compiled.sql, parameters, None, False
                )
            try:
                outcome = driver.run_here(compiled.sql, parameters)
            except sqlite3.Error as error:
                raise DBAPIError.instance(compiled.sql, parameters, error, sqlite3.Error) from error
            if outcome is not None:
                if heard:
                    connection.dispatch.after_cursor_execute(
                        connection, None, compiled.sql, parameters, None, False
                    )
                _description, rows, rowcount, _lastrowid = outcome
                if any(compiled.results):
                    rows = [_processed(row, compiled.results) for row in rows]
                return DirectResult(rows, rowcount)
            # It would have had to wait for the write lock: SQLAlchemy's path waits on the
            # driver's thread (the listeners hear of it again there).
        result = cast("CursorResult[Any]", await session.execute(self.statement, dict(params)))
        if result.returns_rows:
            return DirectResult([tuple(row) for row in result], -1)
        return DirectResult((), result.rowcount)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    names = tuple(compiled.positiontup or ())
    defaults = tuple(
        _REQUIRED if compiled.binds[name].required else compiled.binds[name].effective_value
        for name in names
    )
    binds = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    # A query's columns; an INSERT or UPDATE (without RETURNING) returns no rows.
    columns = statement.selected_columns if isinstance(statement, Select) else ()
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return _Compiled(str(compiled), names, defaults, binds, results)


def _parameters(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...]:
    """The statement's positional parameters, each as its column type binds it."""
    values = []
    for name, default, process in zip(
        compiled.names, compiled.defaults, compiled.binds, strict=True
    ):
        if name in params:
            value = params[name]
        elif default is _REQUIRED:
            raise KeyError(name)
        else:
            value = default
        values.append(value if process is None else process(value))
    return tuple(values)


def _processed(row: tuple[Any, ...], processors: tuple[Processor | None, ...]) -> tuple[Any, ...]:
    return tuple(
        value if process is None else process(value)
        for value, process in zip(row, processors, strict=True)
    )


def _begins_on_sqlite(session: AsyncSession) -> bool:
    """Inside an update (`ON_LOOP`) on SQLite, the session has no transaction yet."""
    bind = session.bind
    return (
        ON_LOOP.get()
        and bind is not None
        and bind.dialect.name == "sqlite"
        and session.sync_session.get_transaction() is None
    )


def bound_connection(session: AsyncSession) -> tuple[Connection, OneHopConnection] | None:
    """The connection of ``session``'s transaction and its SQLite driver, when a statement can
    go to it directly: the transaction has its connection (no I/O to get it), it is the
    SQLite driver's, and the session has no ORM change a query would first flush."""
    sync = session.sync_session
    transaction = sync.get_transaction()
    if transaction is None:
        return None
    # SQLAlchemy keeps a transaction's connections here; should that change, every statement
    # simply takes SQLAlchemy's path.
    # (Each connection is kept under its engine and under itself.)
    connections = {entry[0] for entry in getattr(transaction, "_connections", {}).values()}
    if len(connections) != 1:
        return None
    connection = connections.pop()
    if not isinstance(connection, Connection) or connection.closed or connection.invalidated:
        return None
    driver: object = connection.connection.dbapi_connection
    if not isinstance(driver, OneHopConnection):
        return None
    if sync.new or sync.dirty or sync.deleted:
        return None
    return connection, driver


def commit_here(session: AsyncSession) -> bool:
    """Commit ``session``'s transaction right here, without SQLAlchemy's greenlet, when all
    that is left is SQLite's ``COMMIT`` on the loop: inside an update, nothing to flush, no
    savepoint open. False (nothing done) otherwise: the caller commits as usual."""
    bound = bound_connection(session)
    if bound is None or session.in_nested_transaction() or not bound[1].ends_here():
        return False
    session.sync_session.commit()
    return True


__all__ = ["DirectResult", "DirectStatement", "bound_connection", "commit_here"]
