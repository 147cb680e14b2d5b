"""The exports over HTTP (issue 12, the seed systems): the Exports page with its week picker,
the Magister and LVS downloads byte for byte as the fixtures, the closing report linked from a
closed trajectory and read back from its PDF, 403 for a mentor and a coach, another school's
coordinator never sees this school's rows, bad weeks explained, every download audited."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, build_app
from bot.config import Settings
from services.accounts.staff_accounts import create_staff_account, hash_password
from storage.models import AuditLog, Role
from tests.support.export_world import ADVICE, FINAL_NOTES, GOALS, ExportWorld, build_export_world
from tests.support.factories import NOW, add_person
from tests.web.staff_client import Browser, Clock
from web.app import create_web_app

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "exports"
PASSWORD = "a-long-test-password"
BASE_URL = "https://trajectbot.example.nl"
#: Monday 9 March 2026: the current week is 2026-W11, the fixtures' week the one before.
CLOCK = Clock(NOW.replace(day=9, hour=8))


@dataclass
class Site:
    world: ExportWorld
    app: App
    transport: httpx.ASGITransport

    async def browser(self, username: str) -> Browser:
        browser = Browser(self.transport)
        response = await browser.log_in(username, PASSWORD)
        assert response.status_code == 303, response.text
        return browser

    async def audit(self) -> list[AuditLog]:
        async with self.app.sessions() as session:
            rows = await session.scalars(
                select(AuditLog).where(AuditLog.action.like("export.%")).order_by(AuditLog.id)
            )
            return list(rows)


@pytest.fixture
async def site(session: AsyncSession, database_url: str) -> AsyncIterator[Site]:
    async with session.begin():
        world = await build_export_world(session)
        # A mentor has no web account of their own; one who is also a coach logs in.
        mentor_coach = await add_person(
            session, world.school, "m2", Role.MENTOR, Role.COACH, given_name="Max"
        )
        viewer = await add_person(session, world.school, "swv", Role.PARTNERSHIP_VIEWER)
        password_hash = hash_password(PASSWORD)
        for person, username in (
            (world.zoco, "zoco"),
            (world.admin, "admin"),
            (mentor_coach, "mentor"),
            (viewer, "swv"),
            (world.coach, "coach"),
            (world.other_zoco, "zoco-zuid"),
        ):
            await create_staff_account(
                session=session,
                person=person,
                username=username,
                password_hash=password_hash,
                now=NOW,
            )
    session.expunge_all()
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        web_base_url=BASE_URL,
        web_secure_cookies=False,
    )
    async with build_app(settings, log_level="WARNING") as app:
        transport = httpx.ASGITransport(
            app=create_web_app(app, clock=CLOCK), raise_app_exceptions=False
        )
        yield Site(world, app, transport)


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_the_care_coordinator_picks_a_week_and_downloads_the_magister_file(
    site: Site,
) -> None:
    browser = await site.browser("zoco")

    page = await browser.get("/exports")
    assert page.status_code == 200
    assert 'href="/exports"' in page.text  # the navigation entry
    assert 'type="week"' in page.text
    assert 'value="2026-W11"' in page.text  # the current week by default

    page = await browser.get("/exports?week=2026-W10")
    assert page.status_code == 200
    otto = site.world.trajectories["otto"]
    assert f'href="/trajectories/{otto}/closing-report.pdf"' in page.text
    assert "Otto Bakker" in browser.text
    assert 'href="/exports/magister.csv?week=2026-W10"' in page.text

    download = await browser.get("/exports/magister.csv?week=2026-W10")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        'attachment; filename="magister-2026-W10.csv"'
    )
    assert download.content == (FIXTURES / "magister-2026-W10.csv").read_bytes()

    audit = await site.audit()
    assert [(row.action, row.actor_id) for row in audit] == [
        ("export.view", site.world.zoco.id),
        ("export.view", site.world.zoco.id),
        ("export.magister", site.world.zoco.id),
    ]
    assert audit[1].details == {"week": "2026-W10", "trajectory_ids": [otto]}
    assert audit[2].details == {"week": "2026-W10", "channel": "web", "rows": 7}


async def test_the_admin_downloads_the_lvs_summary_as_csv_and_as_text(site: Site) -> None:
    browser = await site.browser("admin")

    csv_file = await browser.get("/exports/lvs.csv?week=2026-W10")
    text_file = await browser.get("/exports/lvs.txt?week=2026-W10")

    assert csv_file.status_code == 200
    assert csv_file.content == (FIXTURES / "lvs-2026-W10.csv").read_bytes()
    assert text_file.status_code == 200
    assert text_file.headers["content-type"] == "text/plain; charset=utf-8"
    text = text_file.content.decode()
    assert text.startswith("Weekoverzicht voor het leerlingvolgsysteem, week 2026-W10")
    assert "100234 Sam de Vries\n- Traject: lopend\n- Afspraken: 2 aanwezig, 0 niet gekomen" in text
    for secret in (GOALS, ADVICE, FINAL_NOTES, "PRIVE"):
        assert secret not in text
        assert secret not in csv_file.content.decode("utf-8-sig")
    assert [(row.action, row.details["output"]) for row in await site.audit()] == [
        ("export.lvs", "csv"),
        ("export.lvs", "text"),
    ]


async def test_the_closing_report_is_linked_from_the_closed_trajectory_and_reads_back(
    site: Site,
) -> None:
    browser = await site.browser("zoco")
    otto = site.world.trajectories["otto"]

    page = await browser.get(f"/trajectories/{otto}")
    assert f'href="/trajectories/{otto}/closing-report.pdf"' in page.text
    running = await browser.get(f"/trajectories/{site.world.trajectories['sam']}")
    assert "closing-report.pdf" not in running.text

    pdf = await browser.get(f"/trajectories/{otto}/closing-report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith(
        f'attachment; filename="closing-report-{otto}-'
    )
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert " ".join(GOALS.split()) in text
    assert ADVICE in text
    assert FINAL_NOTES in text
    assert [(r.action, r.subject_id) for r in await site.audit()] == [
        ("export.closing_report", otto)
    ]
    # A trajectory that is not closed has no closing report.
    missing = await browser.get(
        f"/trajectories/{site.world.trajectories['sam']}/closing-report.pdf"
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("username", ["mentor", "coach", "swv"])
async def test_a_mentor_coach_or_partnership_viewer_is_refused_every_export(
    site: Site, username: str
) -> None:
    browser = await site.browser(username)
    otto = site.world.trajectories["otto"]

    for path in (
        "/exports",
        "/exports/magister.csv?week=2026-W10",
        "/exports/lvs.csv?week=2026-W10",
        "/exports/lvs.txt?week=2026-W10",
        f"/trajectories/{otto}/closing-report.pdf",
    ):
        response = await browser.get(path)
        assert response.status_code == 403, path
        assert "100234" not in response.text
    home = await browser.get("/")
    assert 'href="/exports"' not in home.text
    assert await site.audit() == []


async def test_another_schools_coordinator_gets_only_their_own_school(site: Site) -> None:
    browser = await site.browser("zoco-zuid")

    magister = await browser.get("/exports/magister.csv?week=2026-W10")
    closing = await browser.get(
        f"/trajectories/{site.world.trajectories['otto']}/closing-report.pdf"
    )

    assert _rows(magister.content)[1:] == [
        ["900001", "02-03-2026", "11:00-11:45", "begeleidingsgesprek", "aanwezig"]
    ]
    assert closing.status_code == 404
    assert "Otto" not in closing.text


@pytest.mark.parametrize("week", ["2026-49", "2027-W53", "next week"])
async def test_a_bad_week_is_explained(site: Site, week: str) -> None:
    browser = await site.browser("zoco")

    page = await browser.get(f"/exports?week={week}")
    download = await browser.get(f"/exports/magister.csv?week={week}")

    assert page.status_code == 400
    assert download.status_code == 400
    assert "2026-W49" in browser.text or "has no week" in browser.text
    assert await site.audit() == []
