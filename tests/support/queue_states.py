"""Every state a queue item can be in, and a way to put an item in one (a test's setup)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue.rules import ItemState
from services.referrals.submission import submit_referral
from storage.models import (
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    WaitingReason,
)
from tests.support.factories import draft

#: Every state a referral's item can be in: the analysis steps, accepted and waiting for the
#: intake, declined, accepted and closed (the demo's running trajectories), closed undecided.
REFERRAL_STATES: list[ItemState] = [
    ItemState(QueueKind.REFERRAL, QueueStatus.NEW),
    ItemState(QueueKind.REFERRAL, QueueStatus.IN_PROGRESS),
    ItemState(QueueKind.REFERRAL, QueueStatus.WAITING, WaitingReason.CARE_TEAM),
    ItemState(
        QueueKind.REFERRAL, QueueStatus.WAITING, WaitingReason.INTAKE, QueueDecision.ACCEPTED
    ),
    ItemState(QueueKind.REFERRAL, QueueStatus.CLOSED, None, QueueDecision.DECLINED),
    ItemState(QueueKind.REFERRAL, QueueStatus.CLOSED, None, QueueDecision.ACCEPTED),
    ItemState(QueueKind.REFERRAL, QueueStatus.CLOSED),
]
#: The same, while the student has another open referral (issue 11: a duplicate can be
#: merged into it while undecided).
REFERRAL_STATES += [replace(state, open_duplicate=True) for state in REFERRAL_STATES]

#: A time-out request is open (new) or decided (closed, approved or declined).
TIMEOUT_REQUEST_STATES: list[ItemState] = [
    ItemState(QueueKind.TIMEOUT_REQUEST, QueueStatus.NEW),
    ItemState(QueueKind.TIMEOUT_REQUEST, QueueStatus.CLOSED, None, QueueDecision.ACCEPTED),
    ItemState(QueueKind.TIMEOUT_REQUEST, QueueStatus.CLOSED, None, QueueDecision.DECLINED),
]

#: An exit questionnaire result is to read (new) or handled (closed).
EXIT_SURVEY_STATES: list[ItemState] = [
    ItemState(QueueKind.EXIT_SURVEY, QueueStatus.NEW),
    ItemState(QueueKind.EXIT_SURVEY, QueueStatus.CLOSED),
]


def state_id(state: ItemState) -> str:
    """A readable test id: ``referral-waiting-care_team-none`` (``…-duplicate`` when the
    student has another open referral)."""
    parts = (state.kind, state.status, state.waiting_reason, state.decision)
    tail = "-duplicate" if state.open_duplicate else ""
    return "-".join(str(part).lower() for part in parts) + tail


async def put_in_state(
    session: AsyncSession, item_id: int, state: ItemState, *, by: int, at: datetime
) -> None:
    """Write ``state`` onto the item as the services would have left it, decided by ``by``.

    With ``open_duplicate`` the item's mentor sends another referral of the same student (a
    minute later, still new): the open one a duplicate can be merged into.
    """
    if state.open_duplicate:
        item = await session.get_one(QueueItem, item_id)
        referral = await session.get_one(Referral, item.referral_id)
        mentor = await session.get_one(Person, referral.mentor_id)
        await submit_referral(
            session=session,
            mentor=mentor,
            draft=draft(referral.student_id, help_question_student="Een tweede verwijzing."),
            now=at + timedelta(minutes=1),
        )
    decided = state.decision is not None
    await session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id)
        .values(
            status=state.status,
            waiting_reason=state.waiting_reason,
            waiting_since=at if state.status is QueueStatus.WAITING else None,
            assignee_id=None if state.status is QueueStatus.NEW else by,
            decision=state.decision,
            decided_at=at if decided else None,
            decided_by_id=by if decided else None,
            decision_reason="Past niet." if state.decision is QueueDecision.DECLINED else None,
        )
    )
