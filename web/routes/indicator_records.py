"""Recording what the indicators count (issues 14 and 15).

=============================================  ==============================================
``/trajectories/<id>/records``                 the trajectory's staff: observations in class
                                               and teacher support (request, record); the
                                               care coordinator also records OPP, TLV and
                                               long-term absence of the student
``/indicators/targets?year=2025``              admin: the partnership's targets of the
                                               school per school year; visitation reports
=============================================  ==============================================

Every form posts back and redirects (303) on success; a refusal shows the page again with why
(422). Who may do what is decided by `services.indicators.records`, from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.indicators.periods import school_year_label, school_year_of
from services.indicators.records import (
    MAX_LINK,
    MAX_TEXT,
    PAGE_EVENTS,
    ActivityRecord,
    record_activity,
    record_student_event,
    record_visitation,
    records_page,
    request_activity,
    set_target,
    targets_page,
)
from services.indicators.report import TARGETED
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.uow import run_unit_of_work
from storage.models import (
    ActivityKind,
    ObservationAim,
    Role,
    StudentEventKind,
    TeacherSupportKind,
)
from web.deps import (
    CsrfProtected,
    SessionDep,
    Staff,
    TrajectoryStaffDep,
    WebDep,
    staff_with,
)
from web.errors import Forbidden, NotAvailable
from web.indicator_tables import LABELS
from web.nav import NavItem
from web.pages import page_language, render_page

log = logging.getLogger(__name__)

AdminDep = Annotated[Staff, Depends(staff_with(Role.ADMIN))]

NAV: tuple[NavItem, ...] = (
    NavItem(
        "indicator_targets",
        "/indicators/targets",
        N_("Targets and visitations"),
        frozenset({Role.ADMIN}),
        order=62,
    ),
)

ACTIVITY_KINDS: Mapping[str, str] = {
    ActivityKind.CLASS_OBSERVATION.value: N_("Observation in class"),
    ActivityKind.TEACHER_SUPPORT.value: N_("Teacher support"),
}
AIMS: Mapping[str, str] = {
    ObservationAim.STUDENT.value: N_("The student"),
    ObservationAim.CLASS.value: N_("The class"),
    ObservationAim.TEACHER.value: N_("The teacher"),
}
SUPPORT_KINDS: Mapping[str, str] = {
    TeacherSupportKind.ADVICE.value: N_("Advice"),
    TeacherSupportKind.SPARRING.value: N_("Sparring"),
    TeacherSupportKind.TRAINING.value: N_("Training"),
}
EVENT_KINDS: Mapping[str, str] = {
    StudentEventKind.OPP.value: N_("OPP present"),
    StudentEventKind.TLV_REQUESTED.value: N_("TLV requested"),
    StudentEventKind.TLV_GRANTED.value: N_("TLV granted"),
    StudentEventKind.LONG_ABSENCE.value: N_("Long-term absence"),
    StudentEventKind.OUTFLOW.value: N_("Afstroom (at closing)"),
    StudentEventKind.VAVO.value: N_("VAVO (at closing)"),
}
DONE: Mapping[str, str] = {
    "request": N_("The request has been saved."),
    "activity": N_("It has been recorded."),
    "event": N_("It has been recorded."),
    "targets": N_("The targets have been saved."),
    "visitation": N_("The visitation report has been saved."),
}
BAD_DAY = Text.of(N_("Give the day as a date."))
BAD_CHOICE = Text.of(N_("Choose one of the options."))
BAD_TARGET = Text.of(N_("A target is a percentage from 0 to 100."))


def _day(value: str, *, optional: bool = False) -> date | None:
    if optional and not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as bad:
        raise InputInvalid(BAD_DAY) from bad


def _required_day(value: str) -> date:
    day = _day(value)
    if day is None:  # pragma: no cover - _day raises for an empty required day
        raise InputInvalid(BAD_DAY)
    return day


_E = TypeVar("_E", ActivityKind, ObservationAim, TeacherSupportKind, StudentEventKind)


def _optional(kind: type[_E], value: str) -> _E | None:
    return _choice(kind, value) if value else None


def _choice(kind: type[_E], value: str) -> _E:
    try:
        return kind(value)
    except ValueError as bad:
        raise InputInvalid(BAD_CHOICE) from bad


def _records_url(trajectory_id: int, done: str) -> Response:
    return RedirectResponse(f"/trajectories/{trajectory_id}/records?done={done}", status_code=303)


async def _records(
    request: Request,
    *,
    web: WebDep,
    staff: Staff,
    session: SessionDep,
    trajectory_id: int,
    status_code: int = 200,
    error: Text | None = None,
    done: str = "",
) -> Response:
    try:
        page = await run_unit_of_work(
            session,
            lambda unit: records_page(
                session=unit, actor=staff.person, trajectory_id=trajectory_id, now=web.now()
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(
        request,
        "indicators/records.html",
        staff=staff,
        status_code=status_code,
        page=page,
        error=error,
        done=Text.of(DONE[done]) if done in DONE else None,
        coordinator=staff.has_role(Role.CARE_COORDINATOR),
        activity_kinds=ACTIVITY_KINDS,
        aims=AIMS,
        support_kinds=SUPPORT_KINDS,
        event_kinds=EVENT_KINDS,
        page_events=[kind.value for kind in PAGE_EVENTS],
        max_text=MAX_TEXT,
    )


async def _change(
    request: Request,
    *,
    web: WebDep,
    staff: Staff,
    session: SessionDep,
    trajectory_id: int,
    done: str,
    change: Callable[[AsyncSession], Awaitable[object]],
) -> Response:
    try:
        await run_unit_of_work(session, change)
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        return await _records(
            request,
            web=web,
            staff=staff,
            session=session,
            trajectory_id=trajectory_id,
            status_code=422,
            error=refused.reason,
        )
    return _records_url(trajectory_id, done)


async def records(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The trajectory's observations, teacher support and the student's events."""
    return await _records(
        request, web=web, staff=staff, session=session, trajectory_id=trajectory_id, done=done
    )


