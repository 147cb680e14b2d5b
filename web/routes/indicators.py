"""Indicators: the school's own figures per month, and the partnership's across schools.

=================================  =========================================================
``/indicators``                    care coordinator or admin: their school, month by month
``/indicators.csv?table=<key>``    one of its tables as CSV
``/indicators.xlsx``               all its tables as one workbook
``/indicators/partnership``        partnership viewer: the summary - a row per school over
                                   the whole period, all schools together per month;
                                   aggregates only, small groups hidden
``/indicators/partnership/school/  idem: one school month by month (linked from its row)
<school_id>``
``/indicators/partnership.csv``    every school and all together, one table (all detail)
``/indicators/partnership.xlsx``   idem, the workbook
=================================  =========================================================

The period comes as ``?from=2026-01&to=2026-03`` (months; default: the last six months). Every
request goes through `services.indicators.views`, which checks the role again from the database
and writes the audit trail (who, which period, page or which export); a refused one is a 403.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dialogs.i18n import SCHOOL_TIMEZONE, Catalog
from dialogs.text import N_, Text
from services.indicators.periods import Month
from services.indicators.report import IndicatorOutput, IndicatorReport
from services.indicators.views import (
    partnership_indicators,
    partnership_school_indicators,
    school_indicators,
)
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.kernel.uow import run_unit_of_work
from storage.models import Person, Role
from web.deps import SessionDep, Staff, WebDep, staff_with
from web.errors import Forbidden, NotAvailable
from web.exports import to_csv, to_xlsx
from web.indicator_tables import (
    CellText,
    build_charts,
    build_summary,
    build_tables,
    definitions,
    definitions_table,
    export_titles,
)
from web.nav import NavItem
from web.pages import error_page, page_language, render_page

log = logging.getLogger(__name__)

SCHOOL_PATH = "/indicators"
PARTNERSHIP_PATH = "/indicators/partnership"
PARTNERSHIP_SCHOOL_PATH = "/indicators/partnership/school"
#: Months shown when the period is not given.
DEFAULT_MONTHS = 6

NAV = (
    NavItem(
        "indicators",
        SCHOOL_PATH,
        N_("Indicators"),
        frozenset({Role.CARE_COORDINATOR, Role.ADMIN}),
        order=60,
    ),
    NavItem(
        "partnership",
        PARTNERSHIP_PATH,
        N_("Partnership indicators"),
        frozenset({Role.PARTNERSHIP_VIEWER}),
        order=61,
    ),
)

#: The period's first and last month (``?from=2026-01&to=2026-03``) and a table's key.
FirstMonth = Annotated[str, Query(alias="from", max_length=16)]
LastMonth = Annotated[str, Query(alias="to", max_length=16)]
TableKey = Annotated[str, Query(max_length=40)]

BAD_MONTH = Text.of(N_("Give the months as year and month, for example 2026-03."))
UNKNOWN_TABLE = Text.of(N_("There is no such table."))

Query_ = Callable[..., Awaitable[IndicatorReport]]


def _period(first: str, last: str, web: WebDep) -> tuple[Month, Month]:
    """The months asked for; the default is the last six months up to the current one."""
    current = Month.of(web.now().astimezone(SCHOOL_TIMEZONE).date())
    if not first and not last:
        start = current
        for _ in range(DEFAULT_MONTHS - 1):
            start = start.previous()
        return start, current
    try:
        end = Month.parse(last) if last else current
        return (Month.parse(first) if first else end), end
    except ValueError as bad:
        raise InputInvalid(BAD_MONTH) from bad


def _catalog(request: Request, web: WebDep, person: Person) -> Catalog:
    return web.catalog(page_language(request, person.language))


async def _report(
    query: Query_,
    *,
    session: SessionDep,
    web: WebDep,
    staff: Staff,
    first: Month,
    last: Month,
    output: IndicatorOutput,
) -> IndicatorReport:
    try:
        return await run_unit_of_work(
            session,
            lambda unit: query(
                session=unit,
                viewer=staff.person,
                first=first,
                last=last,
                now=web.now(),
                output=output,
            ),
        )
    except NotAllowed as refused:
        raise Forbidden from refused


def _period_query(first: Month | str, last: Month | str) -> str:
    return f"from={first}&to={last}"


def _render(
    request: Request,
    *,
    staff: Staff,
    catalog: Catalog,
    path: str,
    first: Month,
    last: Month,
    report: IndicatorReport,
) -> Response:
    """The school's page, or one school's page of the partnership (``report.suppressed``):
    its figures month by month, charts, downloads, definitions."""
    partnership = report.suppressed
    return render_page(
        request,
        "indicators/page.html",
        staff=staff,
        path_base=path,
        download_base=PARTNERSHIP_PATH if partnership else path,
        partnership=partnership,
        summary_link=f"{PARTNERSHIP_PATH}?{_period_query(first, last)}" if partnership else None,
        problem=None,
        first=str(first),
        last=str(last),
        report=report,
        # The school's page links a CSV per table; one school of the partnership links the
        # partnership's workbook (all schools, all tables).
        downloads=() if partnership else export_titles(report, catalog),
        tables=build_tables(report, catalog),
        charts=build_charts(report, catalog),
        definitions=definitions(report, catalog),
        cell_text=CellText(catalog),
        school_name=report.schools[0].name,
    )


def _render_summary(
    request: Request,
    *,
    staff: Staff,
    catalog: Catalog,
    path: str,
    first: Month,
    last: Month,
    report: IndicatorReport,
) -> Response:
    """The partnership's summary: a row per school (linking its page), all schools together."""
    period = _period_query(first, last)
    return render_page(
        request,
        "indicators/partnership.html",
        staff=staff,
        path_base=path,
        download_base=path,
        problem=None,
        first=str(first),
        last=str(last),
        report=report,
        downloads=export_titles(report, catalog),
        tables=build_summary(
            report, catalog, lambda school_id: f"{PARTNERSHIP_SCHOOL_PATH}/{school_id}?{period}"
        ),
        charts=build_charts(report, catalog, total_only=True),
        definitions=definitions(report, catalog),
        cell_text=CellText(catalog),
    )


