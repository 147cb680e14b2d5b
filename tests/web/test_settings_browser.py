"""The settings area in a real browser (headless Chromium, Playwright), on a school made the
way a real school is: `trajectbot school create`'s own code (`run_school_create`) on an empty
database, then its first administrator logs in on the web with the password given there,
changes the opening hours and closes a day. Screenshots (desktop and phone) go to
``test-artifacts/settings-web/<test>/``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.school_setup import run_school_create
from services.accounts.staff_accounts import new_credentials
from services.settings.holidays import holidays_for
from services.settings.rules import Region
from services.settings.school import FirstAdmin
from storage.models import AuditLog, ClosedDay, OpeningHours, Person, School
from tests.support.screenshots import screenshot
from tests.web.staff_client import Clock
from web.app import create_web_app
from web.server import bind_socket, bound_port, build_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "settings-web"
#: Elements of the page's content that reach past the right edge of the window.
OVERFLOWING = """width => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + '#' + e.id)"""
PASSWORD = "een-lang-wachtwoord-voor-beheer"


@dataclass
class Site:
    url: str
    app: App
    school_id: int


@pytest.fixture
async def site(engine: AsyncEngine, database_url: str) -> AsyncIterator[Site]:
    """A school created by the command line's code on an empty database, and the web app."""
    del engine  # migrated by the fixture
    clock = Clock(datetime.now(UTC))
    settings = Settings(_env_file=None, database_url=database_url)
    async with build_app(settings, log_level="WARNING") as app:
        credentials = await new_credentials("beheer", PASSWORD)
        status = await run_school_create(
            app,
            catalog=app.catalogs.get("en"),
            code="de-linde",
            name="De Linde",
            timezone="Europe/Amsterdam",
            region=Region.MIDDEN,
            admin=FirstAdmin("beheer1", "Anna", "Beheerder", "en"),
            credentials=credentials,
            web_url=settings.web_url,
        )
        assert status == 0
        async with app.sessions() as session:
            school_id = await session.scalar(select(School.id).where(School.code == "de-linde"))
        assert school_id is not None
        server = build_server(create_web_app(app, clock=clock))
        sock = bind_socket("127.0.0.1", 0)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(500):  # bounded: at most ~10 s to start
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.02)
            assert server.started, "the web app did not start"
            yield Site(f"http://127.0.0.1:{bound_port(sock)}", app, school_id)
        finally:
            server.should_exit = True
            await serving
            sock.close()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
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


def _study_day(start: date) -> date:
    """A Thursday from ``start`` on outside the region's school holidays."""
    holidays = {
        day for holiday in holidays_for(Region.MIDDEN, from_day=start) for day in holiday.days()
    }
    day = start + timedelta(days=(3 - start.weekday()) % 7)
    while day in holidays:
        day += timedelta(days=7)
    return day


