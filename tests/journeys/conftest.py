"""Fixtures of the journey tests: the product running on one clock (`tests/support/journey.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from services.accounts import staff_accounts
from tests.support.journey import START, Journey, JourneyClock, running_journey


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at minimal cost (as in tests/web): the journey is not about argon2."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(staff_accounts, "password_hasher", lambda: cheap)


@pytest.fixture
async def journey(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Journey]:
    """The product on the test's database (SQLite; PostgreSQL with --postgres-url)."""
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    async with running_journey(database_url, JourneyClock(START), monkeypatch) as running:
        yield running
