"""Screenshots of browser tests (artifacts under test-artifacts/, for people to look at).

Chromium sometimes answers ``Page.captureScreenshot`` with "Unable to capture screenshot"
when the machine is busy (seen with every core running tests): a screenshot is retried a few
times, then taken of the viewport only, before the error is let through.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Error, Page

from tests.support.axe import assert_accessible

ATTEMPTS = 3


async def screenshot(page: Page, path: Path | str) -> None:
    """Save a full-page screenshot of ``page`` at ``path`` (retried when Chromium is busy), after
    axe-core found no serious or critical accessibility violation on it (`tests/support/axe.py`)."""
    await assert_accessible(page)
    for attempt in range(ATTEMPTS):
        try:
            await page.screenshot(path=str(path), full_page=True)
        except Error:
            await asyncio.sleep(0.5 * (attempt + 1))
        else:
            return
    await page.screenshot(path=str(path), full_page=False)
