"""Every staff page fits a phone (375 px, the narrowest common screen) in Dutch and Arabic.

A care coordinator reads the queue between two conversations on a phone: no page may be wider
than the screen (a sideways scroll hides the header's links and the ends of lines). Wide
tables scroll inside their own box, which is allowed; the page itself may not. Headless
Chromium crawls the same pages as the accessibility test (`test_accessibility_browser`),
logged in as the care coordinator, the administrator and the partnership viewer.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.demo.school import DEMO_PASSWORD
from tests.web.test_accessibility_browser import NOT_PAGES, Links, _page_routes, _route_of, links
from tests.web.test_chat_browser import browser, live_server

__all__ = ["browser", "links", "live_server"]  # the fixtures, shared with the other browser tests

PHONE_WIDTH = 375

#: How far the page reaches beyond the screen, and which elements stick out of it (tag#id.class)
#: outside a box that scrolls sideways by itself (``.scroll``).
OVERFLOW = """width => ({
    overflow: document.documentElement.scrollWidth - width,
    culprits: [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 1
                  || e.getBoundingClientRect().left < -1)
        .filter(e => !e.closest(".scroll"))
        .slice(0, 5)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                  + (e.className && typeof e.className === 'string'
                     ? '.' + e.className.split(' ').join('.') : '')),
})"""


async def _log_in(browser: Browser, base: str, username: str, language: str) -> Page:
    context = await browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812})
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": base}])
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").last.click()
    return page


@pytest.mark.parametrize("language", ["nl", "ar"])
async def test_every_staff_page_fits_a_phone(
    live_server: tuple[str, async_sessionmaker[AsyncSession]],
    browser: Browser,
    links: Links,
    language: str,
) -> None:
    base, _sessions = live_server
    del links  # the world
    routes = _page_routes()
    too_wide: dict[str, object] = {}
    checked: set[str] = set()
    for username in ("zoco", "admin", "swv"):
        page = await _log_in(browser, base, username, language)
        queue = [f"{base}/", f"{base}/privacy?number=lln03"]
        seen: set[str] = set()
        while queue:
            url = queue.pop(0)
            route = _route_of(urlsplit(url).path, routes) or url
            if route in seen:
                continue
            seen.add(route)
            answer = await page.goto(url)
            if answer is None or not answer.ok:
                continue
            checked.add(route)
            found = await page.evaluate(OVERFLOW, PHONE_WIDTH)
            if found["overflow"] > 0 or found["culprits"]:
                too_wide[f"{username} {urlsplit(page.url).path}"] = found
            for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                target = urljoin(url, href)
                parts = urlsplit(target)
                if (
                    target.startswith(base)
                    and not NOT_PAGES.search(parts.path)
                    and parts.path != "/login"
                    and not parts.path.startswith("/logout")
                ):
                    queue.append(target.split("#", 1)[0])
        # The measure sees a page that is too wide (the phone's screen does not zoom out).
        # (Through the CSSOM: the pages' Content-Security-Policy refuses inline styles.)
        await page.evaluate(
            "() => { const wide = document.createElement('div'); wide.style.width = '600px';"
            " document.querySelector('main').append(wide); }"
        )
        assert (await page.evaluate(OVERFLOW, PHONE_WIDTH))["culprits"] == ["div"]
        await page.context.close()
    assert len(checked) > 20, checked  # the crawl reached the staff pages
    assert too_wide == {}, f"pages wider than a {PHONE_WIDTH} px phone: {too_wide}"
