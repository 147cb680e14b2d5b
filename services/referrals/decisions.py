"""The care coordinator's work on a referral: take in analysis, the care team, accept, decline.

It lives with the referrals, above the queue: accepting creates the student's trajectory
(`services.trajectories`), which the queue's own package may not import.

Every function here is an operation in the caller's unit of work (it never begins or commits)
and is authorized the same way (`services.queue.access.coordinator_item`, the item locked).
Which step an item allows is `services.queue.rules`; the status moves through
`services.queue.status.move_item` (compare-and-set, age clock). Every step writes an
`AuditLog` row (ids and codes only, never free text).

=================  ==========================  ===========================================
action             allowed from                result
=================  ==========================  ===========================================
take_in_analysis   new                         in_progress, assignee = actor
mark_for_care_team new or in_progress          waiting for the care team (ZAT), assignee =
                                               actor if none
resume_analysis    waiting for the care team   in_progress (the ZAT has advised)
accept_for_intake  in_progress or waiting for  waiting (for the intake to be planned),
                   the care team (never new:   decision accepted
                   no placement without
                   analysis)
decline            new, in_progress or         closed, decision declined, reason kept
                   waiting for the care team
=================  ==========================  ===========================================

Any care coordinator of the school may act, not only the assignee: they share one queue and
each holds the mandate to place. Who decided is kept on the item (``decided_by_id``) and in the
audit trail. Accepting and declining also tell the mentor who referred, and accepting tells
each parent of the student (when the mentor said the parents are informed) that the intake
can be booked, through `Outbox` rows in the same transaction (ids only: the mentor reads the
student and a decline's reason inside the chat, `services.referrals.outcome`). A person without
a linked chat gets the row all the same; the worker settles it as ``unreachable``
(``no_chat``), as for every notice (another channel, e-mail, is issue 12).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.adulthood import is_adult_at, parents_see
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.text_input import clean_text
from services.outbox.kinds import OutboxKind
from services.queue.access import coordinator_item
from services.queue.rules import QueueAction, validate_decline_reason
from services.queue.status import move_item
from services.referrals.student_voice import ask_student_voice
from services.trajectories.lifecycle import TrajectoryPlan, create_for_referral
from services.trajectories.rules import Step, may_make
from storage.models import (
    Guardianship,
    Outbox,
    Person,
    QueueDecision,
    QueueItem,
    QueueStatus,
    Referral,
    WaitingReason,
)

log = logging.getLogger(__name__)

REFERRAL_ACCEPTED = OutboxKind.REFERRAL_ACCEPTED
REFERRAL_DECLINED = OutboxKind.REFERRAL_DECLINED
REFERRAL_ACCEPTED_PARENT = OutboxKind.REFERRAL_ACCEPTED_PARENT


async def take_in_analysis(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Start the analysis of a new item: status ``in_progress``, assigned to ``actor``.

    `NotAllowed` as for `services.queue.referral_view.open_referral`, `InvalidTransition`
    unless the item is new (already in analysis, or already decided).
    """
    actor, item, _referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    await _step(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.TAKE,
        to=QueueStatus.IN_PROGRESS,
        now=now,
        values={"assignee_id": actor.id},
    )
    log.info("queue_item_id=%s taken in analysis by person_id=%s", item.id, actor.id)
    return item


