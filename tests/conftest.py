"""Shared fixtures: a migrated database per test, SQLite always, PostgreSQL on request.

``--postgres-url=postgresql+asyncpg://user@host/db`` adds a ``postgres`` variant (marked
``postgres``) to every test that uses a database. That database is wiped: its ``public``
schema is dropped and recreated before each test, so point it at a throwaway database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres-url",
        default=None,
        help="also run database tests against this PostgreSQL (its public schema is wiped)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" not in metafunc.fixturenames:
        return
    backends = [pytest.param("sqlite", id="sqlite")]
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    if metafunc.config.getoption("--postgres-url") and not sqlite_only:
        backends.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database (not migrated): a fresh SQLite file or a wiped PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url = str(request.config.getoption("--postgres-url"))
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to the newest revision."""
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The application's session factory on the test database."""
    return create_sessionmaker(engine)


@pytest.fixture
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session, closed (and any open transaction rolled back) after the test."""
    async with session_factory() as session:
        yield session
