"""Fixtures of the staff web app tests: a world on a migrated database and people's browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from services.accounts import staff_accounts
from tests.web.staff_client import Browser, Clock, StaffWorld, build_world, staff_app


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with minimal cost: these tests are about the web app, not about argon2's cost
    (`tests/services/accounts/test_staff_accounts.py` checks the product's parameters)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(staff_accounts, "password_hasher", lambda: cheap)


@pytest.fixture
async def staff_world(
    engine: AsyncEngine, database_url: str
) -> AsyncIterator[tuple[StaffWorld, httpx.ASGITransport]]:
    """The demo school with a referral in the queue, a second school, the web app (ASGI)."""
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    clock = Clock()
    async with staff_app(database_url, clock) as (app, transport):
        yield await build_world(app, clock), transport


BrowserFactory = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def browsers(
    staff_world: tuple[StaffWorld, httpx.ASGITransport],
) -> AsyncIterator[BrowserFactory]:
    """Open a fresh browser (its own cookies) on the staff web app."""
    _world, transport = staff_world
    opened: list[Browser] = []

    async def open_browser(language: str | None = "en") -> Browser:
        browser = Browser(transport, language)
        opened.append(browser)
        return browser

    yield open_browser
    for browser in opened:
        await browser.close()


@pytest.fixture
def demo(staff_world: tuple[StaffWorld, httpx.ASGITransport]) -> StaffWorld:
    """The world of `staff_world`."""
    return staff_world[0]