async def mark_for_care_team(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """Put the referral on the care team's (ZAT's) agenda: status ``waiting`` (the age clock
    pauses), waiting for the care team; assigned to ``actor`` if it had no assignee.

    `NotAllowed` as for `open_referral`, `InvalidTransition` unless the item is new or in
    analysis.
    """
    actor, item, _referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    await _step(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.CARE_TEAM,
        to=QueueStatus.WAITING,
        now=now,
        values={
            "assignee_id": item.assignee_id or actor.id,
            "waiting_reason": WaitingReason.CARE_TEAM,
        },
    )
    log.info("queue_item_id=%s marked for the care team by person_id=%s", item.id, actor.id)
    return item


async def resume_analysis(
    *, session: AsyncSession, actor: Person, queue_item_id: int, now: datetime
) -> QueueItem:
    """The care team has advised: the item goes back to ``in_progress`` (the clock runs again).

    `NotAllowed` as for `open_referral`, `InvalidTransition` unless the item waits for the
    care team.
    """
    actor, item, _referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    await _step(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.RESUME,
        to=QueueStatus.IN_PROGRESS,
        now=now,
        values={},
    )
    log.info("queue_item_id=%s back in analysis by person_id=%s", item.id, actor.id)
    return item


async def accept_for_intake(
    *,
    session: AsyncSession,
    actor: Person,
    queue_item_id: int,
    now: datetime,
    plan: TrajectoryPlan | None = None,
) -> QueueItem:
    """Place the student: decision ``accepted``, status ``waiting`` (for the intake planning).

    Only after analysis: a new item must first be taken in analysis (`take_in_analysis`), so a
    placement is never a single tap. `NotAllowed` as for `open_referral`, `InvalidTransition`
    from any status but ``in_progress`` or waiting for the care team. The mentor is told
    (``referral.accepted`` in the outbox) and, when the referral says the parents are
    informed, each parent of the student is asked to book the intake
    (``referral.accepted_parent``; a parent who was not informed hears it from the school, not
    from the bot). The student's `Trajectory` is created in the same
    transaction (``planned``; with ``plan`` if given, else to be completed after the intake);
    `InputInvalid` for a bad plan (the caller's unit of work then writes nothing).
    """
    actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    await _step(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.ACCEPT,
        to=QueueStatus.WAITING,
        now=now,
        values={
            **_decision(actor=actor, decision=QueueDecision.ACCEPTED, reason=None, now=now),
            "waiting_reason": WaitingReason.INTAKE,
        },
    )
    await create_for_referral(session=session, actor=actor, referral=referral, plan=plan, now=now)
    _notify_mentor(session=session, item=item, referral=referral, kind=REFERRAL_ACCEPTED, now=now)
    # The student's own help question, unless the mentor had it asked already (issue 15).
    await ask_student_voice(session=session, referral=referral, now=now)
    if referral.parents_informed:
        await _notify_parents(session=session, item=item, referral=referral, now=now)
    log.info("queue_item_id=%s accepted by person_id=%s", item.id, actor.id)
    return item


async def decline(
    *, session: AsyncSession, actor: Person, queue_item_id: int, reason: str, now: datetime
) -> QueueItem:
    """Decline the referral: decision ``declined`` with ``reason``, status ``closed``.

    ``reason`` (5–1000 characters, outer whitespace and control characters dropped) is kept
    on the item for the school and the mentor who referred, who reads it inside the chat
    (`services.referrals.outcome`); never in the audit trail, a log or the notification.
    Allowed from ``new``, ``in_progress`` and waiting for the care team (turning down places
    no one); the item is assigned to ``actor`` if it had no assignee. `InputInvalid` for a bad
    reason, `NotAllowed` as for `open_referral`, `InvalidTransition` once decided. The mentor
    is told (``referral.declined`` in the outbox).
    """
    problem = validate_decline_reason(reason)
    if problem is not None:
        raise InputInvalid(problem)
    actor, item, referral = await coordinator_item(
        session=session, actor=actor, queue_item_id=queue_item_id, lock=True
    )
    values = _decision(
        actor=actor, decision=QueueDecision.DECLINED, reason=clean_text(reason), now=now
    )
    values["assignee_id"] = item.assignee_id or actor.id
    await _step(
        session=session,
        actor=actor,
        item=item,
        action=QueueAction.DECLINE,
        to=QueueStatus.CLOSED,
        now=now,
        values=values,
    )
    _notify_mentor(session=session, item=item, referral=referral, kind=REFERRAL_DECLINED, now=now)
    log.info("queue_item_id=%s declined by person_id=%s", item.id, actor.id)
    return item


#: The audit code of each step (the history shown with the referral reads them back).
_AUDIT: dict[QueueAction, str] = {
    QueueAction.TAKE: "queue.take",
    QueueAction.CARE_TEAM: "queue.care_team",
    QueueAction.RESUME: "queue.resume",
    QueueAction.ACCEPT: "queue.accept",
    QueueAction.DECLINE: "queue.decline",
}

#: The lifecycle's step (`services.trajectories.rules`, the one table) of each action here.
_LIFECYCLE: dict[QueueAction, Step] = {
    QueueAction.TAKE: Step.TAKE_IN_ANALYSIS,
    QueueAction.CARE_TEAM: Step.MARK_FOR_CARE_TEAM,
    QueueAction.RESUME: Step.RESUME_ANALYSIS,
    QueueAction.ACCEPT: Step.ACCEPT,
    QueueAction.DECLINE: Step.DECLINE,
}


async def _step(
    *,
    session: AsyncSession,
    actor: Person,
    item: QueueItem,
    action: QueueAction,
    to: QueueStatus,
    now: datetime,
    values: Mapping[str, object],
) -> None:
    """Move the item (`move_item`) and audit the step; the lifecycle table says who may."""
    if not may_make(_LIFECYCLE[action], [role.role for role in actor.roles]):
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    from_status = await move_item(
        session=session, item=item, action=action, to=to, now=now, values=values
    )
    record_audit(
        session=session,
        school_id=item.school_id,
        actor_id=actor.id,
        action=_AUDIT[action],
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "referral_id": item.referral_id,
            "from_status": from_status.value,
            "to_status": to.value,
            "decision": None if item.decision is None else item.decision.value,
        },
        at=now,
    )


