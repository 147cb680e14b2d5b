"""The composition root: settings → database engine → sessions → catalogs (→ bot, dispatcher).

Nothing is built at import time; `build_app` builds it all once per process and disposes of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.logging_setup import configure_logging
from dialogs.i18n import Catalogs
from storage.db import create_engine, create_sessionmaker
from storage.migrate import schema_is_current


@dataclass(frozen=True, slots=True)
class App:
    """What every command and handler needs, built once."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalogs: Catalogs


class DatabaseNotReadyError(RuntimeError):
    """The schema is missing or older than the code: `trajectbot init` migrates it."""


@asynccontextmanager
async def build_app(settings: Settings, *, log_level: str | None = None) -> AsyncIterator[App]:
    """Build the application's parts from ``settings`` and release them afterwards.

    Refuses (`DatabaseNotReadyError`) to run on a database that is not migrated to the newest
    schema, rather than failing later on a missing table.
    """
    configure_logging(log_level or settings.log_level)
    engine = create_engine(settings.database_url)
    try:
        if not await schema_is_current(engine):
            raise DatabaseNotReadyError(settings.database_url)
        yield App(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            catalogs=Catalogs(settings.locales_path),
        )
    finally:
        await engine.dispose()
