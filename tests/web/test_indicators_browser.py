"""The indicators in a real browser (headless Chromium through Playwright).

A care coordinator logs in, opens the indicators from the navigation, chooses January-March
2026, looks at the charts, downloads the XLSX; the workbook is read back with openpyxl and
its figures are the hand-computed ones of `tests.support.indicator_world`. A partnership
viewer does the same on the partnership page, where small groups read "< 5", and opens one
school's months from the summary (by keyboard; in Arabic and on a phone as well). Screenshots
go to ``test-artifacts/indicators/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.config import Settings
from services.accounts.staff_accounts import create_staff_account, hash_password
from storage.models import Person
from tests.support.indicator_world import NOW, IndicatorWorld, build_indicator_world
from tests.support.screenshots import screenshot
from tests.web.test_chat_browser import CHROMIUM
from web.app import create_web_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "indicators"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def world(session_factory: async_sessionmaker[AsyncSession]) -> IndicatorWorld:
    """The indicators' world with web accounts for the care coordinator and the viewer."""
    world = await build_indicator_world(session_factory)
    password_hash = hash_password(PASSWORD)
    async with session_factory() as session, session.begin():
        for person, username in (
            (world.coordinator, "zoco"),
            (world.viewer, "viewer"),
            (world.admin, "admin"),
        ):
            fresh = await session.get(Person, person.id)
            assert fresh is not None
            await create_staff_account(
                session=session,
                person=fresh,
                username=username,
                password_hash=password_hash,
                now=NOW,
            )
    return world


@pytest.fixture
async def server(world: IndicatorWorld, database_url: str) -> AsyncIterator[str]:
    """The product's web app over HTTP on 127.0.0.1 (a free port), the clock on 20 March 2026."""
    del world
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        web_app = create_web_app(app, clock=lambda: NOW)
        config = uvicorn.Config(
            web_app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
        )
        uvicorn_server = uvicorn.Server(config)
        serving = asyncio.create_task(uvicorn_server.serve())
        for _ in range(1000):  # bounded: at most ~10 s to start
            if uvicorn_server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        assert uvicorn_server.started, "the web server did not start"
        port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            uvicorn_server.should_exit = True
            await serving


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


async def _log_in(browser: Browser, base: str, username: str) -> Page:
    context = await browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="en", accept_downloads=True
    )
    host = base.split("//", 1)[1].split(":", 1)[0]
    await context.add_cookies(
        [{"name": "trajectbot_lang", "value": "en", "domain": host, "path": "/"}]
    )
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Log in").click()
    return page


async def _choose_period(page: Page) -> None:
    await page.get_by_label("From month").fill("2026-01")
    await page.get_by_label("To month").fill("2026-03")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Show").click()


async def _download_xlsx(page: Page, name: str) -> Path:
    async with page.expect_download() as info:
        await page.locator("#download-xlsx").click()
    download = await info.value
    target = ARTIFACTS / name
    await download.save_as(target)
    return target


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await screenshot(page, str(ARTIFACTS / f"{name}.png"))


def _column(sheet: Worksheet, header: str) -> list[object]:
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


async def test_a_care_coordinator_downloads_the_indicators_as_xlsx(
    server: str, chromium: Browser
) -> None:
    page = await _log_in(chromium, server, "zoco")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Indicators", exact=True).click()
    assert page.url.endswith("/indicators")
    await _choose_period(page)
    assert "from=2026-01&to=2026-03" in page.url
    assert await page.locator("svg.chart").count() == 10  # nine indicators + response rate
    assert await page.get_by_role("img", name="Students referred", exact=True).count() == 1
    await _shot(page, "school")

    workbook = load_workbook(await _download_xlsx(page, "school.xlsx"))
    assert workbook.sheetnames == [
        "Indicators per month",
        "Exit questionnaire",
        "Per school year, against the ta",
        "Exit questionnaire per school y",
        "Definitions",
    ]
    sheet = workbook["Indicators per month"]
    assert _column(sheet, "Month") == ["2026-01", "2026-02", "2026-03"]
    # The hand-computed figures (arithmetic in tests/services/indicators/test_indicators.py).
    assert _column(sheet, "Students enrolled") == [10, 10, 10]
    assert _column(sheet, "Students referred") == [2, 2, 1]
    assert _column(sheet, "Share of enrolled students referred (%)") == [0.2, 0.2, 0.1]
    assert _column(sheet, "Class observations") == [1, 1, 1]
    assert _column(sheet, "Students with an OPP") == [1, 1, 0]
    assert _column(sheet, "Active trajectories") == [2, 4, 3]
    assert _column(sheet, "Length of active trajectories, mean (days)") == [
        15.5,
        26.75,
        pytest.approx(131 / 3),
    ]
    assert _column(sheet, "Length of active trajectories, median (days)") == [15.5, 29.5, 46]
    assert _column(sheet, "Time-outs attended") == [0, 4, 2]
    assert _column(sheet, "Time-outs per student with an active trajectory") == [
        0,
        1,
        pytest.approx(2 / 3),
    ]
    assert _column(sheet, "Overdue trajectories") == [0, 2, 2]
    survey = workbook["Exit questionnaire"]
    assert _column(survey, "Teachers: Student takes part better (T1)")[1] == pytest.approx(4.2)
    assert _column(survey, "Response rate, Teachers (%)")[1] == 1


