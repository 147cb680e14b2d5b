"""Trajectories: the list of the school's trajectories (student, status, start and end, flags).

The trajectory page itself (goals, dates, appointments, attendance, logbook, closing) is added
to this area by its own routes; the list links to ``/trajectories/<id>``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dialogs.text import N_
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.trajectories.district_coach import district_coach_cases
from services.trajectories.view import list_trajectories
from storage.models import Role, TrajectoryStatus
from web import labels
from web.deps import SessionDep, Staff, TrajectoryStaffDep, WebDep, staff_with
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page

NAV = (
    NavItem(
        "trajectories",
        "/trajectories",
        N_("Trajectories"),
        frozenset({Role.CARE_COORDINATOR, Role.COACH}),
        order=20,
    ),
    # A district coach's own cases (issue 15): asked in, with consent; nothing else.
    NavItem(
        "district_cases",
        "/district-cases",
        N_("My cases"),
        frozenset({Role.DISTRICT_COACH}),
        order=21,
    ),
)
DistrictCoachDep = Annotated[Staff, Depends(staff_with(Role.DISTRICT_COACH))]
STATUS_FILTERS = ("open", "planned", "intake_held", "active", "closed", "all")


async def trajectory_list(
    *,
    request: Request,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    status: str = "open",
) -> Response:
    """The school's trajectories, flagged ones first (audited as ``trajectory.list``)."""
    if status == "all":
        statuses: tuple[TrajectoryStatus, ...] | None = tuple(TrajectoryStatus)
    elif status in {s.value for s in TrajectoryStatus}:
        statuses = (TrajectoryStatus(status),)
    else:
        status, statuses = "open", None
    try:
        rows = await run_unit_of_work(
            session,
            lambda unit: list_trajectories(
                session=unit, viewer=staff.person, now=web.now(), statuses=statuses
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(
        request,
        "trajectories.html",
        staff=staff,
        rows=rows,
        selected=status,
        status_filters=STATUS_FILTERS,
        labels=labels,
    )


async def district_case_list(
    *, request: Request, web: WebDep, staff: DistrictCoachDep, session: SessionDep
) -> Response:
    """The district coach's cases across the partnership's schools (audited)."""
    try:
        cases = await run_unit_of_work(
            session,
            lambda unit: district_coach_cases(session=unit, viewer=staff.person, now=web.now()),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(request, "district_cases.html", staff=staff, cases=cases, labels=labels)


def build_router() -> APIRouter:
    """A fresh router with the trajectory list."""
    router = APIRouter()
    router.add_api_route("/district-cases", district_case_list, methods=["GET"])
    router.add_api_route("/trajectories", trajectory_list, methods=["GET"])
    return router
