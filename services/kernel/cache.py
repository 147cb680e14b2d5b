"""What a worker process keeps between updates: people, roles, option lists.

Valid for one `storage.models.CacheVersion`: every write to a cached table bumps it in its own
transaction (`storage.versions`), and each Telegram update reads it once
(`services.kernel.uow.update_cache`); a different version empties the cache, so a change made
by another worker, the web or the CLI is seen on the next update. One cache per session factory
(one per database in a process). Values are detached ORM objects or plain data: read them,
never change them.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

#: Entries kept at most; past it the cache starts afresh (a crude bound on memory).
MAX_ENTRIES = 50_000


class ProcessCache:
    """Values for one cache version."""

    def __init__(self) -> None:
        self.version: int | None = None
        self._values: dict[Any, Any] = {}

    def at(self, version: int) -> None:
        """Use ``version``; everything cached for another one is dropped."""
        if version != self.version:
            self._values.clear()
            self.version = version

    def get(self, key: Any, default: Any = None) -> Any:
        return self._values.get(key, default)

    def __contains__(self, key: Any) -> bool:
        return key in self._values

    def put(self, key: Any, value: Any) -> None:
        if len(self._values) >= MAX_ENTRIES:
            self._values.clear()
        self._values[key] = value


_caches: WeakKeyDictionary[async_sessionmaker[AsyncSession], ProcessCache] = WeakKeyDictionary()


def process_cache(sessions: async_sessionmaker[AsyncSession]) -> ProcessCache:
    """This process's cache for the database of ``sessions``."""
    cache = _caches.get(sessions)
    if cache is None:
        cache = _caches[sessions] = ProcessCache()
    return cache