async def request_(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    kind: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Ask for an observation in class or teacher support."""

    async def change(unit: AsyncSession) -> object:
        chosen = _choice(ActivityKind, kind)
        return await request_activity(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            kind=chosen,
            now=web.now(),
        )

    return await _change(
        request,
        web=web,
        staff=staff,
        session=session,
        trajectory_id=trajectory_id,
        done="request",
        change=change,
    )


async def activity(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    kind: Annotated[str, Form(max_length=32)] = "",
    activity_id: Annotated[str, Form(max_length=12)] = "",
    held_on: Annotated[str, Form(max_length=16)] = "",
    performer: Annotated[str, Form(max_length=12)] = "",
    aim: Annotated[str, Form(max_length=32)] = "",
    support_kind: Annotated[str, Form(max_length=32)] = "",
    outcome: Annotated[str, Form(max_length=MAX_TEXT * 2)] = "",
) -> Response:
    """Record an observation or teacher support held (filling a request when one is named)."""

    async def change(unit: AsyncSession) -> object:
        chosen = _choice(ActivityKind, kind)
        return await record_activity(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            kind=chosen,
            record=ActivityRecord(
                held_on=_required_day(held_on),
                outcome=outcome,
                performer_id=int(performer) if performer.isdigit() else 0,
                aim=_optional(ObservationAim, aim),
                support_kind=_optional(TeacherSupportKind, support_kind),
            ),
            now=web.now(),
            activity_id=int(activity_id) if activity_id.isdigit() else None,
        )

    return await _change(
        request,
        web=web,
        staff=staff,
        session=session,
        trajectory_id=trajectory_id,
        done="activity",
        change=change,
    )


async def event(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    kind: Annotated[str, Form(max_length=32)] = "",
    on_day: Annotated[str, Form(max_length=16)] = "",
    until: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Record an OPP present, a TLV requested or granted, or long-term absence (coordinator)."""
    if not staff.has_role(Role.CARE_COORDINATOR):
        raise Forbidden

    async def change(unit: AsyncSession) -> object:
        chosen = _choice(StudentEventKind, kind)
        return await record_student_event(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            kind=chosen,
            on_day=_required_day(on_day),
            until=_day(until, optional=True),
            now=web.now(),
        )

    return await _change(
        request,
        web=web,
        staff=staff,
        session=session,
        trajectory_id=trajectory_id,
        done="event",
        change=change,
    )


def _current_year(web: WebDep) -> int:
    return school_year_of(web.now().astimezone(SCHOOL_TIMEZONE).date())


async def _targets(
    request: Request,
    *,
    web: WebDep,
    staff: Staff,
    session: SessionDep,
    year: int,
    status_code: int = 200,
    error: Text | None = None,
    done: str = "",
) -> Response:
    try:
        page = await run_unit_of_work(
            session,
            lambda unit: targets_page(session=unit, actor=staff.person, school_year=year),
        )
    except NotAllowed as refused:
        raise Forbidden from refused
    current = _current_year(web)
    catalog = web.catalog(page_language(request, staff.person.language))
    return render_page(
        request,
        "indicators/targets.html",
        staff=staff,
        status_code=status_code,
        page=page,
        error=error,
        done=Text.of(DONE[done]) if done in DONE else None,
        year_label=school_year_label(year),
        years=[(y, school_year_label(y)) for y in range(current - 2, current + 2)],
        # Translated here: the labels carry "(%)", which the template's gettext would format.
        targeted=[(i.value, catalog.gettext(LABELS[i])) for i in TARGETED],
        today=web.now().astimezone(SCHOOL_TIMEZONE).date().isoformat(),
        max_text=MAX_TEXT,
        max_link=MAX_LINK,
    )


async def targets(
    request: Request,
    *,
    web: WebDep,
    staff: AdminDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The partnership's targets of the admin's school for one school year; visitations."""
    return await _targets(
        request,
        web=web,
        staff=staff,
        session=session,
        year=year if year is not None else _current_year(web),
        done=done,
    )


def _percent(value: str) -> float | None:
    text = value.strip().replace(",", ".").rstrip("%").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError as bad:
        raise InputInvalid(BAD_TARGET) from bad
    if not 0 <= number <= 100:
        raise InputInvalid(BAD_TARGET)
    return number


async def save_targets(
    request: Request,
    *,
    web: WebDep,
    staff: AdminDep,
    session: SessionDep,
    year: Annotated[int, Form(ge=2000, le=2100)],
) -> Response:
    """Save every target of the form (an empty field removes that target)."""
    form = await request.form()

    async def change(unit: AsyncSession) -> None:
        for indicator in TARGETED:
            raw = form.get(f"target_{indicator.value}", "")
            await set_target(
                session=unit,
                actor=staff.person,
                school_year=year,
                indicator=indicator.value,
                target=_percent(raw if isinstance(raw, str) else ""),
                now=web.now(),
            )

    try:
        await run_unit_of_work(session, change)
    except NotAllowed as refused:
        raise Forbidden from refused
    except InputInvalid as refused:
        return await _targets(
            request,
            web=web,
            staff=staff,
            session=session,
            year=year,
            status_code=422,
            error=refused.reason,
        )
    return RedirectResponse(f"/indicators/targets?year={year}&done=targets", status_code=303)


async def save_visitation(
    request: Request,
    *,
    web: WebDep,
    staff: AdminDep,
    session: SessionDep,
    held_on: Annotated[str, Form(max_length=16)] = "",
    summary: Annotated[str, Form(max_length=MAX_TEXT * 2)] = "",
    link: Annotated[str, Form(max_length=MAX_LINK * 2)] = "",
) -> Response:
    """Record a visitation report of the admin's school."""
    year = _current_year(web)

    async def change(unit: AsyncSession) -> object:
        return await record_visitation(
            session=unit,
            actor=staff.person,
            held_on=_required_day(held_on),
            summary=summary,
            link=link,
            now=web.now(),
        )

    try:
        await run_unit_of_work(session, change)
    except NotAllowed as refused:
        raise Forbidden from refused
    except InputInvalid as refused:
        return await _targets(
            request,
            web=web,
            staff=staff,
            session=session,
            year=year,
            status_code=422,
            error=refused.reason,
        )
    return RedirectResponse("/indicators/targets?done=visitation", status_code=303)


def build_router() -> APIRouter:
    """A fresh router with the records pages and their forms."""
    router = APIRouter()
    base = "/trajectories/{trajectory_id:int}/records"
    router.add_api_route(base, records, methods=["GET"])
    for path, endpoint in (("request", request_), ("activity", activity), ("event", event)):
        router.add_api_route(
            f"{base}/{path}", endpoint, methods=["POST"], dependencies=[CsrfProtected]
        )
    router.add_api_route("/indicators/targets", targets, methods=["GET"])
    router.add_api_route(
        "/indicators/targets", save_targets, methods=["POST"], dependencies=[CsrfProtected]
    )
    router.add_api_route(
        "/indicators/visitations",
        save_visitation,
        methods=["POST"],
        dependencies=[CsrfProtected],
    )
    return router
