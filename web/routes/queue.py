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
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.verwijzing import CONSENT_PURPOSES
from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Text
from services.bulk.actions import BulkClosePreview, bulk_assign, bulk_close, preview_bulk_close
from services.consent.records import record_consent, withdraw_consent
from services.kernel.errors import InputInvalid, InvalidTransition, NotAllowed
from services.kernel.ids import parse_id
from services.queue.listing import (
    SEARCH_MAX,
    Coordinator,
    QueueOverview,
    age,
    next_open_item,
    queue_overview,
    school_coordinators,
)
from services.queue.notes import add_note
from services.queue.referral_view import (
    GIVER_LABELS,
    ReferralView,
    consent_line,
    extra_lines,
    open_referral,
)
from services.queue.rules import DECLINE_REASON_MAX, NOTE_MAX, SortColumn
from services.queue.saved_filters import NAME_MAX as VIEW_NAME_MAX
from services.queue.saved_filters import (
    FilterSet,
    delete_filter_set,
    list_filter_sets,
    save_filter_set,
)
from services.referrals.care_team import cases_of_referral
from services.referrals.decisions import (
    accept_for_intake,
    decline,
    mark_for_care_team,
    resume_analysis,
    take_in_analysis,
)
from services.referrals.merging import merge_duplicate
from services.referrals.rules import CARE_TEAM_DECISION_LABELS
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
from web.queue_view import (
    VIEW_FIELD,
    QueueView,
    handled_next,
    handled_text,
    next_or,
    posted_view,
    stay_url,
    view_param,
    with_view,
)
from web.runtime import Web

log = logging.getLogger(__name__)

NAV = (NavItem("queue", "/queue", N_("Queue"), frozenset({Role.CARE_COORDINATOR}), order=10),)

#: Where an item of each kind opens. A feature that adds a kind adds its page here.
ITEM_PATHS: dict[QueueKind, str] = {
    QueueKind.REFERRAL: "/queue/{id}",
    QueueKind.TIMEOUT_REQUEST: "/queue/timeout-requests/{id}",  # web/routes/timeout_requests.py
    QueueKind.EXIT_SURVEY: "/queue/questionnaires/{id}",  # web/routes/survey_items.py
}
#: The actions that finish an item's step here: after them the browser goes on to the next
#: open item of the queue's view (when the page was opened from the queue). Taking in
#: analysis, resuming and a note keep the coordinator on the referral they are working on.
NEXT_AFTER = frozenset({"care_team", "accept", "decline", "merge"})

#: How many interim evaluation dates the accept form offers.
EVALUATION_FIELDS = 3
#: The accept form's fields in the form's order: a problem's name → the id of the field the
#: error summary links to (the first evaluation date for the evaluations).
PLAN_FIELDS: dict[str, str] = {
    "goals": "goals",
    "start": "start",
    "end": "end",
    "evaluations": "evaluation-1",
    "timeouts_per_week": "timeouts_per_week",
}
ACCEPT_FORM = "accept-form"

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
#: The queue's columns, each a sort link (`services.queue.rules.SortColumn`).
COLUMN_LABELS: dict[SortColumn, Text] = {
    SortColumn.ITEM: Text.of(N_("Item")),
    SortColumn.KIND: Text.of(N_("Kind")),
    SortColumn.STUDENT: Text.of(N_("Student")),
    SortColumn.URGENCY: Text.of(N_("Urgency")),
    SortColumn.STATUS: Text.of(N_("Status")),
    SortColumn.ASSIGNEE: Text.of(N_("Assigned to")),
    SortColumn.AGE: Text.of(N_("Age")),
    SortColumn.RECEIVED: Text.of(N_("Received")),
}
#: The bulk actions (the form's ``action``).
BULK_ACTIONS = ("assign", "close")


def bulk_done(action: str, count: int) -> Text:
    """What the queue page says after a bulk action (``?bulk=<action>&count=<n>``)."""
    if action == "assign":
        return Text.plural_of("{count} item assigned.", "{count} items assigned.", count)
    return Text.plural_of("{count} item closed.", "{count} items closed.", count)


def item_path(kind: QueueKind, item_id: int) -> str | None:
    """The page of a queue item, or ``None`` when its kind has no page (yet)."""
    pattern = ITEM_PATHS.get(kind)
    return None if pattern is None else pattern.format(id=item_id)


_QueueRead = tuple[QueueOverview, list[FilterSet], list[Coordinator]]


