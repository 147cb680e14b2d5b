"""Run Alembic migrations from code (no alembic.ini), also from inside a running event loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at ``storage/migrations``.

    The URL travels in ``config.attributes`` rather than ``sqlalchemy.url`` because the ini
    parser would treat a ``%`` in a password as interpolation.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["database_url"] = url
    return config


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: the newest).

    Alembic's API is synchronous; it runs on our async connection through ``run_sync``, so this
    works from inside an already running event loop (the bot, the CLI, tests).
    """
    await _migrate(url, command.upgrade, revision)


async def downgrade_database(url: str, revision: str) -> None:
    """Migrate the database at ``url`` back to ``revision`` (for operators and tests)."""
    await _migrate(url, command.downgrade, revision)


async def _migrate(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    # SQLite changes a constraint by copying the table (Alembic batch mode) and dropping the
    # original; with foreign keys on, that drop would cascade into the child tables (every
    # internal note of the queue items). SQLite's documented procedure: keys off during the
    # schema change, then a foreign key check before the commit. PostgreSQL alters in place.
    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, step, alembic_config(url), revision)
            if connection.dialect.name == "sqlite":
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise MigrationError(f"foreign keys broken by the migration: {broken[:5]}")
    finally:
        await engine.dispose()


class MigrationError(RuntimeError):
    """A migration left the database inconsistent; it was rolled back."""


def _run(
    connection: Connection, step: Callable[[Config, str], None], config: Config, revision: str
) -> None:
    config.attributes["connection"] = connection
    step(config, revision)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database behind ``engine`` is migrated to the newest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == heads
