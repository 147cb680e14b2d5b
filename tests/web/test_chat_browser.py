"""The web chat in a real browser: headless Chromium on a phone-sized screen (390×844).

A parent opens their personal questionnaire link and answers the exit questionnaire in Arabic
by tapping (the page is ``lang="ar" dir="rtl"``); the answers are stored with the same codes as
a Dutch run, and the care coordinator's queue gets an item for each. A parent books an
appointment through the web chat. Every page is saved as a screenshot under
``test-artifacts/web-chat/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.config import Settings
from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.invites import create_invite
from services.kernel.uow import run_unit_of_work
from services.queue.listing import list_queue
from storage.models import (
    Appointment,
    Person,
    QueueKind,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)
from tests.support import booking_world
from tests.support.chat_factories import build_chat_world
from tests.support.factories import NOW
from tests.support.screenshots import screenshot
from tests.web.chat_client import chat_app
from web.app import create_web_app
from web.server import bind_socket, bound_port, build_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-chat"
PHONE: ViewportSize = {"width": 390, "height": 844}
CLOCK = NOW + timedelta(hours=1)
CATALOGS = Catalogs()
#: The answers both parents give: the same codes whatever the language.
SCALE_ANSWERS = {"P1": "4", "P2": "na", "P3": "5", "P4": "3"}
SCALE_LABELS = {
    "1": "1 · Strongly disagree",
    "2": "2 · Disagree",
    "3": "3 · Neutral",
    "4": "4 · Agree",
    "5": "5 · Strongly agree",
    "na": "Don't know",
}


def label(language: str, msgid: str) -> str:
    return CATALOGS.get(language).render(Text.of(msgid))


@pytest.fixture
async def live_server(
    engine: AsyncEngine, database_url: str
) -> AsyncIterator[tuple[str, async_sessionmaker[AsyncSession]]]:
    """The product's web app served over HTTP on 127.0.0.1 (a free port), fixed clock."""
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        web_app = create_web_app(app, clock=lambda: CLOCK)
        # Served as `trajectbot web` serves it (no access log: paths hold tokens).
        sock = bind_socket("127.0.0.1", 0)
        server = build_server(web_app)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(1000):  # bounded: at most ~10 s to start
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "the web server did not start"
        port = bound_port(sock)
        try:
            yield f"http://127.0.0.1:{port}", app.sessions
        finally:
            server.should_exit = True
            await serving
            sock.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield chromium
        finally:
            await chromium.close()


async def phone(browser: Browser, locale: str) -> Page:
    context = await browser.new_context(
        bypass_csp=True,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
    )
    return await context.new_page()


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


