"""The unit of work: the one way an entry point begins a transaction.

Services take a session that is already in a transaction and never begin or commit themselves
(savepoints with ``session.begin_nested()`` inside one are fine). Entry points — the
conversation runtime's callers, the web dependency, Telegram handlers, the CLI, the outbox
worker — begin through `run_unit_of_work`, which commits when the work returns, rolls back when
it raises, and carries SQLite's "database is locked" retry for every caller alike.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

#: How often a unit of work is tried again when SQLite stays locked beyond its busy timeout.
SQLITE_LOCKED_RETRIES = 5

T = TypeVar("T")


async def run_unit_of_work(
    sessions: async_sessionmaker[AsyncSession] | AsyncSession,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    commit_on: tuple[type[Exception], ...] = (),
) -> T:
    """Run ``work(session)`` in one transaction; on SQLite, again when the database stayed locked.

    ``sessions`` is the application's session factory (a fresh session per unit) or a session
    with no transaction open (tests, a request that runs several units one after another).
    ``commit_on`` names refusals raised after changes that must stay (a questionnaire run that
    can no longer be sent is ended, then `SurveyUnavailable` says why): the unit commits and
    then the refusal is raised. Any other exception rolls the unit back.

    SQLite's busy handler is not fair: under a burst of writers (every transaction begins
    IMMEDIATE) one connection can keep losing the lock to newer ones until its busy timeout
    runs out. Nothing was written then (the transaction never began, or rolled back whole), so
    trying again is safe; conditional UPDATEs still decide who gets a place.
    """
    attempt = 0
    while True:
        try:
            if isinstance(sessions, AsyncSession):
                return await _run_once(sessions, work, commit_on)
            async with sessions() as session:
                return await _run_once(session, work, commit_on)
        except OperationalError as error:
            attempt += 1
            if not _sqlite_locked(error) or attempt > SQLITE_LOCKED_RETRIES:
                raise
            log.warning("database locked; unit of work tried again (attempt %s)", attempt + 1)


async def _run_once(
    session: AsyncSession,
    work: Callable[[AsyncSession], Awaitable[T]],
    commit_on: tuple[type[Exception], ...],
) -> T:
    refusal: Exception | None = None
    async with session.begin():
        try:
            return await work(session)
        except commit_on as error:
            refusal = error
    raise refusal


def _sqlite_locked(error: OperationalError) -> bool:
    # Only SQLite says this; PostgreSQL waits for row locks instead of failing.
    return "database is locked" in str(error.orig)
