"""The trajectory's records page in a real browser (headless Chromium), on a phone-sized
screen: the care coordinator asks for an observation in class, records it with its outcome,
records an OPP and a period of long-term absence, then closes the trajectory with afstroom.
Screenshots go to ``test-artifacts/indicator-records/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import StudentEvent, StudentEventKind, SupportActivity
from tests.support.factories import add_trajectory
from tests.support.screenshots import screenshot
from tests.support.units import unit
from tests.web.test_chat_browser import CHROMIUM
from tests.web.test_chat_browser import live_server as _live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "indicator-records"

live_server = _live_server


@pytest.fixture
async def trajectory_id(engine: AsyncEngine, session: AsyncSession) -> int:
    """The demo school with an active trajectory of lln02."""
    del engine
    await unit(session, create_demo_data, if_empty=True)
    async with session.begin():
        school = await find_school(session=session, code="demo")
        mentor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor1"
        )
        student = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="lln02"
        )
        assert mentor is not None
        assert student is not None
        trajectory = await add_trajectory(session, mentor, student)
        return trajectory.id


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def _phone(browser: Browser, base: str) -> Page:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en")
    host = base.split("//", 1)[1].split(":", 1)[0]
    await context.add_cookies(
        [{"name": "trajectbot_lang", "value": "en", "domain": host, "path": "/"}]
    )
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill("zoco")
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Log in").click()
    return page


async def _press(page: Page, name: str, form: str) -> None:
    async with page.expect_navigation():
        await page.locator(form).get_by_role("button", name=name, exact=True).click()


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


async def test_the_care_coordinator_records_an_observation_an_opp_and_absence_on_a_phone(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    trajectory_id: int,
    chromium: Browser,
) -> None:
    base, sessions = live_server
    page = await _phone(chromium, base)
    await page.goto(f"{base}/trajectories/{trajectory_id}")
    async with page.expect_navigation():
        await page.locator("#records-link").click()
    assert page.url == f"{base}/trajectories/{trajectory_id}/records"

    await page.get_by_label("Ask for").select_option("class_observation")
    await _press(page, "Save the request", "#request-form")
    assert "requested, not held yet" in await page.locator("#activities").inner_text()

    form = page.locator("#activity-form")
    await form.get_by_label("For the request").select_option(index=1)
    await form.get_by_label("When").fill("2026-02-26")
    await form.get_by_label("Observation: about whom").select_option("student")
    await form.get_by_label("Outcome").fill("Rustig in de les; werkt goed met een vaste plek.")
    await _press(page, "Record", "#activity-form")
    assert await page.get_by_role("status").inner_text() == "It has been recorded."

    events = page.locator("#event-form")
    await events.get_by_label("What").select_option("opp")
    await events.get_by_label("On (for absence: from)").fill("2026-01-12")
    await _press(page, "Record", "#event-form")
    await events.get_by_label("What").select_option("long_absence")
    await events.get_by_label("On (for absence: from)").fill("2026-01-05")
    await events.get_by_label("Absence until (empty: still absent)").fill("2026-02-06")
    await _press(page, "Record", "#event-form")
    text = await page.locator("#events").inner_text()
    assert "OPP present" in text
    assert "Long-term absence" in text
    # Usable on a phone: the page's content is no wider than the screen (the site's own
    # navigation bar is not this page's).
    await _shot(page, "records-phone")
    width = await page.evaluate("document.querySelector('main').scrollWidth")
    assert width <= 390

    async with sessions() as session:
        (observation,) = await session.scalars(select(SupportActivity))
        kinds = sorted(e.kind for e in await session.scalars(select(StudentEvent)))
    assert observation.outcome == "Rustig in de les; werkt goed met een vaste plek."
    assert kinds == sorted([StudentEventKind.OPP, StudentEventKind.LONG_ABSENCE])
