"""Recording what the indicators count, over HTTP (issues 14 and 15): observations in class
and teacher support (request, then record), OPP / TLV / long-term absence, afstroom and VAVO
at closing, and the admin's targets and visitation reports; who may do which."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage.models import (
    ActivityKind,
    AuditLog,
    IndicatorTarget,
    ObservationAim,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    TeacherSupportKind,
    VisitationReport,
)
from tests.web import test_trajectory_page as trajectory_page
from tests.web.chat_client import ChatApp
from tests.web.test_trajectory_page import World, log_in

# The trajectory page's fixtures: the demo school with an active trajectory, the app.
world = trajectory_page.world
web = trajectory_page.web

RECORD = "Record"
CLOSING_DAY = date(2026, 3, 2)


async def test_a_coach_asks_for_an_observation_and_records_it_with_its_outcome(
    web: ChatApp, world: World
) -> None:
    coach = await log_in(web, "coach")
    trajectory = await coach.get(f"/trajectories/{world.trajectory_id}")
    assert f'href="/trajectories/{world.trajectory_id}/records"' in trajectory.body
    page = await coach.get(f"/trajectories/{world.trajectory_id}/records")
    assert page.status == 200
    # A coach records observations and support, not OPP / TLV / absence.
    assert 'id="event-form"' not in page.body
    response = await coach.submit(
        page.form("Save the request"), kind=ActivityKind.CLASS_OBSERVATION.value
    )
    assert response.status_code == 303
    assert coach.page is not None
    assert "requested, not held yet" in coach.page.text
    async with web.sessions() as session:
        (request,) = await session.scalars(select(SupportActivity))
        assert request.held_on is None
    response = await coach.submit(
        coach.page.form(RECORD, f"/trajectories/{world.trajectory_id}/records/activity"),
        kind=ActivityKind.CLASS_OBSERVATION.value,
        activity_id=str(request.id),
        held_on="2026-02-27",
        performer=str(world.coach_id),
        aim=ObservationAim.CLASS.value,
        outcome="Onrustig begin van de les; vaste plek helpt.",
    )
    assert response.status_code == 303
    assert coach.page is not None
    assert "Onrustig begin van de les" in coach.page.text
    async with web.sessions() as session:
        (held,) = await session.scalars(select(SupportActivity))
        assert (held.id, held.held_on, held.aim, held.performer_id) == (
            request.id,
            date(2026, 2, 27),
            ObservationAim.CLASS,
            world.coach_id,
        )
        actions = set(await session.scalars(select(AuditLog.action)))
    assert {"class_observation.request", "class_observation.record"} <= actions


async def test_teacher_support_needs_its_kind_and_an_outcome(web: ChatApp, world: World) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get(f"/trajectories/{world.trajectory_id}/records")
    form = page.form(RECORD, f"/trajectories/{world.trajectory_id}/records/activity")
    fields = {
        "kind": ActivityKind.TEACHER_SUPPORT.value,
        "held_on": "2026-03-02",
        "performer": str(world.coach_id),
        "outcome": "Sparren over rust in de klas.",
    }
    refused = await coach.submit(form, **fields)
    assert refused.status_code == 422
    assert coach.page is not None
    assert "Choose the kind of support." in coach.page.text
    future = await coach.submit(
        form, **{**fields, "held_on": "2026-03-03"}, support_kind=TeacherSupportKind.SPARRING.value
    )
    assert future.status_code == 422
    done = await coach.submit(form, **fields, support_kind=TeacherSupportKind.SPARRING.value)
    assert done.status_code == 303
    async with web.sessions() as session:
        (support,) = await session.scalars(select(SupportActivity))
        assert support.kind is ActivityKind.TEACHER_SUPPORT
        assert support.support_kind is TeacherSupportKind.SPARRING


async def test_the_care_coordinator_records_opp_tlv_and_absence(web: ChatApp, world: World) -> None:
    zoco = await log_in(web, "zoco")
    page = await zoco.get(f"/trajectories/{world.trajectory_id}/records")
    form = page.form(RECORD, f"/trajectories/{world.trajectory_id}/records/event")
    for kind, on_day, until in (
        (StudentEventKind.OPP, "2026-01-12", ""),
        (StudentEventKind.TLV_REQUESTED, "2026-02-02", ""),
        (StudentEventKind.LONG_ABSENCE, "2026-01-05", "2026-02-06"),
    ):
        response = await zoco.submit(form, kind=kind.value, on_day=on_day, until=until)
        assert response.status_code == 303, kind
    # The same event on the same day once; an absence cannot end before it starts.
    again = await zoco.submit(form, kind=StudentEventKind.OPP.value, on_day="2026-01-12")
    assert again.status_code == 422
    backwards = await zoco.submit(
        form, kind=StudentEventKind.LONG_ABSENCE.value, on_day="2026-02-10", until="2026-02-01"
    )
    assert backwards.status_code == 422
    # Afstroom is recorded at closing, not here.
    outflow = await zoco.submit(form, kind=StudentEventKind.OUTFLOW.value, on_day="2026-01-12")
    assert outflow.status_code == 404
    async with web.sessions() as session:
        events = list(await session.scalars(select(StudentEvent).order_by(StudentEvent.on_day)))
    assert [(e.kind, e.on_day, e.until, e.source) for e in events] == [
        (StudentEventKind.LONG_ABSENCE, date(2026, 1, 5), date(2026, 2, 6), StudentEventSource.WEB),
        (StudentEventKind.OPP, date(2026, 1, 12), None, StudentEventSource.WEB),
        (StudentEventKind.TLV_REQUESTED, date(2026, 2, 2), None, StudentEventSource.WEB),
    ]


async def test_a_coach_cannot_record_opp_and_another_school_sees_nothing(
    web: ChatApp, world: World
) -> None:
    coach = await log_in(web, "coach")
    page = await coach.get(f"/trajectories/{world.trajectory_id}/records")
    token = page.form("Save the request").fields["csrf_token"]
    refused = await coach.post(
        f"/trajectories/{world.trajectory_id}/records/event",
        {"csrf_token": token, "kind": "opp", "on_day": "2026-01-12"},
    )
    assert refused.status_code == 403
    stranger = await log_in(web, "elders-coach", "another-schools-password")
    hidden = await stranger.get(f"/trajectories/{world.trajectory_id}/records")
    assert hidden.status == 404
    async with web.sessions() as session:
        assert list(await session.scalars(select(StudentEvent))) == []


async def test_closing_with_afstroom_and_vavo_records_them(web: ChatApp, world: World) -> None:
    zoco = await log_in(web, "zoco")
    confirm = await zoco.get(f"/trajectories/{world.trajectory_id}/close")
    assert 'name="outflow"' in confirm.body
    assert 'name="vavo"' in confirm.body
    form = confirm.form("Yes, close the trajectory")
    fields = {k: v for k, v in form.fields.items() if k not in {"outflow", "vavo"}}
    form.fields = fields
    response = await zoco.submit(
        form,
        final_evaluation="Doelen gehaald.",
        advice="Vaste plek vooraan.",
        outflow="yes",
        vavo="yes",
    )
    assert response.status_code == 303
    async with web.sessions() as session:
        events = list(await session.scalars(select(StudentEvent).order_by(StudentEvent.kind)))
    assert [(e.kind, e.on_day, e.source, e.trajectory_id) for e in events] == [
        (
            StudentEventKind.OUTFLOW,
            date(2026, 3, 2),
            StudentEventSource.CLOSING,
            world.trajectory_id,
        ),
        (StudentEventKind.VAVO, date(2026, 3, 2), StudentEventSource.CLOSING, world.trajectory_id),
    ]


async def test_closing_without_the_ticks_records_no_afstroom(web: ChatApp, world: World) -> None:
    zoco = await log_in(web, "zoco")
    confirm = await zoco.get(f"/trajectories/{world.trajectory_id}/close")
    form = confirm.form("Yes, close the trajectory")
    form.fields = {k: v for k, v in form.fields.items() if k not in {"outflow", "vavo"}}
    response = await zoco.submit(
        form, final_evaluation="Doelen gehaald.", advice="Vaste plek vooraan."
    )
    assert response.status_code == 303
    async with web.sessions() as session:
        assert list(await session.scalars(select(StudentEvent))) == []


async def test_the_admin_sets_targets_and_records_a_visitation(web: ChatApp, world: World) -> None:
    del world
    admin = await log_in(web, "admin")
    page = await admin.get("/indicators/targets?year=2025")
    assert page.status == 200
    assert "Targets for the school year 2025-2026" in page.text
    form = page.form("Save the targets")
    bad = await admin.submit(form, target_opp_share="120")
    assert bad.status_code == 422
    response = await admin.submit(
        form, target_referred_share="5", target_tlv_requested_share="0,2", target_opp_share=""
    )
    assert response.status_code == 303
    async with web.sessions() as session:
        targets = {
            (t.school_year, t.indicator): t.target
            for t in await session.scalars(select(IndicatorTarget))
        }
    assert targets == {(2025, "referred_share"): 5.0, (2025, "tlv_requested_share"): 0.2}
    assert admin.page is not None
    visit = admin.page.form("Save the report")
    response = await admin.submit(
        visit,
        held_on="2026-02-20",
        summary="Visitatie: zorgstructuur besproken.",
        link="https://example.org/verslag",
    )
    assert response.status_code == 303
    assert admin.page is not None
    assert "Visitatie: zorgstructuur besproken." in admin.page.text
    async with web.sessions() as session:
        (report,) = await session.scalars(select(VisitationReport))
        assert report.held_on == date(2026, 2, 20)


async def test_only_the_admin_sets_targets(web: ChatApp, world: World) -> None:
    del world
    zoco = await log_in(web, "zoco")
    refused = await zoco.get("/indicators/targets")
    assert refused.status == 403
    viewer = await log_in(web, "swv")
    assert (await viewer.get("/indicators/targets")).status == 403
