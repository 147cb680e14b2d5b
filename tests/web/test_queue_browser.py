"""Queue work in a real browser (issue 14): headless Chromium (``/usr/bin/chromium``, driven by
Playwright) against the product's web app served by uvicorn on a free port.

A care coordinator with a full queue sees the time-out request first, searches a student,
sorts by a column (``aria-sort`` follows), closes two items at once with a reason (after a
confirmation that says what closing does), goes from a decision straight to the next item,
reads an exit questionnaire's answers and marks it read; on a phone (390 px wide) every card
shows label: value pairs and nothing scrolls sideways.
Every page is saved as a screenshot under ``test-artifacts/queue-work/<test>/``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.config import Settings
from services.demo.school import DEMO_PASSWORD
from storage.models import QueueItem, QueueStatus
from tests.support.queue_work import QueueWork, fill_queue
from tests.support.screenshots import screenshot
from tests.web.staff_client import Clock, StaffWorld, build_world
from web.app import create_web_app
from web.server import bind_socket, bound_port, build_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "queue-work"
REASON = "Dubbel binnengekomen; al besproken in het zorgteam."
#: The queue cards' labels (``td::before``) that reach out of their own cell, into the next
#: one: each label is measured as a copy with its computed width and font (a pseudo-element
#: has no box of its own to ask for).
LABELS_OUT_OF_CELL = """() => [...document.querySelectorAll('table.queue td[data-label]')]
  .flatMap(td => {
    const label = getComputedStyle(td, '::before');
    const probe = document.createElement('div');
    for (const name of ['width', 'font-family', 'font-size', 'font-weight', 'line-height',
                        'overflow-wrap', 'word-break']) {
        probe.style.setProperty(name, label.getPropertyValue(name));
    }
    probe.style.position = 'absolute';
    probe.textContent = td.dataset.label;
    td.closest('table').parentElement.append(probe);
    const height = probe.getBoundingClientRect().height;
    probe.remove();
    const cell = td.getBoundingClientRect();
    const top = cell.top + parseFloat(getComputedStyle(td).paddingTop);
    return top + height > cell.bottom + 0.5
        ? [`${td.closest('tr').dataset.item} ${td.dataset.label}: ${height} > ${cell.bottom - top}`]
        : [];
})"""
#: Elements of the page's main part that reach past the screen's right edge.
OVERFLOWING = """width => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .map(e => e.tagName + '.' + e.className)"""


@dataclass
class Site:
    """The running web app and what is in its database."""

    url: str
    world: StaffWorld
    work: QueueWork


@pytest.fixture
async def site(engine: AsyncEngine, database_url: str) -> AsyncIterator[Site]:
    """The product's web app over HTTP on 127.0.0.1 (a free port), with a full queue."""
    del engine  # migrated by the fixture
    clock = Clock()
    settings = Settings(_env_file=None, database_url=database_url)
    async with build_app(settings, log_level="WARNING") as app:
        world = await build_world(app, clock)
        work = await fill_queue(app.sessions, world.ids)
        server = build_server(create_web_app(app, clock=clock))
        sock = bind_socket("127.0.0.1", 0)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(500):  # bounded: at most ~10 s to start
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.02)
            assert server.started, "the web app did not start"
            yield Site(f"http://127.0.0.1:{bound_port(sock)}", world, work)
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


async def _zoco(
    chromium: Browser, site: Site, *, width: int = 1280, height: int = 900, language: str = "en"
) -> Page:
    context = await chromium.new_context(viewport={"width": width, "height": height})
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": site.url}])
    page = await context.new_page()
    await page.goto(site.url + "/login")
    await page.locator("input[name=username]").fill("zoco")
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").last.click()
    await expect(page.locator("table.queue")).to_be_visible()
    return page


def _rows(page: Page) -> object:
    return page.locator("table.queue tbody tr")


async def _listed(page: Page) -> list[int]:
    values = await page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.item))"
    )
    return [int(v) for v in values]


async def _status(site: Site, item_id: int) -> QueueStatus:
    async with site.world.app.sessions() as session:
        return (await session.get_one(QueueItem, item_id)).status


