"""The trajectory page in a real browser (headless Chromium): the care coordinator gives a
trajectory its plan, a coach writes in the logbook, the missed evaluation is flagged in the
list and on the page, and the care coordinator closes the trajectory after confirming. Every
page is saved as a screenshot under ``test-artifacts/trajectory-page/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import LogbookEntry, SurveyInvitation, Trajectory, TrajectoryStatus
from tests.support.factories import add_trajectory
from tests.support.screenshots import screenshot
from tests.support.units import unit
from tests.web.test_chat_browser import CHROMIUM
from tests.web.test_chat_browser import live_server as _live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "trajectory-page"

# The web chat's browser tests serve the product's web app on 127.0.0.1 with a fixed clock
# (Monday 2 March 2026); the same fixture serves the staff pages.
live_server = _live_server


@pytest.fixture
async def trajectory_id(engine: AsyncEngine, session: AsyncSession) -> int:
    """The demo school with an accepted referral of lln02 (Noor): a planned trajectory that
    has no plan yet (the plan follows the intake)."""
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
        trajectory = await add_trajectory(session, mentor, student, status=TrajectoryStatus.PLANNED)
        trajectory.goals = None
        trajectory.start_date = None
        trajectory.end_date = None
        return trajectory.id


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def logged_in(browser: Browser, base: str, username: str) -> tuple[BrowserContext, Page]:
    """A desktop browser with English pages, logged in as ``username``."""
    context = await browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="en"
    )
    host = base.split("//", 1)[1].split(":", 1)[0]
    await context.add_cookies(
        [{"name": "trajectbot_lang", "value": "en", "domain": host, "path": "/"}]
    )
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Log in").click()
    return context, page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


async def press(page: Page, name: str) -> None:
    """Press the button ``name`` and wait for the page its form leads to."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=name, exact=True).click()


async def test_plan_logbook_flag_and_closing_in_a_browser(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    trajectory_id: int,
    chromium: Browser,
) -> None:
    base, sessions = live_server

    # The care coordinator finds the trajectory in the list and opens it.
    zoco_context, zoco = await logged_in(chromium, base, "zoco")
    await zoco.goto(f"{base}/trajectories")
    await shot(zoco, "01-list-before-plan")
    async with zoco.expect_navigation():
        await zoco.get_by_role("link", name="Noor Bremhorst").click()
    assert zoco.url == f"{base}/trajectories/{trajectory_id}"
    await shot(zoco, "02-trajectory-without-plan")
    assert await zoco.locator("#goals-text").inner_text() == "Not agreed yet (after the intake)."

    # A plan with a mistake first: the end before the start. The page says so next to the
    # field and keeps what was typed.
    goals = "Noor komt rustig de les binnen en vraagt op tijd om hulp."
    form = zoco.locator("#plan-form")
    await form.get_by_label("Goals").fill(goals)
    await form.get_by_label("Start").fill("2026-02-02")
    await form.get_by_label("End").fill("2026-01-30")
    await form.get_by_label("Interim evaluation 1").fill("2026-02-20")
    await press(zoco, "Save the plan")
    await shot(zoco, "03-plan-with-a-problem")
    assert await zoco.locator("#end-problem").inner_text() == (
        "The end date must be on or after the start date."
    )
    assert await zoco.locator("#plan-form").get_by_label("Goals").input_value() == goals

    # Corrected: saved. The interim evaluation of 20 February lies before today (2 March) and
    # was not held, so the trajectory needs attention.
    await zoco.locator("#plan-form").get_by_label("End").fill("2026-06-26")
    await zoco.locator("#plan-form").get_by_label("Time-out is part of the plan").check()
    await (
        zoco.locator("#plan-form")
        .get_by_label("Coach (fixed point of contact)")
        .select_option(label="Jeroen Trajectveld")
    )
    await press(zoco, "Save the plan")
    await shot(zoco, "04-plan-saved-with-flag")
    assert "The plan has been saved." in await zoco.locator(".done").inner_text()
    assert await zoco.locator("#goals-text").inner_text() == goals
    assert await zoco.locator("#coach-text").inner_text() == "Jeroen Trajectveld"
    flag = zoco.locator('[data-flag="evaluation_missed"]')
    assert await flag.count() == 1
    assert "not held" in await flag.inner_text()

    # The flag shows in the list too.
    await zoco.goto(f"{base}/trajectories")
    await shot(zoco, "05-list-with-flag")
    row = zoco.locator(f'tr[data-trajectory="{trajectory_id}"]')
    assert "not held" in await row.locator(".flags").inner_text()

    # A coach writes in the logbook.
    coach_context, coach = await logged_in(chromium, base, "coach")
    await coach.goto(f"{base}/trajectories/{trajectory_id}")
    assert await coach.locator("#plan-form").count() == 1  # the plan is made at the intake
    entry = "Eerste gesprek: we spraken een rustige start van de dag af."
    await coach.get_by_label("New entry").fill(entry)
    await press(coach, "Add to the logbook")
    await shot(coach, "06-coach-wrote-in-the-logbook")
    assert entry in await coach.locator(".logbook-entries").inner_text()
    await coach_context.close()

    # The care coordinator closes it, after a confirmation step.
    await zoco.goto(f"{base}/trajectories/{trajectory_id}")
    assert entry in await zoco.locator(".logbook-entries").inner_text()
    async with zoco.expect_navigation():
        await zoco.get_by_role("link", name="Close the trajectory…").click()
    await shot(zoco, "07-confirm-closing")
    assert "Close the trajectory of Noor Bremhorst?" in await zoco.locator("h1").inner_text()
    # Closing records the final evaluation and the advice for the school (issue 11).
    await zoco.get_by_label("Final evaluation: what did it conclude?").fill(
        "Noor is verhuisd; de intake heeft niet plaatsgevonden."
    )
    await zoco.get_by_label("Advice for the school (handelingsadvies)").fill(
        "Overdracht naar de nieuwe school: vaste plek en duidelijke afspraken vooraf."
    )
    await press(zoco, "Yes, close the trajectory")
    await shot(zoco, "08-closed-exit-questionnaire")
    assert "has been closed" in await zoco.locator(".done").inner_text()
    assert await zoco.locator('[data-flag="evaluation_missed"]').count() == 0
    assert await zoco.locator(".exit-survey tr").count() == 3
    assert await zoco.locator("#logbook-form").count() == 0
    await zoco_context.close()

    async with sessions() as session:
        trajectory = await session.get(Trajectory, trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.CLOSED
        assert trajectory.goals == goals
        assert await session.scalar(select(LogbookEntry.text)) == entry
        invited = await session.scalars(
            select(SurveyInvitation.respondent_type).where(
                SurveyInvitation.trajectory_id == trajectory_id
            )
        )
        assert sorted(kind.value for kind in invited) == ["parent", "student", "teacher"]
