"""Shared fixtures: a migrated database per test, SQLite always, PostgreSQL on request.

Migrating a database with Alembic costs about a second; the suite has hundreds of database
tests. So the schema is migrated **once per session** into a template, and every test that
asks for ``engine`` gets a copy of it: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE``
on PostgreSQL (both take milliseconds). ``tests/storage/test_migrations.py`` still migrates
from empty, down and up, through ``database_url`` (which is always an empty database).

``--postgres-url=postgresql+asyncpg://user@host/db`` adds a ``postgres`` variant (marked
``postgres``) to every test that uses a database. That database is only the way in: each test
gets a database of its own named after it (``<db>_t<n>``), dropped after the test, and the
template is ``<db>_template``; point it at a throwaway database.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.kernel.uow import run_unit_of_work
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_database
from tests.support import outbox_guard


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres-url",
        default=None,
        help="also run database tests against this PostgreSQL (databases <db>_* are made)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "_test_database" not in metafunc.fixturenames:
        return
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    postgres_only = metafunc.definition.get_closest_marker("postgres_only") is not None
    backends = [] if postgres_only else [pytest.param("sqlite", id="sqlite")]
    if metafunc.config.getoption("--postgres-url") and not sqlite_only:
        backends.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    if not backends:
        # A PostgreSQL-only test without --postgres-url: deselected below (never reported as
        # skipped); `make test-postgres` runs it.
        backends.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("_test_database", backends, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL-only tests when no PostgreSQL is given (reported as
    deselected, not skipped: nothing stands in for them)."""
    if config.getoption("--postgres-url"):
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@dataclass(frozen=True)
class _Postgres:
    """The server named by ``--postgres-url``: where per-test databases are made."""

    url: str

    def database(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    @property
    def name(self) -> str:
        return str(make_url(self.url).database)

    @property
    def worker(self) -> str:
        """This process's part of the server: pytest-xdist's worker id ("gw0", …), else ""."""
        return os.environ.get("PYTEST_XDIST_WORKER", "")

    @property
    def template(self) -> str:
        return f"{self.name}_{self.worker}template"

    async def admin(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
        engine = create_async_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.exec_driver_sql(statement)
        finally:
            await engine.dispose()


@dataclass(frozen=True)
class _Templates:
    """Where the migrated templates are: a SQLite file, a PostgreSQL database (if asked)."""

    sqlite_file: Path
    postgres: _Postgres | None


@pytest.fixture(scope="session")
def migrated_templates(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[_Templates]:
    """Migrate once per session: a SQLite template file, and a PostgreSQL template database."""
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(upgrade_database(f"sqlite+aiosqlite:///{sqlite_file}"))
    postgres: _Postgres | None = None
    url = pytestconfig.getoption("--postgres-url")
    if url:
        postgres = _Postgres(str(url))
        asyncio.run(_make_postgres_template(postgres))
    yield _Templates(sqlite_file, postgres)
    if postgres is not None:
        asyncio.run(postgres.admin(f'DROP DATABASE IF EXISTS "{postgres.template}" WITH (FORCE)'))


async def _make_postgres_template(postgres: _Postgres) -> None:
    await postgres.admin(
        f'DROP DATABASE IF EXISTS "{postgres.template}" WITH (FORCE)',
        f'CREATE DATABASE "{postgres.template}"',
    )
    await upgrade_database(postgres.database(postgres.template))


_COUNTER = itertools.count(1)


@dataclass
class _TestDatabase:
    """One test's database: its URL, and how to replace it with a copy of the template."""

    url: str
    sqlite_file: Path | None
    postgres: _Postgres | None
    postgres_name: str | None


@pytest.fixture
async def _test_database(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: _Templates
) -> AsyncIterator[_TestDatabase]:
    if request.param == "sqlite":
        file = tmp_path / "test.db"
        yield _TestDatabase(f"sqlite+aiosqlite:///{file}", file, None, None)
        return
    postgres = migrated_templates.postgres
    assert postgres is not None, "the postgres variant needs --postgres-url"
    name = f"{postgres.name}_{postgres.worker}t{next(_COUNTER)}"
    await postgres.admin(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    yield _TestDatabase(postgres.database(name), None, postgres, name)
    await postgres.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(_test_database: _TestDatabase) -> str:
    """URL of an empty database (not migrated): a fresh SQLite file or PostgreSQL database."""
    return _test_database.url


@pytest.fixture
async def engine(
    _test_database: _TestDatabase, migrated_templates: _Templates
) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database, made a copy of the migrated template first."""
    if _test_database.sqlite_file is not None:
        shutil.copyfile(migrated_templates.sqlite_file, _test_database.sqlite_file)
    else:
        postgres, name = _test_database.postgres, _test_database.postgres_name
        assert postgres is not None
        assert name is not None
        await postgres.admin(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}" TEMPLATE "{postgres.template}"',
        )
    engine = create_engine(_test_database.url)
    yield engine
    await engine.dispose()


@pytest.fixture
def migrated_url(engine: AsyncEngine, _test_database: _TestDatabase) -> str:
    """URL of the test's database, a copy of the migrated template (for tests that start the
    product as a separate process: `trajectbot init` there finds the schema at head)."""
    del engine  # its fixture made the copy
    return _test_database.url


@pytest.fixture
async def demo_url(migrated_url: str, session_factory: async_sessionmaker[AsyncSession]) -> str:
    """URL of a migrated database holding the demo school, made in this process (the
    `trajectbot demo-data` command itself is tested in tests/bot/test_cli_web.py)."""
    from services.demo.school import create_demo_data

    summary = await run_unit_of_work(
        session_factory, lambda session: create_demo_data(session=session, if_empty=True)
    )
    assert summary.created
    return migrated_url


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


@pytest.fixture(autouse=True)
def _outbox_rows_have_messages() -> Iterator[None]:
    """Fail a test whose product code wrote an outbox row of a kind without a message
    (`tests/support/outbox_guard.py`): every journey in the suite checks issue 11's rule."""
    outbox_guard.install()
    outbox_guard.take()
    yield
    unsendable = outbox_guard.take()
    assert not unsendable, (
        f"outbox rows of a kind with no message in bot/outbox/messages.py: {unsendable}"
    )