async def test_a_coordinator_searches_sorts_and_closes_two_items_at_once(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    work = site.work
    page = await _zoco(chromium, site)
    await page.goto(site.url + "/queue")
    # The time-out request, received last, is first.
    assert (await _listed(page))[0] == work.timeout
    await shots.take(page, "queue")

    await page.get_by_label("Student name or number").fill("coldewey")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("table.queue tbody tr")).to_have_count(1)
    assert await _listed(page) == [work.high]
    await shots.take(page, "search")
    await page.get_by_label("Student name or number").fill("")
    await page.get_by_role("button", name="Search").click()

    student = page.locator('th[data-column="student"]')
    await expect(student).to_have_attribute("aria-sort", "none")
    await student.get_by_role("link").click()
    await expect(page.locator('th[data-column="student"]')).to_have_attribute(
        "aria-sort", "ascending"
    )
    ascending = await _listed(page)
    await page.locator('th[data-column="student"]').get_by_role("link").click()
    await expect(page.locator('th[data-column="student"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    assert await _listed(page) == list(reversed(ascending))
    await shots.take(page, "sorted-by-student-descending")

    await page.get_by_label(f"Select #{work.low}").check()
    await page.get_by_label(f"Select #{work.normal}").check()
    await page.get_by_label("Reason for closing").fill(REASON)
    await page.get_by_role("button", name="Close with this reason").click()
    # First what closing does; nothing is closed before the confirmation's button.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Close 2 items?")
    await expect(page.locator(".consequences")).to_contain_text("2 referrals are declined")
    await shots.take(page, "confirm-close")
    assert await _status(site, work.low) is QueueStatus.NEW
    await page.get_by_role("button", name="Yes, close 2 items").click()
    await expect(page.get_by_role("status")).to_have_text("2 items closed.")
    # Still sorted as before, the closed ones gone from the open list.
    await expect(page.locator('th[data-column="student"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    assert work.low not in await _listed(page)
    await shots.take(page, "closed-two")
    assert await _status(site, work.low) is QueueStatus.CLOSED
    assert await _status(site, work.normal) is QueueStatus.CLOSED
    assert await _status(site, work.high) is QueueStatus.NEW
    await page.context.close()


async def test_after_a_decision_the_next_item_of_the_sorted_view_opens(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    work = site.work
    page = await _zoco(chromium, site)
    await page.goto(site.url + "/queue?kind=referral&sort=urgency")
    order = await _listed(page)
    assert order[0] == work.high
    await page.locator(f'tr[data-item="{work.high}"] td a').first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Referral #{work.high}")
    await shots.take(page, "referral")
    await page.locator("#decline-form textarea").fill(REASON)
    await page.get_by_role("button", name=re.compile("Decline")).click()
    # Not back to the top of the queue: the next referral in this view.
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Referral #{order[1]}")
    await expect(page.get_by_role("status")).to_contain_text(
        f"#{work.high} is done. This is the next open item in your view."
    )
    await shots.take(page, "next-item")
    # "Queue" goes back to the same view.
    await page.get_by_role("link", name="Queue", exact=True).last.click()
    assert "kind=referral" in page.url
    assert "sort=urgency" in page.url
    assert work.high not in await _listed(page)
    await page.context.close()


async def test_the_questionnaire_answers_are_read_on_the_web(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    work = site.work
    page = await _zoco(chromium, site)
    await page.goto(site.url + "/queue?kind=exit_survey")
    await page.locator(f'tr[data-item="{work.survey}"] td a').first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Exit questionnaire #{work.survey}"
    )
    answers = page.locator("dl.answers")
    await expect(answers).to_contain_text("S1 ·")
    await expect(answers).to_contain_text("4 ·")
    await expect(answers).to_contain_text("De rustige plek hielp, maar ik miste de les.")
    await shots.take(page, "questionnaire")
    assert await _status(site, work.survey) is QueueStatus.NEW
    await page.get_by_role("button", name="I have read the answers").click()
    # The only exit questionnaire in this view: back to the view, saying so.
    await expect(page.get_by_role("status")).to_contain_text("No open items are left in this view.")
    await shots.take(page, "after-read")
    assert await _status(site, work.survey) is QueueStatus.CLOSED
    await page.context.close()


async def test_on_a_phone_a_refused_plan_shows_its_problems_where_she_is(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    """The accept form is far down the referral page on a phone: refused, the page opens on
    the form's error summary (focused), whose links lead to the fields."""
    page = await _zoco(chromium, site, width=390, height=844)
    await page.goto(site.url + f"/queue/{site.work.high}")
    await page.get_by_role("button", name="Take in analysis").click()
    await expect(page.locator("#accept-form")).to_be_visible()
    await page.locator("#goals").fill("Rustig.")
    await page.get_by_role("button", name="Accept and create the trajectory").click()
    summary = page.locator("#accept-problems")
    await expect(summary).to_be_focused()
    await expect(summary).to_be_in_viewport()
    await expect(summary).to_contain_text("That is too short")
    assert await page.evaluate("window.scrollY") > 0  # not left at the top of the page
    await shots.take(page, "refused-plan-phone")
    await summary.get_by_role("link").first.click()
    await expect(page.locator("#goals")).to_be_in_viewport()
    assert page.url.endswith("#goals")
    await page.context.close()


@pytest.mark.parametrize("language", ["nl", "en", "ar"])
async def test_on_a_phone_the_card_labels_never_overlap(
    site: Site, chromium: Browser, shots: Shots, language: str
) -> None:
    """At 390 px "Toegewezen aan" wraps onto two lines: its cell grows with it, and the label
    never runs into the next one ("Looptijd")."""
    page = await _zoco(chromium, site, width=390, height=844, language=language)
    await page.goto(site.url + "/queue")
    cells = page.locator("table.queue td[data-label]")
    assert await cells.count() > 20
    assert await page.evaluate(LABELS_OUT_OF_CELL) == []
    # The check sees a label that runs out of its cell (a cell too low for its label).
    first = cells.first
    await first.evaluate("td => { td.style.height = '0.5rem'; td.style.overflow = 'visible'; }")
    assert len(await page.evaluate(LABELS_OUT_OF_CELL)) == 1
    await page.reload()
    # The value starts beside its label, not under it.
    cell = page.locator(f'tr[data-item="{site.work.high}"] td[data-label]').nth(2)
    label_side = await cell.evaluate("td => getComputedStyle(td, '::before').float")
    assert label_side == "inline-start"
    await page.screenshot(path=str(shots.folder / f"queue-phone-{language}.png"), full_page=True)
    await page.context.close()


async def test_on_a_phone_every_card_is_labelled_and_nothing_scrolls_sideways(
    site: Site, chromium: Browser, shots: Shots
) -> None:
    work = site.work
    page = await _zoco(chromium, site, width=390, height=844)
    await page.goto(site.url + "/queue")
    assert await page.evaluate(OVERFLOWING, 390) == []
    # Nothing on the whole page (the header included) reaches past the screen's edge.
    assert await page.evaluate(OVERFLOWING.replace("main *", "body *"), 390) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each value has its label in front of it.
    cell = page.locator(f'tr[data-item="{work.high}"] td[data-label="Student"]')
    label = await cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Student"'
    urgency = page.locator(f'tr[data-item="{work.high}"] td[data-label="Urgency"]')
    assert await urgency.evaluate("td => getComputedStyle(td, '::before').content") == '"Urgency"'
    await expect(urgency).to_be_visible()
    # The checkbox says what it selects.
    await expect(page.get_by_text(f"Select #{work.high}", exact=True)).to_be_visible()
    await shots.take(page, "queue-phone")
    await page.screenshot(path=str(shots.folder / "queue-phone-full.png"), full_page=True)
    for path in (
        f"/queue/questionnaires/{work.survey}",
        f"/queue/timeout-requests/{work.timeout}",
        f"/queue/{work.high}",
    ):
        await page.goto(site.url + path)
        assert await page.evaluate(OVERFLOWING, 390) == [], path
        await shots.take(page, path.strip("/").replace("/", "-") + "-phone")
    await page.context.close()
