"""Which actions a queue item allows, and why one is refused: the one rule, without I/O.

Storage enforces it (`services.queue.status.ensure_allowed` before every change), and both
channels render it: the web's item pages show a form per allowed action, the Telegram
keyboards a button per allowed action. A channel only maps actions to its own controls, so
the two cannot offer different things for the same item.

The table (a care coordinator of the item's school; anyone else is offered nothing and is
refused by the authorization before any rule is asked):

=================  ===============================  ============================================
kind               state                            actions
=================  ===============================  ============================================
referral           new                              take, care_team, decline, note (+ merge)
referral           in_progress                      care_team, accept, decline, note (+ merge)
referral           waiting for the care team (ZAT)  resume, accept, decline, note (+ merge)
referral           waiting for the intake           note (accepted: the decision is made);
                                                    system: intake_held, trajectory_closed
                                                    (→ closed, when that step is done)
referral           closed                           note
timeout_request    new (undecided)                  approve_timeout, decline_timeout
timeout_request    closed (decided)                 nothing
exit_survey        new / in_progress / waiting      close; system: survey_read (→ closed, when
                                                    a care coordinator reads the answers)
exit_survey        closed (handled)                 nothing
=================  ===============================  ============================================

Accepting needs analysis first (never from ``new``: a placement is never a single tap);
turning a referral down places no one, so it is allowed until a decision is made. Merging a
duplicate into the student's open referral or running trajectory ("+ merge") is allowed while
undecided, and only when such an other open one exists (``open_duplicate``, a fact the caller
reads: `services.queue.duplicates`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from dialogs.text import N_, Text
from services.kernel.text_input import validate_text
from storage.models import QueueDecision, QueueKind, QueueStatus, Urgency, WaitingReason

DECLINE_REASON_MIN = 5
DECLINE_REASON_MAX = 1000
NOTE_MIN = 1
NOTE_MAX = 2000

#: Shown when the item changed between reading it and writing (compare-and-set lost) and the
#: new state still allows the action: the person should look again before acting.
CHANGED_MEANWHILE = N_("Someone else just changed this referral. Please open it again.")


class QueueAction(StrEnum):
    """What a care coordinator can do with a queue item. The values are the web's form names."""

    #: Referral: start the analysis.
    TAKE = "take"
    #: Referral: put it on the care team's (ZAT's) agenda; the age clock pauses.
    CARE_TEAM = "care_team"
    #: Referral: the care team has advised, back in analysis.
    RESUME = "resume"
    #: Referral: place the student (creates the trajectory).
    ACCEPT = "accept"
    #: Referral: turn it down with a reason.
    DECLINE = "decline"
    #: Referral: an internal note.
    NOTE = "note"
    #: Referral: a duplicate, closed into the student's other open referral or trajectory
    #: (its content added there as a note; the mentor told).
    MERGE = "merge"
    #: Time-out request: book it as asked.
    APPROVE_TIMEOUT = "approve_timeout"
    #: Time-out request: turn it down with a reason.
    DECLINE_TIMEOUT = "decline_timeout"
    #: Exit questionnaire result: read and handled.
    CLOSE = "close"
    #: System (no button): the accepted referral's step is done, its intake was held.
    INTAKE_HELD = "intake_held"
    #: System (no button): the trajectory was closed; what still waits on it is resolved.
    TRAJECTORY_CLOSED = "trajectory_closed"
    #: System (no button): a care coordinator read the questionnaire's answers; its step is
    #: done (`services.surveys.results.open_survey_result`).
    SURVEY_READ = "survey_read"


#: What resolves an accepted referral waiting for its intake.
REFERRAL_SYSTEM_ACTIONS = frozenset({QueueAction.INTAKE_HELD, QueueAction.TRAJECTORY_CLOSED})
#: What resolves an open exit questionnaire result: its answers read.
SURVEY_SYSTEM_ACTIONS = frozenset({QueueAction.SURVEY_READ})
#: Actions no person chooses: a service makes them when the item's step is done elsewhere
#: (`services.trajectories.lifecycle`, `services.surveys.results`). Never offered as buttons
#: (`allowed_actions`), but `move_item` checks them against `system_actions` like any other.
SYSTEM_ACTIONS = REFERRAL_SYSTEM_ACTIONS | SURVEY_SYSTEM_ACTIONS


