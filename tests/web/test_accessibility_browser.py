"""axe-core on every staff and chat page (issue 14): no serious or critical violation.

Headless Chromium crawls the product's web app the way people reach it: logged in as the
care coordinator, the administrator and the partnership viewer, it follows every link of
every page (one page per route; downloads, language switches and log-out are not pages),
in Dutch and in Arabic (right to left), and runs axe-core (`tests/support/axe.py`) on each.
A parent's chat link and chat pages are checked on a phone. The test fails unless every
GET page route of the web app was visited (or is named below with the reason it is not), so
a new page cannot escape the check. Screenshots: ``test-artifacts/accessibility/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.routing import APIRoute
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import Role, TrajectoryStatus
from tests.support.axe import assert_accessible
from tests.support.factories import NOW, add_trajectory
from tests.support.screenshots import screenshot
from tests.web.test_chat_browser import PHONE, browser, live_server, tap
from web.routes import areas

__all__ = ["browser", "live_server"]  # the fixtures, shared with the chat's browser tests

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accessibility"
#: What is not a page: files, the language switch (a redirect), static files, health.
NOT_PAGES = re.compile(r"\.(csv|xlsx|pdf|json|txt|ics)$|^/language/|^/static|^/healthz")
#: The chat's routes (a person's phone); every other page route is a staff page.
CHAT = re.compile(r"^/(c|chat|login/link)(/|$)")
#: Page routes this crawl cannot reach, each with the reason (its own browser test checks it).
UNREACHED = {
    # reached through a link in a Telegram message or e-mail, with a state made for it:
    "/chat/intake-confirm/{appointment_id:int}": "tests/web/test_chat_actions_browser.py",
    "/chat/referral-outcome/{referral_id:int}": "an outcome notice's link",
    "/chat/timeout-who/{appointment_id:int}": "a teacher's time-out notice",
    "/chat/intake-report/{trajectory_id:int}": "an intake report notice",
    "/queue/timeout-requests/{item_id:int}": "a time-out request in the queue",
    # a redirect (to the next open item, or the queue), not a page of its own:
    "/queue/next": "tests/web/test_queue_work.py",
    # need a world of their own, and their browser tests run axe on them (screenshot helper):
    "/care-team/{meeting_id:int}": "tests/web/test_care_team_browser.py (a planned meeting)",
    "/district-cases": "tests/web/test_consent_district_coach_browser.py (a district coach)",
}


def _route_of(path: str, templates: list[tuple[re.Pattern[str], str]]) -> str | None:
    for pattern, template in templates:
        if pattern.fullmatch(path):
            return template
    return None


def _page_routes() -> list[tuple[re.Pattern[str], str]]:
    """Every GET route of the web app that answers with a page, as (pattern, template)."""
    found: list[tuple[re.Pattern[str], str]] = []
    for area in areas():
        for route in area.build_router().routes:
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or set()):
                continue
            if NOT_PAGES.search(route.path):
                continue
            found.append((route.path_regex, route.path))
    return found


async def _crawl(page: Page, starts: list[str], name: str, visited: set[str]) -> None:
    """Visit ``starts`` and every same-site page linked from what was visited, one per route
    (a route that redirects, such as ``/``, counts as visited with the page it leads to); a
    route already in ``visited`` is followed for its links but not checked again."""
    base = "{0.scheme}://{0.netloc}".format(urlsplit(starts[0]))
    routes = _page_routes()
    seen_routes: set[str] = set()
    visited_here: set[str] = set()
    queue = [start.split("#", 1)[0] for start in starts]
    count = 0
    while queue:
        url = queue.pop(0)
        if (_route_of(urlsplit(url).path, routes) or url) in seen_routes:
            continue
        answer = await page.goto(url)
        assert answer is not None, url
        path = urlsplit(page.url).path  # after any redirect
        route = _route_of(path, routes) or path
        seen_routes.add(_route_of(urlsplit(url).path, routes) or url)
        if answer.ok:
            visited.add(_route_of(urlsplit(url).path, routes) or url)
        if not answer.ok or route in visited_here:
            continue
        visited_here.add(route)
        if route not in visited:  # a route another account's crawl checked is not checked again
            visited.add(route)
            count += 1
            await assert_accessible(page)
            await screenshot(page, ARTIFACTS / f"{name}-{count:02d}.png")
        for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = urljoin(url, href)
            parts = urlsplit(target)
            if (
                target.startswith(base)
                and not NOT_PAGES.search(parts.path)
                and (parts.path != "/login" or parts.query == "")
            ):
                queue.append(target.split("#", 1)[0])


async def _staff(browser: Browser, base: str, username: str, language: str) -> Page:
    context: BrowserContext = await browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}
    )
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": base}])
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await assert_accessible(page)
    await screenshot(page, ARTIFACTS / f"{language}-login.png")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").last.click()
    return page


@dataclass
class Links:
    """The personal links of the crawl's world (the demo school with a running trajectory)."""

    login: str
    chat: dict[str, str]


