"""The trajectory page: its lifecycle stage, goals, dates, coach, evaluations, appointments
and attendance, the logbook, overdue flags, the plan form and closing (final evaluation and
advice; it cancels what is still planned and starts the exit questionnaire).

Open to the school's care coordinators and coaches; the plan (made at the intake, with the
coach as fixed point of contact), the logbook and "evaluation held" (with notes) are both's;
closing is the care coordinator's (`services.trajectories.rules`, the lifecycle table).
Every read and change goes through `services.trajectories` (`view`, `logbook`,
`evaluations`, `lifecycle`; closing through `services.appointments.closing`), one unit of
work each, which authorize from the
database and write the audit trail (``trajectory.view``, ``trajectory.plan``,
``logbook.add``, ``trajectory.evaluation_held``, ``trajectory.close``). Another school's
trajectory and an unknown id give the same 404.

After a change the browser is redirected to the page (POST-redirect-GET) with
``?done=<action>``; a refused form shows the page again with the problems next to the fields
and everything typed kept.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.afspraken import KIND_LABELS
from dialogs.flows.exit_survey import RESPONDENT_LABELS
from dialogs.text import N_, Text
from services.appointments.closing import close_trajectory
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.ids import parse_id
from services.kernel.uow import run_unit_of_work
from services.queue.referral_view import consent_line
from services.referrals.care_team import cases_of_referral
from services.referrals.rules import CARE_TEAM_DECISION_LABELS
from services.surveys.invitations import TeacherChoice, teachers_to_pick
from services.trajectories.district_coach import (
    ask_district_coach_in,
    case_panel,
    end_district_coach,
)
from services.trajectories.evaluations import mark_evaluation_held
from services.trajectories.lifecycle import (
    GOALS_MAX,
    TIMEOUTS_PER_WEEK_MAX,
    Closing,
    set_plan,
)
from services.trajectories.logbook import LOGBOOK_MAX, add_logbook_entry, validate_logbook_text
from services.trajectories.rules import ADVICE_MAX, EVALUATION_NOTES_MAX
from services.trajectories.view import TrajectoryPage, open_trajectory
from storage.models import Role
from web import labels
from web.deps import (
    CaseStaffDep,
    CoordinatorDep,
    CsrfProtected,
    SessionDep,
    Staff,
    TrajectoryStaffDep,
    WebDep,
)
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import render_page
from web.routes.queue import EVALUATION_FIELDS, PlanForm

log = logging.getLogger(__name__)

#: The page is reached from the trajectory list (its own navigation entry).
NAV: tuple[NavItem, ...] = ()

DONE: dict[str, str] = {
    "plan": N_("The plan has been saved."),
    "logbook": N_("The logbook entry has been saved."),
    "held": N_("The evaluation has been marked as held."),
    "district_coach": N_("The district coach has been asked in."),
    "district_coach_end": N_("The district coach no longer works on this trajectory."),
    "close": N_(
        "The trajectory has been closed: its appointments still planned were cancelled and "
        "the exit questionnaire has started."
    ),
}
STAGE: dict[str, str] = {
    "accepted": N_("accepted, the intake is to be booked"),
    "intake_planned": N_("intake planned"),
    "intake_held": N_("intake held, the plan is to be completed"),
    "active": N_("active"),
    "closing": N_("final evaluation held, ready to close"),
    "questionnaires": N_("closed, exit questionnaire running"),
    "closed": N_("closed"),
}

#: The same names as in the chat, so the page and the messages call a kind the same.
APPOINTMENT_KIND: Mapping[str, str] = KIND_LABELS
APPOINTMENT_STATUS: dict[str, str] = {
    "booked": N_("booked"),
    "confirmed": N_("confirmed"),
    "cancelled": N_("cancelled"),
    "attended": N_("attended"),
    "no_show": N_("did not come"),
}
EVALUATION_KIND: dict[str, str] = {
    "interim": N_("interim evaluation"),
    "final": N_("final evaluation"),
}
RESPONDENT: Mapping[str, str] = RESPONDENT_LABELS
INVITATION_STATE: dict[str, str] = {
    "answered": N_("answered"),
    "open": N_("not answered yet"),
    "expired": N_("expired without an answer"),
}


def plan_form_of(page: TrajectoryPage) -> PlanForm:
    """The plan form filled with the stored plan (empty fields where nothing is planned)."""
    interim = [day.isoformat() for day in page.interim_dates][:EVALUATION_FIELDS]
    return PlanForm(
        goals=page.goals or "",
        start=page.start_date.isoformat() if page.start_date else "",
        end=page.end_date.isoformat() if page.end_date else "",
        evaluations=interim + [""] * (EVALUATION_FIELDS - len(interim)),
        timeouts_in_plan=page.timeouts_in_plan,
        timeouts_per_week=str(page.timeouts_per_week),
        coach=str(page.coach_id or ""),
    )


async def _page(
    request: Request,
    web: WebDep,
    staff: Staff,
    session: SessionDep,
    trajectory_id: int,
    *,
    status_code: int = 200,
    error: Text | None = None,
    done: str = "",
    plan: PlanForm | None = None,
    plan_problems: dict[str, Text] | None = None,
    logbook_text: str = "",
    logbook_problem: Text | None = None,
    template: str = "trajectory.html",
    closing: Closing | None = None,
) -> Response:
    try:
        page = await run_unit_of_work(
            session,
            lambda unit: open_trajectory(
                session=unit, viewer=staff.person, trajectory_id=trajectory_id, now=web.now()
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    teachers: list[TeacherChoice] = []
    if template == "trajectory_close.html":
        teachers = await run_unit_of_work(
            session,
            lambda unit: teachers_to_pick(session=unit, school_id=staff.person.school_id),
        )
    agenda = await run_unit_of_work(
        session,
        lambda unit: cases_of_referral(
            session=unit, viewer=staff.person, referral_id=page.referral_id
        ),
    )
    is_open = page.status.value != "closed"
    coordinator = staff.has_role(Role.CARE_COORDINATOR)
    is_staff = coordinator or staff.has_role(Role.COACH)
    case = await run_unit_of_work(
        session,
        lambda unit: case_panel(
            session=unit, viewer=staff.person, trajectory_id=trajectory_id, now=web.now()
        ),
    )
    return render_page(
        request,
        template,
        staff=staff,
        status_code=status_code,
        page=page,
        error=error,
        done=Text.of(DONE[done]) if done in DONE else None,
        can_plan=is_staff and is_open,
        can_close=coordinator and is_open,
        can_write=is_open,
        can_hold=is_staff and page.status.value == "active",
        district_only=not is_staff,
        case=case,
        can_ask_in=coordinator and is_open,
        # Ending a district coach's part (their access) stays possible after closing.
        can_end_part=coordinator and is_staff,
        consent_line=consent_line,
        closing=closing or Closing(advice=""),
        teachers=teachers,
        care_team_cases=agenda,
        care_team_decisions=CARE_TEAM_DECISION_LABELS,
        plan=plan or plan_form_of(page),
        plan_problems=plan_problems or {},
        logbook_text=logbook_text,
        logbook_problem=logbook_problem,
        limits={
            "goals": GOALS_MAX,
            "logbook": LOGBOOK_MAX,
            "timeouts_per_week": TIMEOUTS_PER_WEEK_MAX,
            "advice": ADVICE_MAX,
            "notes": EVALUATION_NOTES_MAX,
        },
        labels=labels,
        names={
            "appointment_kind": APPOINTMENT_KIND,
            "appointment_status": APPOINTMENT_STATUS,
            "evaluation_kind": EVALUATION_KIND,
            "respondent": RESPONDENT,
            "invitation_state": INVITATION_STATE,
            "stage": STAGE,
        },
    )


def _done(trajectory_id: int, action: str) -> Response:
    return RedirectResponse(f"/trajectories/{trajectory_id}?done={action}", status_code=303)


async def _attempt(
    session: SessionDep, change: Callable[[AsyncSession], Awaitable[object]]
) -> InvalidTransition | InputInvalid | None:
    """Run a change of the trajectory in one unit of work; its refusal, or None when done.

    Not allowed (another school's, unknown id): 404. Not possible now (closed, the wrong
    stage) or a value the service refuses: returned, for the page to show again with why.
    """
    try:
        await run_unit_of_work(session, change)
    except NotAllowed as refused:
        raise NotAvailable from refused
    except (InvalidTransition, InputInvalid) as refused:
        return refused
    return None


async def trajectory_page(
    request: Request,
    *,
    web: WebDep,
    staff: CaseStaffDep,
    session: SessionDep,
    trajectory_id: int,
    done: str = "",
) -> Response:
    """One trajectory (audited as ``trajectory.view``)."""
    return await _page(request, web, staff, session, trajectory_id, done=done)


async def save_plan(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    goals: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    evaluation: Annotated[list[str] | None, Form()] = None,
    timeouts_in_plan: Annotated[str, Form()] = "",
    timeouts_per_week: Annotated[str, Form()] = "",
    coach: Annotated[str, Form()] = "",
) -> Response:
    """Replace the plan (goals, start, end, evaluations, time-outs, coach); a coach or care
    coordinator (at the intake). Completing it after the intake activates the trajectory."""
    typed = (evaluation or [])[:EVALUATION_FIELDS]
    form = PlanForm(
        goals=goals,
        start=start,
        end=end,
        evaluations=typed + [""] * (EVALUATION_FIELDS - len(typed)),
        timeouts_in_plan=bool(timeouts_in_plan),
        timeouts_per_week=timeouts_per_week,
        coach=coach,
    )
    plan, problems = form.parse()
    if plan is None:
        return await _page(
            request,
            web,
            staff,
            session,
            trajectory_id,
            status_code=422,
            plan=form,
            plan_problems=problems,
        )
    refused = await _attempt(
        session,
        lambda unit: set_plan(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            plan=plan,
            now=web.now(),
        ),
    )
    if refused is not None:
        return await _page(
            request,
            web,
            staff,
            session,
            trajectory_id,
            status_code=409,
            error=refused.reason,
            plan=form,
        )
    return _done(trajectory_id, "plan")


async def write_logbook(
    request: Request,
    *,
    web: WebDep,
    staff: CaseStaffDep,
    session: SessionDep,
    trajectory_id: int,
    text: Annotated[str, Form()] = "",
) -> Response:
    """Add a logbook entry (coach or care coordinator); read in chat by student, parents and
    mentor."""
    problem = validate_logbook_text(text)
    if problem is None:
        refused = await _attempt(
            session,
            lambda unit: add_logbook_entry(
                session=unit,
                author=staff.person,
                trajectory_id=trajectory_id,
                text=text,
                now=web.now(),
            ),
        )
        if isinstance(refused, InvalidTransition):
            return await _page(
                request,
                web,
                staff,
                session,
                trajectory_id,
                status_code=409,
                error=refused.reason,
                logbook_text=text,
            )
        if refused is not None:
            problem = refused.reason
    if problem is not None:
        return await _page(
            request,
            web,
            staff,
            session,
            trajectory_id,
            status_code=422,
            logbook_text=text,
            logbook_problem=problem,
        )
    return _done(trajectory_id, "logbook")


async def evaluation_held(
    request: Request,
    *,
    web: WebDep,
    staff: TrajectoryStaffDep,
    session: SessionDep,
    trajectory_id: int,
    evaluation_id: int,
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Mark a planned evaluation as held today, with what was said (optional)."""
    refused = await _attempt(
        session,
        lambda unit: mark_evaluation_held(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            evaluation_id=evaluation_id,
            now=web.now(),
            notes=notes,
        ),
    )
    if refused is not None:
        return await _page(
            request,
            web,
            staff,
            session,
            trajectory_id,
            status_code=422 if isinstance(refused, InputInvalid) else 409,
            error=refused.reason,
        )
    return _done(trajectory_id, "held")