async def tap(page: Page, text: str) -> None:
    """Tap the button reading exactly ``text`` and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=text, exact=True).tap()


async def answers_of(
    sessions: async_sessionmaker[AsyncSession], invitation_id: int
) -> tuple[str, dict[str, str | None], dict[str, str | None]]:
    async with sessions() as session:
        response = await session.scalar(
            select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id)
        )
        assert response is not None, "no response stored"
        rows = list(
            await session.scalars(
                select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)
            )
        )
    return (
        response.language,
        {row.code: row.value for row in rows},
        {row.code: row.text_language for row in rows if row.text is not None},
    )


async def test_a_parent_answers_the_exit_questionnaire_in_arabic_by_tapping(
    session: AsyncSession,
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    browser: Browser,
    database_url: str,
) -> None:
    base, sessions = live_server
    world = await build_chat_world(session, parent_language="ar", other_language="nl")
    page = await phone(browser, "ar")

    await page.goto(f"{base}/c/{world.survey_token}")
    assert await page.get_attribute("html", "dir") == "rtl"
    assert await page.get_attribute("html", "lang") == "ar"
    await shot(page, "ar-01-link")
    # The layout mirrors: the start button's text starts at the right-hand side.
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    await tap(page, label("ar", "Start the questions"))
    assert page.url.endswith("/chat#current")
    # A parent may answer anonymously (issue 15); this one answers with their name.
    assert await page.locator("#current").get_attribute("data-step") == "anonymous"
    await tap(page, label("ar", "No"))

    for number, (code, value) in enumerate(SCALE_ANSWERS.items(), start=2):
        assert await page.get_attribute("html", "dir") == "rtl"
        assert await page.locator("#current").get_attribute("data-step") == code
        await shot(page, f"ar-{number:02d}-{code}")
        await tap(page, label("ar", SCALE_LABELS[value]))

    assert await page.locator("#current").get_attribute("data-step") == "P5"
    # Earlier answers (the anonymity choice and four statements) stay visible as a
    # transcript, in Arabic.
    assert await page.locator(".transcript li").count() == 5
    await page.get_by_role("textbox").fill("شكرا على المساعدة")
    await shot(page, "ar-06-P5")
    await tap(page, label("ar", "Send"))

    assert await page.locator("#current").get_attribute("data-step") == "summary"
    await shot(page, "ar-07-summary")
    await tap(page, label("ar", "Send ✓"))
    done = label(
        "ar",
        "Thank you! Your answers have been sent. They help the school make the support better.",
    )
    assert done in await page.locator(".bubble.done").inner_text()
    assert await page.get_attribute("html", "dir") == "rtl"
    await shot(page, "ar-08-sent")

    # The same link now says: already answered, thank you.
    await page.goto(f"{base}/c/{world.survey_token}")
    assert await page.get_attribute("html", "dir") == "rtl"
    await shot(page, "ar-09-link-used")

    # A Dutch parent gives the same answers (through the same web chat, without a browser).
    async with chat_app(database_url, CLOCK) as web:
        dutch = web.user()
        await dutch.open_link(world.other_survey_token)
        for value in SCALE_ANSWERS.values():
            await dutch.press(label("nl", SCALE_LABELS[value]))
        await dutch.type("Dank voor de hulp")
        await dutch.press(label("nl", "Send ✓"))

    arabic_language, arabic, arabic_text = await answers_of(sessions, world.parent_invitation_id)
    dutch_language, dutch_values, dutch_text = await answers_of(sessions, world.other_invitation_id)
    assert (arabic_language, dutch_language) == ("ar", "nl")
    assert arabic == dutch_values == {**SCALE_ANSWERS, "P5": None}
    assert (arabic_text, dutch_text) == ({"P5": "ar"}, {"P5": "nl"})

    async with sessions() as db:
        zoco = await db.get(Person, world.zoco_id)
    assert zoco is not None
    async with sessions() as db:
        queue = await run_unit_of_work(db, lambda s: list_queue(session=s, viewer=zoco))
    assert [entry.kind for entry in queue].count(QueueKind.EXIT_SURVEY) == 2
    async with sessions() as db:
        completed = list(
            await db.scalars(
                select(SurveyInvitation.id).where(SurveyInvitation.completed_at.is_not(None))
            )
        )
    assert sorted(completed) == sorted([world.parent_invitation_id, world.other_invitation_id])


async def test_a_parent_books_an_appointment_in_the_web_chat(
    live_server: tuple[str, async_sessionmaker[AsyncSession]], browser: Browser
) -> None:
    base, sessions = live_server
    world = await booking_world.build_world(sessions)
    async with sessions() as session, session.begin():
        parent = await session.get(Person, world.parent.id)
        assert parent is not None
        token = await create_invite(session=session, person=parent, role=Role.PARENT, now=NOW)

    page = await phone(browser, "nl")
    await page.goto(f"{base}/c/{token}")
    assert await page.get_attribute("html", "lang") == "nl"
    await shot(page, "book-01-link")
    await tap(page, label("nl", "Open the chat"))
    await shot(page, "book-02-menu")

    # The language switcher stores the person's language, as /taal does.
    await page.locator(".chat-languages summary").tap()
    await tap(page, "English")
    assert await page.get_attribute("html", "lang") == "en"
    async with sessions() as session:
        stored = await session.get(Person, world.parent.id)
        assert stored is not None
        assert stored.language == "en"

    await tap(page, "Book an appointment")
    await shot(page, "book-03-student")
    await tap(page, world.newcomer.display_name)
    await shot(page, "book-04-kind")
    buttons = page.locator("#current .buttons button.option")
    await tap(page, (await buttons.first.inner_text()).strip())
    await shot(page, "book-05-day")
    await tap(page, (await buttons.first.inner_text()).strip())
    await shot(page, "book-06-time")
    await tap(page, (await buttons.first.inner_text()).strip())
    assert await page.locator("#current").get_attribute("data-step") == "summary"
    await shot(page, "book-07-summary")
    await tap(page, "Book ✓")
    await shot(page, "book-08-booked")
    assert await page.locator(".bubble.done").count() == 1

    async with sessions() as session:
        booked = list(
            await session.scalars(
                select(Appointment).where(Appointment.student_id == world.newcomer.id)
            )
        )
    assert len(booked) == 1
    assert booked[0].booked_by_id == world.parent.id
