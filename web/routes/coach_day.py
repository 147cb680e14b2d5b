"""The coach's day (issue 14.2): today's and this week's appointments on one page, attendance
in one tap and the logbook entry from the row.

``/day`` shows the logged-in coach's own agenda (`services.appointments.agenda`); a care
coordinator chooses a coach of their school (``?coach=<id>``; another school's or an unknown
id is a 404) and reads it without the buttons. Attended / no-show is one small form each (the
session's CSRF token) that goes through `services.appointments.attendance.mark_attendance`,
the service the Telegram buttons use, after checking the appointment is on this coach's
agenda (another coach's or another school's id: 404). The logbook form writes through
`services.appointments.agenda.add_agenda_logbook_entry` (the trajectory comes from the
appointment, never from the form). POST → redirect → GET with ``?done=``; a refusal shows
the page again with the reason at the row and the typed text kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialogs.flows.afspraken import KIND_LABELS
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.appointments.agenda import (
    Agenda,
    add_agenda_logbook_entry,
    agenda_appointment,
    agenda_coaches,
    coach_agenda,
)
from services.appointments.attendance import mark_attendance
from services.appointments.errors import BookingRefused
from services.conversations.runtime import school_today
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed, NotFound
from services.kernel.uow import run_unit_of_work
from services.trajectories.logbook import LOGBOOK_MAX
from storage.models import Person, Role
from web import labels
from web.deps import CsrfProtected, SessionDep, Staff, TrajectoryStaffDep, WebDep
from web.errors import Forbidden, NotAvailable
from web.nav import NavItem
from web.pages import page_language, render_page
from web.runtime import Web

log = logging.getLogger(__name__)

NAV = (
    NavItem(
        "day",
        "/day",
        N_("Coach's day"),
        frozenset({Role.COACH, Role.CARE_COORDINATOR}),
        order=25,
    ),
)

ATTENDED, NO_SHOW = "attended", "no_show"
DONE: dict[str, str] = {
    ATTENDED: N_("Marked as attended."),
    NO_SHOW: N_("Marked as did not come."),
    "logbook": N_("The logbook entry has been saved."),
}
STATUS: dict[str, str] = {
    "booked": N_("booked"),
    "confirmed": N_("confirmed"),
    "cancelled": N_("cancelled"),
    "attended": N_("attended"),
    "no_show": N_("did not come"),
}


@dataclass(frozen=True, slots=True)
class _Problem:
    """A refusal shown at one row (and what was typed there)."""

    appointment_id: int
    reason: Text
    text: str = ""


def _not_found() -> NotAvailable:
    return NotAvailable()


async def _agenda(
    session: SessionDep, web: Web, staff: Staff, coach_id: int | None
) -> tuple[Agenda, list[Person]]:
    now = web.now()

    async def read(unit: SessionDep) -> tuple[Agenda, list[Person]]:
        agenda = await coach_agenda(
            session=unit,
            viewer=staff.person,
            now=now,
            today=school_today(now),
            coach_id=coach_id,
        )
        return agenda, await agenda_coaches(session=unit, viewer=staff.person)

    try:
        return await run_unit_of_work(session, read)
    except NotFound as missing:
        raise _not_found() from missing
    except NotAllowed as refused:
        raise Forbidden from refused


async def _page(
    request: Request,
    web: Web,
    staff: Staff,
    session: SessionDep,
    *,
    coach_id: int | None = None,
    done: str = "",
    problem: _Problem | None = None,
    status_code: int = 200,
) -> Response:
    agenda, coaches = await _agenda(session, web, staff, coach_id)
    return render_page(
        request,
        "coach_day.html",
        staff=staff,
        status_code=status_code,
        agenda=agenda,
        coaches=coaches,
        choosing=bool(coaches),
        done=Text.of(DONE[done]) if done in DONE else None,
        problem=problem,
        labels=labels,
        names={"kind": KIND_LABELS, "status": STATUS},
        logbook_max=LOGBOOK_MAX,
        clock=_clock(request, web, staff),
    )


def _clock(request: Request, web: Web, staff: Staff) -> Callable[[datetime], str]:
    """A start or end time as the school's wall clock shows it, in the page's language."""
    catalog = web.catalog(page_language(request, staff.person.language))
    return lambda at: catalog.render(
        Text.raw(at.astimezone(SCHOOL_TIMEZONE).time().replace(tzinfo=None))
    )


async def day_page(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    coach: int | None = None,
    done: str = "",
) -> Response:
    """The coach's own day and week; a care coordinator's choice of coach."""
    if coach is None and not staff.has_role(Role.COACH):
        # A care coordinator without a choice yet: the first coach of the school, if any.
        coaches = await run_unit_of_work(
            session, lambda unit: agenda_coaches(session=unit, viewer=staff.person)
        )
        if coaches:
            coach = coaches[0].id
        else:
            return render_page(
                request,
                "coach_day.html",
                staff=staff,
                agenda=None,
                coaches=[],
                choosing=False,
                done=None,
                problem=None,
                labels=labels,
                names={},
                logbook_max=LOGBOOK_MAX,
                clock=_clock(request, web, staff),
            )
    return await _page(request, web, staff, session, coach_id=coach, done=done)


async def mark(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    appointment_id: int,
    mark: Annotated[str, Form()] = "",
) -> Response:
    """Attended or no-show for one row of the coach's agenda (re-checked by the service)."""
    if mark not in (ATTENDED, NO_SHOW):
        raise _not_found()
    now = web.now()

    async def work(unit: SessionDep) -> None:
        await agenda_appointment(session=unit, coach=staff.person, appointment_id=appointment_id)
        await mark_attendance(
            session=unit,
            coach=staff.person,
            appointment_id=appointment_id,
            attended=mark == ATTENDED,
            now=now,
        )

    try:
        await run_unit_of_work(session, work)
    except (NotFound, NotAllowed) as missing:
        log.info("day: attendance of %s refused for person %s", appointment_id, staff.person.id)
        raise _not_found() from missing
    except (BookingRefused, InvalidTransition) as refused:
        return await _page(
            request,
            web,
            staff,
            session,
            problem=_Problem(appointment_id, refused.reason),
            status_code=409,
        )
    return RedirectResponse(f"/day?done={mark}#a{appointment_id}", status_code=303)


async def write_logbook(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    appointment_id: int,
    text: Annotated[str, Form()] = "",
) -> Response:
    """A logbook entry for the trajectory of one row (the trajectory page shows it)."""
    now = web.now()
    try:
        await run_unit_of_work(
            session,
            lambda unit: add_agenda_logbook_entry(
                session=unit,
                coach=staff.person,
                appointment_id=appointment_id,
                text=text,
                now=now,
            ),
        )
    except (NotFound, NotAllowed) as missing:
        log.info("day: logbook for %s refused for person %s", appointment_id, staff.person.id)
        raise _not_found() from missing
    except (InputInvalid, InvalidTransition) as refused:
        return await _page(
            request,
            web,
            staff,
            session,
            problem=_Problem(appointment_id, refused.reason, text),
            status_code=422,
        )
    return RedirectResponse(f"/day?done=logbook#a{appointment_id}", status_code=303)


def build_router() -> APIRouter:
    """A fresh router with the coach's day."""
    router = APIRouter()
    router.add_api_route("/day", day_page, methods=["GET"])
    router.add_api_route(
        "/day/{appointment_id:int}/attendance",
        mark,
        methods=["POST"],
        dependencies=[CsrfProtected],
    )
    router.add_api_route(
        "/day/{appointment_id:int}/logbook",
        write_logbook,
        methods=["POST"],
        dependencies=[CsrfProtected],
    )
    return router