class ItemFacts(Protocol):
    """What the rules read of an item (a `storage.models.QueueItem` or a view of one)."""

    @property
    def kind(self) -> QueueKind: ...

    @property
    def status(self) -> QueueStatus: ...

    @property
    def waiting_reason(self) -> WaitingReason | None: ...

    @property
    def decision(self) -> QueueDecision | None: ...


@dataclass(frozen=True, slots=True)
class ItemState:
    """The facts of an item the rules depend on."""

    kind: QueueKind
    status: QueueStatus
    waiting_reason: WaitingReason | None = None
    decision: QueueDecision | None = None
    #: Another referral or trajectory of the same student in the school is open (a referral's
    #: item not closed, or a trajectory not closed): what a merge needs.
    open_duplicate: bool = False

    @classmethod
    def of(cls, item: ItemFacts, *, open_duplicate: bool = False) -> ItemState:
        """The state of ``item`` as it is now (``open_duplicate``: read by the caller)."""
        return cls(item.kind, item.status, item.waiting_reason, item.decision, open_duplicate)


_REFERRAL_ACTIONS: dict[tuple[QueueStatus, WaitingReason | None], frozenset[QueueAction]] = {
    (QueueStatus.NEW, None): frozenset(
        {QueueAction.TAKE, QueueAction.CARE_TEAM, QueueAction.DECLINE, QueueAction.NOTE}
    ),
    (QueueStatus.IN_PROGRESS, None): frozenset(
        {QueueAction.CARE_TEAM, QueueAction.ACCEPT, QueueAction.DECLINE, QueueAction.NOTE}
    ),
    (QueueStatus.WAITING, WaitingReason.CARE_TEAM): frozenset(
        {QueueAction.RESUME, QueueAction.ACCEPT, QueueAction.DECLINE, QueueAction.NOTE}
    ),
}


def allowed_actions(
    *,
    kind: QueueKind,
    status: QueueStatus,
    waiting_reason: WaitingReason | None = None,
    coordinator: bool = True,
    open_duplicate: bool = False,
) -> frozenset[QueueAction]:
    """The actions an item of ``kind`` in ``status`` (waiting for ``waiting_reason``) allows.

    ``coordinator`` is whether the person looking is a care coordinator of the item's school:
    only they act (a coach reading an accepted referral is offered nothing).
    ``open_duplicate``: the student has another open referral or trajectory in the school, so
    an undecided referral may be merged into it.
    """
    if not coordinator:
        return frozenset()
    if kind is QueueKind.REFERRAL:
        # A reason only means something while waiting; the note is open in every state.
        reason = waiting_reason if status is QueueStatus.WAITING else None
        undecided = _REFERRAL_ACTIONS.get((status, reason))
        if undecided is None:
            return frozenset({QueueAction.NOTE})
        return undecided | {QueueAction.MERGE} if open_duplicate else undecided
    if status is QueueStatus.CLOSED:
        return frozenset()
    if kind is QueueKind.TIMEOUT_REQUEST:
        return frozenset({QueueAction.APPROVE_TIMEOUT, QueueAction.DECLINE_TIMEOUT})
    # An exit questionnaire result: read, then marked as handled.
    return frozenset({QueueAction.CLOSE})


def system_actions(
    *, kind: QueueKind, status: QueueStatus, waiting_reason: WaitingReason | None = None
) -> frozenset[QueueAction]:
    """The system resolutions an item allows: a referral waiting for its intake is resolved
    when the intake is held or the trajectory closes; an open exit questionnaire result when a
    care coordinator reads its answers."""
    if (
        kind is QueueKind.REFERRAL
        and status is QueueStatus.WAITING
        and waiting_reason is WaitingReason.INTAKE
    ):
        return REFERRAL_SYSTEM_ACTIONS
    if kind is QueueKind.EXIT_SURVEY and status is not QueueStatus.CLOSED:
        return SURVEY_SYSTEM_ACTIONS
    return frozenset()


