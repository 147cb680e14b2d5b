"""The Privacy page in a real browser (headless Chromium through Playwright): an administrator
opens it from the navigation, finds a student by number, downloads the PDF, types the name and
erases. In Dutch. Screenshots go to ``test-artifacts/privacy/``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_app
from bot.config import Settings
from services.accounts.staff_accounts import create_staff_account, hash_password
from tests.support.factories import NOW
from tests.support.privacy_world import SAM, PrivacyWorld, build_privacy_world
from tests.support.screenshots import screenshot
from tests.web.test_chat_browser import CHROMIUM
from web.app import create_web_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "privacy"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def world(session: AsyncSession) -> PrivacyWorld:
    async with session.begin():
        built = await build_privacy_world(session)
        await create_staff_account(
            session=session,
            person=built.admin,
            username="beheer",
            password_hash=hash_password(PASSWORD),
            now=NOW,
        )
    session.expunge_all()
    return built


@pytest.fixture
async def server(world: PrivacyWorld, database_url: str) -> AsyncIterator[str]:
    del world
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        config = uvicorn.Config(
            create_web_app(app, clock=lambda: NOW),
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


async def test_an_administrator_downloads_and_erases(
    server: str, chromium: Browser, world: PrivacyWorld
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
    await page.get_by_label("Gebruikersnaam").fill("beheer")
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Inloggen").click()

    async with page.expect_navigation():
        await page.get_by_role("link", name="Privacy").click()
    await page.locator("#number").fill("S1001")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Tonen").click()
    assert page.url.endswith(f"/privacy/people/{world.sam.id}")
    assert SAM[1] in await page.locator("#person-title").inner_text()
    await screenshot(page, ARTIFACTS / "privacy-person.png")

    async with page.expect_download() as info:
        await page.locator("#download-pdf").click()
    download = await info.value
    target = ARTIFACTS / download.suggested_filename
    await download.save_as(target)
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(target.read_bytes())).pages)
    assert "Persoonsgegevens" in text

    await page.get_by_label("Typ de volledige naam van de persoon om te bevestigen").fill(
        f"{SAM[0]} {SAM[1]}"
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Wissen").click()
    assert "De persoon is gewist." in await page.content()
    assert f"Verwijderd {world.sam.id}" in await page.locator("#person-title").inner_text()
    await screenshot(page, ARTIFACTS / "privacy-erased.png")
    await context.close()
