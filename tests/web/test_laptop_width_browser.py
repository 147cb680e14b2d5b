"""The stylesheet on a laptop (1366 px wide), in headless Chromium.

Rules written for every width must hold on a wide screen too: an unclosed ``@media`` block
once kept the skip link, the notices and the cards' shrinking to phones, so on the care
coordinator's laptop "Skip to content" stood above the header on every page.
Screenshots under ``test-artifacts/queue-work/<test>/``.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.web.test_queue_browser import Shots, Site, _zoco, chromium, shots, site

__all__ = ["chromium", "shots", "site"]  # the fixtures, shared with the queue's browser tests

LAPTOP_WIDTH, LAPTOP_HEIGHT = 1366, 768
#: Where an element is drawn, relative to the viewport.
BOX = "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; }"


async def test_on_a_laptop_the_skip_link_shows_only_with_focus_and_notices_are_styled(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    page = await _zoco(chromium, site, width=LAPTOP_WIDTH, height=LAPTOP_HEIGHT)
    await page.goto(site.url + "/queue")
    skip = page.locator("a.skip-link")
    assert await skip.evaluate("e => getComputedStyle(e).position") == "absolute"
    hidden = await skip.evaluate(BOX)
    assert hidden["bottom"] <= 0, hidden  # above the top edge, out of sight
    await shots.take(page, "queue-laptop")
    # The keyboard's first stop brings it into view.
    await page.keyboard.press("Tab")
    await expect(skip).to_be_focused()
    shown = await skip.evaluate(BOX)
    assert shown["top"] >= 0, shown
    await shots.take(page, "skip-link-focused")
    # Grid children may shrink below their content's width on every screen.
    await page.goto(site.url + f"/queue/{site.work.high}")
    card = page.locator(".card").first
    assert await card.evaluate("e => getComputedStyle(e).minWidth") == "0px"
    # A notice (the error page's) has its background on a laptop too.
    answer = await page.goto(site.url + "/queue/999999")
    assert answer is not None
    assert answer.status == 404
    notice = page.locator(".notice")
    background = await notice.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(255, 247, 224)"
    await shots.take(page, "notice-laptop")
    await page.context.close()