async def test_a_partnership_viewer_downloads_aggregates_with_small_groups_hidden(
    server: str, chromium: Browser, world: IndicatorWorld
) -> None:
    page = await _log_in(chromium, server, "viewer")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Partnership indicators").click()
    await _choose_period(page)
    await _shot(page, "partnership")
    text = await page.locator("main").inner_text()
    assert not any(name in text for name in world.student_names)

    workbook = load_workbook(await _download_xlsx(page, "partnership.xlsx"))
    sheet = workbook["Students referred"]
    assert [cell.value for cell in sheet[1]] == [
        "Month",
        "Noord College",
        "West Mavo",
        "Zuid Lyceum",
        "All schools",
    ]
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        ["2026-01", "< 5", 0, 0, "< 5"],
        ["2026-02", "< 5", 0, "< 5", 5],
        ["2026-03", "< 5", 6, 0, "< 5"],
    ]
    assert _column(workbook["Students enrolled"], "All schools") == [24, 24, 24]

    # Summary first: a row per school; its name opens the school's months (by keyboard too).
    summary = page.locator("#table-schools")
    assert await summary.locator("tbody th").all_inner_texts() == [
        "Noord College",
        "West Mavo",
        "Zuid Lyceum",
        "All schools",
    ]
    await summary.get_by_role("link", name="West Mavo").focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert await page.locator("h1").inner_text() == "West Mavo"
    assert page.url.endswith("?from=2026-01&to=2026-03")
    referred = await page.locator("#table-indicators tbody tr").evaluate_all(
        "rows => rows.map(row => row.children[2].innerText)"
    )
    assert referred == ["0", "0", "6"]
    await _shot(page, "partnership-school")
    text = await page.locator("main").inner_text()
    assert not any(name in text for name in world.student_names)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Partnership indicators").first.click()
    assert await page.locator("#table-schools").count() == 1


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("ar", (1280, 900)), ("nl", (390, 844))],
    ids=["arabic-desktop", "dutch-phone"],
)
async def test_the_partnership_summary_and_a_schools_page_fit_a_phone_and_right_to_left(
    server: str, chromium: Browser, language: str, viewport: tuple[int, int]
) -> None:
    """The summary and a school's page in Arabic (right to left) and on a phone: nothing
    wider than the screen but the tables' own scroll boxes; axe runs on both (screenshot)."""
    width, height = viewport
    context = await chromium.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, locale=language
    )
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": server}])
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await page.locator("input[name=username]").fill("viewer")
    await page.locator("input[name=password]").fill(PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").last.click()
    await page.goto(f"{server}/indicators/partnership?from=2026-01&to=2026-03")
    assert await page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    for name in ("summary", "school"):
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow} px wider than the screen"
        await _shot(page, f"partnership-{name}-{language}-{width}")
        if name == "summary":
            async with page.expect_navigation():
                await page.locator("#table-schools tbody th a").first.click()
            assert "/indicators/partnership/school/" in page.url
    await context.close()


_LABEL_CORNERS = """() => Array.from(document.querySelectorAll("svg.chart")).map((svg) => {
  const frame = svg.getBoundingClientRect();
  const labels = Array.from(svg.querySelectorAll("g.categories text")).map((text) => {
    const box = text.getBBox();
    const matrix = text.getScreenCTM();
    const corners = [[box.x, box.y], [box.x + box.width, box.y],
                     [box.x + box.width, box.y + box.height], [box.x, box.y + box.height]];
    return corners.map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(matrix);
      return [p.x, p.y];
    });
  });
  return {id: svg.id, frame: [frame.left, frame.top, frame.right, frame.bottom], labels};
})"""