async def _queue(
    request: Request,
    *,
    staff: Staff,
    uow: UnitOfWork,
    now: datetime,
    view: QueueView,
    status_code: int = 200,
    done: Text | None = None,
    error: Text | None = None,
    bulk_reason: str = "",
    checked: frozenset[int] = frozenset(),
    view_name: str = "",
    view_problem: Text | None = None,
) -> Response:
    async def read(
        session: AsyncSession,
    ) -> tuple[QueueOverview, list[FilterSet], list[Coordinator]]:
        overview = await queue_overview(
            session=session,
            viewer=staff.person,
            filters=view.filters(),
            sort=view.order(),
            now=now,
        )
        saved = await list_filter_sets(
            session=session, viewer=staff.person, account_id=staff.account_id
        )
        return overview, saved, await school_coordinators(session=session, viewer=staff.person)

    try:
        overview, saved, coordinators = await uow(read)
    except NotAllowed as refused:
        raise NotAvailable from refused

    def link(kind: QueueKind, item_id: int) -> str | None:
        path = item_path(kind, item_id)
        return None if path is None else with_view(path, view)

    return render_page(
        request,
        "queue.html",
        staff=staff,
        status_code=status_code,
        overview=overview,
        item_path=link,
        view=view,
        view_query=view.query(),
        columns=list(SortColumn),
        column_labels=COLUMN_LABELS,
        selected={
            "status": view.status,
            "kind": view.kind,
            "assignee": view.assignee,
            "urgency": view.urgency,
        },
        open_count=sum(
            overview.counts.get(s, 0)
            for s in (QueueStatus.NEW, QueueStatus.IN_PROGRESS, QueueStatus.WAITING)
        ),
        all_count=sum(overview.counts.values()),
        statuses=list(QueueStatus),
        kinds=list(QueueKind),
        urgencies=list(Urgency),
        saved=saved,
        coordinators=coordinators,
        done=done,
        error=error,
        bulk_reason=bulk_reason,
        checked=checked,
        view_name=view_name,
        view_problem=view_problem,
        limits={"decline": DECLINE_REASON_MAX, "view_name": VIEW_NAME_MAX, "q": SEARCH_MAX},
        labels=labels,
    )


async def queue_page(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    status: str = "open",
    kind: str = "",
    assignee: str = "any",
    urgency: str = "",
    q: str = "",
    sort: str = "",
    dir: str = "asc",
    handled: str = "",
    bulk: str = "",
    count: str = "",
    saved: str = "",
) -> Response:
    """Every item with kind, student, urgency, status, assignee and age; filters, a search by
    the student's name or number, a sort by any column (the queue's own order by default:
    time-out requests first), counts per status, saved views and the bulk form."""
    view = QueueView.of(
        status=status, kind=kind, assignee=assignee, urgency=urgency, q=q, sort=sort, dir=dir
    )
    done = handled_text(handled)
    if handled and done is not None:
        done = Text.of(N_("{done} No open items are left in this view."), done=done)
    number = parse_id(count)
    if bulk in BULK_ACTIONS and number is not None:
        done = bulk_done(bulk, number)
    if saved == "1":
        done = Text.of(N_("The view is saved."))
    return await _queue(request, staff=staff, uow=uow, now=web.now(), view=view, done=done)


