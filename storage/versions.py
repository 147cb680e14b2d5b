"""Bumps `CacheVersion` in the same transaction as every write to a table workers cache.

Installed on every session (`storage.db.create_sessionmaker`): an ORM flush that adds, changes
or deletes a person, a role, a mentorship, a guardianship or a school, and a bulk
``update``/``delete``/``insert`` statement on one of those tables, bumps the version once per
transaction. Readers: `read_cache_version`. A school's settings and booking timetable count
too (`CACHED_MODELS`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

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
    School,
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
_CACHED_TABLES = frozenset(model.__table__ for model in CACHED_MODELS)
_BUMPED = "trajectbot_cache_version_bumped"


async def read_cache_version(session: AsyncSession) -> int:
    """The current version (one cheap statement); 0 when the row is missing."""
    return int(await session.scalar(select(CacheVersion.version).where(CacheVersion.id == 1)) or 0)


def _bump(session: Session) -> None:
    if session.info.get(_BUMPED):
        return
    session.info[_BUMPED] = True
    session.connection().execute(
        update(CacheVersion).where(CacheVersion.id == 1).values(version=CacheVersion.version + 1)
    )


def _before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    if session.info.get(_BUMPED):
        return
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, CACHED_MODELS):
            _bump(session)
            return
    for obj in session.dirty:
        if isinstance(obj, CACHED_MODELS) and session.is_modified(obj):
            _bump(session)
            return


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table) and table in _CACHED_TABLES:
        _bump(state.session)


def _transaction_ended(session: Session, _transaction: object) -> None:
    # Also after a savepoint: one rolled back took its bump with it (one more bump is harmless).
    session.info.pop(_BUMPED, None)


def install(session_class: type[Session] = Session) -> None:
    """Listen on every session of ``session_class`` (idempotent)."""
    if event.contains(session_class, "before_flush", _before_flush):
        return
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "do_orm_execute", _do_orm_execute)
    event.listen(session_class, "after_transaction_end", _transaction_ended)
