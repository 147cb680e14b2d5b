"""The staff web app in a real browser: headless Chromium (Debian's ``/usr/bin/chromium``,
driven by Playwright) against the product's web app served by uvicorn on a free port.

A care coordinator logs in, opens a new referral, takes it in analysis, accepts it with goals
and dates and finds the trajectory in the list; a form stripped of its CSRF token is refused;
a coach of another school cannot open the referral. Every page is saved as a screenshot under
``test-artifacts/staff-web/<test>/``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.config import Settings
from services.demo.school import DEMO_PASSWORD
from storage.models import QueueStatus, Trajectory
from tests.support.screenshots import screenshot
from tests.web.staff_client import OTHER_PASSWORD, Clock, StaffWorld, build_world
from web.app import create_web_app
from web.server import bind_socket, bound_port, build_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "staff-web"


@dataclass
class Site:
    """The running web app and what is in its database."""

    url: str
    world: StaffWorld


@pytest.fixture
async def site(engine: AsyncEngine, database_url: str) -> AsyncIterator[Site]:
    """The product's web app over HTTP on 127.0.0.1 (a free port), on a fresh database."""
    del engine  # migrated by the fixture
    clock = Clock()
    settings = Settings(_env_file=None, database_url=database_url)
    async with build_app(settings, log_level="WARNING") as app:
        world = await build_world(app, clock)
        server = build_server(create_web_app(app, clock=clock))
        sock = bind_socket("127.0.0.1", 0)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(500):  # bounded: at most ~10 s to start
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.02)
            assert server.started, "the web app did not start"
            yield Site(f"http://127.0.0.1:{bound_port(sock)}", world)
        finally:
            server.should_exit = True
            await serving
            sock.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from the system (installed by `make test`, never downloaded)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class Shots:
    """Numbered screenshots of one test's pages."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    async def take(self, page: Page, what: str) -> None:
        self.count += 1
        await screenshot(page, str(self.folder / f"{self.count:02d}-{what}.png"))


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request)


async def _page(chromium: Browser, site: Site, language: str = "en") -> Page:
    context = await chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": site.url}])
    return await context.new_page()


async def _log_in(page: Page, site: Site, shots: Shots, username: str, password: str) -> None:
    await page.goto(site.url + "/")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await shots.take(page, "login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def test_a_care_coordinator_accepts_a_new_referral_and_finds_the_trajectory(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    page = await _page(chromium, site)
    await _log_in(page, site, shots, "zoco", DEMO_PASSWORD)
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    row = page.locator(f'tr[data-item="{site.world.item_id}"]')
    await expect(row).to_contain_text("Noor Bremhorst")
    await expect(row).to_contain_text("new")
    await shots.take(page, "queue")

    await row.get_by_role("link", name="Noor Bremhorst").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Noor Bremhorst")
    await expect(page.get_by_text("Ik wil rustiger worden in de klas.")).to_be_visible()
    await shots.take(page, "referral-new")

    await page.get_by_role("button", name="Take in analysis").click()
    await expect(page.get_by_text("Taken in analysis.")).to_be_visible()
    await shots.take(page, "referral-in-analysis")

    form = page.locator("#accept-form")
    await form.get_by_label("Goals").fill("Noor vraagt hulp voordat het misgaat.")
    await form.get_by_label("Start").fill("2026-03-09")
    await form.get_by_label("End").fill("2026-06-12")
    await form.get_by_label("Interim evaluation 1").fill("2026-04-17")
    await shots.take(page, "accept-form")
    await form.get_by_role("button", name="Accept and create the trajectory").click()
    await expect(page.get_by_text("Accepted. The trajectory has been created")).to_be_visible()
    await shots.take(page, "referral-accepted")

    await (
        page.get_by_role("navigation", name="Main menu")
        .get_by_role("link", name="Trajectories")
        .click()
    )
    await expect(page.get_by_role("heading", name="Trajectories")).to_be_visible()
    async with site.world.app.sessions() as session:
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.referral_id == site.world.referral_id)
        )
    assert trajectory is not None
    listed = page.locator(f'tr[data-trajectory="{trajectory.id}"]')
    await expect(listed).to_contain_text("Noor Bremhorst")
    await expect(listed).to_contain_text("planned")
    await shots.take(page, "trajectories")


async def test_a_form_without_its_csrf_token_is_refused(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    page = await _page(chromium, site)
    await _log_in(page, site, shots, "zoco", DEMO_PASSWORD)
    await page.goto(f"{site.url}/queue/{site.world.item_id}")
    take = page.locator(f'form[action="/queue/{site.world.item_id}/take"]')
    await take.locator('input[name="csrf_token"]').evaluate("field => field.remove()")
    await take.get_by_role("button", name="Take in analysis").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "This form was not sent from this site, or it has expired."
    )
    await shots.take(page, "csrf-refused")
    assert (await site.world.item()).status is QueueStatus.NEW
    assert await site.world.audit("queue.take") == []


async def test_a_coach_of_another_school_cannot_open_the_referral(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    page = await _page(chromium, site)
    await _log_in(page, site, shots, "coach-zuid", OTHER_PASSWORD)
    await expect(page.get_by_role("heading", name="Trajectories")).to_be_visible()
    answer = await page.goto(f"{site.url}/queue/{site.world.item_id}")
    assert answer is not None
    assert answer.status == 404
    await expect(page.get_by_role("alert")).to_contain_text(
        "This page does not exist or is not available to you."
    )
    await expect(page.locator("main")).not_to_contain_text("Noor")
    await shots.take(page, "other-school-referral")
    assert await site.world.audit("referral.view") == []


async def test_the_staff_pages_turn_right_to_left_in_arabic(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    page = await _page(chromium, site, language="ar")
    await page.goto(site.url + "/login")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("html")).to_have_attribute("lang", "ar")
    await shots.take(page, "login-ar")
