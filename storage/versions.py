"""Bumps `CacheVersion` in the same transaction as every write to a table workers cache.

Installed on every session (`storage.db.create_sessionmaker`): an ORM flush that adds, changes
or deletes a person, a role, a mentorship, a guardianship or a school, and a bulk
``update``/``delete``/``insert`` statement on one of those tables, bumps the version once per
transaction. A school's settings and booking timetable count too (`CACHED_MODELS`). Writes to
a referral, a queue item, a trajectory or its evaluations bump ``case_version`` the same way
(`CASE_MODELS`).
Readers: `read_versions` (both in one statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    SessionTransactionOrigin,
    UOWTransaction,
)

from storage.direct import DirectStatement
from storage.models import (
    AppointmentType,
    BookingSettings,
    CacheVersion,
    ClosedDay,
    CoachAvailability,
    Guardianship,
    Mentorship,
    OpeningHours,
    Person,
    PersonRole,
    QueueItem,
    Referral,
    School,
    Trajectory,
    TrajectoryEvaluation,
)

#: Tables whose rows workers cache: who someone is, their roles, their mentees and children,
#: the school and its booking timetable (settings, types, hours, closed days, coaches' hours).
CACHED_MODELS: tuple[type[Any], ...] = (
    Person,
    PersonRole,
    Mentorship,
    Guardianship,
    School,
    BookingSettings,
    AppointmentType,
    OpeningHours,
    ClosedDay,
    CoachAvailability,
)
#: Tables whose rows decide a case's stage and plan: what workers derive from them (who has an
#: open referral, a trajectory's stored plan) is kept until ``case_version`` changes. A change
#: the database makes by itself does not bump: an evaluation's ``appointment_id`` set to NULL
#: when its appointment is deleted (``ON DELETE SET NULL``), so nothing kept may depend on it.
CASE_MODELS: tuple[type[Any], ...] = (Referral, QueueItem, Trajectory, TrajectoryEvaluation)


@dataclass(frozen=True, slots=True)
class _Counter:
    models: tuple[type[Any], ...]
    tables: frozenset[Table]
    column: str
    flag: str


_COUNTERS = (
    _Counter(
        CACHED_MODELS,
        frozenset(model.__table__ for model in CACHED_MODELS),
        "version",
        "trajectbot_cache_version_bumped",
    ),
    _Counter(
        CASE_MODELS,
        frozenset(model.__table__ for model in CASE_MODELS),
        "case_version",
        "trajectbot_case_version_bumped",
    ),
)


class Versions(NamedTuple):
    """The two counters as one update reads them."""

    people: int
    cases: int


async def read_versions(session: AsyncSession) -> Versions:
    """Both counters (one cheap statement); zeros when the row is missing."""
    row = (await _VERSIONS.execute(session, {})).first()
    return Versions(0, 0) if row is None else Versions(int(row[0]), int(row[1]))


def _versions_query() -> Select[int, int]:
    # The table's columns, not the entity's: a Core query skips the ORM's execution path.
    table = cast(Table, CacheVersion.__table__)
    return select(table.c.version, table.c.case_version).where(table.c.id == 1)


#: Every update reads it first (`storage.direct`: straight to SQLite's driver inside one).
_VERSIONS = DirectStatement(_versions_query)


#: Set by a case's bump until the outermost transaction ends (a savepoint ending keeps it).
_WROTE_CASES = "trajectbot_wrote_cases"


def wrote_cases(session: AsyncSession) -> bool:
    """This transaction changed a case (bumped ``case_version``): what it reads about cases may
    not be committed, so it is not kept for other updates."""
    return bool(session.sync_session.info.get(_WROTE_CASES))


def _bump(session: Session, counter: _Counter) -> None:
    if session.info.get(counter.flag):
        return
    session.info[counter.flag] = True
    if counter.column == "case_version":
        session.info[_WROTE_CASES] = True
    column = getattr(CacheVersion, counter.column)
    session.connection().execute(
        update(CacheVersion).where(CacheVersion.id == 1).values({counter.column: column + 1})
    )


def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    for counter in _COUNTERS:
        if session.info.get(counter.flag):
            continue
        changed = any(isinstance(obj, counter.models) for obj in (*session.new, *session.deleted))
        changed = changed or any(
            isinstance(obj, counter.models) and session.is_modified(obj) for obj in session.dirty
        )
        if changed:
            _bump(session, counter)


def _do_orm_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not statement.is_dml:  # (a query: most statements; asked once, not three times)
        return
    table = getattr(statement, "table", None)
    if not isinstance(table, Table):
        return
    for counter in _COUNTERS:
        if table in counter.tables:
            _bump(state.session, counter)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.origin is SessionTransactionOrigin.SUBTRANSACTION:
        # A flush's own inner transaction: the transaction it ran in goes on, bump and all
        # (sending a referral flushes three times; one bump per transaction is enough).
        return
    # Also after a savepoint: one rolled back took its bump with it (one more bump is harmless).
    for counter in _COUNTERS:
        session.info.pop(counter.flag, None)
    if transaction.parent is None:
        session.info.pop(_WROTE_CASES, None)


def install(session_class: type[Session] = Session) -> None:
    """Listen on every session of ``session_class`` (idempotent)."""
    if event.contains(session_class, "before_flush", _before_flush):
        return
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "do_orm_execute", _do_orm_execute)
    event.listen(session_class, "after_transaction_end", _transaction_ended)
