"""The pure rule of a queue item's actions (`services.queue.rules`): the table, the refusals."""

from __future__ import annotations

import pytest

from dialogs.text import Text
from services.queue.rules import (
    REFERRAL_SYSTEM_ACTIONS,
    SURVEY_SYSTEM_ACTIONS,
    SYSTEM_ACTIONS,
    ItemState,
    QueueAction,
    allowed_actions,
    allows,
    already_decided,
    refusal,
    validate_decline_reason,
    validate_note,
)
from storage.models import QueueDecision, QueueKind, QueueStatus, WaitingReason

A = QueueAction
REFERRAL = QueueKind.REFERRAL
CARE_TEAM = WaitingReason.CARE_TEAM
INTAKE = WaitingReason.INTAKE

#: Every state a referral's item can be in, with the actions it allows (the issue's table).
REFERRAL_TABLE: list[tuple[ItemState, frozenset[QueueAction]]] = [
    (ItemState(REFERRAL, QueueStatus.NEW), frozenset({A.TAKE, A.CARE_TEAM, A.DECLINE, A.NOTE})),
    (
        ItemState(REFERRAL, QueueStatus.IN_PROGRESS),
        frozenset({A.CARE_TEAM, A.ACCEPT, A.DECLINE, A.NOTE}),
    ),
    (
        ItemState(REFERRAL, QueueStatus.WAITING, CARE_TEAM),
        frozenset({A.RESUME, A.ACCEPT, A.DECLINE, A.NOTE}),
    ),
    (
        ItemState(REFERRAL, QueueStatus.WAITING, INTAKE, QueueDecision.ACCEPTED),
        frozenset({A.NOTE}),
    ),
    (ItemState(REFERRAL, QueueStatus.CLOSED, None, QueueDecision.DECLINED), frozenset({A.NOTE})),
    (ItemState(REFERRAL, QueueStatus.CLOSED, None, QueueDecision.ACCEPTED), frozenset({A.NOTE})),
    (ItemState(REFERRAL, QueueStatus.CLOSED), frozenset({A.NOTE})),
]


def _allowed(state: ItemState, *, coordinator: bool = True) -> frozenset[QueueAction]:
    return allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        coordinator=coordinator,
    )


@pytest.mark.parametrize(("state", "expected"), REFERRAL_TABLE)
def test_a_referral_allows_what_the_table_says(
    state: ItemState, expected: frozenset[QueueAction]
) -> None:
    assert _allowed(state) == expected
    for action in set(QueueAction) - SYSTEM_ACTIONS:
        assert allows(state, action) is (action in expected)
        assert (refusal(state, action) is None) is (action in expected)


def test_a_referral_waiting_for_the_care_team_may_be_accepted_or_declined() -> None:
    # The disagreement of issue 10: Telegram offered only the note here.
    state = ItemState(REFERRAL, QueueStatus.WAITING, CARE_TEAM)
    assert {A.ACCEPT, A.DECLINE} <= _allowed(state)


def test_a_waiting_reason_counts_only_while_waiting() -> None:
    assert _allowed(ItemState(REFERRAL, QueueStatus.IN_PROGRESS, CARE_TEAM)) == _allowed(
        ItemState(REFERRAL, QueueStatus.IN_PROGRESS)
    )
    # Waiting for nothing known: only the note, as for a decided item.
    assert _allowed(ItemState(REFERRAL, QueueStatus.WAITING)) == {A.NOTE}


@pytest.mark.parametrize("status", list(QueueStatus))
def test_a_time_out_request_is_approved_or_declined_while_open(status: QueueStatus) -> None:
    state = ItemState(QueueKind.TIMEOUT_REQUEST, status)
    expected = (
        frozenset() if status is QueueStatus.CLOSED else {A.APPROVE_TIMEOUT, A.DECLINE_TIMEOUT}
    )
    assert _allowed(state) == expected
    if status is QueueStatus.CLOSED:
        for action in (A.APPROVE_TIMEOUT, A.DECLINE_TIMEOUT):
            assert refusal(state, action) == Text.of("This request has already been decided.")