async def test_the_first_admin_logs_in_changes_the_hours_and_closes_a_day(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    context = await chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": "trajectbot_lang", "value": "en", "url": site.url}])
    page = await context.new_page()
    await page.goto(site.url + "/")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("Username").fill("beheer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()

    menu = page.get_by_role("navigation", name="Main menu")
    await menu.get_by_role("link", name="Settings").click()
    await expect(page.locator("#school-facts")).to_contain_text("De Linde")
    await expect(page.locator("#school-facts")).to_contain_text("de-linde")
    await expect(page.locator("#school-facts")).to_contain_text("Middle")
    await shots.take(page, "overview")

    # Opening hours: Monday from 09:00, Wednesday closed.
    tabs = page.get_by_role("navigation", name="Settings")
    await tabs.get_by_role("link", name="Opening hours").click()
    form = page.locator("#hours-form")
    await form.locator("#opens-0").fill("09:00")
    await form.locator("#open-2").uncheck()
    await shots.take(page, "hours-form")
    await form.get_by_role("button", name="Save the opening hours").click()
    await expect(page.get_by_role("status")).to_contain_text("The opening hours have been saved.")
    await expect(page.locator("#opens-0")).to_have_value("09:00")
    await expect(page.locator("#open-2")).not_to_be_checked()
    await shots.take(page, "hours-saved")

    # A refused change keeps what was typed and says why next to the day.
    await page.locator("#opens-3").fill("17:00")
    await page.locator("#hours-form").get_by_role("button", name="Save the opening hours").click()
    await expect(page.locator("#hours-3-problem")).to_have_text(
        "Closing time must be after opening time."
    )
    await expect(page.locator("#opens-3")).to_have_value("17:00")
    await shots.take(page, "hours-refused")

    # A closed day with a label.
    study_day = _study_day(datetime.now(UTC).date() + timedelta(days=14))
    await tabs.get_by_role("link", name="Closed days").click()
    closed = page.locator("#closed-form")
    await closed.get_by_label("First day").fill(study_day.isoformat())
    await closed.get_by_label("What it is (optional, e.g. Studiedag)").fill("Studiedag")
    await closed.get_by_role("button", name="Close these days").click()
    await expect(page.get_by_role("status")).to_contain_text("The closed days have been saved.")
    await expect(page.get_by_role("status")).to_contain_text("1 day newly closed")
    row = page.locator(f'tr[data-first="{study_day.isoformat()}"]')
    await expect(row).to_contain_text("Studiedag")
    await shots.take(page, "closed-day-added")

    # The same page on a phone: one column, nothing cut off.
    phone = await chromium.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    await phone.add_cookies(
        [
            {"name": cookie["name"], "value": cookie["value"], "url": site.url}
            for cookie in await context.cookies()
        ]
    )
    small = await phone.new_page()
    await small.goto(site.url + "/settings/hours")
    await shots.take(small, "hours-phone")
    wide = await small.evaluate(OVERFLOWING, 390)
    assert wide == []  # the page's content fits (the header wraps on its own)
    await small.goto(site.url + "/settings/closed-days")
    await shots.take(small, "closed-days-phone")
    # In Arabic, right to left.
    await phone.add_cookies([{"name": "trajectbot_lang", "value": "ar", "url": site.url}])
    await small.goto(site.url + "/settings/types")
    assert await small.evaluate("document.documentElement.dir") == "rtl"
    await expect(small.get_by_role("heading", level=1)).to_contain_text("الإعدادات")
    assert await small.evaluate(OVERFLOWING, 390) == []
    await shots.take(small, "types-phone-arabic")
    await phone.close()
    await context.close()

    async with site.app.sessions() as session:
        hours = {
            row.weekday: (row.opens_at, row.closes_at)
            for row in await session.scalars(
                select(OpeningHours).where(OpeningHours.school_id == site.school_id)
            )
        }
        label = await session.scalar(
            select(ClosedDay.label).where(
                ClosedDay.school_id == site.school_id, ClosedDay.day == study_day
            )
        )
        actions = list(
            await session.scalars(
                select(AuditLog.action).where(
                    AuditLog.school_id == site.school_id, AuditLog.action.like("settings.%")
                )
            )
        )
    assert hours[0][0] == time(9, 0)
    assert 2 not in hours
    assert label == "Studiedag"
    assert sorted(actions) == [
        "settings.closed_days.add",
        "settings.holidays",  # school create
        "settings.opening_hours",
        "settings.opening_hours",
    ]


async def test_the_first_admin_imports_the_schools_people_in_the_browser(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    """A real school's setting up without the command line: the file is checked (nothing
    written, every bad row named), then imported with the bad row left out; the people are in
    the school and the audit row names the administrator."""
    people = (
        "external_id,roles,given_name,family_name,group,mentor_of\n"
        "L1,student,Fenna,Wolters-Test,1A,\n"
        "L2,student,Yusuf,Demirbaş-Test,1A,\n"
        "M1,mentor,Karin,Hoekstra-Test,,L1;L2\n"
        "X1,wizard,Kees,Tovenaar,,\n"
    ).encode()
    context = await chromium.new_context(viewport={"width": 1280, "height": 900})
    await context.add_cookies([{"name": "trajectbot_lang", "value": "en", "url": site.url}])
    page = await context.new_page()
    await page.goto(site.url + "/login")
    await page.get_by_label("Username").fill("beheer")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await (
        page.get_by_role("navigation", name="Main menu")
        .get_by_role("link", name="Settings")
        .click()
    )
    await (
        page.get_by_role("navigation", name="Settings")
        .get_by_role("link", name="Import people")
        .click()
    )
    file = FilePayload(name="leerlingen.csv", mimeType="text/csv", buffer=people)

    await page.get_by_label("File", exact=True).set_input_files(file)
    await page.get_by_role("button", name="Check the file").click()
    report = page.locator("#report")
    await expect(report).to_contain_text("Dry run: nothing was written.")
    await expect(report).to_contain_text("New (3): L1, L2, M1")
    await expect(report.locator("li.problem").nth(1)).to_contain_text("leerlingen.csv: Line 5")
    await shots.take(page, "import-checked")
    async with site.app.sessions() as session:
        assert await session.scalar(select(Person.id).where(Person.external_id == "L1")) is None

    await page.get_by_label("File", exact=True).set_input_files(file)
    await page.get_by_label("Leave the bad rows out (import the others)").check()
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="The import is done")).to_be_visible()
    await expect(report).to_contain_text("Imported. New: 3. Changed: 0. Ended: 0.")
    await shots.take(page, "import-done")
    async with site.app.sessions() as session:
        imported = sorted(
            await session.scalars(
                select(Person.external_id).where(Person.school_id == site.school_id)
            )
        )
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "people.import"))
        admin_id = await session.scalar(
            select(Person.id).where(
                Person.school_id == site.school_id, Person.external_id == "beheer1"
            )
        )
    assert imported == ["L1", "L2", "M1", "beheer1"]
    assert audit is not None
    assert audit.actor_id == admin_id
    await context.close()
