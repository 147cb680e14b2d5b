"""The trajectory page over HTTP (httpx, in-process): who may open it, the plan form with its
per-field problems (nothing typed is lost), the logbook, "evaluation held", closing with a
confirmation step, CSRF on every form, and the audit trail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import (
    AuditLog,
    LogbookEntry,
    Person,
    Role,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
)
from tests.support.factories import NOW, add_person, add_school, add_trajectory
from tests.support.units import unit
from tests.web.chat_client import ChatApp, ChatUser, Page, chat_app

CLOCK = NOW + timedelta(hours=1)  # Monday 2 March 2026, 10:30 UTC
OTHER_PASSWORD = "another-schools-password"


@dataclass
class World:
    trajectory_id: int
    evaluation_id: int
    coach_id: int = 0


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> World:
    """The demo school with a trajectory of lln02 (Noor) whose interim evaluation (27 February)
    was not held; another school with its own coach account."""
    del engine
    await unit(session, create_demo_data, if_empty=True)
    async with session.begin():
        school = await find_school(session=session, code="demo")
        people = {}
        for external_id in ("lln02", "mentor1", "coach"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        trajectory = await add_trajectory(session, people["mentor1"], people["lln02"])
        trajectory.coach_id = people["coach"].id  # the plan is complete: it is active
        evaluation = TrajectoryEvaluation(
            school_id=school.id,
            trajectory_id=trajectory.id,
            kind="interim",
            due_on=date(2026, 2, 27),
        )
        session.add(evaluation)
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
        return World(trajectory.id, evaluation.id, people["coach"].id)


@pytest.fixture
async def web(world: World, database_url: str) -> AsyncIterator[ChatApp]:
    del world
    async with chat_app(database_url, CLOCK) as running:
        yield running


async def log_in(web: ChatApp, username: str, password: str = DEMO_PASSWORD) -> ChatUser:
    """A browser logged in as ``username`` (English pages)."""
    browser = web.user()
    browser.client.cookies.set("trajectbot_lang", "en")
    page = await browser.get("/login")
    form = page.form("Log in")
    response = await browser.post(
        form.action, {**form.fields, "username": username, "password": password}
    )
    assert response.status_code == 303, response.text
    return browser


def _meta_line(body: str) -> str:
    """The text of a page's ``<p class="meta">`` (the line under its title), tags left out
    and white space collapsed as a browser shows it."""
    found = re.search(r'<p class="meta">(.*?)</p>', body, re.DOTALL)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


async def _audit(web: ChatApp, action: str) -> list[AuditLog]:
    async with web.sessions() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == action)))


async def test_the_care_coordinator_sees_the_page_with_its_flag_and_the_view_is_audited(
    web: ChatApp, world: World
) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/trajectories/{world.trajectory_id}")
    assert page.status == 200
    assert "Trajectory of Noor Bremhorst" in page.text
    assert "Rustig blijven in de les" in page.text  # the goals
    assert 'data-flag="evaluation_missed"' in page.body
    assert [f.button for f in page.forms].count("Mark as held") == 1
    assert page.form("Save the plan")
    assert f'href="/trajectories/{world.trajectory_id}/close"' in page.body
    # The line under the title: each "·" stands between spaces ("Mentor: … · Coach: …").
    meta = _meta_line(page.body)
    assert "Mentor: " in meta
    assert "Coach: " in meta
    assert re.findall(r"\S·|·\S", meta) == [], meta
    views = await _audit(web, "trajectory.view")
    assert [v.subject_id for v in views] == [world.trajectory_id]
    listing = await zoco.get("/trajectories")
    assert "Evaluation of" in listing.text  # the flag is visible in the list too


async def test_another_schools_trajectory_and_an_unknown_id_look_the_same(
    web: ChatApp, world: World
) -> None:
    stranger = await log_in(web, "elders-coach", OTHER_PASSWORD)
    theirs = await stranger.get(f"/trajectories/{world.trajectory_id}")
    unknown = await stranger.get("/trajectories/999999")
    assert theirs.status == unknown.status == 404
    assert "Noor" not in theirs.text
    same = "/trajectories/X"
    assert theirs.body.replace(f"/trajectories/{world.trajectory_id}", same) == (
        unknown.body.replace("/trajectories/999999", same)
    )
    response = await stranger.post(
        f"/trajectories/{world.trajectory_id}/logbook",
        {"csrf_token": _csrf(theirs), "text": "Niet van mijn school."},
    )
    assert response.status_code == 404
    async with web.sessions() as session:
        assert await session.scalar(select(LogbookEntry.id)) is None


def _csrf(page: Page) -> str:
    forms = [f for f in page.forms if "csrf_token" in f.fields and f.action == "/logout"]
    assert forms, "the page has no logout form with the session's token"
    return forms[0].fields["csrf_token"]


async def test_a_coach_writes_the_logbook_and_the_plan_but_cannot_close(
    web: ChatApp, world: World
) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get(f"/trajectories/{world.trajectory_id}")
    assert page.status == 200
    # The plan is made at the intake, by the coach or the care coordinator (issue 11).
    assert "Save the plan" in [f.button for f in page.forms]
    assert "/close" not in page.body
    await coach.submit(page.form("Add to the logbook"), text="Goed gesprek over de toetsweek.")
    assert coach.page is not None
    assert "The logbook entry has been saved." in coach.page.text
    assert "Goed gesprek over de toetsweek." in coach.page.text
    token = _csrf(coach.page)
    plan = await coach.post(
        f"/trajectories/{world.trajectory_id}/plan",
        {
            "csrf_token": token,
            "goals": "Iets anders proberen dan eerst.",
            "start": "2026-03-02",
            "end": "2026-06-26",
            "coach": str(world.coach_id),
        },
    )
    assert plan.status_code == 303
    closing = await coach.post(
        f"/trajectories/{world.trajectory_id}/close",
        {"csrf_token": token, "advice": "Vaste plek vooraan.", "final_evaluation": "Gehaald."},
    )
    assert closing.status_code == 403
    async with web.sessions() as session:
        trajectory = await session.get(Trajectory, world.trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.ACTIVE
    added = await _audit(web, "logbook.add")
    assert len(added) == 1
    assert "toetsweek" not in str(added[0].details)


async def test_a_bad_plan_shows_each_problem_and_keeps_what_was_typed(
    web: ChatApp, world: World
) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/trajectories/{world.trajectory_id}")
    form = page.form("Save the plan")
    response = await zoco.submit(
        form,
        goals="Kort",
        start="2026-03-09",
        end="2026-03-01",
        timeouts_per_week="12",
    )
    assert response.status_code == 422
    assert zoco.page is not None
    again = zoco.page
    assert 'id="goals-problem"' in again.body
    assert 'id="end-problem"' in again.body
    assert 'id="timeouts-problem"' in again.body
    assert "The end date must be on or after the start date." in again.text
    kept = again.form("Save the plan").fields
    assert (kept["goals"], kept["start"], kept["end"], kept["timeouts_per_week"]) == (
        "Kort",
        "2026-03-09",
        "2026-03-01",
        "12",
    )
    async with web.sessions() as session:
        trajectory = await session.get(Trajectory, world.trajectory_id)
        assert trajectory is not None
        assert trajectory.end_date == date(2026, 6, 26)  # nothing changed

    goals = "Twee keer per week een gesprek; rustig blijven in de les."
    response = await zoco.submit(
        again.form("Save the plan"),
        goals=goals,
        start="2026-03-02",
        end="2026-05-29",
        timeouts_per_week="1",
    )
    assert response.status_code == 303
    assert zoco.page is not None
    assert "The plan has been saved." in zoco.page.text
    assert goals in zoco.page.text
    assert [a.subject_id for a in await _audit(web, "trajectory.plan")] == [world.trajectory_id]


async def test_an_empty_logbook_entry_is_refused_with_a_reason(web: ChatApp, world: World) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get(f"/trajectories/{world.trajectory_id}")
    response = await coach.submit(page.form("Add to the logbook"), text="   ")
    assert response.status_code == 422
    assert coach.page is not None
    assert 'id="logbook-problem"' in coach.page.body
    assert "too short" in coach.page.text
    async with web.sessions() as session:
        assert await session.scalar(select(LogbookEntry.id)) is None


async def test_forms_without_the_sessions_token_change_nothing(web: ChatApp, world: World) -> None:
    zoco = await log_in(web, "zoco")
    for path, data in (
        ("logbook", {"text": "Zonder token."}),
        (f"evaluations/{world.evaluation_id}/held", {}),
        ("close", {}),
    ):
        response = await zoco.post(
            f"/trajectories/{world.trajectory_id}/{path}", {**data, "csrf_token": "forged"}
        )
        assert response.status_code == 403
    async with web.sessions() as session:
        assert await session.scalar(select(LogbookEntry.id)) is None
        evaluation = await session.get(TrajectoryEvaluation, world.evaluation_id)
        assert evaluation is not None
        assert evaluation.held_on is None
        trajectory = await session.get(Trajectory, world.trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.ACTIVE


async def test_marking_the_evaluation_held_clears_the_flag(web: ChatApp, world: World) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get(f"/trajectories/{world.trajectory_id}")
    assert 'data-flag="evaluation_missed"' in page.body
    response = await coach.submit(page.form("Mark as held"))
    assert response.status_code == 303
    assert coach.page is not None
    assert "The evaluation has been marked as held." in coach.page.text
    assert 'data-flag="evaluation_missed"' not in coach.page.body
    assert "Mark as held" not in [f.button for f in coach.page.forms]


async def test_closing_asks_for_confirmation_and_starts_the_exit_questionnaire(
    web: ChatApp, world: World
) -> None:
    zoco = await log_in(web, "zoco")
    confirm = await zoco.get(f"/trajectories/{world.trajectory_id}/close")
    assert confirm.status == 200
    assert "Close the trajectory of Noor Bremhorst?" in confirm.text
    async with web.sessions() as session:  # showing the question closes nothing
        trajectory = await session.get(Trajectory, world.trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.ACTIVE
    # Closing needs the final evaluation and the advice for the school (issue 11).
    refused = await zoco.submit(confirm.form("Yes, close the trajectory"), advice="Kort")
    assert refused.status_code == 409
    assert zoco.page is not None
    assert "final evaluation" in zoco.page.text
    async with web.sessions() as session:
        trajectory = await session.get(Trajectory, world.trajectory_id)
        assert trajectory is not None
        assert trajectory.status is TrajectoryStatus.ACTIVE
    response = await zoco.submit(
        zoco.page.form("Yes, close the trajectory"),
        final_evaluation="De doelen zijn gehaald; ze vraagt zelf op tijd om hulp.",
        advice="Vaste plek vooraan en vooraf duidelijke afspraken over pauzes.",
    )
    assert response.status_code == 303
    assert zoco.page is not None
    closed = zoco.page
    assert "The trajectory has been closed" in closed.text
    assert 'data-status="closed"' in closed.body
    assert 'data-respondent="student" data-state="open"' in closed.body
    assert 'data-respondent="parent" data-state="open"' in closed.body
    assert 'data-respondent="teacher" data-state="open"' in closed.body
    assert "Add to the logbook" not in [f.button for f in closed.forms]
    assert 'data-flag="' not in closed.body  # a closed trajectory has no flags
    assert "Vaste plek vooraan en vooraf duidelijke afspraken over pauzes." in closed.text
    assert "De doelen zijn gehaald" in closed.text  # the final evaluation's notes
    again = await zoco.post(
        f"/trajectories/{world.trajectory_id}/close", {"csrf_token": _csrf(closed)}
    )
    assert again.status_code == 409
    assert again.text.count("This trajectory is already closed.") == 1  # said once
    shown = await zoco.get(f"/trajectories/{world.trajectory_id}/close")
    assert shown.text.count("This trajectory is already closed.") == 1


async def test_the_page_says_when_an_adult_student_decides_about_their_parents(
    web: ChatApp, world: World
) -> None:
    """Age 18: staff read that the student decides, and since when parents no longer see."""
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/trajectories/{world.trajectory_id}")
    assert 'id="adult-notice"' not in page.body  # no birth date: nothing to say

    async def set_student(**values: object) -> None:
        async with web.sessions() as session, session.begin():
            trajectory = await session.get_one(Trajectory, world.trajectory_id)
            student = await session.get_one(Person, trajectory.student_id)
            for key, value in values.items():
                setattr(student, key, value)

    await set_student(birth_date=date(2006, 1, 15))  # 20 on the page's clock
    page = await zoco.get(f"/trajectories/{world.trajectory_id}")
    assert 'id="adult-notice"' in page.body
    assert "their own consent is enough" in page.text
    await set_student(parents_access_withdrawn_at=NOW, parents_access_answered_at=NOW)
    page = await zoco.get(f"/trajectories/{world.trajectory_id}")
    assert "no longer see their support" in page.text
    assert "do not share details with the parents" in page.text