Render = Callable[..., Response]


async def _page(
    request: Request,
    *,
    web: WebDep,
    session: SessionDep,
    staff: Staff,
    query: Query_,
    path: str,
    first_param: str,
    last_param: str,
    render: Render = _render,
    template: str = "indicators/page.html",
) -> Response:
    catalog = _catalog(request, web, staff.person)
    try:
        first, last = _period(first_param, last_param, web)
        report = await _report(
            query,
            session=session,
            web=web,
            staff=staff,
            first=first,
            last=last,
            output=IndicatorOutput.PAGE,
        )
    except InputInvalid as problem:
        return render_page(
            request,
            template,
            staff=staff,
            status_code=400,
            path_base=path,
            download_base=path,
            partnership=path != SCHOOL_PATH,
            summary_link=PARTNERSHIP_PATH if path.startswith(PARTNERSHIP_SCHOOL_PATH) else None,
            problem=problem.reason,
            first=first_param,
            last=last_param,
            report=None,
            downloads=(),
            tables=(),
            charts=(),
            definitions=(),
            cell_text=CellText(catalog),
            school_name=None,
        )
    return render(
        request,
        staff=staff,
        catalog=catalog,
        path=path,
        first=first,
        last=last,
        report=report,
    )


async def _export(
    request: Request,
    *,
    web: WebDep,
    session: SessionDep,
    staff: Staff,
    query: Query_,
    name: str,
    first_param: str,
    last_param: str,
    output: IndicatorOutput,
    table: str = "",
) -> Response:
    catalog = _catalog(request, web, staff.person)
    try:
        first, last = _period(first_param, last_param, web)
        report = await _report(
            query, session=session, web=web, staff=staff, first=first, last=last, output=output
        )
    except InputInvalid as problem:
        return error_page(request, problem.reason, status_code=400)
    tables = build_tables(report, catalog)
    filename = f"{name}-{first}-{last}"
    if output is IndicatorOutput.CSV:
        chosen = next((t for t in tables if t.key == (table or tables[0].key)), None)
        if chosen is None:
            return error_page(request, UNKNOWN_TABLE, status_code=404)
        return Response(
            to_csv(chosen, catalog),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}-{chosen.key}.csv"'},
        )
    data = to_xlsx(
        (*tables, definitions_table(report, catalog)),
        catalog,
        title=catalog.gettext(
            N_("Partnership indicators") if report.suppressed else N_("Indicators")
        ),
    )
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{filename}.xlsx"'},
    )


