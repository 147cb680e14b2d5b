"""The coach's day in a real browser (headless Chromium, issue 14.2), on a phone (390 px):
the coach opens /day, marks the talk that has started as attended with one tap, writes the
logbook entry from the row and finds it on the trajectory page. Screenshots under
``test-artifacts/coach-day/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import DEMO_PASSWORD
from services.settings.about import TITLE
from storage.models import Appointment, AppointmentStatus, LogbookEntry, Role
from tests.support.coach_day_world import CoachDayWorld, build_coach_day_world
from tests.support.factories import NOW
from tests.support.screenshots import screenshot
from tests.web.test_chat_browser import CHROMIUM
from tests.web.test_chat_browser import live_server as _live_server

CATALOGS = Catalogs()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "coach-day"
#: Elements of the page's content that stick out to the right of a ``width`` screen.
OVERFLOWING = """width => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + '#' + e.id)"""

# The product's web app on 127.0.0.1 with a fixed clock: Monday 2 March 2026, 11:30 school time.
live_server = _live_server


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> CoachDayWorld:
    del engine
    return await build_coach_day_world(session)


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


async def test_the_coachs_day_on_a_phone(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    world: CoachDayWorld,
    chromium: Browser,
) -> None:
    base, sessions = live_server
    context = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="en")
    await context.add_cookies([{"name": "trajectbot_lang", "value": "en", "url": base}])
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill("coach")
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Log in").click()

    await page.goto(f"{base}/day")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Coach's day")
    await expect(page.locator("#today-title")).to_have_text("Today, Monday, March 2")
    started = page.locator(f"#a{world.started}")
    await expect(started).to_contain_text("9:00 AM–9:30 AM")
    await expect(started).to_contain_text("Noor Bremhorst")
    await expect(page.locator(f"#a{world.late_cancelled}")).to_contain_text(
        "cancelled at short notice"
    )
    await expect(page.locator(f"#a{world.others}")).to_have_count(0)  # another coach's
    assert await page.evaluate(OVERFLOWING, 390) == []
    await shot(page, "01-day-phone")

    # Attended in one tap.
    async with page.expect_navigation():
        await started.get_by_role("button", name="Attended").click()
    await expect(page.get_by_role("status")).to_have_text("Marked as attended.")
    await expect(page.locator(f"#a{world.started} .status")).to_have_text("attended")
    await shot(page, "02-attended-phone")

    # The logbook entry from the row.
    row = page.locator(f"#a{world.started}")
    await row.get_by_text("Write in the logbook").click()
    await row.get_by_label("Logbook entry for Noor Bremhorst").fill(
        "Noor vertelde over de toetsweek; volgende keer oefenen we hulp vragen."
    )
    await shot(page, "03-logbook-typed-phone")
    async with page.expect_navigation():
        await row.get_by_role("button", name="Add to the logbook").click()
    await expect(page.get_by_role("status")).to_have_text("The logbook entry has been saved.")

    # On the trajectory page.
    async with page.expect_navigation():
        await page.locator(f"#a{world.started}").get_by_role("link", name="Noor Bremhorst").click()
    assert page.url == f"{base}/trajectories/{world.trajectory_id}"
    await expect(page.locator(".logbook-entries")).to_contain_text(
        "Noor vertelde over de toetsweek; volgende keer oefenen we hulp vragen."
    )
    await shot(page, "04-trajectory-with-entry-phone")
    await context.close()

    async with sessions() as session:
        marked = await session.get(Appointment, world.started)
        entries = list(await session.scalars(select(LogbookEntry.trajectory_id)))
    assert marked is not None
    assert marked.status is AppointmentStatus.ATTENDED
    assert entries == [world.trajectory_id]


async def test_the_administrators_about_text_reaches_a_parent_on_a_phone(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    world: CoachDayWorld,
    chromium: Browser,
) -> None:
    """Issue 15.7: the admin edits the Arabic text on /settings/about (phone, 390 px); a parent
    who reads Arabic opens the web chat and reads it right to left; the Ukrainian default stays."""
    del world
    base, sessions = live_server
    admin = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="en")
    await admin.add_cookies([{"name": "trajectbot_lang", "value": "en", "url": base}])
    page = await admin.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Log in").click()
    await page.goto(f"{base}/settings/about")
    form = page.locator("#about-ar")
    await form.get_by_label("العربية").fill("وحدة الدعم في مدرستنا.\n\nنحن هنا كل يوم.")
    async with page.expect_navigation():
        await form.get_by_role("button", name="Save this text").click()
    await expect(page.get_by_role("status")).to_contain_text("The text has been saved.")
    assert await page.evaluate(OVERFLOWING, 390) == []
    await shot(page, "05-settings-about-phone")
    await admin.close()

    async with sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        parent = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="ouder1"
        )
        assert parent is not None
        parent.language = "ar"
        token = await create_invite(session=session, person=parent, role=Role.PARENT, now=NOW)
    chat = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    page = await chat.new_page()
    await page.goto(f"{base}/c/{token}")
    async with page.expect_navigation():
        await page.get_by_role("button").first.click()
    title = CATALOGS.get("ar").render(Text.of(TITLE))
    async with page.expect_navigation():
        await page.get_by_role("link", name=title).click()
    assert await page.get_attribute("html", "dir") == "rtl"
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator(".about-paragraph").first).to_contain_text("وحدة الدعم في مدرستنا.")
    await expect(page.locator(".about-paragraph")).to_have_count(2)
    assert await page.evaluate(OVERFLOWING, 390) == []
    await shot(page, "06-chat-about-arabic-phone")
    await chat.close()
