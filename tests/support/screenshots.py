"""Screenshots of browser tests (artifacts under test-artifacts/, for people to look at).

Chromium sometimes answers ``Page.captureScreenshot`` with "Unable to capture screenshot"
when the machine is busy (seen with every core running tests): a screenshot is retried a few
times, then taken of the viewport only, before the error is let through.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Error, Page

ATTEMPTS = 3


async def screenshot(page: Page, path: Path | str) -> None:
    """Save a full-page screenshot of ``page`` at ``path`` (retried when Chromium is busy)."""
    for attempt in range(ATTEMPTS):
        try:
            await page.screenshot(path=str(path), full_page=True)
        except Error:
            await asyncio.sleep(0.5 * (attempt + 1))
        else:
            return
    await page.screenshot(path=str(path), full_page=False)