@pytest.mark.parametrize("status", list(QueueStatus))
def test_an_exit_questionnaire_is_closed_once(status: QueueStatus) -> None:
    state = ItemState(QueueKind.EXIT_SURVEY, status)
    assert _allowed(state) == (frozenset() if status is QueueStatus.CLOSED else {A.CLOSE})
    if status is QueueStatus.CLOSED:
        assert refusal(state, A.CLOSE) == Text.of("This questionnaire result is already handled.")


@pytest.mark.parametrize("kind", list(QueueKind))
@pytest.mark.parametrize("status", list(QueueStatus))
def test_only_a_care_coordinator_is_offered_anything(kind: QueueKind, status: QueueStatus) -> None:
    assert allowed_actions(kind=kind, status=status, coordinator=False) == frozenset()


def test_actions_of_one_kind_are_never_offered_on_another() -> None:
    referral_only = {A.TAKE, A.CARE_TEAM, A.RESUME, A.ACCEPT, A.DECLINE, A.NOTE}
    for status in QueueStatus:
        for reason in (None, *WaitingReason):
            assert not _allowed(ItemState(QueueKind.TIMEOUT_REQUEST, status, reason)) & (
                referral_only | {A.CLOSE}
            )
            assert not _allowed(ItemState(QueueKind.EXIT_SURVEY, status, reason)) & (
                referral_only | {A.APPROVE_TIMEOUT, A.DECLINE_TIMEOUT}
            )
            assert not _allowed(ItemState(REFERRAL, status, reason)) & {
                A.APPROVE_TIMEOUT,
                A.DECLINE_TIMEOUT,
                A.CLOSE,
            }


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        (
            ItemState(REFERRAL, QueueStatus.IN_PROGRESS),
            A.TAKE,
            "This referral is already being analysed.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.WAITING, CARE_TEAM),
            A.TAKE,
            "This referral is already waiting for the care team.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.WAITING, CARE_TEAM),
            A.CARE_TEAM,
            "This referral is already waiting for the care team.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.NEW),
            A.RESUME,
            "This referral is not waiting for the care team.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.IN_PROGRESS),
            A.RESUME,
            "This referral is not waiting for the care team.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.NEW),
            A.ACCEPT,
            "Take this referral in analysis first: a student is placed only after the "
            "referral has been analysed.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.WAITING, INTAKE, QueueDecision.ACCEPTED),
            A.DECLINE,
            "This referral was already accepted for an intake.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.CLOSED, None, QueueDecision.DECLINED),
            A.ACCEPT,
            "This referral was already declined.",
        ),
        (
            ItemState(REFERRAL, QueueStatus.CLOSED),
            A.TAKE,
            "This referral is closed and can no longer be changed.",
        ),
    ],
)
def test_a_refusal_says_why(state: ItemState, action: QueueAction, message: str) -> None:
    assert refusal(state, action) == Text.of(message)


def test_already_decided_names_the_decision() -> None:
    assert already_decided(QueueDecision.ACCEPTED) == Text.of(
        "This referral was already accepted for an intake."
    )
    assert already_decided(QueueDecision.DECLINED) == Text.of("This referral was already declined.")
    assert already_decided(None) == Text.of("This referral is closed and can no longer be changed.")


def test_the_state_is_read_from_an_item_like_object() -> None:
    class Item:
        kind = REFERRAL
        status = QueueStatus.WAITING
        waiting_reason = CARE_TEAM
        decision = None

    assert ItemState.of(Item()) == ItemState(REFERRAL, QueueStatus.WAITING, CARE_TEAM)


def test_decline_reason_and_note_limits() -> None:
    assert validate_decline_reason("vier") is not None
    assert validate_decline_reason("  vijf!  ") is None
    assert validate_decline_reason("x" * 1001) is not None
    assert validate_note("") is not None
    assert validate_note("Gebeld.") is None
    assert validate_note("x" * 2001) is not None


def test_the_action_values_are_the_web_form_names() -> None:
    # The referral page tests "take" in actions etc.; the Telegram callbacks carry these too.
    assert {a.value for a in set(QueueAction) - SYSTEM_ACTIONS} == {
        "take",
        "care_team",
        "resume",
        "accept",
        "decline",
        "note",
        "merge",
        "approve_timeout",
        "decline_timeout",
        "close",
    }


