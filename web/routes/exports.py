"""Exports for the school's own systems (issue 12, the seed systems).

=========================================  =================================================
``/exports?week=2026-W49``                 the page: a week picker, the downloads, the
                                           trajectories closed that week (closing reports)
``/exports/magister.csv?week=…``           attendance of support moments for Magister
``/exports/lvs.csv?week=…``                the weekly summary per student for the LVS
``/exports/lvs.txt?week=…``                the same as readable text
``/trajectories/<id>/closing-report.pdf``  the closing report for the student file (linked
                                           from the page of a closed trajectory)
=========================================  =================================================

For the school's care coordinators and administrators (403 for other roles). Every request
goes through `services.exports.views`, which checks role and school again from the database
and writes the audit row; another school's trajectory, an unknown id and a trajectory not
closed yet get the same 404 (ids cannot be probed). The files are in the school's language
(`services.exports.rules.SCHOOL_LANGUAGE`): CSV with ``;``, UTF-8 with a byte order mark.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.exports.closing_report_pdf import (
    MEDIA_TYPE,
    file_name,
    render_closing_report_pdf,
)
from services.exports.rules import (
    SCHOOL_LANGUAGE,
    Week,
    encode_csv,
    encode_text,
    lvs_table,
    lvs_text,
    parse_week,
)
from services.exports.views import (
    Channel,
    LvsOutput,
    closed_in_week,
    closing_report,
    lvs_summary,
    magister_export,
)
from services.kernel.errors import NotAllowed
from storage.models import Role
from web.deps import Staff, UnitOfWorkDep, WebDep, staff_with
from web.errors import Forbidden, NotAvailable
from web.nav import NavItem
from web.pages import error_page, render_page

PATH = "/exports"
CSV_TYPE = "text/csv; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

NAV = (
    NavItem(
        "exports",
        PATH,
        N_("Exports"),
        frozenset({Role.CARE_COORDINATOR, Role.ADMIN}),
        order=62,
    ),
)

ExportStaffDep = Annotated[Staff, Depends(staff_with(Role.CARE_COORDINATOR, Role.ADMIN))]
WeekParam = Annotated[str, Query(max_length=16)]


def _week(value: str, web: WebDep) -> Week | Text:
    """The week asked for; none: the current week (school time)."""
    if not value.strip():
        return Week.of(web.now().astimezone(SCHOOL_TIMEZONE).date())
    return parse_week(value)


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def exports_page(
    request: Request, web: WebDep, staff: ExportStaffDep, uow: UnitOfWorkDep, week: WeekParam = ""
) -> Response:
    """The week picker, the week's downloads and its closed trajectories (audited)."""
    chosen = _week(week, web)
    if isinstance(chosen, Text):
        return render_page(
            request,
            "exports.html",
            staff=staff,
            status_code=400,
            problem=chosen,
            week=week,
            chosen=None,
            closed=(),
        )
    try:
        closed = await uow(
            lambda s: closed_in_week(
                session=s,
                actor=staff.person,
                school_id=staff.person.school_id,
                week=chosen,
                now=web.now(),
            )
        )
    except NotAllowed as refused:
        raise Forbidden from refused
    return render_page(
        request,
        "exports.html",
        staff=staff,
        problem=None,
        week=str(chosen),
        chosen=chosen,
        closed=closed,
    )


async def magister_csv(
    request: Request, web: WebDep, staff: ExportStaffDep, uow: UnitOfWorkDep, week: WeekParam = ""
) -> Response:
    """The week's attendance for Magister (audited)."""
    chosen = _week(week, web)
    if isinstance(chosen, Text):
        return error_page(request, chosen, status_code=400)
    try:
        table = await uow(
            lambda s: magister_export(
                session=s,
                actor=staff.person,
                school_id=staff.person.school_id,
                week=chosen,
                now=web.now(),
                channel=Channel.WEB,
            )
        )
    except NotAllowed as refused:
        raise Forbidden from refused
    data = encode_csv(table, web.catalog(SCHOOL_LANGUAGE))
    return _download(data, CSV_TYPE, f"magister-{chosen}.csv")


async def _lvs(
    request: Request,
    web: WebDep,
    staff: Staff,
    uow: UnitOfWorkDep,
    *,
    week: str,
    output: LvsOutput,
) -> Response:
    chosen = _week(week, web)
    if isinstance(chosen, Text):
        return error_page(request, chosen, status_code=400)
    try:
        summary = await uow(
            lambda s: lvs_summary(
                session=s,
                actor=staff.person,
                school_id=staff.person.school_id,
                week=chosen,
                now=web.now(),
                channel=Channel.WEB,
                output=output,
            )
        )
    except NotAllowed as refused:
        raise Forbidden from refused
    catalog = web.catalog(SCHOOL_LANGUAGE)
    base_url = web.app.settings.web_url
    if output is LvsOutput.CSV:
        data = encode_csv(lvs_table(summary.rows, chosen, base_url), catalog)
        return _download(data, CSV_TYPE, f"lvs-{chosen}.csv")
    lines = lvs_text(summary.rows, chosen, school_name=summary.school_name, base_url=base_url)
    return _download(encode_text(lines, catalog), TEXT_TYPE, f"lvs-{chosen}.txt")


async def lvs_csv(
    request: Request, web: WebDep, staff: ExportStaffDep, uow: UnitOfWorkDep, week: WeekParam = ""
) -> Response:
    """The week's summary per student for the LVS, as CSV (audited)."""
    return await _lvs(request, web, staff, uow, week=week, output=LvsOutput.CSV)


async def lvs_txt(
    request: Request, web: WebDep, staff: ExportStaffDep, uow: UnitOfWorkDep, week: WeekParam = ""
) -> Response:
    """The week's summary per student for the LVS, as readable text (audited)."""
    return await _lvs(request, web, staff, uow, week=week, output=LvsOutput.TEXT)


async def closing_report_pdf(
    trajectory_id: int, web: WebDep, staff: ExportStaffDep, uow: UnitOfWorkDep
) -> Response:
    """The closing report of a closed trajectory as a PDF download (audited)."""
    try:
        report = await uow(
            lambda s: closing_report(
                session=s,
                actor=staff.person,
                school_id=staff.person.school_id,
                trajectory_id=trajectory_id,
                now=web.now(),
                channel=Channel.WEB,
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    data = await asyncio.to_thread(render_closing_report_pdf, report, web.catalog(SCHOOL_LANGUAGE))
    return _download(data, MEDIA_TYPE, file_name(report))


def build_router() -> APIRouter:
    """A fresh router with the exports page and its downloads."""
    router = APIRouter()
    router.add_api_route(PATH, exports_page, methods=["GET"])
    router.add_api_route(PATH + "/magister.csv", magister_csv, methods=["GET"])
    router.add_api_route(PATH + "/lvs.csv", lvs_csv, methods=["GET"])
    router.add_api_route(PATH + "/lvs.txt", lvs_txt, methods=["GET"])
    router.add_api_route(
        "/trajectories/{trajectory_id:int}/closing-report.pdf", closing_report_pdf, methods=["GET"]
    )
    return router