async def next_item(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    after: str = "",
    view: str = "",
) -> Response:
    """After item ``after`` was handled: its next open item in the view (sort and filters),
    or the view's queue page when none is left."""
    chosen = view_param(view) or QueueView()
    item = parse_id(after)
    if item is None:
        return RedirectResponse(chosen.url(), status_code=303)
    now = web.now()
    try:
        following = await uow(
            lambda s: next_open_item(
                session=s,
                viewer=staff.person,
                filters=chosen.filters(),
                sort=chosen.order(),
                after=item,
                now=now,
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    path = None if following is None else item_path(following.kind, following.queue_item_id)
    if path is None:
        separator = "&" if "?" in chosen.url() else "?"
        return RedirectResponse(f"{chosen.url()}{separator}handled={item}", status_code=303)
    return RedirectResponse(f"{with_view(path, chosen)}&handled={item}", status_code=303)


def _ids(raw: list[str] | None) -> list[int] | None:
    """The checked items' ids, or ``None`` when one is not an id at all (a forged form)."""
    ids = [parse_id(value) for value in raw or []]
    return None if any(i is None for i in ids) else [i for i in ids if i is not None]


async def bulk_action(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    action: Annotated[str, Form()] = "",
    item: Annotated[list[str] | None, Form()] = None,
    assignee: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Assign the checked items to a care coordinator, or close them with a reason. Closing
    declines referrals and time-out requests and tells their mentors and students, and cannot
    be undone: it first shows what it will do (`preview_bulk_close`), and only the
    confirmation's button (``confirmed=yes``) closes. Each item is checked again against the
    person acting (`services.bulk.actions`); an item that is not theirs refuses the whole form
    (404, nothing changed), an item whose state does not allow it shows the queue again with
    the reason (409, nothing changed)."""
    chosen = view_param(view) or QueueView()
    ids = _ids(item)
    if ids is None or action not in BULK_ACTIONS:
        raise NotAvailable
    now = web.now()
    try:
        if action == "close" and confirmed != "yes":
            preview = await uow(
                lambda s: preview_bulk_close(
                    session=s, actor=staff.person, queue_item_ids=ids, reason=reason
                )
            )
            return _confirm_close(request, staff=staff, preview=preview, reason=reason, view=chosen)
        if action == "assign":
            assignee_id = parse_id(assignee)
            if assignee_id is None:
                raise NotAvailable
            changed = await uow(
                lambda s: bulk_assign(
                    session=s,
                    actor=staff.person,
                    queue_item_ids=ids,
                    assignee_id=assignee_id,
                    now=now,
                )
            )
        else:
            changed = await uow(
                lambda s: bulk_close(
                    session=s, actor=staff.person, queue_item_ids=ids, reason=reason, now=now
                )
            )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except (InputInvalid, InvalidTransition) as refused:
        return await _queue(
            request,
            staff=staff,
            uow=uow,
            now=now,
            view=chosen,
            status_code=422 if isinstance(refused, InputInvalid) else 409,
            error=refused.reason,
            bulk_reason=reason,
            checked=frozenset(ids),
        )
    separator = "&" if "?" in chosen.url() else "?"
    return RedirectResponse(
        f"{chosen.url()}{separator}bulk={action}&count={len(changed)}", status_code=303
    )


def _confirm_close(
    request: Request, *, staff: Staff, preview: BulkClosePreview, reason: str, view: QueueView
) -> Response:
    """The confirmation before a bulk close: how many items, what happens to each kind, the
    reason, and the button that closes them (the same form fields, ``confirmed=yes``)."""
    return render_page(
        request,
        "queue_close.html",
        staff=staff,
        preview=preview,
        reason=reason,
        view_query=view.query(),
        back=view.url(),
    )


async def save_view(
    *,
    request: Request,
    web: WebDep,
    staff: CoordinatorDep,
    uow: UnitOfWorkDep,
    name: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "",
) -> Response:
    """Save the current filters, search and sort under a name (this web account's)."""
    chosen = view_param(view) or QueueView()
    now = web.now()
    try:
        await uow(
            lambda s: save_filter_set(
                session=s,
                viewer=staff.person,
                account_id=staff.account_id,
                name=name,
                query=chosen.query(),
                now=now,
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    except InputInvalid as refused:
        return await _queue(
            request,
            staff=staff,
            uow=uow,
            now=now,
            view=chosen,
            status_code=422,
            view_name=name,
            view_problem=refused.reason,
        )
    separator = "&" if "?" in chosen.url() else "?"
    return RedirectResponse(f"{chosen.url()}{separator}saved=1", status_code=303)


async def delete_view(*, staff: CoordinatorDep, uow: UnitOfWorkDep, set_id: int) -> Response:
    """Delete one of this account's saved views."""
    try:
        await uow(
            lambda s: delete_filter_set(
                session=s, viewer=staff.person, account_id=staff.account_id, filter_set_id=set_id
            )
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    return RedirectResponse("/queue", status_code=303)


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


def _plan_summary(problems: dict[str, Text]) -> list[tuple[str, Text]]:
    """The accept form's error summary: (field id, problem) in the form's order, so a refused
    form says at its top what to fix and links to each field (a problem of a field the form
    does not know links to the form)."""
    known = [(PLAN_FIELDS[name], problems[name]) for name in PLAN_FIELDS if name in problems]
    others = [(ACCEPT_FORM, text) for name, text in problems.items() if name not in PLAN_FIELDS]
    return known + others


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
    queue_view = view_param(request.query_params.get(VIEW_FIELD) or await posted_view(request))
    try:
        view = await uow(
            lambda s: open_referral(
                session=s, viewer=staff.person, queue_item_id=item_id, now=web.now()
            ),
        )
    except NotAllowed as refused:
        raise NotAvailable from refused
    now = web.now()
    # Issue 15: the care team's discussions of this referral (web/templates/care_team_cases).
    care_team = await uow(
        lambda s: cases_of_referral(session=s, viewer=staff.person, referral_id=view.referral_id)
    )
    return render_page(
        request,
        "referral.html",
        care_team_cases=care_team,
        care_team_decisions=CARE_TEAM_DECISION_LABELS,
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
        done=Text.of(DONE[done]) if done in DONE else handled_next(request),
        queue_view=None if queue_view is None else queue_view.query(),
        plan=plan or PlanForm.proposed(view, _today(now)),
        plan_problems=plan_problems or {},
        plan_summary=_plan_summary(plan_problems or {}),
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


async def _done(request: Request, item_id: int, action: str) -> Response:
    # The queue's view the form carried is kept, on the item's page as on the next item.
    fallback = await stay_url(request, f"/queue/{item_id}", action)
    if action in NEXT_AFTER:
        return await next_or(request, item_id, fallback)
    return RedirectResponse(fallback, status_code=303)


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
    return await _done(request, item_id, name)


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
    return await _done(request, item_id, "accept")


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
    return await _done(request, item_id, "decline")


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
    return await _done(request, item_id, "note")


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
    return await _done(request, item_id, "consent")


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
    return await _done(request, item_id, "withdraw")


def build_router() -> APIRouter:
    """A fresh router with the queue, the referral page and its actions."""
    router = APIRouter()
    router.add_api_route("/queue", queue_page, methods=["GET"])
    router.add_api_route("/queue/next", next_item, methods=["GET"])
    for queue_path, queue_endpoint in (
        ("/queue/bulk", bulk_action),
        ("/queue/views", save_view),
        ("/queue/views/{set_id:int}/delete", delete_view),
    ):
        router.add_api_route(
            queue_path, queue_endpoint, methods=["POST"], dependencies=[CsrfProtected]
        )
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
