"""The intake report as a PDF for the school's student file: ``GET
/trajectories/<id>/intake-report.pdf`` (linked from the trajectory page).

For the school's care coordinators and coaches (403 for other roles). The read goes through
`services.trajectories.intake_report.intake_report_for_staff` in one unit of work, which
authorizes from the database and writes ``trajectory.intake_report.download``; another school's
trajectory, an unknown id and a trajectory without a complete plan (not active yet) give the
same 404. The document is made by `services.trajectories.intake_report_pdf`, in Dutch (the
school's language), in a worker thread (it takes a few tenths of a second).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import Response

from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.trajectories.intake_report import intake_report_for_staff
from services.trajectories.intake_report_pdf import (
    FILE_LANGUAGE,
    MEDIA_TYPE,
    file_name,
    render_intake_report_pdf,
)
from web.deps import SessionDep, TrajectoryStaffDep, WebDep
from web.errors import NotAvailable
from web.nav import NavItem

#: Reached from the trajectory page.
NAV: tuple[NavItem, ...] = ()


async def intake_report_pdf(
    trajectory_id: int, web: WebDep, staff: TrajectoryStaffDep, session: SessionDep
) -> Response:
    """The trajectory's intake report as a PDF download (audited)."""
    try:
        report = await run_unit_of_work(
            session,
            lambda unit: intake_report_for_staff(
                session=unit, actor=staff.person, trajectory_id=trajectory_id, now=web.now()
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    data = await asyncio.to_thread(render_intake_report_pdf, report, web.catalog(FILE_LANGUAGE))
    return Response(
        data,
        media_type=MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{file_name(report)}"'},
    )


def build_router() -> APIRouter:
    """A fresh router with the intake report download."""
    router = APIRouter()
    router.add_api_route(
        "/trajectories/{trajectory_id:int}/intake-report.pdf", intake_report_pdf, methods=["GET"]
    )
    return router