def allows(state: ItemState, action: QueueAction) -> bool:
    """Whether ``action`` may be done on an item in ``state`` (a care coordinator's action, or
    a system resolution)."""
    if action in SYSTEM_ACTIONS:
        return action in system_actions(
            kind=state.kind, status=state.status, waiting_reason=state.waiting_reason
        )
    return action in allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        open_duplicate=state.open_duplicate,
    )


def refusal(state: ItemState, action: QueueAction) -> Text | None:
    """Why ``action`` is refused on an item in ``state``, or ``None`` when it is allowed."""
    if allows(state, action):
        return None
    if action in SURVEY_SYSTEM_ACTIONS:
        return Text.of(N_("This questionnaire result is already handled."))
    if action in SYSTEM_ACTIONS:
        return Text.of(N_("This referral is not waiting for its intake."))
    if action in (QueueAction.APPROVE_TIMEOUT, QueueAction.DECLINE_TIMEOUT):
        return Text.of(N_("This request has already been decided."))
    if action is QueueAction.CLOSE:
        return Text.of(N_("This questionnaire result is already handled."))
    waits_for_care_team = (
        state.status is QueueStatus.WAITING and state.waiting_reason is WaitingReason.CARE_TEAM
    )
    if action is QueueAction.TAKE and state.status is QueueStatus.IN_PROGRESS:
        return Text.of(N_("This referral is already being analysed."))
    if action in (QueueAction.TAKE, QueueAction.CARE_TEAM) and waits_for_care_team:
        return Text.of(N_("This referral is already waiting for the care team."))
    if action is QueueAction.RESUME and state.status in (QueueStatus.NEW, QueueStatus.IN_PROGRESS):
        return Text.of(N_("This referral is not waiting for the care team."))
    undecided = state.decision is None and state.status is not QueueStatus.CLOSED
    if action is QueueAction.MERGE and undecided:
        return Text.of(
            N_(
                "There is no other open referral or running trajectory of this student to "
                "merge this referral into."
            )
        )
    if action is QueueAction.ACCEPT and state.status is QueueStatus.NEW:
        return Text.of(
            N_(
                "Take this referral in analysis first: a student is placed only after the "
                "referral has been analysed."
            )
        )
    return already_decided(state.decision)


def already_decided(decision: QueueDecision | None) -> Text:
    """The refusal for a referral whose decision is made (or that is closed without one)."""
    if decision is QueueDecision.ACCEPTED:
        return Text.of(N_("This referral was already accepted for an intake."))
    if decision is QueueDecision.DECLINED:
        return Text.of(N_("This referral was already declined."))
    return Text.of(N_("This referral is closed and can no longer be changed."))


def validate_decline_reason(reason: str) -> Text | None:
    """What is wrong with a decline reason (5–1000 characters), or ``None`` when it is fine."""
    return validate_text(reason, DECLINE_REASON_MIN, DECLINE_REASON_MAX)


def validate_note(text: str) -> Text | None:
    """What is wrong with a note (1–2000 characters), or ``None`` when it is fine."""
    return validate_text(text, NOTE_MIN, NOTE_MAX)


# --- The queue's order, its sorting and "next item" (issue 14) ---------------------------------


class SortColumn(StrEnum):
    """A column the web queue sorts by (the query parameter ``sort``)."""

    ITEM = "item"
    KIND = "kind"
    STUDENT = "student"
    URGENCY = "urgency"
    STATUS = "status"
    ASSIGNEE = "assignee"
    AGE = "age"
    RECEIVED = "received"


class SortableEntry(Protocol):
    """What the order reads of a queue line (`services.queue.listing.QueueEntry`)."""

    @property
    def queue_item_id(self) -> int: ...

    @property
    def kind(self) -> QueueKind: ...

    @property
    def status(self) -> QueueStatus: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def urgency(self) -> Urgency | None: ...

    @property
    def student_name(self) -> str | None: ...

    @property
    def assignee_name(self) -> str | None: ...

    @property
    def requested_at(self) -> datetime | None: ...

    def age(self, now: datetime) -> timedelta: ...


