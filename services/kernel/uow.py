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
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.cache import ProcessCache, process_cache
from storage.db import DEFERRED_BEGIN, renew_read_snapshot
from storage.direct import commit_here
from storage.sqlite_driver import ON_LOOP
from storage.versions import read_versions

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
    unit = _update_unit.get()
    if unit is not None and sessions is unit.sessions:
        # Inside a Telegram update: one transaction for the whole update (`UpdateUnit`).
        return await unit.join(work, commit_on)
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


# --- One unit of work per Telegram update. ---


class DuplicateUpdateError(Exception):
    """The update was already handled (its claim exists): nothing of this run is kept."""


class UpdateUnit:
    """The one session and transaction of a Telegram update (`update_unit`).

    Every `run_unit_of_work` with the same session factory inside the update joins it instead
    of beginning its own. On SQLite the transaction begins DEFERRED: reads take no write lock,
    the first write takes it. The work is committed at the latest moment that is still safe:
    right before the first message leaves for Telegram (`before_effect`, so nobody sees a reply
    whose state is not stored) and at the end of the update. The first commit also writes the
    update's claim (``claim``); a duplicate fails there, before anything was shown.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        claim: Callable[[AsyncSession], Awaitable[bool]] | None,
        answered: set[str] | None = None,
    ) -> None:
        self.sessions = sessions
        self.session = sessions()
        self._claim = claim
        self.claimed = False
        #: Something left the process (a message was sent): the update can no longer be redone.
        self.effects = False
        #: Button presses already answered (a redone update does not answer them again).
        self.answered: set[str] = answered if answered is not None else set()
        #: What this attempt of the update already read and may read again (a flow's context
        #: is built twice in one step): dropped with the attempt.
        self.memo: dict[object, object] = {}
        self._cache = process_cache(sessions)
        self._cache_checked = False

    async def cache(self) -> ProcessCache:
        """This process's cache, checked against the database's version once per update."""
        if not self._cache_checked:
            self._cache.at(await read_versions(self.session))
            self._cache_checked = True
        return self._cache

    async def join(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        commit_on: tuple[type[Exception], ...],
    ) -> T:
        try:
            return await work(self.session)
        except commit_on:
            await self.commit()
            raise
        except BaseException:
            self.memo.clear()
            # As a unit of its own would: its changes (and what the update did before in this
            # transaction, which nothing has shown yet) are rolled back.
            await self.rollback()
            raise

    async def commit(self) -> None:
        """Commit what the update did so far (with its claim, the first time)."""
        if not self.claimed and self._claim is not None:
            if not await self._claim(self.session):
                await self.session.rollback()
                raise DuplicateUpdateError
            self.claimed = True
        if self.session.in_transaction() and not commit_here(self.session):
            await self.session.commit()

    async def before_waiting(self) -> None:
        """Something is about to wait on the network without showing state (answering a
        button press): a transaction that only read takes a fresh snapshot after it. On SQLite
        the old one would go stale while other updates commit, and the first write after the
        wait fail ("database is locked": the whole update done again). What this update read
        so far (`memo`) is read again; the claim is still written with the first commit."""
        if await renew_read_snapshot(self.session):
            self.memo.clear()

    async def before_effect(self) -> None:
        """A message is about to leave: what it shows must be stored first."""
        await self.commit()
        self.effects = True

    async def rollback(self) -> None:
        if self.session.in_transaction():
            await self.session.rollback()

    async def close(self) -> None:
        if self.session.in_transaction():
            await self.session.close()  # ends the transaction: I/O, through SQLAlchemy's greenlet
        else:
            # Committed already (the usual end of an update): closing only forgets the loaded
            # objects, no I/O, so without the greenlet hand-over (≈ 40 µs per update).
            self.session.sync_session.close()


_update_unit: ContextVar[UpdateUnit | None] = ContextVar("trajectbot_update_unit", default=None)


def current_update_unit() -> UpdateUnit | None:
    """The update being handled in this task, if any."""
    return _update_unit.get()


def update_memo() -> dict[object, object] | None:
    """Reads kept for the rest of this update (None outside a Telegram update)."""
    unit = _update_unit.get()
    return None if unit is None else unit.memo


async def update_cache() -> ProcessCache | None:
    """The process cache, valid for this update (None outside a Telegram update: read fresh)."""
    unit = _update_unit.get()
    return None if unit is None else await unit.cache()


async def run_update_unit(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[], Awaitable[T]],
    *,
    claim: Callable[[AsyncSession], Awaitable[bool]] | None = None,
    release: Callable[[AsyncSession], Awaitable[None]] | None = None,
) -> T | None:
    """Handle one update as one unit of work; None when it was a duplicate.

    ``claim`` records the update as handled (False: it already was) and is written with the
    first commit. When SQLite refuses the write lock ("database is locked": a deferred read
    transaction whose snapshot another writer overtook) before anything was sent, the whole
    update is rolled back and done again from the start, this time beginning IMMEDIATE (it
    waits for the lock instead of losing it again): no state was stored and no message shown,
    and the claim makes a redelivered copy a no-op either way. When handling fails after
    the claim was committed, ``release`` forgets it so Telegram's redelivery is handled.
    """
    attempt = 0
    answered: set[str] = set()
    while True:
        unit = UpdateUnit(sessions, claim, answered)
        token = _update_unit.set(unit)
        # The first attempt reads without the write lock; one that lost it (another writer
        # committed after its first read) begins IMMEDIATE, so it cannot lose it again.
        deferred = DEFERRED_BEGIN.set(attempt == 0)
        # An update's small statements that cannot wait for a lock skip SQLite's thread.
        on_loop = ON_LOOP.set(True)
        try:
            result = await work()
            await unit.commit()
        except DuplicateUpdateError:
            return None
        except OperationalError as error:
            await unit.rollback()
            attempt += 1
            if _sqlite_locked(error) and not unit.effects and attempt <= SQLITE_LOCKED_RETRIES:
                log.info("database locked; update handled again (attempt %s)", attempt + 1)
                continue
            await _release(unit, release)
            raise
        except BaseException:
            await unit.rollback()
            await _release(unit, release)
            raise
        else:
            return result
        finally:
            ON_LOOP.reset(on_loop)
            DEFERRED_BEGIN.reset(deferred)
            _update_unit.reset(token)
            await unit.close()


async def _release(
    unit: UpdateUnit, release: Callable[[AsyncSession], Awaitable[None]] | None
) -> None:
    if unit.claimed and release is not None:
        token = _update_unit.set(None)
        deferred = DEFERRED_BEGIN.set(False)
        try:
            await run_unit_of_work(unit.sessions, release)
        finally:
            DEFERRED_BEGIN.reset(deferred)
            _update_unit.reset(token)
