"""Does the database still write? A committed heartbeat, for ``/healthz``.

A read, or a write that is rolled back, can succeed on a full disk or a read-only database
file: SQLite keeps an uncommitted change in its page cache, and PostgreSQL writes its WAL at
commit. What fails on a full disk is the commit. So the check updates the one row of
``health_check`` and commits, at most once per ``interval`` seconds per process (a probe every
second must not turn into a write every second; a failure is never remembered, so the next
probe writes again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models.health import HealthCheck

#: Seconds between two committed heartbeats of one process.
HEARTBEAT_INTERVAL = 10.0


class Heartbeat:
    """Writes the heartbeat row; remembers only when the last write succeeded."""

    def __init__(
        self,
        *,
        interval: float = HEARTBEAT_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._last_ok: float | None = None
        self._lock = asyncio.Lock()

    async def beat(self, engine: AsyncEngine, now: datetime) -> None:
        """Commit the heartbeat unless one succeeded less than ``interval`` seconds ago.

        Raises what the database raises (`sqlalchemy.exc.SQLAlchemyError`, `OSError`) when
        the commit fails: disk full, read-only file or database, no connection.
        """
        async with self._lock:
            if self._last_ok is not None and self._monotonic() - self._last_ok < self._interval:
                return
            async with engine.begin() as connection:
                changed = await connection.execute(
                    update(HealthCheck).where(HealthCheck.id == 1).values(beat_at=now)
                )
                if changed.rowcount == 0:  # the row was removed by hand: put it back
                    await connection.execute(insert(HealthCheck).values(id=1, beat_at=now))
            self._last_ok = self._monotonic()
