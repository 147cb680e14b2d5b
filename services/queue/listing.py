"""The care coordinator's queue, as the coordinator sees it."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.kernel.access import require_role
from services.kernel.audit import record_audit
from services.queue.rules import SortColumn, next_item_id, sort_entries
from storage.models import (
    Person,
    PersonRole,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    RespondentType,
    Role,
    SurveyInvitation,
    SurveyResponse,
    TimeoutRequest,
    Trajectory,
    Urgency,
    WaitingReason,
)

log = logging.getLogger(__name__)

#: What the queue shows when no statuses are asked for: everything not yet closed.
OPEN_STATUSES: tuple[QueueStatus, ...] = (
    QueueStatus.NEW,
    QueueStatus.IN_PROGRESS,
    QueueStatus.WAITING,
)


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One line of the queue. Names are for display inside the chat only, never for logs."""

    queue_item_id: int
    kind: QueueKind
    status: QueueStatus
    created_at: datetime
    student_name: str | None
    group_name: str | None
    mentor_name: str | None
    urgency: Urgency | None
    assignee_id: int | None = None
    assignee_name: str | None = None
    waiting_reason: WaitingReason | None = None
    waiting_since: datetime | None = None
    paused_seconds: int = 0
    updated_at: datetime | None = None
    #: Who answered, for an exit questionnaire (``kind`` ``exit_survey``); the student is the
    #: one whose trajectory it was about.
    respondent_type: RespondentType | None = None
    #: The student's number in the school's administration (``Person.external_id``).
    student_number: str | None = None
    #: For a time-out request: the time the student asked for (the queue's order puts the
    #: soonest first, `services.queue.rules.priority`).
    requested_at: datetime | None = None

    def age(self, now: datetime) -> timedelta:
        """How long the item has been open, not counting the time it spent waiting."""
        return age(
            created_at=self.created_at,
            status=self.status,
            waiting_since=self.waiting_since,
            paused_seconds=self.paused_seconds,
            closed_at=self.updated_at if self.status is QueueStatus.CLOSED else None,
            now=now,
        )


def age(
    *,
    created_at: datetime,
    status: QueueStatus,
    waiting_since: datetime | None,
    paused_seconds: int,
    closed_at: datetime | None,
    now: datetime,
) -> timedelta:
    """An item's age: from ``created_at`` to now (or to ``closed_at``), minus its pauses.

    The clock stops while the item is ``waiting`` (from ``waiting_since``); earlier waits are
    in ``paused_seconds``. Never negative.
    """
    end = closed_at if status is QueueStatus.CLOSED and closed_at is not None else now
    if status is QueueStatus.WAITING and waiting_since is not None:
        end = min(end, waiting_since)
    return max(end - created_at - timedelta(seconds=paused_seconds), timedelta(0))


class AssigneeFilter(StrEnum):
    """Whose items the queue shows."""

    ANYONE = "any"
    ME = "me"
    NOBODY = "none"


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """What the queue page filters on; ``statuses`` ``None`` means the open ones."""

    statuses: tuple[QueueStatus, ...] | None = None
    kind: QueueKind | None = None
    assignee: AssigneeFilter = AssigneeFilter.ANYONE
    urgency: Urgency | None = None
    #: A part of the student's name or number (case-insensitive); empty: everyone.
    search: str = ""


#: The longest search the queue accepts (longer input is cut).
SEARCH_MAX = 100


@dataclass(frozen=True, slots=True)
class QueueSort:
    """How the queue is ordered: ``column`` ``None`` is the queue's own order
    (`services.queue.rules.priority`)."""

    column: SortColumn | None = None
    descending: bool = False


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """The filtered entries and, for the same filters but any status, the count per status."""

    entries: list[QueueEntry]
    counts: dict[QueueStatus, int] = field(default_factory=dict)


