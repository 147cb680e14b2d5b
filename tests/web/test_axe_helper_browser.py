"""The axe helper itself: it finds serious violations, also under a strict CSP, and passes a
clean page (so a green browser test means axe ran, not that it was skipped)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.axe import assert_accessible, violations
from tests.web.test_chat_browser import CHROMIUM

BAD = """<!doctype html><html lang="en"><head><title>bad</title>
<meta http-equiv="Content-Security-Policy" content="script-src 'self'"></head>
<body><main><h1>Queue</h1>
<span style="color:#bbb;background:#fff">12 open</span>
<input type="text"></main></body></html>"""

GOOD = """<!doctype html><html lang="en"><head><title>good</title>
<meta http-equiv="Content-Security-Policy" content="script-src 'self'"></head>
<body><main><h1>Queue</h1><p>12 open</p>
<label for="q">Search</label><input id="q" type="text"></main></body></html>"""


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        await browser.close()


async def test_axe_finds_contrast_and_unlabelled_input_under_a_strict_csp(
    chromium: Browser,
) -> None:
    page = await chromium.new_page()
    await page.set_content(BAD)
    found = {item["id"] for item in await violations(page)}
    assert {"color-contrast", "label"} <= found
    with pytest.raises(AssertionError, match="color-contrast"):
        await assert_accessible(page)
    await page.close()


async def test_axe_passes_a_clean_page(chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.set_content(GOOD)
    await assert_accessible(page)
    await page.close()