def _add_routes(
    router: APIRouter,
    *,
    path: str,
    name: str,
    query: Query_,
    roles: tuple[Role, ...],
    render: Render = _render,
    template: str = "indicators/page.html",
) -> None:
    """The page and its two exports for one scope: the school's or the partnership's.

    The two scopes differ only in who may look (``roles``, checked again by `query` from the
    database), which figures `query` gathers, and the path and file name.
    """
    # A default value rather than an ``Annotated`` alias: FastAPI resolves the (postponed)
    # annotations in the module's globals, where this closure's dependency is not.
    staff_dep = Depends(staff_with(*roles))

    async def page(
        *,
        request: Request,
        web: WebDep,
        session: SessionDep,
        staff: Staff = staff_dep,
        first: FirstMonth = "",
        last: LastMonth = "",
    ) -> Response:
        """The figures per month: charts, tables, downloads, definitions (the partnership's:
        its summary)."""
        return await _page(
            request,
            web=web,
            session=session,
            staff=staff,
            query=query,
            path=path,
            first_param=first,
            last_param=last,
            render=render,
            template=template,
        )

    async def csv(
        *,
        request: Request,
        web: WebDep,
        session: SessionDep,
        staff: Staff = staff_dep,
        first: FirstMonth = "",
        last: LastMonth = "",
        table: TableKey = "",
    ) -> Response:
        """One table of the figures as CSV."""
        return await _export(
            request,
            web=web,
            session=session,
            staff=staff,
            query=query,
            name=name,
            first_param=first,
            last_param=last,
            output=IndicatorOutput.CSV,
            table=table,
        )

    async def xlsx(
        *,
        request: Request,
        web: WebDep,
        session: SessionDep,
        staff: Staff = staff_dep,
        first: FirstMonth = "",
        last: LastMonth = "",
    ) -> Response:
        """All the tables as a workbook."""
        return await _export(
            request,
            web=web,
            session=session,
            staff=staff,
            query=query,
            name=name,
            first_param=first,
            last_param=last,
            output=IndicatorOutput.XLSX,
        )

    router.add_api_route(path, page, methods=["GET"])
    router.add_api_route(path + ".csv", csv, methods=["GET"])
    router.add_api_route(path + ".xlsx", xlsx, methods=["GET"])


def build_router() -> APIRouter:
    """A fresh router with the indicator pages and exports."""
    router = APIRouter()
    _add_routes(
        router,
        path=SCHOOL_PATH,
        name="indicators",
        query=school_indicators,
        roles=(Role.CARE_COORDINATOR, Role.ADMIN),
    )
    _add_routes(
        router,
        path=PARTNERSHIP_PATH,
        name="indicators-partnership",
        query=partnership_indicators,
        roles=(Role.PARTNERSHIP_VIEWER,),
        render=_render_summary,
        template="indicators/partnership.html",
    )
    viewer = Depends(staff_with(Role.PARTNERSHIP_VIEWER))

    async def school_page(
        *,
        request: Request,
        web: WebDep,
        session: SessionDep,
        school_id: int,
        staff: Staff = viewer,
        first: FirstMonth = "",
        last: LastMonth = "",
    ) -> Response:
        """One school of the partnership month by month, small groups hidden."""

        async def one_school(**arguments: Any) -> IndicatorReport:
            del arguments["output"]  # a page; audited as one
            return await partnership_school_indicators(school_id=school_id, **arguments)

        try:
            return await _page(
                request,
                web=web,
                session=session,
                staff=staff,
                query=one_school,
                path=f"{PARTNERSHIP_SCHOOL_PATH}/{school_id}",
                first_param=first,
                last_param=last,
            )
        except NotFound as missing:
            raise NotAvailable from missing

    router.add_api_route(PARTNERSHIP_SCHOOL_PATH + "/{school_id:int}", school_page, methods=["GET"])
    return router