async def list_queue(
    *,
    session: AsyncSession,
    viewer: Person,
    statuses: Collection[QueueStatus] | None = None,
) -> list[QueueEntry]:
    """The queue of the viewer's school: high urgency first, then oldest first.

    An operation in the caller's unit of work (the view is audited as ``queue.view``). Only a
    care coordinator sees the queue, and only of their own school; anyone else gets
    `NotAllowed`. ``statuses`` defaults to the open ones (`OPEN_STATUSES`).
    """
    overview = await queue_overview(
        session=session,
        viewer=viewer,
        filters=QueueFilters(statuses=None if statuses is None else tuple(statuses)),
    )
    return overview.entries


async def queue_overview(
    *,
    session: AsyncSession,
    viewer: Person,
    filters: QueueFilters,
    sort: QueueSort | None = None,
    now: datetime | None = None,
) -> QueueOverview:
    """The queue of the viewer's school, filtered, sorted, with counts per status (the web's
    queue). ``sort`` defaults to the queue's own order (time-out requests first, by the time
    asked for; then urgency, oldest first: `services.queue.rules.priority`); ``now`` is what
    the age column is measured against when sorting by age.

    Same rules as `list_queue` (an operation; care coordinators of the school only; audited
    as ``queue.view`` with the item ids shown).
    """
    wanted = tuple(OPEN_STATUSES if filters.statuses is None else filters.statuses)
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    conditions = _filter_conditions(viewer=viewer, filters=filters)
    entries = await _entries(
        session=session, conditions=[*conditions, QueueItem.status.in_(wanted)]
    )
    chosen = sort or QueueSort()
    entries = sort_entries(
        entries,
        column=chosen.column,
        descending=chosen.descending,
        now=now or datetime.now(UTC),
    )
    counted = await session.execute(
        _joined(select(QueueItem.status, func.count(QueueItem.id)))
        .where(*conditions)
        .group_by(QueueItem.status)
    )
    counts = dict.fromkeys(QueueStatus, 0)
    counts.update({status: int(number) for status, number in counted})
    record_audit(
        session=session,
        school_id=viewer.school_id,
        actor_id=viewer.id,
        action="queue.view",
        subject_type="school",
        subject_id=viewer.school_id,
        details={
            "statuses": [status.value for status in wanted],
            "queue_item_ids": [entry.queue_item_id for entry in entries],
        },
    )
    log.info("queue viewed by person_id=%s: %s items", viewer.id, len(entries))
    return QueueOverview(entries=entries, counts=counts)


async def next_open_item(
    *,
    session: AsyncSession,
    viewer: Person,
    filters: QueueFilters,
    sort: QueueSort | None,
    after: int,
    now: datetime,
) -> QueueEntry | None:
    """The open item that follows item ``after`` in the queue as the viewer sorts and filters
    it (`services.queue.rules.next_item_id`): where to go once ``after`` has been handled.
    ``None`` when no open item is left in this view. Care coordinators of the school only
    (`NotAllowed`); nothing is shown, so nothing is audited (the item page that opens next is).
    """
    wanted = tuple(OPEN_STATUSES if filters.statuses is None else filters.statuses)
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    conditions = _filter_conditions(viewer=viewer, filters=filters)
    # The view's items and the handled one, whatever its status now (usually closed or
    # moved): its place in the order is where the next one is looked for.
    entries = await _entries(
        session=session,
        conditions=[*conditions, or_(QueueItem.status.in_(wanted), QueueItem.id == after)],
    )
    chosen = sort or QueueSort()
    ordered = sort_entries(entries, column=chosen.column, descending=chosen.descending, now=now)
    found = next_item_id(ordered, after=after, wanted=wanted)
    return next((entry for entry in ordered if entry.queue_item_id == found), None)


_STUDENT = aliased(Person, name="student")
_MENTOR = aliased(Person, name="mentor")
_ASSIGNEE = aliased(Person, name="assignee")
_Ts = TypeVarTuple("_Ts")