def _decision(
    *, actor: Person, decision: QueueDecision, reason: str | None, now: datetime
) -> dict[str, object]:
    return {
        "decision": decision,
        "decision_reason": reason,
        "decided_at": now,
        "decided_by_id": actor.id,
    }


def _notify_mentor(
    *, session: AsyncSession, item: QueueItem, referral: Referral, kind: OutboxKind, now: datetime
) -> None:
    session.add(
        Outbox(
            school_id=item.school_id,
            recipient_id=referral.mentor_id,
            kind=kind,
            # Ids only: the mentor reads the outcome inside the chat, after being identified.
            payload={"referral_id": referral.id, "queue_item_id": item.id},
            dedup_key=f"{kind}:{referral.id}:{referral.mentor_id}",
            next_attempt_at=now,
            created_at=now,
        )
    )


async def _notify_parents(
    *, session: AsyncSession, item: QueueItem, referral: Referral, now: datetime
) -> None:
    """Ask each parent of the student (`Guardianship`) who still sees the student's data, and
    a student of 18 or older themself, to book the intake meeting."""
    kind = OutboxKind.REFERRAL_ACCEPTED_PARENT
    parents = await session.scalars(
        select(Guardianship.parent_id)
        .where(
            Guardianship.student_id == referral.student_id,
            Guardianship.school_id == item.school_id,
            parents_see(Guardianship.student_id),
        )
        .order_by(Guardianship.parent_id)
    )
    recipients: list[tuple[int, OutboxKind]] = [(parent_id, kind) for parent_id in parents]
    birth_date = await session.scalar(
        select(Person.birth_date).where(Person.id == referral.student_id)
    )
    if is_adult_at(birth_date, now):
        # A student of 18 or older books their own intake (whether or not their parents
        # still see it): asked as a parent is, in words for themself.
        recipients.append((referral.student_id, OutboxKind.REFERRAL_ACCEPTED_ADULT))
    for recipient_id, recipient_kind in recipients:
        _ask_to_book(
            session, item, referral, recipient_id=recipient_id, kind=recipient_kind, now=now
        )


def _ask_to_book(
    session: AsyncSession,
    item: QueueItem,
    referral: Referral,
    *,
    recipient_id: int,
    kind: OutboxKind,
    now: datetime,
) -> None:
    session.add(
        Outbox(
            school_id=item.school_id,
            recipient_id=recipient_id,
            kind=kind,
            # Ids only: the booking flow names the child, inside the chat.
            payload={"referral_id": referral.id, "student_id": referral.student_id},
            dedup_key=f"{kind}:{referral.id}:{recipient_id}",
            next_attempt_at=now,
            created_at=now,
        )
    )
