"""The coach's day over HTTP (httpx, in-process; issue 14.2): the coach sees their own
agenda of today and this week (not another coach's), marks attendance with one form (the
service of the Telegram buttons, re-checked), writes the logbook from a row; a care
coordinator reads a chosen coach's agenda; a mentor is refused; another school's ids are 404."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.demo.school import DEMO_PASSWORD
from storage.models import Appointment, AppointmentStatus, AuditLog, LogbookEntry
from tests.support.coach_day_world import (
    CLOCK,
    OTHER_PASSWORD,
    CoachDayWorld,
    build_coach_day_world,
)
from tests.web.chat_client import ChatApp, ChatUser, Page, chat_app


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> CoachDayWorld:
    del engine
    return await build_coach_day_world(session)


@pytest.fixture
async def web(world: CoachDayWorld, database_url: str) -> AsyncIterator[ChatApp]:
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


def _csrf(page: Page) -> str:
    forms = [f for f in page.forms if "csrf_token" in f.fields and f.action == "/logout"]
    assert forms, "the page has no logout form with the session's token"
    return forms[0].fields["csrf_token"]


async def _status(web: ChatApp, appointment_id: int) -> AppointmentStatus:
    async with web.sessions() as session:
        row = await session.get(Appointment, appointment_id)
        assert row is not None
        return row.status


async def test_the_coach_sees_only_their_own_day_and_week(
    web: ChatApp, world: CoachDayWorld
) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get("/day")
    assert page.status == 200
    assert "Today, Monday, March 2" in page.text  # Babel, school time
    for own in (world.started, world.later, world.late_cancelled, world.room):
        assert f'data-appointment="{own}"' in page.body
    assert f'data-appointment="{world.others}"' not in page.body  # another coach's talk
    assert "Daan" not in page.text
    assert "Noor Bremhorst" in page.text
    assert "cancelled at short notice" in page.text
    assert "in the room" in page.text
    # Attended / no-show only where the service would accept them: the started talk.
    marks = [f.action for f in page.forms if f.action.endswith("/attendance")]
    assert marks == [f"/day/{world.started}/attendance"] * 2
    # A coach asking for another coach's agenda gets their own.
    theirs = await coach.get(f"/day?coach={world.other_coach_id}")
    assert f'data-appointment="{world.others}"' not in theirs.body
    assert f'data-appointment="{world.started}"' in theirs.body


async def test_attended_in_one_tap_then_the_logbook_from_the_row(
    web: ChatApp, world: CoachDayWorld
) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get("/day")
    await coach.submit(page.form("Attended", f"/day/{world.started}/"))
    assert coach.page is not None
    assert "Marked as attended." in coach.page.text
    assert await _status(web, world.started) is AppointmentStatus.ATTENDED
    await coach.submit(
        coach.page.form("Add to the logbook", f"/day/{world.started}/"),
        text="Goed gesprek\u202e over de toetsweek.",
    )
    assert coach.page is not None
    assert "The logbook entry has been saved." in coach.page.text
    async with web.sessions() as session:
        entries = list(await session.scalars(select(LogbookEntry)))
    assert [(e.trajectory_id, e.text) for e in entries] == [
        (world.trajectory_id, "Goed gesprek over de toetsweek.")  # the bidi control stripped
    ]
    trajectory = await coach.get(f"/trajectories/{world.trajectory_id}")
    assert "Goed gesprek over de toetsweek." in trajectory.text
    async with web.sessions() as session:
        actions = [a.action for a in await session.scalars(select(AuditLog))]
    assert "appointment.attendance" in actions
    assert "logbook.add" in actions


async def test_refusals_are_rechecked_on_the_server(web: ChatApp, world: CoachDayWorld) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get("/day")
    token = _csrf(page)
    # Not started yet: the page offers no buttons, and a forged post is refused kindly.
    early = await coach.post(
        f"/day/{world.later}/attendance", {"csrf_token": token, "mark": "attended"}
    )
    assert early.status_code == 409
    assert "once the appointment has started" in early.text
    assert await _status(web, world.later) is AppointmentStatus.CONFIRMED
    # Another coach's appointment of the same school, another school's, an unknown id: 404.
    for appointment_id in (world.others, world.elsewhere, 999_999):
        for path, data in (
            ("attendance", {"mark": "attended"}),
            ("logbook", {"text": "Niet van mij."}),
        ):
            response = await coach.post(
                f"/day/{appointment_id}/{path}", {"csrf_token": token, **data}
            )
            assert response.status_code == 404, (appointment_id, path)
    assert await _status(web, world.others) is AppointmentStatus.CONFIRMED
    # Without the CSRF token nothing happens.
    forged = await coach.post(f"/day/{world.started}/attendance", {"mark": "no_show"})
    assert forged.status_code in (400, 403)
    assert await _status(web, world.started) is AppointmentStatus.CONFIRMED
    # Too long: shown at the row with the text kept, nothing written.
    long = await coach.post(
        f"/day/{world.started}/logbook", {"csrf_token": token, "text": "x" * 2001}
    )
    assert long.status_code == 422
    assert "That is too long" in long.text
    async with web.sessions() as session:
        assert await session.scalar(select(LogbookEntry.id)) is None


async def test_a_care_coordinator_reads_a_chosen_coachs_day(
    web: ChatApp, world: CoachDayWorld
) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/day?coach={world.other_coach_id}")
    assert page.status == 200
    assert f'data-appointment="{world.others}"' in page.body
    assert f'data-appointment="{world.started}"' not in page.body
    assert not [f for f in page.forms if f.action.startswith("/day/")]  # read-only
    mine = await zoco.get(f"/day?coach={world.coach_id}")
    assert f'data-appointment="{world.started}"' in mine.body
    far = await zoco.get(f"/day?coach={world.elsewhere_coach_id}")
    assert far.status == 404
    assert "Ruud" not in far.text


async def test_a_mentor_or_parent_without_a_staff_login_and_an_administrator_are_refused(
    web: ChatApp, world: CoachDayWorld
) -> None:
    # Mentors and parents have no web account (only the chat): /day asks for a staff login.
    nobody = web.user()
    refused = await nobody.client.get("/day")
    assert refused.status_code in (303, 307, 401)
    assert "Noor" not in refused.text
    posted = await nobody.client.post(f"/day/{world.started}/attendance", data={"mark": "attended"})
    assert posted.status_code in (303, 307, 401, 403)
    admin = await log_in(web, "admin")
    page = await admin.get("/day")
    assert page.status == 403
    assert "Noor" not in page.text
    assert await _status(web, world.started) is AppointmentStatus.CONFIRMED


async def test_another_schools_coach_sees_nothing_of_ours(
    web: ChatApp, world: CoachDayWorld
) -> None:
    stranger = await log_in(web, "elders-coach", OTHER_PASSWORD)
    page = await stranger.get("/day")
    assert page.status == 200
    assert "Noor" not in page.text
    assert f'data-appointment="{world.elsewhere}"' in page.body
    ours = await stranger.get(f"/day?coach={world.coach_id}")
    assert ours.status == 404
    assert "Noor" not in ours.text
