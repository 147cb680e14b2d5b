"""The composition root: settings → database engine → sessions → catalogs (→ bot, dispatcher).

Nothing is built at import time; `build_app` builds it all once per process and disposes of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.logging_setup import configure_logging
from bot.settings_error import SettingsError
from dialogs.i18n import Catalogs
from dialogs.text import N_, Text
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


@contextmanager
def database_reachable() -> Iterator[None]:
    """Around the first use of the database: when it cannot be opened (a SQLite file where no
    directory can be made) or reached (no server, a wrong host or password), a `SettingsError`
    for DATABASE_URL — one line on the command line (`bot.cli_guard`), no traceback. Only
    around opening: a database error later is not a setting's fault."""
    try:
        yield
    except (OSError, OperationalError, InterfaceError) as unreachable:
        raise SettingsError(
            "DATABASE_URL",
            Text.of(
                N_("the database cannot be opened or reached ({problem})."),
                problem=Text.raw(type(unreachable).__name__),
            ),
        ) from None


@asynccontextmanager
async def build_app(settings: Settings, *, log_level: str | None = None) -> AsyncIterator[App]:
    """Build the application's parts from ``settings`` and release them afterwards.

    Refuses (`DatabaseNotReadyError`) to run on a database that is not migrated to the newest
    schema, rather than failing later on a missing table.
    """
    configure_logging(log_level or settings.log_level)
    with database_reachable():
        engine = create_engine(settings.database_url)
    try:
        with database_reachable():
            current = await schema_is_current(engine)
        if not current:
            raise DatabaseNotReadyError(settings.database_url)
        yield App(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            catalogs=Catalogs(settings.locales_path),
        )
    finally:
        await engine.dispose()
