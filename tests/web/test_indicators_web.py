"""The indicator pages and exports over HTTP (httpx against the real app and database).

Who may open what (a coach, a viewer of another role, nobody logged in are refused), that
the figures on the page, in the CSV and in the XLSX are the hand-computed ones of
`tests.support.indicator_world`, and that the partnership's view carries no child's data.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.config import Settings
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.accounts.web_sessions import start_session
from storage.models import AuditLog, Person, StaffAccount
from tests.support.indicator_world import NOW, IndicatorWorld, build_indicator_world
from web.app import create_web_app
from web.indicator_tables import CHARTED
from web.security import LANGUAGE_COOKIE, SESSION_COOKIE

PASSWORD = "correct horse battery staple"
PERIOD = "from=2026-01&to=2026-03"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def _password_hash() -> str:
    """One argon2 hash for every account of the module (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


@dataclass
class Site:
    """The running app, the fixture world and the staff accounts by username."""

    transport: httpx.ASGITransport
    world: IndicatorWorld
    accounts: dict[str, StaffAccount]
    session_factory: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def browser(
        self, username: str | None, language: str = "en", *, via_form: bool = False
    ) -> AsyncIterator[httpx.AsyncClient]:
        """A client with its own cookies, logged in as ``username`` (``None``: nobody).

        ``via_form`` logs in through the login form; otherwise a session is started directly
        (the form's argon2 check costs about a second on a busy machine).
        """
        async with httpx.AsyncClient(
            transport=self.transport, base_url="http://testserver"
        ) as client:
            client.cookies.set(LANGUAGE_COOKIE, language)
            if username is not None and via_form:
                form = await client.get("/login")
                token = _CSRF.search(form.text)
                assert token is not None, form.text
                response = await client.post(
                    "/login",
                    data={
                        "csrf_token": token.group(1),
                        "username": username,
                        "password": PASSWORD,
                        "next": "/",
                    },
                )
                assert response.status_code == 303, response.text
            elif username is not None:
                async with self.session_factory() as session, session.begin():
                    account = await session.get(StaffAccount, self.accounts[username].id)
                    assert account is not None
                    started = await start_session(
                        session=session,
                        account=account,
                        method="test",
                        now=NOW,
                        ttl=timedelta(hours=1),
                    )
                client.cookies.set(SESSION_COOKIE, started.token)
            yield client


async def _accounts(
    session_factory: async_sessionmaker[AsyncSession], world: IndicatorWorld
) -> dict[str, StaffAccount]:
    accounts = {}
    async with session_factory() as session, session.begin():
        for person, username in (
            (world.coordinator, "zoco"),
            (world.admin, "admin"),
            (world.coach, "coach"),
            (world.viewer, "viewer"),
        ):
            fresh = await session.get(Person, person.id)
            assert fresh is not None
            accounts[username] = await create_staff_account(
                session=session,
                person=fresh,
                username=username,
                password_hash=_password_hash(),
                now=NOW,
            )
    return accounts


@pytest.fixture
async def site(
    session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> AsyncIterator[Site]:
    world = await build_indicator_world(session_factory)
    accounts = await _accounts(session_factory, world)
    settings = Settings(database_url=database_url, _env_file=None)
    async with build_app(settings, log_level="WARNING") as app:
        web_app = create_web_app(app, clock=lambda: NOW)
        yield Site(httpx.ASGITransport(app=web_app), world, accounts, session_factory)


def _table(page: str, key: str) -> list[list[str]]:
    """The cells (header row first) of the table ``id="table-<key>"``, as text."""
    body = page.split(f'id="table-{key}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        ]
        for row in rows
    ]


async def test_the_care_coordinator_sees_the_hand_computed_figures(site: Site) -> None:
    async with site.browser("zoco", via_form=True) as client:
        page = await client.get(f"/indicators?{PERIOD}")
    assert page.status_code == 200
    rows = _table(page.text, "indicators")
    header, jan, feb, mar = rows
    assert header[:4] == [
        "Month",
        "Students enrolled",
        "Students referred",
        "Share of enrolled students referred (%)",
    ]
    column = {name: index for index, name in enumerate(header)}
    assert [r[0] for r in (jan, feb, mar)] == ["January 2026", "February 2026", "March 2026"]
    referred = column["Students referred"]
    assert [r[referred] for r in (jan, feb, mar)] == ["2", "2", "1"]
    share = column["Share of enrolled students referred (%)"]
    assert [r[share] for r in (jan, feb, mar)] == ["20%", "20%", "10%"]
    mean = column["Length of active trajectories, mean (days)"]
    # 15.5, 107/4 = 26.75 and 131/3 = 43.67, one decimal.
    assert [r[mean] for r in (jan, feb, mar)] == ["15.5", "26.8", "43.7"]
    overdue = column["Overdue trajectories"]
    assert [r[overdue] for r in (jan, feb, mar)] == ["0", "2", "2"]
    # Charts are inline SVG with their title and description; no script anywhere.
    assert page.text.count("<svg") >= len(CHARTED)
    assert "<script" not in page.text
    # The navigation leads here.
    assert 'href="/indicators"' in page.text


async def test_numbers_follow_the_page_language(site: Site) -> None:
    async with site.browser("zoco", language="nl") as client:
        page = await client.get(f"/indicators?{PERIOD}")
    assert page.status_code == 200
    assert '<html lang="nl"' in page.text
    feb = _table(page.text, "indicators")[2]
    assert feb[0] == "februari 2026"
    assert "26,8" in feb


async def test_csv_and_xlsx_carry_the_same_figures(site: Site) -> None:
    async with site.browser("admin") as client:
        csv_response = await client.get(f"/indicators.csv?{PERIOD}&table=indicators")
        xlsx_response = await client.get(f"/indicators.xlsx?{PERIOD}")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    header = rows[0]
    referred = header.index("Students referred")
    per_student = header.index("Time-outs per student with an active trajectory")
    assert [(r[0], r[referred], r[per_student]) for r in rows[1:]] == [
        ("2026-01", "2", "0"),
        ("2026-02", "2", "1"),
        ("2026-03", "1", "0.67"),  # 2 time-outs / 3 students
    ]

    assert xlsx_response.status_code == 200
    assert xlsx_response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(xlsx_response.content))
    assert workbook.sheetnames == [
        "Indicators per month",
        "Exit questionnaire",
        "Per school year, against the ta",
        "Exit questionnaire per school y",
        "Definitions",
    ]
    sheet = workbook["Indicators per month"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    median = values[0].index("Length of active trajectories, median (days)")
    assert [row[median] for row in values[1:]] == [15.5, 29.5, 46]
    survey = workbook["Exit questionnaire"]
    headers = [cell.value for cell in survey[1]]
    t1 = headers.index("Teachers: Student takes part better (T1)")
    t4 = headers.index("Teachers: Goals reached (T4)")
    february = [cell.value for cell in survey[3]]
    assert february[0] == "2026-02"
    assert february[t1] == pytest.approx(4.2)  # (4+5+3+4+5)/5
    assert february[t4] == "< 5"  # four scored answers


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("coach", "/indicators"),
        ("coach", "/indicators.xlsx"),
        ("coach", "/indicators.csv"),
        ("coach", "/indicators/partnership"),
        ("viewer", "/indicators"),
        ("viewer", "/indicators.xlsx"),
        ("zoco", "/indicators/partnership"),
        ("zoco", "/indicators/partnership.xlsx"),
        ("admin", "/indicators/partnership.csv"),
    ],
)
async def test_other_roles_are_refused(site: Site, username: str, path: str) -> None:
    async with site.browser(username) as client:
        response = await client.get(f"{path}?{PERIOD}")
    assert response.status_code == 403
    assert "Students referred" not in response.text


