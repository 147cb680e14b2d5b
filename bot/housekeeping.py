"""The daily housekeeping beside the web app and the bot: the retention rule of every school
and the pruning (`services.privacy.retention.run_housekeeping`), once shortly after start and
then every 24 hours, in its own unit of work. A failed run is logged (ids and counts only) and
tried again at the next turn; it never stops the web app or the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.kernel.uow import run_unit_of_work
from services.privacy.retention import Housekeeping, run_housekeeping

log = logging.getLogger(__name__)

#: How often the housekeeping runs, and how long after start the first run waits (so a
#: restart loop does not run it again and again at once).
EVERY = timedelta(hours=24)
FIRST_AFTER = timedelta(minutes=5)


async def run_once(
    sessions: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> Housekeeping:
    """One housekeeping run in its own unit of work."""
    moment = now or datetime.now(UTC)
    return await run_unit_of_work(
        sessions, lambda session: run_housekeeping(session=session, now=moment)
    )


async def run_daily(
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    every: timedelta = EVERY,
    first_after: timedelta = FIRST_AFTER,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run the housekeeping at ``first_after`` and then ``every`` until ``stop`` is set."""
    wait = first_after
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait.total_seconds())
        if stop.is_set():
            return
        try:
            result = await run_once(sessions, clock())
            log.info(
                "housekeeping done: trajectories=%s pruned=%s",
                result.trajectories,
                result.pruned.total,
            )
        except Exception:
            log.exception("housekeeping failed; tried again at the next turn")
        wait = every