_URGENCY_RANK = {Urgency.HIGH: 0, Urgency.NORMAL: 1, Urgency.LOW: 2}
_STATUS_RANK = {status: rank for rank, status in enumerate(QueueStatus)}
_KIND_RANK = {kind: rank for rank, kind in enumerate(QueueKind)}
_FAR = datetime.max.replace(tzinfo=UTC)
_E = TypeVar("_E", bound=SortableEntry)


def priority(entry: SortableEntry) -> tuple[int, int, datetime, datetime, int]:
    """The queue's own order, the same on the web and in Telegram: an undecided time-out
    request first (it is about a time that comes soon), the soonest requested time first; then
    high urgency before normal and low, oldest first; the item number breaks ties."""
    if entry.kind is QueueKind.TIMEOUT_REQUEST and entry.status is not QueueStatus.CLOSED:
        return (0, 0, entry.requested_at or _FAR, entry.created_at, entry.queue_item_id)
    rank = _URGENCY_RANK.get(entry.urgency, 3) if entry.urgency is not None else 3
    return (1, rank, entry.created_at, entry.created_at, entry.queue_item_id)


def _text_key(value: str | None) -> tuple[bool, str]:
    # Empty values last in ascending order, names compared without case.
    return (value is None, (value or "").casefold())


def _column_key(column: SortColumn, now: datetime) -> Callable[[SortableEntry], object]:
    keys: dict[SortColumn, Callable[[SortableEntry], object]] = {
        SortColumn.ITEM: lambda e: e.queue_item_id,
        SortColumn.KIND: lambda e: _KIND_RANK[e.kind],
        SortColumn.STUDENT: lambda e: _text_key(e.student_name),
        SortColumn.URGENCY: lambda e: 3 if e.urgency is None else _URGENCY_RANK[e.urgency],
        SortColumn.STATUS: lambda e: _STATUS_RANK[e.status],
        SortColumn.ASSIGNEE: lambda e: _text_key(e.assignee_name),
        SortColumn.AGE: lambda e: e.age(now),
        SortColumn.RECEIVED: lambda e: e.created_at,
    }
    return keys[column]


def sort_entries(
    entries: Iterable[_E], *, column: SortColumn | None, descending: bool, now: datetime
) -> list[_E]:
    """``entries`` in the queue's order (`priority`), or by ``column`` (ascending, or
    ``descending``) with the queue's order among equal values: a stable, total order, so the
    same list sorts the same way every time and "next item" is well defined."""
    ordered = sorted(entries, key=priority)
    if column is None:
        return ordered
    # Python's sort is stable, also reversed: equal values keep the queue's order.
    return sorted(ordered, key=_column_key(column, now), reverse=descending)  # type: ignore[arg-type]


def next_item_id(
    ordered: Sequence[SortableEntry], *, after: int, wanted: Collection[QueueStatus]
) -> int | None:
    """The item after ``after`` in ``ordered`` (the current sort and filters, every status)
    that is still open and in ``wanted``; from the top when ``after`` is not in the list (any
    more); ``None`` when no open item is left."""
    ids = [entry.queue_item_id for entry in ordered]
    start = ids.index(after) + 1 if after in ids else 0
    for entry in (*ordered[start:], *ordered[:start]):
        if (
            entry.queue_item_id != after
            and entry.status is not QueueStatus.CLOSED
            and entry.status in wanted
        ):
            return entry.queue_item_id
    return None


#: What "close with a reason" (the queue's bulk action) does to each kind: the kind's own way
#: of ending an undecided item, so every item is refused or changed as its own page would.
CLOSE_ACTIONS: dict[QueueKind, QueueAction] = {
    QueueKind.REFERRAL: QueueAction.DECLINE,
    QueueKind.TIMEOUT_REQUEST: QueueAction.DECLINE_TIMEOUT,
    QueueKind.EXIT_SURVEY: QueueAction.CLOSE,
}


#: Why a closed item is not assigned (bulk assign).
ITEM_CLOSED = N_("This item is closed.")


def assignable(status: QueueStatus) -> bool:
    """Whether an item may be (re)assigned to a care coordinator: while it is open."""
    return status is not QueueStatus.CLOSED
