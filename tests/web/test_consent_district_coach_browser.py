"""Consent and the district coach in a real browser (headless Chromium, issue 15): the care
coordinator records the consent of the student and a parent on the referral page, asks the
district coach in on the trajectory page; the district coach, on a phone, finds the case under
"My cases" and writes in its logbook. Screenshots under ``test-artifacts/district-coach/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import LogbookEntry, QueueItem, Role
from tests.support.factories import NOW, add_person, add_school, add_trajectory
from tests.support.screenshots import screenshot
from tests.support.units import unit
from tests.web.test_chat_browser import live_server as _live_server
from tests.web.test_trajectory_browser import chromium as _chromium
from tests.web.test_trajectory_browser import logged_in, press

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "district-coach"
live_server = _live_server
chromium = _chromium


@pytest.fixture
async def ids(engine: AsyncEngine, session: AsyncSession) -> tuple[int, int]:
    """The demo school with a trajectory of lln02 (Noor; parent Olena); a district coach of
    another school with a web account. Returns (queue item, trajectory)."""
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
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == trajectory.referral_id)
        )
        assert item_id is not None
        bureau = await add_school(session, "swv-bureau")
        district = await add_person(session, bureau, "d1", Role.DISTRICT_COACH)
        await create_staff_account(
            session=session,
            person=district,
            username="district",
            password_hash=hash_password(DEMO_PASSWORD),
            now=NOW,
        )
        return item_id, trajectory.id


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


async def test_consent_then_the_district_coach_in_a_browser(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    ids: tuple[int, int],
    chromium: Browser,
) -> None:
    base, sessions = live_server
    item_id, trajectory_id = ids

    zoco_context, zoco = await logged_in(chromium, base, "zoco")
    await zoco.goto(f"{base}/queue/{item_id}")
    form = zoco.locator("#consent-form")
    for giver in ("Noor Bremhorst (student)", "Olena Bremhorst (parent)"):
        await form.get_by_label("Who gave it").select_option(label=giver)
        await form.get_by_label("For what").select_option("district_coach")
        await press(zoco, "Record the consent")
    await shot(zoco, "01-referral-with-consent")
    assert await zoco.locator(".consents li").count() == 2

    await zoco.goto(f"{base}/trajectories/{trajectory_id}")
    await (
        zoco.locator("#district-coach-form")
        .get_by_label("Ask a district coach in")
        .select_option(index=0)
    )
    await press(zoco, "Ask in")
    await shot(zoco, "02-district-coach-asked-in")
    assert "The district coach has been asked in." in await zoco.locator(".done").inner_text()
    await zoco_context.close()

    # The district coach, on a phone.
    context = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="en")
    host = base.split("//", 1)[1].split(":", 1)[0]
    await context.add_cookies(
        [{"name": "trajectbot_lang", "value": "en", "domain": host, "path": "/"}]
    )
    coach = await context.new_page()
    await coach.goto(f"{base}/login")
    await coach.get_by_label("Username").fill("district")
    await coach.get_by_label("Password").fill(DEMO_PASSWORD)
    async with coach.expect_navigation():
        await coach.get_by_role("button", name="Log in").click()
    assert coach.url.endswith("/district-cases")
    await shot(coach, "03-my-cases-phone")
    async with coach.expect_navigation():
        await coach.get_by_role("link", name="Noor Bremhorst").click()
    await coach.get_by_label("New entry").fill(
        "Observatie in 2B: rustig begin, onrust na de pauze."
    )
    await press(coach, "Add to the logbook")
    await shot(coach, "04-case-logbook-phone")
    # Usable on a phone: the page's content needs no sideways scrolling (the shared header's
    # language row is the layout's, not this page's).
    right = await coach.evaluate(
        "Math.max(...[...document.querySelectorAll('main *')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert right <= 390
    await context.close()

    async with sessions() as session:
        texts = list(await session.scalars(select(LogbookEntry.text)))
    assert texts == ["Observatie in 2B: rustig begin, onrust na de pauze."]
