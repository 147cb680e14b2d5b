"""A time-out request in the queue (issue 4): the page and the care coordinator's decision.

A time-out above the week's cap or outside the plan is not booked; it waits here for a care
coordinator of the school, who approves it (it is booked as asked) or declines it with a
reason (internal; the student hears only that it was not approved). Every read and change goes
through `services.appointments.timeout_requests`, which authorizes the person from the database
and writes the audit trail (``timeout.view``, ``timeout.decide``, ``appointment.book``).
Another school's request and an unknown id give the same 404; after a decision the browser is
redirected to the page (POST-redirect-GET) with ``?done=<action>``; a refused one shows the
page again with the reason, the typed reason kept.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dialogs.text import N_, Text
from services.appointments.errors import BookingRefused, SlotTaken
from services.appointments.timeout_requests import (
    TimeoutRequestView,
    approve_timeout_request,
    decline_timeout_request,
    open_timeout_request,
)
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.queue.rules import DECLINE_REASON_MAX, allowed_actions
from storage.models import QueueKind, TimeoutRequestReason
from web import labels
from web.deps import CoordinatorDep, CsrfProtected, Staff, UnitOfWork, UnitOfWorkDep, WebDep
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page
from web.queue_view import handled_next, next_or, page_view

log = logging.getLogger(__name__)

NAV: tuple[NavItem, ...] = ()

#: The page of a time-out request (`web.routes.queue.ITEM_PATHS` links the queue list here).
PATH = "/queue/timeout-requests/{id}"
KIND = QueueKind.TIMEOUT_REQUEST

DONE: dict[str, str] = {
    "approve": N_("Approved and booked. The student is told."),
    "decline": N_("Declined. The student is told (without the reason)."),
}


def reason_text(view: TimeoutRequestView) -> Text:
    """Why the request is in the queue instead of booked (as the chat says it)."""
    if view.reason is TimeoutRequestReason.OVER_CAP:
        return Text.plural_of(
            "Above the agreed {count} time-out per week.",
            "Above the agreed {count} time-outs per week.",
            view.timeouts_per_week,
        )
    return Text.of(N_("Outside the plan: time-out is not agreed for these dates."))


async def _page(
    *,
    request: Request,
    staff: Staff,
    uow: UnitOfWork,
    item_id: int,
    status_code: int = 200,
    error: Text | None = None,
    decline_reason: str = "",
    decline_problem: Text | None = None,
    done: str = "",
) -> Response:
    try:
        view = await uow(
            lambda session: open_timeout_request(
                session=session, viewer=staff.person, queue_item_id=item_id
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    queue_view = await page_view(request)
    return render_page(
        request,
        "timeout_request.html",
        staff=staff,
        status_code=status_code,
        view=view,
        reason=reason_text(view),
        # The rule both channels render (`services.queue.rules`): Approve / Decline while open.
        actions=allowed_actions(kind=KIND, status=view.status),
        error=error,
        done=Text.of(DONE[done]) if done in DONE else handled_next(request),
        queue_view=None if queue_view is None else queue_view.query(),
        decline_reason=decline_reason,
        decline_problem=decline_problem,
        limits={"decline": DECLINE_REASON_MAX},
        labels=labels,
    )


async def _done(request: Request, item_id: int, action: str) -> Response:
    # A decision finishes the request: on to the next open item of the queue's view.
    return await next_or(request, item_id, f"{PATH.format(id=item_id)}?done={action}")


async def timeout_request_page(
    *,
    request: Request,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    done: str = "",
) -> Response:
    """The request: the student, the time asked for, why it is in the queue, the trajectory's
    time-out plan, and Approve / Decline while it is open (care coordinators of the school)."""
    return await _page(request=request, staff=staff, uow=uow, item_id=item_id, done=done)


async def approve(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """Approve: the time-out is booked as asked (the cap or plan overridden, nothing else)."""
    try:
        await uow(
            lambda session: approve_timeout_request(
                session=session, actor=staff.person, queue_item_id=item_id, now=web.now()
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except (InvalidTransition, BookingRefused, SlotTaken) as refused:
        log.info("time-out request %s: approval refused for person %s", item_id, staff.person.id)
        return await _page(
            request=request,
            staff=staff,
            uow=uow,
            item_id=item_id,
            status_code=409,
            error=refused.reason,
        )
    return await _done(request, item_id, "approve")


async def decline(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Decline with a reason (kept internal; the student hears only that it was declined)."""
    try:
        await uow(
            lambda session: decline_timeout_request(
                session=session,
                actor=staff.person,
                queue_item_id=item_id,
                reason=reason,
                now=web.now(),
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        return await _page(
            request=request,
            staff=staff,
            uow=uow,
            item_id=item_id,
            status_code=422,
            decline_reason=reason,
            decline_problem=refused.reason,
        )
    except InvalidTransition as refused:
        return await _page(
            request=request,
            staff=staff,
            uow=uow,
            item_id=item_id,
            status_code=409,
            error=refused.reason,
        )
    return await _done(request, item_id, "decline")


def build_router() -> APIRouter:
    """A fresh router with the time-out request page and its two decisions."""
    router = APIRouter()
    page = PATH.replace("{id}", "{item_id:int}")
    router.add_api_route(page, timeout_request_page, methods=["GET"])
    for path, endpoint in (("approve", approve), ("decline", decline)):
        router.add_api_route(
            f"{page}/{path}", endpoint, methods=["POST"], dependencies=[CsrfProtected]
        )
    return router