async def test_nobody_logged_in_is_sent_to_the_login(site: Site) -> None:
    async with site.browser(None) as client:
        for path in ("/indicators", "/indicators.xlsx", "/indicators/partnership.csv"):
            response = await client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login")


def _links(page: str) -> dict[str, str]:
    """The school pages the summary links, by school name."""
    return {
        html.unescape(name): html.unescape(href)
        for href, name in re.findall(
            r'<a href="(/indicators/partnership/school/[^"]+)">([^<]+)</a>', page
        )
    }


async def test_the_partnership_summary_shows_every_school_and_the_totals(site: Site) -> None:
    async with site.browser("viewer") as client:
        page = await client.get(f"/indicators/partnership?{PERIOD}")
    assert page.status_code == 200
    schools = _table(page.text, "schools")
    assert schools[0][:4] == [
        "School",
        "Students enrolled",
        "Students referred",
        "Share of enrolled students referred (%)",
    ]
    # January-March as one span, each student once (hand-computed in
    # tests/services/indicators/test_indicators.py): Noord's 11 enrolled (10 a month); its
    # five referred hidden with its months (5 - 4 would give March's 1 back); West 6 of 8;
    # Zuid's 3 hidden, and the total with them (14 - 5 - 6 would give them back).
    assert [row[:4] for row in schools[1:]] == [
        ["Noord College", "11", "< 5", "< 5"],
        ["West Mavo", "8", "6", "75%"],
        ["Zuid Lyceum", "6", "< 5", "< 5"],
        ["All schools", "25", "< 5", "< 5"],
    ]
    # Each school's row links its page, for the same period; the total links nowhere.
    links = _links(page.text)
    assert sorted(links) == ["Noord College", "West Mavo", "Zuid Lyceum"]
    assert all(link.endswith(f"?{PERIOD}") for link in links.values())
    # All schools together, month by month: referred Jan 2 hidden, Feb 5, Mar 7 hidden (it
    # would give Noord's 1 as 7 - 6).
    total = _table(page.text, "total")
    referred = total[0].index("Students referred")
    assert [(row[0], row[referred]) for row in total[1:]] == [
        ("January 2026", "< 5"),
        ("February 2026", "5"),
        ("March 2026", "< 5"),
    ]
    # Summary first: no school's months on this page (one table per figure and school).
    assert 'id="table-referred"' not in page.text
    assert page.text.count("<tr>") < 60
    # Every table of the exports stays a download.
    assert f"/indicators/partnership.csv?{PERIOD.replace('&', '&amp;')}&amp;table=referred" in (
        page.text
    )
    assert 'id="download-xlsx"' in page.text


