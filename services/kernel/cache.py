"""What a worker process keeps between updates: people, roles, option lists.

Valid for one `storage.models.CacheVersion`: every write to a cached table bumps it in its own
transaction (`storage.versions`), and each Telegram update reads it once
(`services.kernel.uow.update_cache`); a different version empties the cache, so a change made
by another worker, the web or the CLI is seen on the next update. What is derived from cases
(referrals, queue items, trajectories) is kept apart (``cases=True``) and valid for the case
version too, so a queue action leaves the people cached. One cache per session factory (one
per database in a process). Values are detached ORM objects or plain data: read them, never
change them.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.versions import Versions

#: Entries kept at most; past it the cache starts afresh (a crude bound on memory).
MAX_ENTRIES = 50_000


class ProcessCache:
    """Values for one cache version (and, for values about cases, one case version)."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.case_version: int | None = None
        self._values: dict[Any, Any] = {}
        self._case_values: dict[Any, Any] = {}

    def at(self, versions: Versions) -> None:
        """Use ``versions``; everything cached for other ones is dropped (values about cases
        also when the people changed: a mentor's mentees decide whose cases count)."""
        if versions.people != self.version:
            self._values.clear()
            self._case_values.clear()
            self.version = versions.people
        if versions.cases != self.case_version:
            self._case_values.clear()
            self.case_version = versions.cases

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._case_values:
            return self._case_values[key]
        return self._values.get(key, default)

    def __contains__(self, key: Any) -> bool:
        return key in self._values or key in self._case_values

    def put(self, key: Any, value: Any, *, cases: bool = False) -> None:
        """Keep ``value``; ``cases``: it is derived from cases and valid for their version."""
        values = self._case_values if cases else self._values
        if len(values) >= MAX_ENTRIES:
            values.clear()
        values[key] = value


_caches: WeakKeyDictionary[async_sessionmaker[AsyncSession], ProcessCache] = WeakKeyDictionary()


def process_cache(sessions: async_sessionmaker[AsyncSession]) -> ProcessCache:
    """This process's cache for the database of ``sessions``."""
    cache = _caches.get(sessions)
    if cache is None:
        cache = _caches[sessions] = ProcessCache()
    return cache
