"""The care team's agenda in a real browser (headless Chromium, issue 15): a care coordinator
plans a meeting, puts the referral on its agenda, prints it (print media: no navigation, no
forms, the case with its question still there) and records the team's advice, on a desktop and
a phone width. Screenshots under ``test-artifacts/staff-web/<test>/``."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from services.demo.school import DEMO_PASSWORD
from tests.web.test_staff_browser import (  # noqa: F401 - pytest fixtures used by name
    Shots,
    Site,
    _log_in,
    _page,
    chromium,
    shots,
    site,
)

QUESTION = "Is de trajectvoorziening passend, of eerst een observatie in de klas?"


async def test_the_agenda_prints_without_navigation_and_records_the_advice(
    site: Site,  # noqa: F811
    chromium: Browser,  # noqa: F811
    shots: Shots,  # noqa: F811
) -> None:
    page = await _page(chromium, site)
    await _log_in(page, site, shots, "zoco", DEMO_PASSWORD)
    await page.get_by_role("link", name="Care team").click()
    await expect(page.get_by_role("heading", name="Care team meetings")).to_be_visible()
    await page.get_by_label("Date of the meeting").fill("2026-03-09")
    await shots.take(page, "meetings")
    await page.get_by_role("button", name="Plan the meeting").click()
    await expect(page.get_by_text("The meeting is planned.")).to_be_visible()

    await page.get_by_label("Referral", exact=True).select_option(str(site.world.item_id))
    await page.get_by_label("Question for the care team").fill(QUESTION)
    await page.get_by_role("button", name="Put on the agenda").click()
    await expect(page.get_by_text("The referral is on the agenda")).to_be_visible()
    case = page.locator("li.agenda-case")
    await expect(case).to_contain_text("Noor Bremhorst")
    await expect(case).to_contain_text(QUESTION)
    await shots.take(page, "agenda")

    # Printed: the menu and every form are left out; the case and its question stay.
    await page.emulate_media(media="print")
    await expect(page.locator("header.top")).to_be_hidden()
    await expect(page.get_by_role("button", name="Record the advice")).to_be_hidden()
    await expect(page.get_by_role("heading", name="Put a referral on the agenda")).to_be_hidden()
    await expect(case).to_contain_text(QUESTION)
    await expect(page.locator(".notes-space")).to_be_visible()
    await shots.take(page, "agenda-print")
    await page.emulate_media(media="screen")
    await expect(page.locator("header.top")).to_be_visible()

    # On a phone: labelled, one column, still usable.
    await page.set_viewport_size({"width": 375, "height": 800})
    await case.get_by_label("The care team's advice").fill(
        "Start in de trajectvoorziening met een observatie in de eerste week."
    )
    await case.get_by_label("help from the support room").check()
    await shots.take(page, "advice-phone")
    await case.get_by_role("button", name="Record the advice").click()
    await expect(page.get_by_text("The care team's advice is recorded")).to_be_visible()
    await expect(page.locator("li.agenda-case .next-step")).to_contain_text(
        "Accept the referral and plan the intake."
    )
    await shots.take(page, "advice-recorded-phone")