async def test_a_schools_page_shows_its_months_with_small_groups_hidden(site: Site) -> None:
    async with site.browser("viewer") as client:
        summary = await client.get(f"/indicators/partnership?{PERIOD}")
        links = _links(summary.text)
        west = await client.get(links["West Mavo"])
        zuid = await client.get(links["Zuid Lyceum"])
        noord = await client.get(links["Noord College"])
    assert west.status_code == zuid.status_code == noord.status_code == 200
    assert "<h1>West Mavo</h1>" in west.text
    # The way back to the summary, same period.
    assert f'href="/indicators/partnership?{PERIOD.replace("&", "&amp;")}"' in west.text

    def referred(page: httpx.Response) -> list[list[str]]:
        rows = _table(page.text, "indicators")
        column = rows[0].index("Students referred")
        share = rows[0].index("Share of enrolled students referred (%)")
        return [[row[0], row[column], row[share]] for row in rows[1:]]

    assert referred(west) == [
        ["January 2026", "0", "0%"],
        ["February 2026", "0", "0%"],
        ["March 2026", "6", "75%"],
    ]
    # Small groups hidden as on the partnership's view: Zuid's 3 in February, Noord's 2, 2, 1.
    assert referred(zuid)[1] == ["February 2026", "< 5", "< 5"]
    assert [row[1:] for row in referred(noord)] == [["< 5", "< 5"]] * 3
    # One school only: no other school's name, no total beside it.
    assert "West Mavo" not in noord.text
    assert "Zuid Lyceum" not in noord.text
    for key in ("indicators", "school_year"):
        assert not any("All schools" in row for row in _table(noord.text, key))
    everything = west.text + zuid.text + noord.text
    assert not any(name in everything for name in site.world.student_names)
    assert "/trajectories" not in everything


async def test_an_unknown_school_is_not_found(site: Site) -> None:
    async with site.browser("viewer") as client:
        response = await client.get(
            f"/indicators/partnership/school/{site.world.noord.id + 1000}?{PERIOD}"
        )
        too_big = await client.get(f"/indicators/partnership/school/{2**40}")
    assert response.status_code == 404
    assert too_big.status_code == 404


