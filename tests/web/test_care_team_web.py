"""The care team on the web (issue 15): a care coordinator plans a meeting, puts a referral on
its agenda with a question, prints the agenda and records the team's advice and decision; the
referral page shows it, the mentor is told. Closing a trajectory invites the teachers picked
on the closing form (teachers of that school only, checked again by the server)."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.outbox.kinds import OutboxKind
from storage.models import (
    CareTeamCase,
    CareTeamDecision,
    Outbox,
    Person,
    QueueStatus,
    RespondentType,
    SurveyInvitation,
    Trajectory,
    TrajectoryStatus,
    WaitingReason,
)
from tests.support.factories import add_trajectory
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, Browser, StaffWorld

QUESTION = "Is de trajectvoorziening passend, of eerst een observatie in de klas?"
ADVICE = "Start in de trajectvoorziening met een observatie in de eerste week."


def _main(page: str) -> str:
    return re.sub(r"\s+", " ", page[page.index("<main") : page.index("</main>")])


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def _planned(zoco: Browser) -> str:
    await zoco.get("/care-team")
    planned = await zoco.post("/care-team/meetings", {"held_on": "2026-03-09"})
    assert planned.status_code == 303
    location = planned.headers["location"]
    assert re.fullmatch(r"/care-team/\d+\?done=planned", location)
    return location.split("?")[0]


async def test_a_referral_goes_on_the_agenda_and_gets_the_teams_advice(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    listing = await zoco.get("/care-team")
    assert listing.status_code == 200
    assert 'href="/care-team"' in listing.text  # in the navigation
    agenda_path = await _planned(zoco)
    page = await zoco.get(agenda_path)
    main = _main(zoco.text)
    assert "Care team meeting of" in main
    assert "No referrals on this agenda yet." in main
    assert f'<option value="{demo.item_id}">Noor Bremhorst' in page.text

    # A question too short is refused, kept in the box.
    refused = await zoco.post(
        f"{agenda_path}/cases", {"queue_item": str(demo.item_id), "question": "Ok"}
    )
    assert refused.status_code == 422
    assert "That is too short" in zoco.text
    added = await zoco.post(
        f"{agenda_path}/cases", {"queue_item": str(demo.item_id), "question": QUESTION}
    )
    assert added.status_code == 303
    item = await demo.item()
    assert (item.status, item.waiting_reason) == (QueueStatus.WAITING, WaitingReason.CARE_TEAM)

    page = await zoco.get(agenda_path)
    main = _main(zoco.text)
    # The essentials of the referral, the question, and the print stylesheet.
    assert "Noor Bremhorst" in main
    assert "Anouk Klasema" in main  # the mentor
    assert "Ik wil rustiger worden in de klas." in main
    assert QUESTION in main
    assert '<link rel="stylesheet" href="/static/care_team.css">' in page.text
    css = await zoco.get("/static/care_team.css")
    assert "@media print" in css.text
    assert "header.top" in css.text
    await zoco.get(agenda_path)

    async with demo.app.sessions() as session:
        case_id = await session.scalar(select(CareTeamCase.id))
    assert case_id is not None
    no_decision = await zoco.post(
        f"{agenda_path}/cases/{case_id}/advice", {"advice": ADVICE, "decision": "maybe"}
    )
    assert no_decision.status_code == 422
    assert ADVICE in zoco.text  # kept
    done = await zoco.post(
        f"{agenda_path}/cases/{case_id}/advice",
        {"advice": ADVICE, "decision": CareTeamDecision.TRAJECTORY.value},
    )
    assert done.status_code == 303
    await zoco.get(agenda_path)
    main = _main(zoco.text)
    assert 'data-decision="trajectory"' in main
    assert "Accept the referral and plan the intake." in main
    item = await demo.item()
    assert item.status is QueueStatus.IN_PROGRESS

    # The referral page shows the care team's discussion.
    await zoco.get(f"/queue/{demo.item_id}")
    main = _main(zoco.text)
    assert "care-team-cases" in main
    assert ADVICE in main
    assert "help from the support room" in main
    # The mentor is told, by the outbox (ids and the decision code only).
    async with demo.app.sessions() as session:
        told = list(
            await session.scalars(
                select(Outbox).where(Outbox.kind == OutboxKind.REFERRAL_CARE_TEAM)
            )
        )
    assert [row.recipient_id for row in told] == [demo.ids["mentor1"]]
    assert len(await demo.audit("care_team.advice")) == 1


async def test_others_cannot_see_or_change_the_agenda(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    agenda_path = await _planned(zoco)
    # Without the CSRF token: refused.
    forged = await zoco.post(
        f"{agenda_path}/cases",
        {"queue_item": str(demo.item_id), "question": QUESTION},
        token=False,
    )
    assert forged.status_code == 403
    # Another school's referral cannot be put on this agenda.
    other = await zoco.post(
        f"{agenda_path}/cases", {"queue_item": str(demo.other_item_id), "question": QUESTION}
    )
    assert other.status_code == 404
    # Another school's coordinator: the meeting does not exist for them.
    stranger = await browsers()
    assert (await stranger.log_in("zoco-zuid", OTHER_PASSWORD)).status_code == 303
    assert (await stranger.get(agenda_path)).status_code == 404
    # A coach is no care coordinator.
    coach = await browsers()
    assert (await coach.log_in("coach")).status_code == 303
    assert (await coach.get("/care-team")).status_code in (403, 404)


async def test_closing_invites_the_teachers_picked_on_the_form(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    async with demo.app.sessions() as session, session.begin():
        mentor = await session.get_one(Person, demo.ids["mentor1"])
        first = await add_trajectory(
            session, mentor, await session.get_one(Person, demo.ids["lln05"])
        )
        second = await add_trajectory(
            session, mentor, await session.get_one(Person, demo.ids["lln06"])
        )
    zoco = await _zoco(browsers)
    confirm = await zoco.get(f"/trajectories/{first.id}/close")
    assert confirm.status_code == 200
    teacher_id = demo.ids["mentor2"]
    assert f'<option value="{teacher_id}">Ruben Lesterhuis</option>' in confirm.text
    # No one of another school is offered (their names are "Test Persoon-<id>"; a bare "z2"
    # would also match the page's random CSRF token now and then).
    assert "Persoon-" not in confirm.text
    fields = {
        "final_evaluation": "De doelen zijn gehaald.",
        "advice": "Vaste plek vooraan in de klas.",
    }
    closed = await zoco.post(
        f"/trajectories/{first.id}/close", {**fields, "teachers": [str(teacher_id)]}
    )
    assert closed.status_code == 303
    async with demo.app.sessions() as session:
        invited = {
            (row.respondent_id, row.respondent_type)
            for row in await session.scalars(
                select(SurveyInvitation).where(SurveyInvitation.trajectory_id == first.id)
            )
        }
    assert (teacher_id, RespondentType.TEACHER) in invited
    assert (demo.ids["mentor1"], RespondentType.TEACHER) in invited

    # A forged pick (a student of the school) is refused again on the server: nothing closed.
    await zoco.get(f"/trajectories/{second.id}/close")
    refused = await zoco.post(
        f"/trajectories/{second.id}/close", {**fields, "teachers": [str(demo.ids["lln01"])]}
    )
    assert refused.status_code == 409
    assert "Please pick only teachers of this school." in zoco.text
    async with demo.app.sessions() as session:
        trajectory = await session.get_one(Trajectory, second.id)
    assert trajectory.status is not TrajectoryStatus.CLOSED
