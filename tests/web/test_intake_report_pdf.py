"""The intake report PDF for the student file over HTTP (issue 11, item 4): the trajectory page
links it once the plan is complete; the school's care coordinator and coach download it
(application/pdf, audited), in Dutch, with the student's name (in any script), the goals and
the dates; other roles get 403; another school's trajectory, an unknown id and a trajectory
without a complete plan get the same 404."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import DEMO_PASSWORD, create_demo_data
from services.trajectories.intake_report import DOWNLOAD
from storage.models import AuditLog, Role, TrajectoryEvaluation, TrajectoryStatus
from tests.support.factories import NOW, add_person, add_school, add_trajectory
from tests.support.units import unit
from tests.web.chat_client import ChatApp, ChatUser, chat_app

CLOCK = NOW + timedelta(hours=1)
OTHER_PASSWORD = "another-schools-password"
GOALS = "Rustig blijven in de les en hulp vragen als het te veel wordt."


@dataclass
class World:
    active_id: int
    planned_id: int


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> World:
    """The demo school: lln02 (renamed to a name with ł and Cyrillic letters) has an active
    trajectory with a complete plan; lln01 a planned one (no coach yet); another school has its
    own coach account."""
    del engine
    await unit(session, create_demo_data, if_empty=True)
    async with session.begin():
        school = await find_school(session=session, code="demo")
        people = {}
        for external_id in ("lln01", "lln02", "mentor1", "coach"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        people["lln02"].given_name = "Małgorzata"
        people["lln02"].family_name = "Шевченко"
        active = await add_trajectory(session, people["mentor1"], people["lln02"])
        active.coach_id = people["coach"].id
        session.add(
            TrajectoryEvaluation(
                school_id=school.id,
                trajectory_id=active.id,
                kind="interim",
                due_on=date(2026, 4, 15),
            )
        )
        planned = await add_trajectory(
            session, people["mentor1"], people["lln01"], status=TrajectoryStatus.PLANNED
        )
        elsewhere = await add_school(session, "elders")
        stranger = await add_person(session, elsewhere, "c9", Role.COACH, Role.CARE_COORDINATOR)
        await create_staff_account(
            session=session,
            person=stranger,
            username="elders-coach",
            password_hash=hash_password(OTHER_PASSWORD),
            now=NOW,
        )
        await session.flush()
        return World(active.id, planned.id)


@pytest.fixture
async def web(world: World, database_url: str) -> AsyncIterator[ChatApp]:
    del world
    async with chat_app(database_url, CLOCK) as running:
        yield running


async def log_in(web: ChatApp, username: str, password: str = DEMO_PASSWORD) -> ChatUser:
    browser = web.user()
    browser.client.cookies.set("trajectbot_lang", "en")
    page = await browser.get("/login")
    form = page.form("Log in")
    response = await browser.post(
        form.action, {**form.fields, "username": username, "password": password}
    )
    assert response.status_code == 303, response.text
    return browser


def _path(trajectory_id: int) -> str:
    return f"/trajectories/{trajectory_id}/intake-report.pdf"


async def _downloads(web: ChatApp) -> list[AuditLog]:
    async with web.sessions() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == DOWNLOAD)))


@pytest.mark.parametrize("username", ["zoco", "coach"])
async def test_staff_of_the_school_download_the_pdf_from_the_trajectory_page(
    web: ChatApp, world: World, username: str
) -> None:
    browser = await log_in(web, username)
    page = await browser.get(f"/trajectories/{world.active_id}")
    assert f'href="{_path(world.active_id)}"' in page.body
    assert "Intake report (PDF)" in page.text

    response = await browser.client.get(_path(world.active_id))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "Ma" not in disposition  # no name in the file name
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Małgorzata Шевченко" in text
    assert GOALS in text
    for day in ("2 maart 2026", "26 juni 2026", "15 april 2026"):  # Dutch: the student file's
        assert day in text
    (download,) = await _downloads(web)
    assert download.subject_id == world.active_id
    assert "Małgorzata" not in str(download.details)


async def test_no_pdf_and_no_link_without_a_complete_plan(web: ChatApp, world: World) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/trajectories/{world.planned_id}")
    assert page.status == 200
    assert "intake-report.pdf" not in page.body
    response = await zoco.client.get(_path(world.planned_id))
    assert response.status_code == 404
    assert await _downloads(web) == []


async def test_other_roles_get_403_and_other_schools_404(web: ChatApp, world: World) -> None:
    for username in ("swv", "admin"):
        browser = await log_in(web, username)
        response = await browser.client.get(_path(world.active_id))
        assert response.status_code == 403, username
    stranger = await log_in(web, "elders-coach", OTHER_PASSWORD)
    theirs = await stranger.client.get(_path(world.active_id))
    unknown = await stranger.client.get(_path(999_999))
    assert theirs.status_code == unknown.status_code == 404
    assert b"%PDF" not in theirs.content
    anonymous = await web.user().client.get(_path(world.active_id))
    assert anonymous.status_code in (303, 307, 401)
    assert b"%PDF" not in anonymous.content
    assert await _downloads(web) == []
