"""A time-out request on the web (issue 4): listed in the queue with a link to its page, the
page shows the request and the trajectory's time-out plan, the care coordinator approves or
declines it there; coaches, other schools and posts without the CSRF token are refused."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.accounts.people import get_person_by_external_id
from services.appointments.booking import book
from services.appointments.defaults import install_defaults
from services.appointments.notices import TIMEOUT_DECIDED
from services.appointments.timeout_requests import BookingRequested
from services.kernel.uow import run_unit_of_work
from storage.models import (
    Appointment,
    AppointmentKind,
    Outbox,
    Person,
    QueueDecision,
    QueueStatus,
    School,
)
from tests.support.factories import NOW, add_trajectory
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, Browser, StaffWorld

AMS = ZoneInfo("Europe/Amsterdam")
#: The web clock starts at `NOW` (Monday 2 March 2026, 10:30 in Amsterdam).
ASKED_FOR = datetime.combine(date(2026, 3, 2), time(13, 30), tzinfo=AMS)
REASON = "Eerst met de mentor het plan bespreken."


async def _request(demo: StaffWorld, *, in_plan: bool) -> int:
    """Bram (lln13) asks for a time-out on Monday 13:30 (a time the grid offers): outside his
    plan, or above a cap of zero per week. Nothing is booked; the request waits in the queue."""
    async with demo.app.sessions() as session, session.begin():
        await install_defaults(session=session, school_id=demo.school_id)
        school = await session.get_one(School, demo.school_id)

        async def person(external_id: str) -> Person:
            found = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert found is not None
            return found

        student = await person("lln13")
        await add_trajectory(
            session,
            await person("mentor2"),
            student,
            timeouts_in_plan=in_plan,
            timeouts_per_week=0,
        )
    async with demo.app.sessions() as session:
        outcome = await run_unit_of_work(
            session,
            lambda work: book(
                session=work,
                actor=student,
                student_id=student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=ASKED_FOR,
                now=NOW,
            ),
        )
    assert isinstance(outcome, BookingRequested)
    return outcome.queue_item_id


def _path(item_id: int) -> str:
    return f"/queue/timeout-requests/{item_id}"


def _main(page: str) -> str:
    return re.sub(r"\s+", " ", page[page.index("<main") : page.index("</main>")])


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def _told(demo: StaffWorld) -> list[Outbox]:
    async with demo.app.sessions() as session:
        return list(await session.scalars(select(Outbox).where(Outbox.kind == TIMEOUT_DECIDED)))


async def _appointments(demo: StaffWorld) -> int:
    async with demo.app.sessions() as session:
        return int(await session.scalar(select(func.count(Appointment.id))) or 0)


async def test_the_queue_links_a_time_out_request_to_its_page(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    zoco = await _zoco(browsers)
    queue = (await zoco.get("/queue")).text
    row = re.search(rf'<tr data-item="{item_id}".*?</tr>', queue, re.DOTALL)
    assert row is not None
    assert f'href="{_path(item_id)}?view=' in row.group(0)  # the queue's view rides along
    assert "time-out request" in row.group(0)
    assert "Bram Moerdijkstra" in row.group(0)

    page = await zoco.get(_path(item_id))
    assert page.status_code == 200
    main = _main(page.text)
    assert "Time-out request #" in main
    assert "Bram Moerdijkstra (3A)" in main
    # The time asked for, in the page's language and school time.
    assert '<dd class="requested">Monday, March 2, 1:30 PM</dd>' in main
    assert "Outside the plan: time-out is not agreed for these dates." in main
    assert 'data-in-plan="no"' in main
    assert '<dd class="per-week">0</dd>' in main
    assert f'action="{_path(item_id)}/approve"' in main
    assert f'action="{_path(item_id)}/decline"' in main
    (viewed,) = await demo.audit("timeout.view")
    assert (viewed.actor_id, viewed.subject_id) == (demo.ids["zoco"], item_id)


async def test_above_the_cap_says_so(demo: StaffWorld, browsers: BrowserFactory) -> None:
    item_id = await _request(demo, in_plan=True)
    zoco = await _zoco(browsers)
    main = _main((await zoco.get(_path(item_id))).text)
    assert "Above the agreed 0 time-outs per week." in main
    assert 'data-in-plan="yes"' in main


async def test_the_care_coordinator_approves_on_the_web(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    zoco = await _zoco(browsers)
    await zoco.get(_path(item_id))
    done = await zoco.post(f"{_path(item_id)}/approve")
    assert done.status_code == 303
    assert done.headers["location"] == f"{_path(item_id)}?done=approve"
    item = await demo.item(item_id)
    assert (item.status, item.decision) == (QueueStatus.CLOSED, QueueDecision.ACCEPTED)
    assert await _appointments(demo) == 1
    (told,) = await _told(demo)
    assert told.payload["approved"] is True
    (decided,) = await demo.audit("timeout.decide")
    assert decided.actor_id == demo.ids["zoco"]
    assert decided.details == {"decision": "accepted", "from_status": "new"}
    main = _main((await zoco.get(f"{_path(item_id)}?done=approve")).text)
    assert "Approved and booked. The student is told." in main
    assert 'data-decision="accepted"' in main
    assert "/approve" not in main  # decided: no more actions
    # Approving again (an old tab) is refused with the reason; nothing is booked twice.
    await zoco.get(_path(item_id))
    token = zoco.csrf()
    again = await zoco.post(f"{_path(item_id)}/approve", {"csrf_token": token})
    assert again.status_code == 409
    assert "This request has already been decided." in again.text
    assert await _appointments(demo) == 1


async def test_the_care_coordinator_declines_on_the_web_with_a_reason(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    zoco = await _zoco(browsers)
    await zoco.get(_path(item_id))
    short = await zoco.post(f"{_path(item_id)}/decline", {"reason": "Nee"})
    assert short.status_code == 422
    assert re.search(r'id="reason-problem"[^>]*>That is too short', short.text)
    assert ">Nee</textarea>" in short.text  # what was typed is kept
    assert (await demo.item(item_id)).status is QueueStatus.NEW
    done = await zoco.post(f"{_path(item_id)}/decline", {"reason": REASON})
    assert done.status_code == 303
    item = await demo.item(item_id)
    assert (item.status, item.decision) == (QueueStatus.CLOSED, QueueDecision.DECLINED)
    assert item.decision_reason == REASON
    assert await _appointments(demo) == 0
    (told,) = await _told(demo)
    assert told.recipient_id == demo.ids["lln13"]
    assert told.payload == {"queue_item_id": item_id, "approved": False}
    (decided,) = await demo.audit("timeout.decide")
    assert decided.details == {"decision": "declined", "from_status": "new"}
    main = _main((await zoco.get(f"{_path(item_id)}?done=decline")).text)
    assert "Declined. The student is told (without the reason)." in main
    assert REASON in main  # internal, for the care coordinator
    # A second decision is refused with the reason.
    again = await zoco.post(f"{_path(item_id)}/decline", {"reason": "Toch nog een keer nee."})
    assert again.status_code == 409
    assert "This request has already been decided." in again.text
    assert (await demo.item(item_id)).decision_reason == REASON


async def test_a_coach_and_another_school_are_refused(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    coach = await browsers()
    await coach.log_in("coach")
    assert (await coach.get(_path(item_id))).status_code == 403
    assert "Bram" not in coach.text
    await coach.get("/trajectories")  # a page of theirs, for a valid CSRF token
    for action, data in (("approve", {}), ("decline", {"reason": REASON})):
        refused = await coach.post(f"{_path(item_id)}/{action}", data)
        assert refused.status_code == 403
    zuid = await browsers()
    await zuid.log_in("zoco-zuid", OTHER_PASSWORD)
    foreign = await zuid.get(_path(item_id))
    foreign_main = _main(zuid.text)
    missing = await zuid.get(_path(987654))
    assert foreign.status_code == missing.status_code == 404
    assert foreign_main == _main(zuid.text)  # the same answer as for no request at all
    assert "Bram" not in foreign_main
    await zuid.get("/queue")
    for action, data in (("approve", {}), ("decline", {"reason": REASON})):
        refused = await zuid.post(f"{_path(item_id)}/{action}", data)
        assert refused.status_code == 404
    item = await demo.item(item_id)
    assert (item.status, item.decision) == (QueueStatus.NEW, None)
    assert await _told(demo) == []
    assert await demo.audit("timeout.decide") == []
    assert await demo.audit("timeout.view") == []


async def test_a_post_without_the_csrf_token_is_refused(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    zoco = await _zoco(browsers)
    await zoco.get(_path(item_id))
    for action, data in (("approve", {}), ("decline", {"reason": REASON})):
        missing = await zoco.post(f"{_path(item_id)}/{action}", data, token=False)
        assert missing.status_code == 403
        forged = await zoco.post(
            f"{_path(item_id)}/{action}", {**data, "csrf_token": "forged-token"}, token=False
        )
        assert forged.status_code == 403
    item = await demo.item(item_id)
    assert (item.status, item.decision) == (QueueStatus.NEW, None)
    assert await _appointments(demo) == 0
    assert await _told(demo) == []


async def test_an_approval_too_late_is_refused_and_the_request_stays_open(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    item_id = await _request(demo, in_plan=False)
    zoco = await _zoco(browsers)
    await zoco.get(_path(item_id))
    # A time-out needs no notice, and its block can be booked while half of it is left:
    # 30 minutes into the 50-minute block asked for, that is too late.
    demo.clock.now = ASKED_FOR + timedelta(minutes=30)
    refused = await zoco.post(f"{_path(item_id)}/approve")
    assert refused.status_code == 409
    assert "This time has already passed. Please pick another time." in refused.text
    assert await _appointments(demo) == 0
    assert (await demo.item(item_id)).status is QueueStatus.NEW
    assert 'id="approve-form"' in refused.text  # still open: the other decision remains
