"""The Exports page in a real browser (headless Chromium through Playwright): a care
coordinator opens it from the navigation, picks week 2026-W10 in the week picker, downloads the
Magister file (byte for byte the fixture) and a closing report. Screenshots go to
``test-artifacts/exports/``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_app
from bot.config import Settings
from services.accounts.staff_accounts import create_staff_account, hash_password
from tests.support.export_world import ExportWorld, build_export_world
from tests.support.factories import NOW
from tests.support.screenshots import screenshot
from tests.web.test_chat_browser import CHROMIUM
from web.app import create_web_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "exports"
FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "exports"
PASSWORD = "correct horse battery staple"
CLOCK = NOW.replace(day=9, hour=8)


@pytest.fixture
async def world(session: AsyncSession) -> ExportWorld:
    async with session.begin():
        built = await build_export_world(session)
        await create_staff_account(
            session=session,
            person=built.zoco,
            username="zoco",
            password_hash=hash_password(PASSWORD),
            now=NOW,
        )
    session.expunge_all()
    return built


@pytest.fixture
async def server(world: ExportWorld, database_url: str) -> AsyncIterator[str]:
    del world
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        config = uvicorn.Config(
            create_web_app(app, clock=lambda: CLOCK),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws="none",
        )
        uvicorn_server = uvicorn.Server(config)
        serving = asyncio.create_task(uvicorn_server.serve())
        for _ in range(1000):  # bounded: at most ~10 s to start
            if uvicorn_server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        assert uvicorn_server.started, "the web server did not start"
        port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            uvicorn_server.should_exit = True
            await serving


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def test_a_care_coordinator_picks_a_week_and_downloads(
    server: str, chromium: Browser, world: ExportWorld
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = await chromium.new_context(
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
        locale="nl-NL",
        accept_downloads=True,
    )
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await page.get_by_label("Gebruikersnaam").fill("zoco")
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Inloggen").click()

    async with page.expect_navigation():
        await page.get_by_role("link", name="Exports").click()
    assert await page.locator("#week").input_value() == "2026-W11"
    await page.locator("#week").fill("2026-W10")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Tonen").click()
    assert page.url.endswith("/exports?week=2026-W10")
    await screenshot(page, ARTIFACTS / "exports-week.png")

    async with page.expect_download() as info:
        await page.locator("#download-magister").click()
    download = await info.value
    assert download.suggested_filename == "magister-2026-W10.csv"
    target = ARTIFACTS / download.suggested_filename
    await download.save_as(target)
    assert target.read_bytes() == (FIXTURES / "magister-2026-W10.csv").read_bytes()

    async with page.expect_download() as info:
        await page.locator("a.closing-report").click()
    report = await info.value
    assert report.suggested_filename.startswith(f"closing-report-{world.trajectories['otto']}-")
    await context.close()