@pytest.mark.parametrize("action", sorted(REFERRAL_SYSTEM_ACTIONS))
def test_a_referral_resolves_itself_only_while_waiting_for_its_intake(action: QueueAction) -> None:
    # Issue 11: the accepted referral's item closes when the intake is held or the trajectory
    # closes; never offered as a button, and nothing else can be resolved that way.
    waiting = ItemState(REFERRAL, QueueStatus.WAITING, INTAKE, QueueDecision.ACCEPTED)
    assert allows(waiting, action)
    assert refusal(waiting, action) is None
    assert action not in _allowed(waiting)
    for state, _expected in REFERRAL_TABLE:
        if state != waiting:
            assert not allows(state, action)
            assert refusal(state, action) is not None
    assert not allows(ItemState(QueueKind.TIMEOUT_REQUEST, QueueStatus.NEW), action)
    assert not allows(ItemState(QueueKind.EXIT_SURVEY, QueueStatus.NEW), action)


@pytest.mark.parametrize(
    "status", [QueueStatus.NEW, QueueStatus.IN_PROGRESS, QueueStatus.WAITING], ids=str
)
def test_a_questionnaire_result_resolves_itself_when_read(status: QueueStatus) -> None:
    # Issue 11: reading the answers is the item's step; a system action, never a button, and
    # nothing but an open exit questionnaire result resolves that way.
    assert SYSTEM_ACTIONS == REFERRAL_SYSTEM_ACTIONS | SURVEY_SYSTEM_ACTIONS
    state = ItemState(QueueKind.EXIT_SURVEY, status)
    assert allows(state, A.SURVEY_READ)
    assert refusal(state, A.SURVEY_READ) is None
    assert A.SURVEY_READ not in _allowed(state)
    assert not allows(state, A.INTAKE_HELD)
    handled = ItemState(QueueKind.EXIT_SURVEY, QueueStatus.CLOSED)
    assert not allows(handled, A.SURVEY_READ)
    assert refusal(handled, A.SURVEY_READ) == Text.of(
        "This questionnaire result is already handled."
    )
    for referral, _expected in REFERRAL_TABLE:
        assert not allows(referral, A.SURVEY_READ)
    assert not allows(ItemState(QueueKind.TIMEOUT_REQUEST, QueueStatus.NEW), A.SURVEY_READ)


# -- merging a duplicate (issue 11, item 5) ---------------------------------------------------


@pytest.mark.parametrize(("state", "expected"), REFERRAL_TABLE)
def test_an_undecided_referral_can_be_merged_only_when_the_student_has_another_open_one(
    state: ItemState, expected: frozenset[QueueAction]
) -> None:
    undecided = state.decision is None and state.status is not QueueStatus.CLOSED
    with_duplicate = ItemState(
        state.kind, state.status, state.waiting_reason, state.decision, open_duplicate=True
    )
    allowed = allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        open_duplicate=True,
    )

    assert allowed == (expected | {A.MERGE} if undecided else expected)
    assert allows(with_duplicate, A.MERGE) is undecided
    assert not allows(state, A.MERGE)  # nothing open to merge into: never
    assert A.MERGE not in allowed_actions(
        kind=state.kind,
        status=state.status,
        waiting_reason=state.waiting_reason,
        coordinator=False,
        open_duplicate=True,
    )


def test_a_merge_is_refused_with_the_reason() -> None:
    nothing_open = refusal(ItemState(REFERRAL, QueueStatus.IN_PROGRESS), A.MERGE)
    assert nothing_open is not None
    assert "no other open referral" in nothing_open.msgid
    declined = ItemState(
        REFERRAL, QueueStatus.CLOSED, None, QueueDecision.DECLINED, open_duplicate=True
    )
    assert refusal(declined, A.MERGE) == already_decided(QueueDecision.DECLINED)
    closed = ItemState(REFERRAL, QueueStatus.CLOSED, open_duplicate=True)
    assert refusal(closed, A.MERGE) == already_decided(None)


def test_no_other_kind_is_ever_merged() -> None:
    for kind in (QueueKind.TIMEOUT_REQUEST, QueueKind.EXIT_SURVEY):
        for status in QueueStatus:
            assert A.MERGE not in allowed_actions(kind=kind, status=status, open_duplicate=True)