async def confirm_close(
    request: Request,
    *,
    web: WebDep,
    staff: CoordinatorDep,
    session: SessionDep,
    trajectory_id: int,
) -> Response:
    """The confirmation step before closing: what closing does, and the button that does it."""
    return await _page(
        request, web, staff, session, trajectory_id, template="trajectory_close.html"
    )


async def close(
    request: Request,
    *,
    web: WebDep,
    staff: CoordinatorDep,
    session: SessionDep,
    trajectory_id: int,
    advice: Annotated[str, Form()] = "",
    final_evaluation: Annotated[str, Form()] = "",
    outflow: Annotated[str, Form()] = "",
    vavo: Annotated[str, Form()] = "",
    teachers: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Close the trajectory with the final evaluation and the advice for the school (and,
    optionally, afstroom or VAVO, and the teachers also invited to the exit questionnaire):
    what is still planned is cancelled and the exit questionnaire goes out, in the same
    transaction. A refusal shows the confirmation again with why and what was typed."""
    picked = [parse_id(raw) for raw in teachers or []]
    closing = Closing(
        advice=advice,
        final_evaluation=final_evaluation or None,
        outflow=outflow == "yes",
        vavo=vavo == "yes",
        # An id that does not parse is kept as -1: the service refuses it with the rest.
        teacher_ids=tuple(-1 if person_id is None else person_id for person_id in picked),
    )
    refused = await _attempt(
        session,
        lambda unit: close_trajectory(
            session=unit,
            actor=staff.person,
            trajectory_id=trajectory_id,
            closing=closing,
            now=web.now(),
        ),
    )
    if refused is not None:
        return await _page(
            request,
            web,
            staff,
            session,
            trajectory_id,
            status_code=409,
            error=refused.reason,
            template="trajectory_close.html",
            closing=closing,
        )
    return _done(trajectory_id, "close")


async def ask_district_coach(
    request: Request,
    *,
    web: WebDep,
    staff: CoordinatorDep,
    session: SessionDep,
    trajectory_id: int,
    district_coach: Annotated[str, Form()] = "",
) -> Response:
    """Ask a district coach in (the care coordinator; refused without consent)."""
    return await _district_coach_change(
        request,
        _Change(web, staff, session, trajectory_id, district_coach),
        ask_district_coach_in,
        "district_coach",
    )


async def end_district_coach_part(
    request: Request,
    *,
    web: WebDep,
    staff: CoordinatorDep,
    session: SessionDep,
    trajectory_id: int,
    district_coach: Annotated[str, Form()] = "",
) -> Response:
    """End a district coach's part in the trajectory (the care coordinator); their access ends."""
    return await _district_coach_change(
        request,
        _Change(web, staff, session, trajectory_id, district_coach),
        end_district_coach,
        "district_coach_end",
    )


@dataclass(frozen=True, slots=True)
class _Change:
    """A district coach form as posted: who, on which trajectory, the coach's id as typed."""

    web: WebDep
    staff: CoordinatorDep
    session: SessionDep
    trajectory_id: int
    district_coach: str


async def _district_coach_change(
    request: Request,
    change: _Change,
    service: Callable[..., Awaitable[object]],
    done: str,
) -> Response:
    coach_id = parse_id(change.district_coach)
    if coach_id is None:
        raise NotAvailable
    refused = await _attempt(
        change.session,
        lambda unit: service(
            session=unit,
            actor=change.staff.person,
            trajectory_id=change.trajectory_id,
            district_coach_id=coach_id,
            now=change.web.now(),
        ),
    )
    if refused is not None:
        return await _page(
            request,
            change.web,
            change.staff,
            change.session,
            change.trajectory_id,
            status_code=409,
            error=refused.reason,
        )
    return _done(change.trajectory_id, done)


def build_router() -> APIRouter:
    """A fresh router with the trajectory page and its actions."""
    router = APIRouter()
    router.add_api_route("/trajectories/{trajectory_id:int}", trajectory_page, methods=["GET"])
    router.add_api_route("/trajectories/{trajectory_id:int}/close", confirm_close, methods=["GET"])
    for path, endpoint in (
        ("plan", save_plan),
        ("logbook", write_logbook),
        ("evaluations/{evaluation_id:int}/held", evaluation_held),
        ("close", close),
        ("district-coach", ask_district_coach),
        ("district-coach/end", end_district_coach_part),
    ):
        router.add_api_route(
            f"/trajectories/{{trajectory_id:int}}/{path}",
            endpoint,
            methods=["POST"],
            dependencies=[CsrfProtected],
        )
    return router
