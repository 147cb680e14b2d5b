"""The care coordinator's queue and the referral page with its actions.

Every read and change goes through `services.queue` (listing, referral_view, notes) and
`services.referrals.decisions`, in one unit of work each (`web.deps.UnitOfWork`); the services
authorize the person from the database and write the audit trail (``queue.view``, ``referral.view``,
``queue.take``, …). A referral of another school and an unknown id give the same 404.
After a successful action the browser is redirected to the referral (POST-redirect-GET) with
``?done=<action>``; a refused one shows the page again with the reason next to the form and
the typed text kept. The actions shown are `ReferralView.actions`
(`services.queue.rules.allowed_actions`), the rule the services enforce and Telegram renders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dialogs.flows.verwijzing import CONSENT_PURPOSES
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.consent.records import record_consent, withdraw_consent
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.ids import parse_id
from services.queue.listing import AssigneeFilter, QueueFilters, age, queue_overview
from services.queue.notes import add_note
from services.queue.referral_view import (
    GIVER_LABELS,
    ReferralView,
    consent_line,
    extra_lines,
    open_referral,
)
from services.queue.rules import DECLINE_REASON_MAX, NOTE_MAX
from services.referrals.decisions import (
    accept_for_intake,
    decline,
    mark_for_care_team,
    resume_analysis,
    take_in_analysis,
)
from services.referrals.merging import merge_duplicate
from services.trajectories.lifecycle import (
    GOALS_MAX,
    TIMEOUTS_PER_WEEK_MAX,
    TrajectoryPlan,
    validate_plan,
)
from storage.models import (
    DEFAULT_TIMEOUTS_PER_WEEK,
    ConsentPurpose,
    QueueKind,
    QueueStatus,
    Role,
    SupportKind,
    Urgency,
)
from web import labels
from web.deps import (
    CoordinatorDep,
    CsrfProtected,
    Staff,
    StaffDep,
    UnitOfWork,
    UnitOfWorkDep,
    WebDep,
)
from web.errors import NotAvailable
from web.nav import NavItem
from web.pages import page_language, render_page
from web.runtime import Web

log = logging.getLogger(__name__)

NAV = (NavItem("queue", "/queue", N_("Queue"), frozenset({Role.CARE_COORDINATOR}), order=10),)

#: Where an item of each kind opens. A feature that adds a kind adds its page here.
ITEM_PATHS: dict[QueueKind, str] = {
    QueueKind.REFERRAL: "/queue/{id}",
    QueueKind.TIMEOUT_REQUEST: "/queue/timeout-requests/{id}",  # web/routes/timeout_requests.py
}

#: How many interim evaluation dates the accept form offers.
EVALUATION_FIELDS = 3

DONE: dict[str, str] = {
    "take": N_("Taken in analysis."),
    "care_team": N_("Marked for the care team (ZAT). The age clock pauses while it waits."),
    "resume": N_("Back in analysis."),
    "accept": N_("Accepted. The trajectory has been created; the mentor has been told."),
    "decline": N_("Declined. The mentor has been told (without the reason)."),
    "note": N_("Note added."),
    "consent": N_("The consent has been recorded."),
    "withdraw": N_("The consent has been recorded as withdrawn."),
    "merge": N_(
        "Merged into the open referral: what the mentor wrote is a note there, and the mentor "
        "has been told."
    ),
}
STATUS_FILTERS = ("open", "new", "in_progress", "waiting", "closed", "all")


def item_path(kind: QueueKind, item_id: int) -> str | None:
    """The page of a queue item, or ``None`` when its kind has no page (yet)."""
    pattern = ITEM_PATHS.get(kind)
    return None if pattern is None else pattern.format(id=item_id)


def _filters(status: str, kind: str, assignee: str, urgency: str) -> QueueFilters:
    statuses: tuple[QueueStatus, ...] | None = None
    if status == "all":
        statuses = tuple(QueueStatus)
    elif status in {s.value for s in QueueStatus}:
        statuses = (QueueStatus(status),)
    return QueueFilters(
        statuses=statuses,
        kind=QueueKind(kind) if kind in {k.value for k in QueueKind} else None,
        assignee=(
            AssigneeFilter(assignee)
            if assignee in {a.value for a in AssigneeFilter}
            else AssigneeFilter.ANYONE
        ),
        urgency=Urgency(urgency) if urgency in {u.value for u in Urgency} else None,
    )


async def queue_page(
    *,
    request: Request,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    status: str = "open",
    kind: str = "",
    assignee: str = "any",
    urgency: str = "",
) -> Response:
    """Every item with kind, status, assignee and age; filters; counts per status."""
    filters = _filters(status, kind, assignee, urgency)
    try:
        overview = await uow(
            lambda s: queue_overview(session=s, viewer=staff.person, filters=filters),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return render_page(
        request,
        "queue.html",
        staff=staff,
        overview=overview,
        item_path=item_path,
        selected={
            "status": status if status in STATUS_FILTERS else "open",
            "kind": filters.kind.value if filters.kind else "",
            "assignee": filters.assignee.value,
            "urgency": filters.urgency.value if filters.urgency else "",
        },
        open_count=sum(
            overview.counts.get(s, 0)
            for s in (QueueStatus.NEW, QueueStatus.IN_PROGRESS, QueueStatus.WAITING)
        ),
        all_count=sum(overview.counts.values()),
        statuses=list(QueueStatus),
        kinds=list(QueueKind),
        urgencies=list(Urgency),
        labels=labels,
    )


@dataclass
class PlanForm:
    """The accept form as typed (strings), kept when it comes back with problems."""

    goals: str = ""
    start: str = ""
    end: str = ""
    evaluations: list[str] = field(default_factory=lambda: [""] * EVALUATION_FIELDS)
    timeouts_in_plan: bool = False
    timeouts_per_week: str = str(DEFAULT_TIMEOUTS_PER_WEEK)
    #: The chosen coach's id as posted ("": keep the coach already assigned).
    coach: str = ""

    @classmethod
    def proposed(cls, view: ReferralView, today: date) -> PlanForm:
        """A starting point: from the intake date (or today), twelve weeks, one interim
        evaluation halfway; time-out in the plan when the mentor asked for it."""
        start = max(view.intake_from, today)
        end = start + timedelta(weeks=12)
        evaluations = [(start + timedelta(weeks=6)).isoformat()]
        return cls(
            start=start.isoformat(),
            end=end.isoformat(),
            evaluations=evaluations + [""] * (EVALUATION_FIELDS - 1),
            timeouts_in_plan=SupportKind.TIME_OUT in view.support,
            timeouts_per_week=str(view.timeouts_cap),
        )

    def parse(self) -> tuple[TrajectoryPlan | None, dict[str, Text]]:
        """The plan, or the problems by field name (shown next to the fields)."""
        problems: dict[str, Text] = {}
        start = _parse_date(self.start, "start", problems)
        end = _parse_date(self.end, "end", problems)
        evaluations: list[date] = []
        for raw in self.evaluations:
            if raw.strip():
                day = _parse_date(raw, "evaluations", problems)
                if day is not None:
                    evaluations.append(day)
        try:
            per_week = int(self.timeouts_per_week.strip() or DEFAULT_TIMEOUTS_PER_WEEK)
        except ValueError:
            per_week = -1
        coach_id = parse_id(self.coach.strip())
        plan = None
        if start is not None and end is not None:
            plan = TrajectoryPlan(
                goals=self.goals,
                start=start,
                end=end,
                evaluations=tuple(evaluations),
                timeouts_in_plan=self.timeouts_in_plan,
                timeouts_per_week=per_week,
                coach_id=coach_id,
            )
            problems = {**validate_plan(plan), **problems}
        elif not self.goals.strip():
            problems["goals"] = validate_plan(
                TrajectoryPlan(goals=self.goals, start=date.min, end=date.min)
            )["goals"]
        return (plan if not problems else None), problems


def _parse_date(raw: str, name: str, problems: dict[str, Text]) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        problems.setdefault(
            name, Text.of(N_("Enter a date, for example {example}."), example=date(2026, 9, 1))
        )
        return None


def _today(now: datetime) -> date:
    return now.astimezone(SCHOOL_TIMEZONE).date()


@dataclass(frozen=True, slots=True)
class _Call:
    """What every action needs from its request."""

    request: Request
    web: Web
    staff: Staff
    uow: UnitOfWork


async def _referral_page(
    call: _Call,
    item_id: int,
    *,
    status_code: int = 200,
    error: Text | None = None,
    plan: PlanForm | None = None,
    plan_problems: dict[str, Text] | None = None,
    decline_reason: str = "",
    decline_problem: Text | None = None,
    note_text: str = "",
    note_problem: Text | None = None,
    done: str = "",
) -> Response:
    request, web, staff, uow = call.request, call.web, call.staff, call.uow
    try:
        view = await uow(
            lambda s: open_referral(session=s, viewer=staff.person, queue_item_id=item_id),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    now = web.now()
    return render_page(
        request,
        "referral.html",
        staff=staff,
        status_code=status_code,
        view=view,
        age=age(
            created_at=view.created_at,
            status=view.status,
            waiting_since=view.waiting_since,
            paused_seconds=view.paused_seconds,
            closed_at=view.decided_at,
            now=now,
        ),
        actions=view.actions,
        extra=extra_lines(view),
        consent_line=consent_line,
        giver_labels={code: Text.of(label) for code, label in GIVER_LABELS.items()},
        consent_purposes=CONSENT_PURPOSES,
        error=error,
        done=Text.of(DONE[done]) if done in DONE else None,
        plan=plan or PlanForm.proposed(view, _today(now)),
        plan_problems=plan_problems or {},
        decline_reason=decline_reason,
        decline_problem=decline_problem,
        note_text=note_text,
        note_problem=note_problem,
        limits={
            "goals": GOALS_MAX,
            "decline": DECLINE_REASON_MAX,
            "note": NOTE_MAX,
            "timeouts_per_week": TIMEOUTS_PER_WEEK_MAX,
        },
        labels=labels,
    )


async def referral_page(
    *,
    request: Request,
    web: WebDep,
    staff: StaffDep,
    uow: UnitOfWorkDep,
    item_id: int,
    done: str = "",
) -> Response:
    """A referral with all its fields, history, notes and the actions its state allows.

    Open to the school's care coordinators, and read-only to its coaches once accepted
    (`services.queue.referral_view.open_referral` decides).
    """
    if not staff.has_role(Role.CARE_COORDINATOR, Role.COACH):
        raise NotAvailable
    return await _referral_page(_Call(request, web, staff, uow), item_id, done=done)


def _done(item_id: int, action: str) -> Response:
    return RedirectResponse(f"/queue/{item_id}?done={action}", status_code=303)


StateAction = Callable[..., Awaitable[object]]


async def _state_action(call: _Call, item_id: int, action: StateAction, name: str) -> Response:
    request, web, staff, uow = call.request, call.web, call.staff, call.uow
    try:
        now = web.now()
        await uow(
            lambda s: action(session=s, actor=staff.person, queue_item_id=item_id, now=now),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InvalidTransition as refused:
        return await _referral_page(
            _Call(request, web, staff, uow), item_id, status_code=409, error=refused.reason
        )
    return _done(item_id, name)


async def take(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """Take a new referral in analysis."""
    return await _state_action(_Call(request, web, staff, uow), item_id, take_in_analysis, "take")


async def care_team(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """Put the referral on the care team's (ZAT's) agenda."""
    return await _state_action(
        _Call(request, web, staff, uow), item_id, mark_for_care_team, "care_team"
    )


async def resume(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """The care team has advised: back in analysis."""
    return await _state_action(_Call(request, web, staff, uow), item_id, resume_analysis, "resume")


async def accept(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    goals: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    evaluation: Annotated[list[str] | None, Form()] = None,
    timeouts_in_plan: Annotated[str, Form()] = "",
    timeouts_per_week: Annotated[str, Form()] = "",
) -> Response:
    """Accept with a plan (goals, start, end, evaluations): the trajectory is created."""
    typed = (evaluation or [])[:EVALUATION_FIELDS]
    form = PlanForm(
        goals=goals,
        start=start,
        end=end,
        evaluations=typed + [""] * (EVALUATION_FIELDS - len(typed)),
        timeouts_in_plan=bool(timeouts_in_plan),
        timeouts_per_week=timeouts_per_week,
    )
    plan, problems = form.parse()
    if plan is None:
        return await _referral_page(
            _Call(request, web, staff, uow),
            item_id,
            status_code=422,
            plan=form,
            plan_problems=problems,
        )
    try:
        now = web.now()
        await uow(
            lambda s: accept_for_intake(
                session=s, actor=staff.person, queue_item_id=item_id, now=now, plan=plan
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except (InvalidTransition, InputInvalid) as refused:
        return await _referral_page(
            _Call(request, web, staff, uow),
            item_id,
            status_code=409,
            error=refused.reason,
            plan=form,
        )
    return _done(item_id, "accept")


async def decline_referral(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Decline with a reason (kept internal)."""
    try:
        now = web.now()
        await uow(
            lambda s: decline(
                session=s, actor=staff.person, queue_item_id=item_id, reason=reason, now=now
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        return await _referral_page(
            _Call(request, web, staff, uow),
            item_id,
            status_code=422,
            decline_reason=reason,
            decline_problem=refused.reason,
        )
    except InvalidTransition as refused:
        return await _referral_page(
            _Call(request, web, staff, uow), item_id, status_code=409, error=refused.reason
        )
    return _done(item_id, "decline")


async def note(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    item_id: int,
    text: Annotated[str, Form()] = "",
) -> Response:
    """Add an internal note."""
    try:
        now = web.now()
        await uow(
            lambda s: add_note(
                session=s, actor=staff.person, queue_item_id=item_id, text=text, now=now
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        return await _referral_page(
            _Call(request, web, staff, uow),
            item_id,
            status_code=422,
            note_text=text,
            note_problem=refused.reason,
        )
    return _done(item_id, "note")


async def merge(
    *, request: Request, web: WebDep, staff: CoordinatorDep, uow: UnitOfWorkDep, item_id: int
) -> Response:
    """Merge a duplicate into the student's open referral or trajectory (the note it leaves
    there is written in the page's language)."""
    catalog = web.catalog(page_language(request, staff.person.language))
    action = partial(merge_duplicate, render=catalog.render)
    return await _state_action(_Call(request, web, staff, uow), item_id, action, "merge")


async def consent(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    referral_id: int,
    item: Annotated[str, Form()] = "",
    giver: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
) -> Response:
    """Record a consent given later (the care coordinator; checked again in storage). The
    consent belongs to the referral, not to the queue item's state: its own path; ``item`` is
    only where to return."""
    item_id, giver_id = parse_id(item), parse_id(giver)
    if item_id is None or giver_id is None or purpose not in set(ConsentPurpose):
        raise NotAvailable
    try:
        now = web.now()
        await uow(
            lambda s: record_consent(
                session=s,
                actor=staff.person,
                referral_id=referral_id,
                giver_id=giver_id,
                purpose=ConsentPurpose(purpose),
                now=now,
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InvalidTransition as refused:
        return await _referral_page(
            _Call(request, web, staff, uow), item_id, status_code=409, error=refused.reason
        )
    return _done(item_id, "consent")


async def withdraw(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    referral_id: int,
    consent_id: int,
    item: Annotated[str, Form()] = "",
) -> Response:
    """Record that a consent was withdrawn (the row stays, with when and by whom)."""
    del referral_id  # the consent's own school and id decide (`withdraw_consent`)
    item_id = parse_id(item)
    if item_id is None:
        raise NotAvailable
    try:
        now = web.now()
        await uow(
            lambda s: withdraw_consent(
                session=s, actor=staff.person, consent_id=consent_id, now=now
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InvalidTransition as refused:
        return await _referral_page(
            _Call(request, web, staff, uow), item_id, status_code=409, error=refused.reason
        )
    return _done(item_id, "withdraw")


def build_router() -> APIRouter:
    """A fresh router with the queue, the referral page and its actions."""
    router = APIRouter()
    router.add_api_route("/queue", queue_page, methods=["GET"])
    router.add_api_route("/queue/{item_id:int}", referral_page, methods=["GET"])
    for path, endpoint in (
        ("take", take),
        ("care-team", care_team),
        ("resume", resume),
        ("accept", accept),
        ("decline", decline_referral),
        ("notes", note),
        ("merge", merge),
    ):
        router.add_api_route(
            f"/queue/{{item_id:int}}/{path}",
            endpoint,
            methods=["POST"],
            dependencies=[CsrfProtected],
        )
    # Consent is the referral's, in every state of its item (not a queue action).
    router.add_api_route(
        "/referrals/{referral_id:int}/consent",
        consent,
        methods=["POST"],
        dependencies=[CsrfProtected],
    )
    router.add_api_route(
        "/referrals/{referral_id:int}/consent/{consent_id:int}/withdraw",
        withdraw,
        methods=["POST"],
        dependencies=[CsrfProtected],
    )
    return router
