"""Queue work on the web (issue 14): search, sort, saved views, bulk assign / close, "next
item", the time-out-first order and the exit questionnaire's page; and who is refused: another
school's item, a non-coordinator, forged ids in a bulk form."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from storage.models import (
    AuditLog,
    Outbox,
    QueueDecision,
    QueueFilterSet,
    QueueItem,
    QueueStatus,
    SurveyResponse,
)
from tests.support.queue_work import QueueWork, fill_queue
from tests.web.conftest import BrowserFactory
from tests.web.staff_client import OTHER_PASSWORD, Browser, StaffWorld

REASON = "Dubbel binnengekomen; al besproken in het zorgteam."


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-item="(\d+)"', page)]


async def _zoco(browsers: BrowserFactory) -> Browser:
    zoco = await browsers()
    assert (await zoco.log_in("zoco")).status_code == 303
    return zoco


async def _ready(browser: Browser) -> None:
    """Open a page with the session's CSRF token when the last one was a redirect."""
    if browser.page is None or browser.page.status_code in (302, 303):
        await browser.get("/trajectories")


async def _work(demo: StaffWorld) -> QueueWork:
    return await fill_queue(demo.app.sessions, demo.ids)


async def test_a_time_out_request_received_last_is_listed_first(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    listed = _listed((await zoco.get("/queue")).text)
    assert listed[0] == work.timeout
    # Then high urgency, then the others by urgency and age.
    assert listed.index(work.high) < listed.index(work.normal) < listed.index(work.low)


async def test_search_finds_a_student_by_name_or_number_only(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    assert _listed((await zoco.get("/queue?q=coldew")).text) == [work.high]
    assert _listed((await zoco.get("/queue?q=SEM+COLDEWEY")).text) == [work.high]
    assert _listed((await zoco.get("/queue?q=lln05")).text) == [work.low]
    # The questionnaire's and the time-out request's student are searched too.
    assert _listed((await zoco.get("/queue?q=Noordeloos")).text) == [work.survey]
    assert _listed((await zoco.get("/queue?q=moerdijk")).text) == [work.timeout]
    # LIKE wildcards are searched as text; the other school's student is never found.
    assert _listed((await zoco.get("/queue?q=%25")).text) == []
    assert _listed((await zoco.get("/queue?q=s2")).text) == []


async def test_every_column_sorts_with_aria_sort_and_a_link_to_reverse(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    page = (await zoco.get("/queue?sort=received")).text
    listed = _listed(page)
    assert listed.index(work.low) < listed.index(work.high) < listed.index(work.normal)
    assert re.search(r'<th scope="col" aria-sort="ascending" data-column="received">', page)
    assert re.search(r'<th scope="col" aria-sort="none" data-column="student">', page)
    # The sorted column's link reverses it; the others sort ascending.
    assert 'href="/queue?sort=received&amp;dir=desc"' in page
    assert 'href="/queue?sort=student"' in page
    down = (await zoco.get("/queue?sort=received&dir=desc")).text
    assert re.search(r'aria-sort="descending" data-column="received"', down)
    newest_first = _listed(down)
    assert newest_first.index(work.normal) < newest_first.index(work.high)
    assert newest_first.index(work.high) < newest_first.index(work.low)
    by_student = _listed((await zoco.get("/queue?sort=student")).text)
    # Bram, Finn, Lieke, Milan, Noor, Sem.
    assert by_student == [work.timeout, work.low, work.survey, work.normal, demo.item_id, work.high]
    # An unknown column is the queue's own order.
    assert _listed((await zoco.get("/queue?sort=password")).text)[0] == work.timeout


async def test_a_saved_view_is_kept_per_web_account_and_picked_again(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    await zoco.get("/queue?kind=referral&sort=urgency&dir=desc")
    saved = await zoco.post(
        "/queue/views",
        {"name": "Verwijzingen, laag eerst", "view": "kind=referral&sort=urgency&dir=desc"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/queue?kind=referral&sort=urgency&dir=desc&saved=1"
    page = (await zoco.get("/queue")).text
    assert (
        '<a href="/queue?kind=referral&amp;sort=urgency&amp;dir=desc">Verwijzingen, laag eerst</a>'
        in page
    )
    picked = _listed((await zoco.get("/queue?kind=referral&sort=urgency&dir=desc")).text)
    assert picked[0] == work.low
    assert work.timeout not in picked
    async with demo.app.sessions() as session:
        (row,) = await session.scalars(select(QueueFilterSet))
    # A forged view is normalised before it is stored: unknown parameters dropped.
    await zoco.post("/queue/views", {"name": "Raar", "view": "status=closed&evil=1&sort=drop"})
    async with demo.app.sessions() as session:
        queries = {r.name: r.query for r in await session.scalars(select(QueueFilterSet))}
    assert queries["Raar"] == "status=closed"
    # An empty name is refused with the form kept.
    await _ready(zoco)
    refused = await zoco.post("/queue/views", {"name": "  ", "view": ""})
    assert refused.status_code == 422
    # Another coordinator's account cannot delete it (the id is not theirs: nothing happens).
    other = await browsers()
    assert (await other.log_in("zoco-zuid", OTHER_PASSWORD)).status_code == 303
    await other.get("/queue")
    await other.post(f"/queue/views/{row.id}/delete")
    assert "Verwijzingen, laag eerst" in (await zoco.get("/queue")).text
    assert "Verwijzingen, laag eerst" not in (await other.get("/queue")).text
    await zoco.post(f"/queue/views/{row.id}/delete")
    assert "Verwijzingen, laag eerst" not in (await zoco.get("/queue")).text


async def test_bulk_assign_and_bulk_close_change_each_item_and_audit_it(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    await zoco.get("/queue")
    me = str(demo.ids["zoco"])
    assigned = await zoco.post(
        "/queue/bulk",
        {"action": "assign", "item": [str(work.high), str(work.low)], "assignee": me, "view": ""},
    )
    assert assigned.status_code == 303
    assert assigned.headers["location"] == "/queue?bulk=assign&count=2"
    assert "2 items assigned." in (await zoco.get(assigned.headers["location"])).text
    assert (await demo.item(work.high)).assignee_id == demo.ids["zoco"]
    assert {a.subject_id for a in await demo.audit("queue.assign")} == {work.high, work.low}

    # Too short a reason: nothing closed, the form comes back with the checked items.
    short = await zoco.post(
        "/queue/bulk", {"action": "close", "item": [str(work.high)], "reason": "nee"}
    )
    assert short.status_code == 422
    assert f'value="{work.high}" id="pick-{work.high}" checked' in short.text
    assert (await demo.item(work.high)).status is QueueStatus.NEW

    form: dict[str, str | list[str]] = {
        "action": "close",
        "item": [str(work.high), str(work.timeout), str(work.survey)],
        "reason": REASON,
        "view": "sort=student",
    }
    # Closing says first what it will do (it cannot be undone); nothing changes before the
    # confirmation's button.
    asked = await zoco.post("/queue/bulk", form)
    assert asked.status_code == 200
    page = re.sub(r"\s+", " ", asked.text)
    assert "Close 3 items?" in page
    assert (
        "1 referral is declined: the mentor who referred is told, and reads the reason in the "
        "chat." in page
    )
    assert "1 time-out request is declined: the student is told (without the reason)." in page
    assert "1 exit questionnaire is marked as read." in page
    assert REASON in page
    assert 'name="confirmed" value="yes"' in page
    assert 'href="/queue?sort=student">No, go back' in page
    for unchanged in (work.high, work.timeout, work.survey):
        assert (await demo.item(unchanged)).status is not QueueStatus.CLOSED
    assert await demo.audit("queue.decline") == []
    async with demo.app.sessions() as session:
        assert "referral.declined" not in set(await session.scalars(select(Outbox.kind)))

    closed = await zoco.post("/queue/bulk", {**form, "confirmed": "yes"})
    assert closed.status_code == 303
    assert closed.headers["location"] == "/queue?sort=student&bulk=close&count=3"
    referral = await demo.item(work.high)
    assert referral.status is QueueStatus.CLOSED
    assert referral.decision is QueueDecision.DECLINED
    assert referral.decision_reason == REASON
    timeout = await demo.item(work.timeout)
    assert timeout.decision is QueueDecision.DECLINED
    assert (await demo.item(work.survey)).status is QueueStatus.CLOSED
    # Audited as the single actions are; the mentor and the student are told as on the pages.
    assert [a.subject_id for a in await demo.audit("queue.decline")] == [work.high]
    assert [a.subject_id for a in await demo.audit("queue.close")] == [work.survey]
    async with demo.app.sessions() as session:
        kinds = set(await session.scalars(select(Outbox.kind)))
    assert {"referral.declined"} <= kinds

    # One of them closed already: the whole form is refused, nothing else changes.
    await _ready(zoco)
    again: dict[str, str | list[str]] = {
        "action": "close",
        "item": [str(work.normal), str(work.high)],
        "reason": REASON,
    }
    for confirmed in ("", "yes"):  # refused before the confirmation and by it
        await _ready(zoco)
        refused_close = await zoco.post("/queue/bulk", {**again, "confirmed": confirmed})
        assert refused_close.status_code == 409
        assert f"#{work.high}: This referral was already declined." in zoco.text
        assert (await demo.item(work.normal)).status is QueueStatus.NEW
    # Nor is a closed item assigned; the open one beside it keeps its assignee.
    refused = await zoco.post(
        "/queue/bulk",
        {"action": "assign", "item": [str(work.normal), str(work.high)], "assignee": me},
    )
    assert refused.status_code == 409
    assert f"#{work.high}: This item is closed." in zoco.text
    assert (await demo.item(work.normal)).assignee_id is None


async def test_bulk_refuses_forged_ids_another_schools_item_and_a_non_coordinator(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    await zoco.get("/queue")

    async def untouched() -> None:
        for item in (work.high, work.low, demo.other_item_id):
            assert (await demo.item(item)).status is QueueStatus.NEW
            assert (await demo.item(item)).assignee_id is None

    form = {"action": "close", "reason": REASON}
    for forged in (
        [str(work.high), str(demo.other_item_id)],  # another school's item among its own
        [str(work.high), "999999"],  # an id that does not exist
        [str(work.high), "1 OR 1=1"],  # not an id at all
        [str(work.high), "-4"],
    ):
        for confirmed in ("", "yes"):  # the confirmation step and the confirmed close
            response = await zoco.post(
                "/queue/bulk", {**form, "item": forged, "confirmed": confirmed}
            )
            assert response.status_code == 404, forged
            await untouched()
    # Assigning to someone who is not a care coordinator of the school.
    for assignee in (str(demo.ids["coach"]), "999999", "x"):
        response = await zoco.post(
            "/queue/bulk", {"action": "assign", "item": [str(work.high)], "assignee": assignee}
        )
        assert response.status_code == 404, assignee
        await untouched()
    # Without the CSRF token.
    response = await zoco.post("/queue/bulk", {**form, "item": [str(work.high)]}, token=False)
    assert response.status_code == 403
    await untouched()
    # A coach (not a care coordinator) gets no queue and no bulk action.
    coach = await browsers()
    assert (await coach.log_in("coach")).status_code == 303
    assert (await coach.get("/queue")).status_code == 403
    await _ready(coach)
    response = await coach.post("/queue/bulk", {**form, "item": [str(work.high)]})
    assert response.status_code == 403
    await untouched()
    # The other school's coordinator cannot close this school's items.
    other = await browsers()
    assert (await other.log_in("zoco-zuid", OTHER_PASSWORD)).status_code == 303
    await other.get("/queue")
    response = await other.post("/queue/bulk", {**form, "item": [str(work.high)]})
    assert response.status_code == 404
    await untouched()
    assert await demo.audit("queue.decline") == []


async def test_after_a_decision_the_next_open_item_of_the_view_opens(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    view = "kind=referral&sort=urgency"
    page = (await zoco.get(f"/queue?{view}")).text
    order = _listed(page)
    assert order[0] == work.high
    link = f'href="/queue/{work.high}?view={quote(view, safe="")}"'
    assert link in page
    await zoco.get(f"/queue/{work.high}?view={quote(view, safe='')}")
    assert f'name="view" value="{view.replace("&", "&amp;")}"' in (
        zoco.page.text if zoco.page else ""
    )
    declined = await zoco.post(f"/queue/{work.high}/decline", {"reason": REASON, "view": view})
    assert declined.status_code == 303
    assert declined.headers["location"] == (
        f"/queue/next?after={work.high}&view={quote(view, safe='')}"
    )
    following = await zoco.client.get(declined.headers["location"])
    assert following.status_code == 303
    second = order[1]
    assert following.headers["location"] == (
        f"/queue/{second}?view={quote(view, safe='')}&handled={work.high}"
    )
    opened = await zoco.get(following.headers["location"])
    assert f"#{work.high} is done. This is the next open item in your view." in zoco.text
    assert opened.status_code == 200
    # Without a view (an item opened elsewhere) the action stays on the item, as before.
    await _ready(zoco)
    plain = await zoco.post(f"/queue/{work.low}/decline", {"reason": REASON})
    assert plain.headers["location"] == f"/queue/{work.low}?done=decline"
    # The last open item of a view: back to the view's queue, saying so.
    last = await zoco.client.get(f"/queue/next?after={work.normal}&view=q%3Dgorterhof")
    assert last.headers["location"] == f"/queue?q=gorterhof&handled={work.normal}"
    assert "No open items are left in this view." in (await zoco.get(last.headers["location"])).text


async def test_the_view_is_kept_through_every_step_on_the_item(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    """Opened from a filtered queue, taking in analysis and adding a note keep the coordinator
    on the item, and the page still has "Next item" and its way back to the same view."""
    work = await _work(demo)
    zoco = await _zoco(browsers)
    view = "urgency=low"
    quoted = quote(view, safe="")
    await zoco.get(f"/queue/{work.low}?view={quoted}")
    for action, form in (("take", {}), ("notes", {"text": "Eerst de ouders bellen."})):
        done = "note" if action == "notes" else action
        answer = await zoco.post(f"/queue/{work.low}/{action}", {**form, "view": view})
        assert answer.status_code == 303, action
        assert answer.headers["location"] == f"/queue/{work.low}?view={quoted}&done={done}"
        page = (await zoco.get(answer.headers["location"])).text
        assert f'href="/queue?{view}">Queue</a>' in page, action
        assert f'href="/queue/next?after={work.low}&amp;view={quoted}"' in page, action
        # The forms of the page carry the view on, for the step after this one.
        assert f'name="view" value="{view}"' in page, action
    assert (await demo.item(work.low)).status is QueueStatus.IN_PROGRESS
    # Without a view the item's page is shown as before.
    plain = await zoco.post(f"/queue/{work.low}/notes", {"text": "Nog een notitie."})
    assert plain.headers["location"] == f"/queue/{work.low}?done=note"


async def test_a_time_out_decision_goes_on_to_the_next_item(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    await zoco.get(f"/queue/timeout-requests/{work.timeout}?view=")
    declined = await zoco.post(
        f"/queue/timeout-requests/{work.timeout}/decline", {"reason": REASON, "view": ""}
    )
    assert declined.headers["location"] == f"/queue/next?after={work.timeout}&view="
    following = await zoco.client.get(declined.headers["location"])
    # The queue's own order: after the time-out request comes the high-urgency referral.
    assert following.headers["location"] == f"/queue/{work.high}?view=&handled={work.timeout}"


async def test_the_questionnaire_page_shows_the_answers_and_read_resolves_it(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    zoco = await _zoco(browsers)
    page = await zoco.get(f"/queue/questionnaires/{work.survey}?view=")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", zoco.text)
    assert "Lieke Noordeloos" in text
    assert "S1 · " in text
    assert "4 · " in text
    assert "De rustige plek hielp, maar ik miste de les." in text
    assert "(written in Dutch)" in text
    # Reading the page changes nothing; it is audited as a view.
    assert (await demo.item(work.survey)).status is QueueStatus.NEW
    assert [a.details["queue_item_id"] for a in await demo.audit("survey.view")] == [work.survey]
    # In Dutch the questions are Dutch.
    dutch = await browsers("nl")
    assert (await dutch.log_in("zoco")).status_code == 303
    nl_page = (await dutch.get(f"/queue/questionnaires/{work.survey}")).text
    assert "(geschreven in Nederlands)" in nl_page
    read = await zoco.post(f"/queue/questionnaires/{work.survey}/read", {"view": ""})
    assert read.status_code == 303
    assert read.headers["location"] == f"/queue/next?after={work.survey}&view="
    assert (await demo.item(work.survey)).status is QueueStatus.CLOSED
    (resolved,) = await demo.audit("queue.resolve")
    assert resolved.subject_id == work.survey
    assert resolved.details["because"] == "survey_read"
    # Read twice: refused kindly, nothing changes.
    await zoco.get(f"/queue/questionnaires/{work.survey}")
    assert 'id="read-form"' not in zoco.text
    twice = await zoco.post(f"/queue/questionnaires/{work.survey}/read")
    assert twice.status_code == 409
    assert len(await demo.audit("queue.resolve")) == 1


async def test_the_questionnaire_page_is_refused_to_others(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    other = await browsers()
    assert (await other.log_in("zoco-zuid", OTHER_PASSWORD)).status_code == 303
    assert (await other.get(f"/queue/questionnaires/{work.survey}")).status_code == 404
    # An id of another kind of item is no questionnaire.
    zoco = await _zoco(browsers)
    assert (await zoco.get(f"/queue/questionnaires/{work.high}")).status_code == 404
    await zoco.get("/queue")
    assert (await zoco.post(f"/queue/questionnaires/{work.high}/read")).status_code == 404
    await other.get("/queue")
    assert (await other.post(f"/queue/questionnaires/{work.survey}/read")).status_code == 404
    coach = await browsers()
    assert (await coach.log_in("coach")).status_code == 303
    assert (await coach.get(f"/queue/questionnaires/{work.survey}")).status_code == 403
    assert (await demo.item(work.survey)).status is QueueStatus.NEW
    async with demo.app.sessions() as session:
        assert (
            await session.scalar(select(AuditLog).where(AuditLog.action == "survey.view")) is None
        )


async def test_an_anonymous_questionnaire_is_listed_as_anonymous_without_a_name(
    demo: StaffWorld, browsers: BrowserFactory
) -> None:
    work = await _work(demo)
    async with demo.app.sessions() as session, session.begin():
        item = await session.get_one(QueueItem, work.survey)
        response = await session.get_one(SurveyResponse, item.survey_response_id)
        # What an anonymous answer is stored as (issue 15): no link to its invitation.
        response.anonymous = True
        response.invitation_id = None
    zoco = await _zoco(browsers)
    await zoco.get("/queue")
    row = re.search(rf'<tr data-item="{work.survey}".*?</tr>', zoco.text, re.S)
    assert row is not None
    cells = re.sub(r"\s+", " ", row.group(0))
    assert f'href="/queue/questionnaires/{work.survey}' in cells
    assert ">anonymous</a>" in cells
    assert "Lieke Noordeloos" not in cells