Corner = tuple[float, float]


def _overlap(a: list[Corner], b: list[Corner]) -> bool:
    """Whether two convex quadrilaterals overlap (no edge normal separates them)."""
    for shape in (a, b):
        for i in range(4):
            (x1, y1), (x2, y2) = shape[i], shape[(i + 1) % 4]
            nx, ny = y2 - y1, x1 - x2
            pa = [nx * px + ny * py for px, py in a]
            pb = [nx * px + ny * py for px, py in b]
            if max(pa) <= min(pb) + 0.01 or max(pb) <= min(pa) + 0.01:
                return False
    return True


@pytest.mark.parametrize("language", ["nl", "ar"])
@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
async def test_twelve_month_labels_do_not_overlap_in_chromium(
    server: str, chromium: Browser, language: str, viewport: tuple[int, int]
) -> None:
    """Twelve months (as many as a school year) on the indicator page: Chromium's own label
    boxes (getBBox through each label's transform to the screen) never overlap, stay in their
    chart, and run from right to left in Arabic."""
    width, height = viewport
    context = await chromium.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, locale=language
    )
    await context.add_cookies([{"name": "trajectbot_lang", "value": language, "url": server}])
    page = await context.new_page()
    await page.goto(f"{server}/login")
    await page.locator("input[name=username]").fill("zoco")
    await page.locator("input[name=password]").fill(PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").last.click()
    await page.goto(f"{server}/indicators?from=2025-04&to=2026-03")
    assert await page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    charts = await page.evaluate(_LABEL_CORNERS)
    assert charts, "no chart on the page"
    for chart in charts:
        labels: list[list[Corner]] = [[(x, y) for x, y in box] for box in chart["labels"]]
        assert len(labels) >= 6, f"{chart['id']}: too few months named"
        left, top, right, bottom = chart["frame"]
        for i, box in enumerate(labels):
            for x, y in box:
                assert left - 0.5 <= x <= right + 0.5, f"{chart['id']}: label {i} leaves the chart"
                assert top - 0.5 <= y <= bottom + 0.5, f"{chart['id']}: label {i} leaves the chart"
            for other in labels[i + 1 :]:
                assert not _overlap(box, other), f"{chart['id']}: month labels overlap"
        centres = [sum(x for x, _y in box) / 4 for box in labels]
        assert centres == sorted(centres, reverse=language == "ar"), "months out of order"
    await _shot(page, f"twelve-months-{language}-{width}")
    await context.close()


async def test_the_admin_sets_a_target_and_the_coordinator_sees_it_against_the_figure(
    server: str, chromium: Browser
) -> None:
    admin = await _log_in(chromium, server, "admin")
    async with admin.expect_navigation():
        await admin.get_by_role("link", name="Targets and visitations").click()
    await admin.get_by_label("School year", exact=True).select_option("2025")
    async with admin.expect_navigation():
        await admin.get_by_role("button", name="Show").click()
    # Noord's OPP target of the fixture is 10 %; the admin raises it to 15 %.
    field = admin.get_by_label("Share of enrolled students with an OPP (%)")
    assert await field.input_value() == "10.0"
    await field.fill("15")
    async with admin.expect_navigation():
        await admin.get_by_role("button", name="Save the targets").click()
    assert await admin.get_by_role("status").inner_text() == "The targets have been saved."
    await _shot(admin, "targets")

    page = await _log_in(chromium, server, "zoco")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Indicators", exact=True).click()
    await _choose_period(page)
    table = page.locator("#table-school_year")
    headers = await table.locator("thead th").all_inner_texts()
    assert headers == ["Figure", "2025-2026", "Target 2025-2026 (%)"]
    opp = table.locator(
        "tr",
        has=page.get_by_role(
            "rowheader", name="Share of enrolled students with an OPP (%)", exact=True
        ),
    )
    # 2 of the 11 students enrolled in 2025-2026 have an OPP: 18.2 %, against 15 %.
    assert await opp.locator("td").all_inner_texts() == ["18.2%", "15%"]
    referred = table.locator(
        "tr", has=page.get_by_role("rowheader", name="Students referred", exact=True)
    )
    assert await referred.locator("td").all_inner_texts() == ["6", "–"]
    await table.scroll_into_view_if_needed()
    await _shot(page, "school-year")
