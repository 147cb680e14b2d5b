"""``/healthz`` notices a database that answers but cannot write (issue 12, operations).

The database is made unwritable for real: on SQLite the app opens the file read-only (the
``mode=ro`` URI: what a read-only file or file system gives), on PostgreSQL the database is
set read-only (``default_transaction_read_only``). A read still works, so only the committed
heartbeat (`storage.health`) can notice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import create_engine
from storage.health import Heartbeat
from storage.migrate import downgrade_database
from storage.models import HealthCheck
from tests.web.staff_client import Clock, staff_app

OK = {"status": "ok", "database": "ok", "schema": "current"}


async def _health(database_url: str, clock: Clock | None = None) -> httpx.Response:
    async with (
        staff_app(database_url, clock or Clock()) as (_app, transport),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        return await client.get("/healthz")


async def test_a_writable_database_is_ok_and_the_heartbeat_is_committed(
    engine: AsyncEngine, database_url: str
) -> None:
    clock = Clock()
    answer = await _health(database_url, clock)
    assert answer.status_code == 200
    assert answer.json() == OK
    async with engine.connect() as connection:
        beat_at = (await connection.execute(select(HealthCheck.beat_at))).scalar_one()
    assert beat_at == clock()


async def _read_only_url(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///file:{url.database}?mode=ro&uri=true"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(
                f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'
            )
    finally:
        await admin.dispose()
    return database_url


async def test_a_database_that_cannot_write_answers_503_without_internals(
    engine: AsyncEngine, database_url: str
) -> None:
    del engine  # migrated
    answer = await _health(await _read_only_url(database_url))
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unwritable", "schema": "current"}
    assert "readonly" not in answer.text
    assert "read-only" not in answer.text


async def test_an_outdated_schema_answers_503(engine: AsyncEngine, database_url: str) -> None:
    del engine
    # build_app refuses an outdated schema, so the app is built first, then the schema aged.
    clock = Clock()
    async with staff_app(database_url, clock) as (_app, transport):
        await downgrade_database(database_url, "0013_school_setup")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = await client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "schema": "outdated"}


@pytest.mark.sqlite_only
async def test_the_heartbeat_writes_at_most_once_per_interval(
    engine: AsyncEngine, database_url: str
) -> None:
    ticks = iter([0.0, 5.0, 10.0, 10.0])  # after the write; then each check
    heartbeat = Heartbeat(interval=10.0, monotonic=lambda: next(ticks))
    first = datetime(2026, 9, 1, 8, tzinfo=UTC)
    # A failed write is not remembered: the next beat writes at once.
    read_only = create_engine(await _read_only_url(database_url))
    try:
        with pytest.raises(OperationalError, match="readonly"):
            await heartbeat.beat(read_only, first)
    finally:
        await read_only.dispose()
    await heartbeat.beat(engine, first)  # writes
    await heartbeat.beat(engine, datetime(2026, 9, 1, 9, tzinfo=UTC))  # 5 s later: skipped
    async with engine.connect() as connection:
        assert (await connection.execute(select(HealthCheck.beat_at))).scalar_one() == first
    await heartbeat.beat(engine, datetime(2026, 9, 1, 10, tzinfo=UTC))  # 10 s: writes again
    async with engine.connect() as connection:
        assert (await connection.execute(select(HealthCheck.beat_at))).scalar_one() == datetime(
            2026, 9, 1, 10, tzinfo=UTC
        )
