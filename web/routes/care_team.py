"""The care team (ZAT, issue 15): its meetings, a meeting's agenda (printable) and the team's
advice and decision per referral.

``/care-team`` lists the school's meetings and plans a new one (a date); ``/care-team/<id>``
is the agenda: each referral on it with the essentials (student, mentor, urgency, the help
questions, what was tried, the support asked for) and the question for the team; below each
undecided one the form to record the team's advice and decision, and at the end the form to
put another open referral on the agenda. The page prints without the navigation and the forms
(``care_team.css``, ``@media print``). Every read and write goes through
`services.referrals.care_team` (care coordinators of the school; audited). A refused change
shows the page again with why and what was typed (POST-redirect-GET otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.ids import parse_id
from services.referrals.care_team import (
    agenda,
    meetings,
    plan_meeting,
    put_on_agenda,
    record_advice,
)
from services.referrals.rules import (
    CARE_TEAM_ADVICE_MAX,
    CARE_TEAM_DECISION_LABELS,
    CARE_TEAM_QUESTION_MAX,
)
from storage.models import CareTeamDecision, Role
from web import labels
from web.deps import CoordinatorDep, CsrfProtected, Staff, UnitOfWork, UnitOfWorkDep, WebDep
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page

log = logging.getLogger(__name__)

NAV = (
    NavItem(
        "care_team",
        "/care-team",
        N_("Care team"),
        frozenset({Role.CARE_COORDINATOR}),
        order=15,
    ),
)

DONE: dict[str, str] = {
    "planned": N_("The meeting is planned."),
    "added": N_("The referral is on the agenda; it waits for the care team."),
    "advice": N_("The care team's advice is recorded; the mentor is told the outcome."),
}


@dataclass
class Typed:
    """What was typed in a refused form, to show again with the problem."""

    problem: Text | None = None
    question: str = ""
    queue_item: str = ""
    advice: dict[int, str] = field(default_factory=dict)
    decision: dict[int, str] = field(default_factory=dict)
    case_id: int | None = None


async def _change(
    uow: UnitOfWork, change: Callable[[AsyncSession], Awaitable[object]]
) -> Text | None:
    """Run a change in one unit of work; its refusal's reason, or None when done."""
    try:
        await uow(change)
    except NotAllowed as refused:
        raise NotAvailable from refused
    except (InputInvalid, InvalidTransition) as refused:
        return refused.reason
    return None


async def meeting_list(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    status_code: int = 200,
    error: Text | None = None,
) -> Response:
    """The school's care team meetings (coming ones first) and the form to plan one."""
    try:
        rows = await uow(
            lambda session: meetings(session=session, viewer=staff.person, now=web.now())
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(
        request,
        "care_team.html",
        staff=staff,
        status_code=status_code,
        meetings=rows,
        error=error,
    )


async def plan(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    held_on: Annotated[str, Form()] = "",
) -> Response:
    """Plan a meeting on a date (the one of that day if it exists) and open its agenda."""
    try:
        day = date.fromisoformat(held_on)
    except ValueError:
        return await meeting_list(
            request=request,
            web=web,
            staff=staff,
            uow=uow,
            status_code=422,
            error=Text.of(N_("Please choose the date of the meeting.")),
        )
    planned: list[int] = []

    async def run(session: AsyncSession) -> None:
        meeting = await plan_meeting(
            session=session, actor=staff.person, held_on=day, now=web.now()
        )
        planned.append(meeting.id)

    problem = await _change(uow, run)
    if problem is not None:
        return await meeting_list(
            request=request, web=web, staff=staff, uow=uow, status_code=422, error=problem
        )
    return RedirectResponse(f"/care-team/{planned[0]}?done=planned", status_code=303)


async def _agenda_page(
    *,
    request: Request,
    web: WebDep,
    staff: Staff,
    uow: UnitOfWork,
    meeting_id: int,
    status_code: int = 200,
    typed: Typed | None = None,
    done: str = "",
) -> Response:
    try:
        view = await uow(
            lambda session: agenda(
                session=session, viewer=staff.person, meeting_id=meeting_id, now=web.now()
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(
        request,
        "care_team_agenda.html",
        staff=staff,
        status_code=status_code,
        agenda=view,
        typed=typed or Typed(),
        done=Text.of(DONE[done]) if done in DONE else None,
        decisions=[(d.value, CARE_TEAM_DECISION_LABELS[d]) for d in CareTeamDecision],
        decision_labels=CARE_TEAM_DECISION_LABELS,
        limits={"question": CARE_TEAM_QUESTION_MAX, "advice": CARE_TEAM_ADVICE_MAX},
        labels=labels,
    )


async def agenda_page(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    meeting_id: int,
    done: str = "",
) -> Response:
    """A meeting's agenda (printable), with the forms to add a referral and record advice."""
    return await _agenda_page(
        request=request, web=web, staff=staff, uow=uow, meeting_id=meeting_id, done=done
    )


async def add_case(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    meeting_id: int,
    queue_item: Annotated[str, Form()] = "",
    question: Annotated[str, Form()] = "",
) -> Response:
    """Put an open referral on the agenda with the question for the team."""
    item_id = parse_id(queue_item)
    if item_id is None:
        problem: Text | None = Text.of(N_("Please choose a referral."))
    else:
        problem = await _change(
            uow,
            lambda session: put_on_agenda(
                session=session,
                actor=staff.person,
                meeting_id=meeting_id,
                queue_item_id=item_id,
                question=question,
                now=web.now(),
            ),
        )
    if problem is not None:
        return await _agenda_page(
            request=request,
            web=web,
            staff=staff,
            uow=uow,
            meeting_id=meeting_id,
            status_code=422,
            typed=Typed(problem=problem, question=question, queue_item=queue_item),
        )
    return RedirectResponse(f"/care-team/{meeting_id}?done=added", status_code=303)


async def advise(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    meeting_id: int,
    case_id: int,
    advice: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> Response:
    """Record the care team's advice and decision on one case of this meeting."""
    chosen = next((d for d in CareTeamDecision if d.value == decision), None)
    if chosen is None:
        problem: Text | None = Text.of(N_("Please choose the care team's decision."))
    else:
        problem = await _change(
            uow,
            lambda session: record_advice(
                session=session,
                actor=staff.person,
                case_id=case_id,
                advice=advice,
                decision=chosen,
                now=web.now(),
            ),
        )
    if problem is not None:
        return await _agenda_page(
            request=request,
            web=web,
            staff=staff,
            uow=uow,
            meeting_id=meeting_id,
            status_code=422,
            typed=Typed(
                problem=problem,
                advice={case_id: advice},
                decision={case_id: decision},
                case_id=case_id,
            ),
        )
    return RedirectResponse(f"/care-team/{meeting_id}?done=advice#case-{case_id}", status_code=303)


def build_router() -> APIRouter:
    """A fresh router with the care team's pages and actions."""
    router = APIRouter()
    router.add_api_route("/care-team", meeting_list, methods=["GET"])
    router.add_api_route("/care-team/{meeting_id:int}", agenda_page, methods=["GET"])
    for path, endpoint in (
        ("/care-team/meetings", plan),
        ("/care-team/{meeting_id:int}/cases", add_case),
        ("/care-team/{meeting_id:int}/cases/{case_id:int}/advice", advise),
    ):
        router.add_api_route(path, endpoint, methods=["POST"], dependencies=[CsrfProtected])
    return router