def _joined(query: Select[*_Ts]) -> Select[*_Ts]:
    """``query`` with what a queue line shows joined: the referral, the questionnaire and the
    time-out request behind the item, their student, the mentor and the assignee."""
    return (
        query.select_from(QueueItem)
        .outerjoin(Referral, Referral.id == QueueItem.referral_id)
        # An exit questionnaire is about the student of the trajectory it closed.
        .outerjoin(SurveyResponse, SurveyResponse.id == QueueItem.survey_response_id)
        .outerjoin(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
        .outerjoin(Trajectory, Trajectory.id == SurveyInvitation.trajectory_id)
        # A time-out request is about the student who asked.
        .outerjoin(TimeoutRequest, TimeoutRequest.queue_item_id == QueueItem.id)
        .outerjoin(
            _STUDENT,
            _STUDENT.id
            == func.coalesce(Referral.student_id, Trajectory.student_id, TimeoutRequest.student_id),
        )
        .outerjoin(_MENTOR, _MENTOR.id == Referral.mentor_id)
        .outerjoin(_ASSIGNEE, _ASSIGNEE.id == QueueItem.assignee_id)
    )


async def _entries(
    *, session: AsyncSession, conditions: list[ColumnElement[bool]]
) -> list[QueueEntry]:
    rows = await session.execute(
        _joined(
            select(
                QueueItem,
                _STUDENT.given_name,
                _STUDENT.family_name,
                _STUDENT.group_name,
                _STUDENT.external_id,
                _MENTOR.given_name,
                _MENTOR.family_name,
                _ASSIGNEE.given_name,
                _ASSIGNEE.family_name,
                Referral.urgency,
                SurveyResponse.respondent_type,
                TimeoutRequest.starts_at,
            )
        ).where(*conditions)
    )
    return [
        QueueEntry(
            queue_item_id=item.id,
            kind=item.kind,
            status=item.status,
            created_at=item.created_at,
            student_name=_name(student_given, student_family),
            group_name=group_name,
            mentor_name=_name(mentor_given, mentor_family),
            urgency=urgency,
            assignee_id=item.assignee_id,
            assignee_name=_name(assignee_given, assignee_family),
            waiting_reason=item.waiting_reason,
            waiting_since=item.waiting_since,
            paused_seconds=item.paused_seconds,
            updated_at=item.updated_at,
            respondent_type=respondent_type,
            student_number=student_number,
            requested_at=requested_at,
        )
        for (
            item,
            student_given,
            student_family,
            group_name,
            student_number,
            mentor_given,
            mentor_family,
            assignee_given,
            assignee_family,
            urgency,
            respondent_type,
            requested_at,
        ) in rows
    ]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filter_conditions(*, viewer: Person, filters: QueueFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [QueueItem.school_id == viewer.school_id]
    if filters.kind is not None:
        conditions.append(QueueItem.kind == filters.kind)
    if filters.assignee is AssigneeFilter.ME:
        conditions.append(QueueItem.assignee_id == viewer.id)
    elif filters.assignee is AssigneeFilter.NOBODY:
        conditions.append(QueueItem.assignee_id.is_(None))
    if filters.urgency is not None:
        conditions.append(Referral.urgency == filters.urgency)
    search = " ".join(filters.search.split())[:SEARCH_MAX]
    if search:
        pattern = _like(search)
        full_name = func.lower(_STUDENT.given_name + " " + _STUDENT.family_name)
        conditions.append(
            or_(
                full_name.like(pattern, escape="\\"),
                func.lower(_STUDENT.external_id).like(pattern, escape="\\"),
            )
        )
    return conditions


def _name(given: str | None, family: str | None) -> str | None:
    if given is None or family is None:
        return None
    return f"{given} {family}"


@dataclass(frozen=True, slots=True)
class Coordinator:
    """A care coordinator of the school, to assign items to (names inside the app only)."""

    person_id: int
    name: str


async def school_coordinators(*, session: AsyncSession, viewer: Person) -> list[Coordinator]:
    """The care coordinators of the viewer's school, by name (the bulk "assign to" choice).
    Care coordinators only (`NotAllowed`)."""
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    people = await session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.school_id == viewer.school_id, PersonRole.role == Role.CARE_COORDINATOR)
        .order_by(Person.given_name, Person.family_name, Person.id)
    )
    return [Coordinator(person.id, person.display_name) for person in people.unique()]
