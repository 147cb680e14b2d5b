"""The composition root: settings → database engine → sessions → catalogs (→ bot, dispatcher).

Nothing is built at import time; `build_app` builds it all once per process and disposes of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from dialogs.i18n import Catalogs
from storage.db import create_engine, create_sessionmaker


@dataclass(frozen=True, slots=True)
class App:
    """What every command and handler needs, built once."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalogs: Catalogs


@asynccontextmanager
async def build_app(settings: Settings) -> AsyncIterator[App]:
    """Build the application's parts from ``settings`` and release them afterwards."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    engine = create_engine(settings.database_url)
    try:
        yield App(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            catalogs=Catalogs(settings.locales_path),
        )
    finally:
        await engine.dispose()