@pytest.fixture
async def links(live_server: tuple[str, async_sessionmaker[AsyncSession]]) -> Links:
    _base, sessions = live_server
    async with sessions() as session, session.begin():
        await create_demo_data(
            session=session, if_empty=True, with_appointments=True, with_surveys=True
        )
    async with sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        mentor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor1"
        )
        student = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="lln03"
        )
        assert mentor is not None
        assert student is not None
        await add_trajectory(session, mentor, student, status=TrajectoryStatus.ACTIVE)
        login = await create_invite(session=session, person=mentor, role=Role.MENTOR, now=NOW)
        other = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="mentor2"
        )
        assert other is not None
        other.language = "ar"
        chat = {
            "nl": await create_invite(session=session, person=mentor, role=Role.MENTOR, now=NOW),
            "ar": await create_invite(session=session, person=other, role=Role.MENTOR, now=NOW),
        }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return Links(login, chat)


def _expected(chat: bool) -> set[str]:
    routes = {template for _pattern, template in _page_routes()} - set(UNREACHED)
    return {route for route in routes if bool(CHAT.match(route)) is chat}


@pytest.mark.parametrize("language", ["nl", "ar"])
async def test_every_staff_page_has_no_serious_accessibility_violation(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    browser: Browser,
    links: Links,
    language: str,
) -> None:
    base, _sessions = live_server
    del links  # the world
    visited = {"/login"}  # each log-in below checks it
    for username in ("zoco", "admin", "swv"):
        page = await _staff(browser, base, username, language)
        starts = [f"{base}/", f"{base}/privacy?number=lln03"]
        await _crawl(page, starts, f"{language}-{username}", visited)
        await page.context.close()
    missing = _expected(chat=False) - visited
    assert missing == set(), f"staff page routes no crawl reached: {missing}"


async def test_every_chat_page_has_no_serious_accessibility_violation(
    live_server: tuple[str, async_sessionmaker[AsyncSession]], browser: Browser, links: Links
) -> None:
    base, _sessions = live_server
    visited: set[str] = set()
    for language in ("nl", "ar"):
        context = await browser.new_context(
            bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True, locale=language
        )
        page = await context.new_page()
        await page.goto(f"{base}/login/link/{links.login}")
        await assert_accessible(page)
        await screenshot(page, ARTIFACTS / f"chat-{language}-login-link.png")
        visited.add("/login/link/{token}")
        await page.goto(f"{base}/c/{links.chat[language]}")
        assert await page.get_attribute("html", "lang") == language
        await assert_accessible(page)
        await screenshot(page, ARTIFACTS / f"chat-{language}-link.png")
        visited.add("/c/{token}")
        await tap(page, (await page.locator("form button[type=submit]").first.inner_text()).strip())
        await _crawl(page, [page.url], f"chat-{language}", visited)
        # "About the support room" is a menu button (a form), not a link the crawl follows.
        await page.goto(f"{base}/chat/about")
        assert page.url.endswith("/chat/about")
        await assert_accessible(page)
        await screenshot(page, ARTIFACTS / f"chat-{language}-about.png")
        visited.add("/chat/about")
        await context.close()
    missing = _expected(chat=True) - visited
    assert missing == set(), f"chat page routes no crawl reached: {missing}"
