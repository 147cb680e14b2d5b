"""The first administrator of a school made by `trajectbot school create` on the web: with the
password given there, and with a one-time link from `trajectbot staff-account login-link`
(real processes for the commands; the web app on the same database through httpx)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.bot.test_cli import trajectbot
from tests.bot.test_school_setup_cli import PASSWORD, create_school
from tests.web.staff_client import Browser, Clock, staff_app


@pytest.fixture
async def school_db(migrated_url: str) -> str:
    assert trajectbot(migrated_url, "init").returncode == 0
    created = trajectbot(migrated_url, *create_school(migrated_url), lines=[PASSWORD])
    assert created.returncode == 0, created.stderr
    assert "/login" in created.stdout  # where to log in
    return migrated_url


@pytest.fixture
async def transport(school_db: str) -> AsyncIterator[httpx.ASGITransport]:
    async with staff_app(school_db, Clock()) as (_app, asgi):
        yield asgi


async def test_the_first_admin_logs_in_with_the_password_from_school_create(
    transport: httpx.ASGITransport,
) -> None:
    browser = Browser(transport)
    try:
        assert (await browser.log_in("beheer1", PASSWORD)).status_code == 303
        page = await browser.get("/settings")
        assert page.status_code == 200
        assert "De Linde" in browser.text
    finally:
        await browser.close()


async def test_a_login_link_from_the_command_line_logs_the_admin_in_once(
    school_db: str, transport: httpx.ASGITransport
) -> None:
    printed = trajectbot(school_db, "staff-account", "login-link", "--person", "beheer1")
    assert printed.returncode == 0, printed.stderr
    found = re.search(r"http://\S+/login/link/([\w-]+)", printed.stdout)
    assert found is not None, printed.stdout
    token = found.group(1)
    browser = Browser(transport)
    try:
        await browser.get(f"/login/link/{token}")
        answer = await browser.post(f"/login/link/{token}")
        assert answer.status_code == 303
        assert (await browser.get("/settings")).status_code == 200
        assert "De Linde" in browser.text
        # Used once.
        other = Browser(transport)
        try:
            await other.get(f"/login/link/{token}")
            assert (await other.post(f"/login/link/{token}")).status_code == 410
        finally:
            await other.close()
    finally:
        await browser.close()
    refused = trajectbot(school_db, "staff-account", "login-link", "--person", "nobody")
    assert refused.returncode == 1
    assert "Nobody with id “nobody” was found." in refused.stderr
