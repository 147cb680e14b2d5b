"""The queue and the referral page on the web: what a care coordinator sees and does, what the
age clock says, who may open what, and what the audit trail records."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from storage.models import (
    BookingSettings,
    Outbox,
    QueueItem,
    QueueStatus,
    Trajectory,
    TrajectoryEvaluation,
    WaitingReason,
)
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import Browser, StaffWorld


def _row(page: str, item_id: int) -> str:
    found = re.search(rf'<tr data-item="{item_id}".*?</tr>', page, re.DOTALL)
    assert found is not None, f"item {item_id} is not listed"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def _count(page: str, status: str) -> int:
    found = re.search(rf'<span class="count" data-status="{status}">(\d+)</span>', page)
    assert found is not None
    return int(found.group(1))


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def test_the_queue_lists_kind_status_assignee_and_age_with_counts(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    demo.clock.advance(timedelta(days=3, hours=2))
    zoco = await _zoco(browsers)
    page = (await zoco.get("/queue")).text
    row = _row(page, demo.item_id)
    assert "Noor Bremhorst" in row
    assert "(2B)" in row
    assert "referral" in row
    assert "new" in row
    assert "nobody yet" in row
    assert "3 days" in row
    # The other school's referral is not in this queue.
    assert f'data-item="{demo.other_item_id}"' not in page
    (viewed,) = await demo.audit("queue.view")
    assert viewed.actor_id == demo.ids["zoco"]
    assert demo.item_id in viewed.details["queue_item_ids"]
    # Each status's count is the number of its items.
    everything = (await zoco.get("/queue?status=all")).text
    listed = re.findall(r'<tr data-item="\d+" data-status="(\w+)"', everything)
    for status in ("new", "in_progress", "waiting", "closed"):
        assert _count(everything, status) == listed.count(status), status
    assert _count(everything, "all") == len(listed)
    assert _count(everything, "open") == len(listed) - listed.count("closed")


async def test_filters_narrow_the_list_and_counts_follow(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    mine = (await zoco.get("/queue?assignee=me")).text
    assert f'data-item="{demo.item_id}"' not in mine
    in_progress = _count(mine, "in_progress")
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    mine = (await zoco.get("/queue?assignee=me")).text
    assert "Marloes Zorgvliet" in _row(mine, demo.item_id)
    assert _count(mine, "in_progress") == in_progress + 1
    unassigned = (await zoco.get("/queue?assignee=none")).text
    assert f'data-item="{demo.item_id}"' not in unassigned
    assert f'data-item="{demo.item_id}"' in (await zoco.get("/queue?urgency=normal")).text
    assert f'data-item="{demo.item_id}"' not in (await zoco.get("/queue?urgency=high")).text
    assert f'data-item="{demo.item_id}"' not in (await zoco.get("/queue?status=closed")).text
    assert f'data-item="{demo.item_id}"' in (await zoco.get("/queue?status=all")).text


async def test_the_age_clock_pauses_while_the_referral_waits_for_the_care_team(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    demo.clock.advance(timedelta(days=2))
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    assert (await zoco.post(f"/queue/{demo.item_id}/care-team")).status_code == 303
    item = await demo.item()
    assert (item.status, item.waiting_reason) == (QueueStatus.WAITING, WaitingReason.CARE_TEAM)
    demo.clock.advance(timedelta(days=7))  # a week on the ZAT's agenda
    await zoco.log_in("zoco")  # the session of a week ago has expired
    row = _row((await zoco.get("/queue")).text, demo.item_id)
    assert "2 days" in row
    assert "waiting for the care team (ZAT)" in row
    await zoco.get(f"/queue/{demo.item_id}")
    assert (await zoco.post(f"/queue/{demo.item_id}/resume")).status_code == 303
    assert (await demo.item()).paused_seconds == 7 * 86_400
    demo.clock.advance(timedelta(days=1))
    await zoco.log_in("zoco")
    assert "3 days" in _row((await zoco.get("/queue")).text, demo.item_id)


async def test_the_referral_page_shows_every_field_and_its_history_and_is_audited(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    answer = await zoco.get(f"/queue/{demo.item_id}")
    assert answer.status_code == 200
    text = zoco.text
    for shown in (
        "Noor Bremhorst",
        "Anouk Klasema",  # the mentor
        "Ik wil rustiger worden in de klas.",
        "Hoe help ik hem bij het plannen?",
        "Vaste plek in de klas, korte gesprekjes na de les.",
        "Duidelijke afspraken vooraf.",
        "Normal (within two weeks)",
        "Support talks (begeleidingsgesprekken)",
        "Time-out moments",
        "Monday",
        "Wednesday",
        "Referred",  # history
    ):
        assert shown in text, shown
    (viewed,) = await demo.audit("referral.view")
    assert (viewed.subject_type, viewed.subject_id) == ("referral", demo.referral_id)
    assert viewed.actor_id == demo.ids["zoco"]


async def test_accepting_with_goals_and_dates_creates_the_trajectory(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    await zoco.get(f"/queue/{demo.item_id}")
    assert 'id="accept-form"' in zoco.text
    answer = await zoco.post(
        f"/queue/{demo.item_id}/accept",
        {
            "goals": "Noor vraagt hulp voordat het misgaat en blijft in de les.",
            "start": "2026-03-09",
            "end": "2026-06-12",
            "evaluation": ["2026-04-17", "", ""],
            "timeouts_in_plan": "1",
            "timeouts_per_week": "1",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/queue/{demo.item_id}?done=accept"
    async with demo.app.sessions() as session:
        trajectory = await session.scalar(
            select(Trajectory).where(Trajectory.referral_id == demo.referral_id)
        )
        assert trajectory is not None
        assert trajectory.goals == "Noor vraagt hulp voordat het misgaat en blijft in de les."
        assert (trajectory.start_date, trajectory.end_date) == (date(2026, 3, 9), date(2026, 6, 12))
        assert (trajectory.timeouts_in_plan, trajectory.timeouts_per_week) == (True, 1)
        due = await session.scalars(
            select(TrajectoryEvaluation.due_on)
            .where(TrajectoryEvaluation.trajectory_id == trajectory.id)
            .order_by(TrajectoryEvaluation.due_on)
        )
        assert list(due) == [date(2026, 4, 17), date(2026, 6, 12)]
        told = await session.scalars(
            select(Outbox.kind).where(Outbox.recipient_id == demo.ids["mentor1"])
        )
        assert "referral.accepted" in list(told)
    page = (await zoco.get(f"/queue/{demo.item_id}?done=accept")).text
    assert "Accepted. The trajectory has been created" in page
    assert f'href="/trajectories/{trajectory.id}"' in page
    listed = (await zoco.get("/trajectories")).text
    assert f'data-trajectory="{trajectory.id}"' in listed
    assert "Noor Bremhorst" in listed
    assert len(await demo.audit("trajectory.list")) == 1


async def test_a_bad_plan_comes_back_with_each_problem_next_to_its_field(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    await zoco.get(f"/queue/{demo.item_id}")
    answer = await zoco.post(
        f"/queue/{demo.item_id}/accept",
        {
            "goals": "Rustig.",
            "start": "2026-06-01",
            "end": "2026-03-01",
            "evaluation": ["2026-07-01", "yesterday", ""],
            "timeouts_per_week": "2",
        },
    )
    assert answer.status_code == 422
    page = zoco.text
    assert re.search(r'id="goals-problem"[^>]*>That is too short', page)
    assert re.search(r'id="end-problem"[^>]*>The end date must be on or after the start', page)
    assert re.search(r'id="evaluations-problem"[^>]*>Enter a date, for example', page)
    # At the form's top an error summary, focused when the page loads (no JavaScript), lists
    # the problems in the form's order, each a link to its field.
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert summary is not None
    assert "autofocus" in summary.group(0).split(">", 1)[0]
    assert "The plan cannot be saved yet:" in summary.group(1)
    links = re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary.group(1))
    assert [field for field, _text in links] == ["goals", "end", "evaluation-1"]
    assert links[0][1].startswith("That is too short")
    for field, _text in links:
        assert f'id="{field}"' in page
    assert page.index('class="error-summary"') < page.index('id="goals"')
    assert ">Rustig.</textarea>" in page  # what was typed is kept
    assert 'value="2026-06-01"' in page
    assert (await demo.item()).status is QueueStatus.IN_PROGRESS
    async with demo.app.sessions() as session:
        created = select(Trajectory.id).where(Trajectory.referral_id == demo.referral_id)
        assert await session.scalar(created) is None


async def test_accepting_a_new_referral_is_refused_with_the_reason(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    assert 'id="accept-form"' not in zoco.text  # not offered before the analysis
    answer = await zoco.post(
        f"/queue/{demo.item_id}/accept",
        {"goals": "Een echt doel voor dit traject.", "start": "2026-03-09", "end": "2026-06-12"},
    )
    assert answer.status_code == 409
    assert "Take this referral in analysis first" in zoco.text
    assert (await demo.item()).status is QueueStatus.NEW


async def test_declining_needs_a_reason_and_keeps_it_internal(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    short = await zoco.post(f"/queue/{demo.item_id}/decline", {"reason": "Nee"})
    assert short.status_code == 422
    assert re.search(r'id="reason-problem"[^>]*>That is too short', zoco.text)
    assert ">Nee</textarea>" in zoco.text
    await zoco.get(f"/queue/{demo.item_id}")
    done = await zoco.post(
        f"/queue/{demo.item_id}/decline", {"reason": "Past beter bij de externe hulpverlening."}
    )
    assert done.status_code == 303
    item = await demo.item()
    assert item.status is QueueStatus.CLOSED
    assert item.decision_reason == "Past beter bij de externe hulpverlening."
    # The line under the title: each "·" stands between spaces ("… · Decision: declined").
    found = re.search(
        r'<p class="meta">(.*?)</p>', (await zoco.get(f"/queue/{demo.item_id}")).text, re.DOTALL
    )
    assert found is not None
    meta = " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())
    assert "Decision: declined" in meta
    assert re.findall(r"\S·|·\S", meta) == [], meta
    (declined,) = await demo.audit("queue.decline")
    assert "externe" not in str(declined.details)


async def test_notes_are_added_and_shown(demo: StaffWorld, browsers: BrowserFactory) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    assert (await zoco.post(f"/queue/{demo.item_id}/notes", {"text": ""})).status_code == 422
    await zoco.get(f"/queue/{demo.item_id}")
    answer = await zoco.post(f"/queue/{demo.item_id}/notes", {"text": "Moeder gebeld."})
    assert answer.status_code == 303
    page = (await zoco.get(f"/queue/{demo.item_id}")).text
    assert "Moeder gebeld." in page
    assert "Note added" in page  # history


async def test_a_coach_of_another_school_gets_the_same_answer_as_for_no_referral(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    coach = await browsers()
    assert (await coach.log_in("coach-zuid", "another-long-password")).status_code == 303
    foreign = await coach.get(f"/queue/{demo.item_id}")
    foreign_text = _main(coach.text)
    missing = await coach.get("/queue/987654")
    assert foreign.status_code == missing.status_code == 404
    assert foreign_text == _main(coach.text)
    assert "Noor" not in foreign_text
    assert await demo.audit("referral.view") == []
    # Neither can the other school's care coordinator.
    zoco_zuid = await browsers()
    await zoco_zuid.log_in("zoco-zuid", "another-long-password")
    assert (await zoco_zuid.get(f"/queue/{demo.item_id}")).status_code == 404
    assert (await zoco_zuid.get(f"/queue/{demo.other_item_id}")).status_code == 200


async def test_a_coach_reads_an_accepted_referral_of_their_school_without_notes_or_actions(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/notes", {"text": "Alleen voor de zorgcoördinator."})
    coach = await browsers()
    await coach.log_in("coach")
    assert (await coach.get("/queue")).status_code == 403
    assert (await coach.get(f"/queue/{demo.item_id}")).status_code == 404  # not accepted yet
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(
        f"/queue/{demo.item_id}/accept",
        {"goals": "Een echt doel voor dit traject.", "start": "2026-03-09", "end": "2026-06-12"},
    )
    page = await coach.get(f"/queue/{demo.item_id}")
    assert page.status_code == 200
    assert "Ik wil rustiger worden in de klas." in coach.text
    assert "Alleen voor de zorgcoördinator." not in coach.text
    assert 'action="/queue/' not in coach.text
    # Acting stays the care coordinator's, whatever the coach posts.
    refused = await coach.post(f"/queue/{demo.item_id}/notes", {"text": "Een notitie."})
    assert refused.status_code == 403


async def test_a_partnership_viewer_sees_no_childs_data(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    viewer = await browsers()
    assert (await viewer.log_in("swv")).status_code == 303
    for path in ("/queue", "/trajectories"):
        assert (await viewer.get(path)).status_code == 403
    assert (await viewer.get(f"/queue/{demo.item_id}")).status_code == 404
    assert "Noor" not in viewer.text


async def test_the_accept_form_proposes_the_schools_time_out_cap(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    """The admin's cap (not the model's default) is what the form starts with."""
    async with demo.app.sessions() as session, session.begin():
        school_id = await session.scalar(
            select(QueueItem.school_id).where(QueueItem.id == demo.item_id)
        )
        settings = await session.scalar(
            select(BookingSettings).where(BookingSettings.school_id == school_id)
        )
        if settings is None:
            settings = BookingSettings(school_id=school_id)
            session.add(settings)
        settings.timeouts_per_week = 4
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/{demo.item_id}")
    await zoco.post(f"/queue/{demo.item_id}/take")
    page = (await zoco.get(f"/queue/{demo.item_id}")).text
    field = re.search(r'<input id="timeouts_per_week"[^>]*>', page)
    assert field is not None
    assert 'value="4"' in field.group(0)
