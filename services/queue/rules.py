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
referral           new                              take, care_team, decline, note
referral           in_progress                      care_team, accept, decline, note
referral           waiting for the care team (ZAT)  resume, accept, decline, note
referral           waiting for the intake           note (accepted: the decision is made);
                                                    system: intake_held, trajectory_closed
                                                    (→ closed, when that step is done)
referral           closed                           note
timeout_request    new (undecided)                  approve_timeout, decline_timeout
timeout_request    closed (decided)                 nothing
exit_survey        new / in_progress / waiting      close
exit_survey        closed (handled)                 nothing
=================  ===============================  ============================================

Accepting needs analysis first (never from ``new``: a placement is never a single tap);
turning a referral down places no one, so it is allowed until a decision is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dialogs.text import N_, Text
from services.kernel.text_input import clean_text, validate_length
from storage.models import QueueDecision, QueueKind, QueueStatus, WaitingReason

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


#: Actions no person chooses: a service makes them when the item's step is done elsewhere
#: (`services.trajectories.lifecycle`). Never offered as buttons (`allowed_actions`), but
#: `move_item` checks them against `system_actions` like any other.
SYSTEM_ACTIONS = frozenset({QueueAction.INTAKE_HELD, QueueAction.TRAJECTORY_CLOSED})


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

    @classmethod
    def of(cls, item: ItemFacts) -> ItemState:
        """The state of ``item`` as it is now."""
        return cls(item.kind, item.status, item.waiting_reason, item.decision)


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
) -> frozenset[QueueAction]:
    """The actions an item of ``kind`` in ``status`` (waiting for ``waiting_reason``) allows.

    ``coordinator`` is whether the person looking is a care coordinator of the item's school:
    only they act (a coach reading an accepted referral is offered nothing).
    """
    if not coordinator:
        return frozenset()
    if kind is QueueKind.REFERRAL:
        # A reason only means something while waiting; the note is open in every state.
        reason = waiting_reason if status is QueueStatus.WAITING else None
        return _REFERRAL_ACTIONS.get((status, reason), frozenset({QueueAction.NOTE}))
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
    when the intake is held or the trajectory closes."""
    if (
        kind is QueueKind.REFERRAL
        and status is QueueStatus.WAITING
        and waiting_reason is WaitingReason.INTAKE
    ):
        return SYSTEM_ACTIONS
    return frozenset()


def allows(state: ItemState, action: QueueAction) -> bool:
    """Whether ``action`` may be done on an item in ``state`` (a care coordinator's action, or
    a system resolution)."""
    if action in SYSTEM_ACTIONS:
        return action in system_actions(
            kind=state.kind, status=state.status, waiting_reason=state.waiting_reason
        )
    return action in allowed_actions(
        kind=state.kind, status=state.status, waiting_reason=state.waiting_reason
    )


def refusal(state: ItemState, action: QueueAction) -> Text | None:
    """Why ``action`` is refused on an item in ``state``, or ``None`` when it is allowed."""
    if allows(state, action):
        return None
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
    return validate_length(clean_text(reason), DECLINE_REASON_MIN, DECLINE_REASON_MAX)


def validate_note(text: str) -> Text | None:
    """What is wrong with a note (1–2000 characters), or ``None`` when it is fine."""
    return validate_length(clean_text(text), NOTE_MIN, NOTE_MAX)
