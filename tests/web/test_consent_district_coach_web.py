"""Issue 15 over HTTP: the referral page shows and records consent (the care coordinator
records and withdraws it later), and the district coach's access — refused without consent,
refused for a case they were not asked in on, allowed after both, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import create_demo_data
from storage.models import AuditLog, Consent, DistrictCoachRequest, LogbookEntry, QueueItem, Role
from tests.support.factories import NOW, add_person, add_school, add_trajectory
from tests.support.units import unit
from tests.web.chat_client import ChatApp, ChatUser, Page, chat_app
from tests.web.test_trajectory_page import log_in

CLOCK = NOW + timedelta(hours=1)
DISTRICT_PASSWORD = "district-coach-password"


@dataclass
class World:
    trajectory_id: int
    item_id: int
    referral_id: int
    other_trajectory_id: int
    student_id: int
    parent_id: int
    district_coach_id: int


@pytest.fixture
async def world(engine: AsyncEngine, session: AsyncSession) -> World:
    """The demo school with trajectories of lln02 (parent ouder2) and lln03; a district coach
    registered at another school of the partnership, with a web account."""
    del engine
    await unit(session, create_demo_data, if_empty=True)
    async with session.begin():
        school = await find_school(session=session, code="demo")
        people = {}
        for external_id in ("lln02", "lln03", "mentor1", "ouder2"):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            people[external_id] = person
        trajectory = await add_trajectory(session, people["mentor1"], people["lln02"])
        other = await add_trajectory(session, people["mentor1"], people["lln03"])
        item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == trajectory.referral_id)
        )
        assert item_id is not None
        elsewhere = await add_school(session, "swv-bureau")
        district = await add_person(session, elsewhere, "d1", Role.DISTRICT_COACH)
        await create_staff_account(
            session=session,
            person=district,
            username="district",
            password_hash=hash_password(DISTRICT_PASSWORD),
            now=NOW,
        )
        await session.flush()
        return World(
            trajectory.id,
            item_id,
            trajectory.referral_id,
            other.id,
            people["lln02"].id,
            people["ouder2"].id,
            district.id,
        )


@pytest.fixture
async def web(world: World, database_url: str) -> AsyncIterator[ChatApp]:
    del world
    async with chat_app(database_url, CLOCK) as running:
        yield running


def _csrf(page: Page) -> str:
    forms = [f for f in page.forms if "csrf_token" in f.fields and f.action == "/logout"]
    assert forms
    return forms[0].fields["csrf_token"]


async def _record(zoco: ChatUser, world: World, giver: int, purpose: str) -> int:
    page = await zoco.get(f"/queue/{world.item_id}")
    response = await zoco.post(
        f"/referrals/{world.referral_id}/consent",
        {
            "csrf_token": _csrf(page),
            "item": str(world.item_id),
            "giver": str(giver),
            "purpose": purpose,
        },
    )
    return response.status_code


async def test_the_referral_page_shows_records_and_withdraws_consent(
    web: ChatApp, world: World
) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/queue/{world.item_id}")
    assert page.status == 200
    assert "Consent of parents and student" in page.text
    assert "No consent recorded yet." in page.text
    assert 'data-consent="no"' in page.body
    assert page.form("Record the consent")

    assert await _record(zoco, world, world.student_id, "district_coach") == 303
    assert await _record(zoco, world, world.parent_id, "district_coach") == 303
    page = await zoco.get(f"/queue/{world.item_id}")
    assert "Noor Bremhorst (student): The district coach (from the partnership)" in page.text
    assert "Olena Bremhorst (parent)" in page.text
    assert "recorded by" in page.text
    assert 'data-consent="yes"' in page.body
    # Someone who is not the student or a parent: refused like an unknown id.
    assert await _record(zoco, world, world.district_coach_id, "trajectory") == 404

    async with web.sessions() as session:
        consent_id = await session.scalar(
            select(Consent.id).where(Consent.giver_id == world.parent_id)
        )
    response = await zoco.post(
        f"/referrals/{world.referral_id}/consent/{consent_id}/withdraw",
        {"csrf_token": _csrf(page), "item": str(world.item_id)},
    )
    assert response.status_code == 303
    page = await zoco.get(f"/queue/{world.item_id}")
    assert "withdrawn" in page.text
    assert 'data-consent="no"' in page.body


async def test_a_coach_cannot_record_consent(web: ChatApp, world: World) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get("/trajectories")
    response = await coach.post(
        f"/referrals/{world.referral_id}/consent",
        {
            "csrf_token": _csrf(page),
            "item": str(world.item_id),
            "giver": str(world.student_id),
            "purpose": "trajectory",
        },
    )
    assert response.status_code == 403


async def test_the_district_coach_needs_consent_and_to_be_asked_in(
    web: ChatApp, world: World
) -> None:
    district = await log_in(web, "district", DISTRICT_PASSWORD)
    zoco = await log_in(web, "zoco")
    case = f"/trajectories/{world.trajectory_id}"

    # Without consent and not asked in: nothing.
    assert (await district.get(case)).status == 404
    # Asking in without consent is refused on the page, with the reason.
    page = await zoco.get(case)
    assert "district-coach-needs-consent" in page.body
    response = await zoco.post(
        f"{case}/district-coach",
        {"csrf_token": _csrf(page), "district_coach": str(world.district_coach_id)},
    )
    assert response.status_code == 409
    assert "after the student and a parent have given consent" in response.text

    assert await _record(zoco, world, world.student_id, "district_coach") == 303
    assert await _record(zoco, world, world.parent_id, "district_coach") == 303
    # Consent, but not asked in: still nothing.
    assert (await district.get(case)).status == 404

    page = await zoco.get(case)
    form = page.form("Ask in")
    response = await zoco.submit(form, district_coach=str(world.district_coach_id))
    assert response.status_code == 303

    # Both: the case page (read) and its logbook (write); not the plan, not closing.
    page = await district.get(case)
    assert page.status == 200
    assert "Trajectory of Noor Bremhorst" in page.text
    assert "Save the plan" not in page.text
    assert f'href="{case}/close"' not in page.body
    response = await district.post(
        f"{case}/logbook", {"csrf_token": _csrf(page), "text": "Observatie in de klas gedaan."}
    )
    assert response.status_code == 303
    async with web.sessions() as session:
        author = await session.scalar(select(LogbookEntry.author_id))
    assert author == world.district_coach_id
    page = await district.get(case)
    assert "(District coach)" in page.text

    # A case they were not asked in on, and everything else: refused.
    assert (await district.get(f"/trajectories/{world.other_trajectory_id}")).status == 404
    assert (await district.get(f"/queue/{world.item_id}")).status in (403, 404)
    assert (await district.get("/queue")).status == 403
    assert (await district.get("/trajectories")).status == 403
    assert (await district.get("/indicators")).status == 403
    response = await district.post(
        f"{case}/plan", {"csrf_token": _csrf(page), "goals": "Nieuwe doelen."}
    )
    assert response.status_code == 403
    cases = await district.get("/district-cases")
    assert cases.status == 200
    assert f'data-trajectory="{world.trajectory_id}"' in cases.body
    assert f'data-trajectory="{world.other_trajectory_id}"' not in cases.body


async def test_ending_the_district_coachs_part_ends_their_access(
    web: ChatApp, world: World
) -> None:
    """The care coordinator ends the district coach's part: the case leaves their list and
    their page, the row keeps when it ended, and the audit names who did it."""
    district = await log_in(web, "district", DISTRICT_PASSWORD)
    zoco = await log_in(web, "zoco")
    case = f"/trajectories/{world.trajectory_id}"
    assert await _record(zoco, world, world.student_id, "district_coach") == 303
    assert await _record(zoco, world, world.parent_id, "district_coach") == 303
    response = await zoco.submit(
        (await zoco.get(case)).form("Ask in"), district_coach=str(world.district_coach_id)
    )
    assert response.status_code == 303
    assert (await district.get(case)).status == 200

    # The district coach cannot end it themself; a mentor's or another's press changes nothing.
    page = await district.get(case)
    assert "End their part" not in page.text
    response = await district.post(
        f"{case}/district-coach/end",
        {"csrf_token": _csrf(page), "district_coach": str(world.district_coach_id)},
    )
    assert response.status_code == 403
    assert (await district.get(case)).status == 200

    page = await zoco.get(case)
    response = await zoco.submit(page.form("End their part"))
    assert response.status_code == 303
    page = await zoco.get(response.headers["location"])
    assert "The district coach no longer works on this trajectory." in page.text
    assert "No district coach has been asked in." in page.text
    assert (await district.get(case)).status == 404
    cases = await district.get("/district-cases")
    assert f'data-trajectory="{world.trajectory_id}"' not in cases.body
    # Again: refused with the reason (nothing is asked in any more).
    response = await zoco.post(
        f"{case}/district-coach/end",
        {"csrf_token": _csrf(page), "district_coach": str(world.district_coach_id)},
    )
    assert response.status_code == 409
    assert "This district coach is not asked in on it." in response.text
    async with web.sessions() as session:
        ended = await session.scalar(select(DistrictCoachRequest.ended_at))
        audit = (
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "trajectory.district_coach_end")
            )
        ).one()
    assert ended is not None
    assert audit.details == {"district_coach_id": world.district_coach_id}