@pytest.mark.parametrize("username", ["zoco", "admin", "coach"])
async def test_a_schools_page_of_the_partnership_is_refused_to_other_roles(
    site: Site, username: str
) -> None:
    async with site.browser(username) as client:
        response = await client.get(
            f"/indicators/partnership/school/{site.world.noord.id}?{PERIOD}"
        )
    assert response.status_code == 403
    assert "Students referred" not in response.text
    async with site.browser(None) as client:
        response = await client.get(f"/indicators/partnership/school/{site.world.noord.id}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_the_partnership_viewer_gets_aggregates_only(site: Site) -> None:
    async with site.browser("viewer") as client:
        page = await client.get(f"/indicators/partnership?{PERIOD}")
        xlsx = await client.get(f"/indicators/partnership.xlsx?{PERIOD}")
        csv_response = await client.get(f"/indicators/partnership.csv?{PERIOD}&table=referred")
    assert page.status_code == 200
    assert 'href="/indicators/partnership"' in page.text
    assert 'href="/indicators"' not in page.text
    # The exports keep every school month by month.
    assert list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")))) == [
        ["Month", "Noord College", "West Mavo", "Zuid Lyceum", "All schools"],
        ["2026-01", "< 5", "0", "0", "< 5"],
        ["2026-02", "< 5", "0", "< 5", "5"],
        ["2026-03", "< 5", "6", "0", "< 5"],
    ]
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert [[cell.value for cell in row] for row in workbook["Students referred"].iter_rows()] == [
        ["Month", "Noord College", "West Mavo", "Zuid Lyceum", "All schools"],
        ["2026-01", "< 5", 0, 0, "< 5"],
        ["2026-02", "< 5", 0, "< 5", 5],
        ["2026-03", "< 5", 6, 0, "< 5"],
    ]
    cells = [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    everything = page.text + csv_response.text + "\n".join(cells)
    # No child is named anywhere, and nothing links to a child's file.
    assert not any(name in everything for name in site.world.student_names)
    assert "/trajectories" not in page.text
    assert "/queue" not in page.text


async def test_each_access_is_audited_with_its_output(
    site: Site, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with site.browser("zoco") as client:
        await client.get(f"/indicators?{PERIOD}")
        await client.get(f"/indicators.xlsx?{PERIOD}")
        await client.get(f"/indicators.csv?{PERIOD}")
    async with site.browser("viewer") as client:
        await client.get(f"/indicators/partnership.xlsx?{PERIOD}")
        await client.get(f"/indicators/partnership/school/{site.world.noord.id}?{PERIOD}")
    async with session_factory() as session:
        rows = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action.like("indicators.%")).order_by(AuditLog.id)
            )
        )
    assert [(r.action, r.actor_id, r.details["output"]) for r in rows] == [
        ("indicators.view", site.world.coordinator.id, "page"),
        ("indicators.view", site.world.coordinator.id, "xlsx"),
        ("indicators.view", site.world.coordinator.id, "csv"),
        ("indicators.partnership_view", site.world.viewer.id, "xlsx"),
        ("indicators.partnership_view", site.world.viewer.id, "page"),
    ]
    assert rows[-1].details["schools"] == [site.world.noord.id]


@pytest.mark.parametrize(
    "query",
    ["from=2026-03&to=2026-01", "from=march&to=2026-03", "from=2026-01&to=2026-09"],
)
async def test_a_bad_period_is_explained(site: Site, query: str) -> None:
    async with site.browser("zoco") as client:
        page = await client.get(f"/indicators?{query}")
        export = await client.get(f"/indicators.xlsx?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert export.status_code == 400
    assert export.headers["content-type"].startswith("text/html")


async def test_a_bad_period_is_explained_on_the_partnership_pages(site: Site) -> None:
    async with site.browser("viewer") as client:
        summary = await client.get("/indicators/partnership?from=2026-03&to=2026-01")
        school = await client.get(
            f"/indicators/partnership/school/{site.world.noord.id}?from=march&to=2026-03"
        )
    for page in (summary, school):
        assert page.status_code == 400
        assert 'role="alert"' in page.text
        assert "Students referred" not in page.text
    # The way back to the summary from a school's page.
    assert '<p class="crumbs"><a href="/indicators/partnership">' in school.text


async def test_an_unknown_csv_table_is_not_found(site: Site) -> None:
    async with site.browser("zoco") as client:
        response = await client.get(f"/indicators.csv?{PERIOD}&table=nope")
    assert response.status_code == 404


async def test_the_default_period_is_the_last_six_months(site: Site) -> None:
    async with site.browser("zoco") as client:
        page = await client.get("/indicators")
    assert page.status_code == 200
    months = [row[0] for row in _table(page.text, "indicators")[1:]]
    assert months == [
        "October 2025",
        "November 2025",
        "December 2025",
        "January 2026",
        "February 2026",
        "March 2026",
    ]
