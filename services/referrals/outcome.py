"""The mentor's own view of the decision on a referral they sent, read inside the chat.

The outbox notice (``referral.accepted`` / ``referral.declined``) names no student and carries
no reason (a lock screen may show it); its button leads here, where the person who pressed is
identified: only the mentor who sent the referral may read it, and reading it is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SCHOOL_TIMEZONE
from dialogs.text import N_, Param, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed
from services.referrals.rules import care_team_outcome
from storage.models import (
    CareTeamCase,
    CareTeamDecision,
    Person,
    QueueDecision,
    QueueItem,
    Referral,
)

log = logging.getLogger(__name__)

#: The audit action of reading a decision.
OUTCOME_VIEW = "referral.outcome_view"


@dataclass(frozen=True, slots=True)
class ReferralOutcome:
    """What the mentor reads: which referral, and the decision (None: not decided yet).

    ``reason`` is the care coordinator's reason for a decline, as written; ``parents_informed``
    says whether the parents were asked to book the intake (only when the mentor said they
    are informed); ``merged``: added to another open referral of the student (nothing of the
    other one is shown: it may be another mentor's).
    """

    referral_id: int
    student_name: str
    sent_at: datetime
    decision: QueueDecision | None
    decided_at: datetime | None
    reason: str | None
    parents_informed: bool
    #: Closed as a duplicate: added to the student's referral or trajectory that was open.
    merged: bool = False
    #: The care team's latest decision on the referral, if it discussed it (issue 15).
    care_team: CareTeamDecision | None = None


async def referral_outcome(
    *, session: AsyncSession, viewer: Person, referral_id: int, now: datetime
) -> ReferralOutcome:
    """The decision on ``referral_id`` for the mentor who sent it (a read, audited).

    `NotAllowed` for anyone else and for an id that does not exist (the same answer, so an id
    reveals nothing).
    """
    viewer = await reload_actor(session=session, actor=viewer)
    refused = NotAllowed(Text.of(N_("This referral is not yours, or it does not exist.")))
    referral = await session.get(Referral, referral_id)
    if (
        referral is None
        or referral.mentor_id != viewer.id
        or referral.school_id != viewer.school_id
    ):
        log.info("referral outcome %s refused to person_id=%s", referral_id, viewer.id)
        raise refused
    student = await session.get(Person, referral.student_id)
    item = await session.scalar(
        select(QueueItem)
        .where(QueueItem.referral_id == referral.id, QueueItem.school_id == referral.school_id)
        .order_by(QueueItem.id)
        .limit(1)
    )
    decision = None if item is None else item.decision
    record_audit(
        session=session,
        school_id=referral.school_id,
        actor_id=viewer.id,
        action=OUTCOME_VIEW,
        subject_type="referral",
        subject_id=referral.id,
        details={"decision": None if decision is None else decision.value},
        at=now,
    )
    return ReferralOutcome(
        referral_id=referral.id,
        student_name="" if student is None else student.display_name,
        sent_at=referral.created_at,
        decision=decision,
        decided_at=None if item is None else item.decided_at,
        reason=(
            item.decision_reason
            if item is not None and decision is QueueDecision.DECLINED
            else None
        ),
        parents_informed=referral.parents_informed,
        merged=item is not None and item.merged_into_id is not None,
        care_team=await latest_decision(session=session, referral_id=referral.id),
    )


__all__ = ["OUTCOME_VIEW", "ReferralOutcome", "outcome_lines", "referral_outcome"]


async def latest_decision(*, session: AsyncSession, referral_id: int) -> CareTeamDecision | None:
    """The care team's most recent decision on a referral (``None``: none recorded)."""
    decision: CareTeamDecision | None = await session.scalar(
        select(CareTeamCase.decision)
        .join(QueueItem, QueueItem.id == CareTeamCase.queue_item_id)
        .where(QueueItem.referral_id == referral_id, CareTeamCase.decision.is_not(None))
        .order_by(CareTeamCase.decided_at.desc(), CareTeamCase.id.desc())
        .limit(1)
    )
    return decision


def outcome_lines(outcome: ReferralOutcome) -> list[Text]:
    """What the mentor reads about one decision, one `Text` per paragraph (the same in the
    Telegram chat and the web chat)."""
    params: dict[str, Param] = {
        "student": Text.raw(outcome.student_name),
        "date": outcome.sent_at.astimezone(SCHOOL_TIMEZONE).date(),
    }
    if outcome.merged:
        return [
            Text.of(
                N_(
                    "Your referral for {student} (sent {date}) has been added to the referral "
                    "for this student that was already open. What you wrote is kept with it; "
                    "the care coordinator handles both together."
                ),
                **params,
            )
        ]
    if outcome.decision is QueueDecision.ACCEPTED:
        return [
            Text.of(N_("Your referral for {student} (sent {date}) has been accepted."), **params),
            Text.of(
                N_(
                    "The parents have been asked to book the intake meeting. You will be "
                    "asked whether you can be there."
                )
                if outcome.parents_informed
                else N_(
                    "The parents were not informed yet, so the bot did not ask them: the care "
                    "coordinator contacts them about the intake meeting. You will be asked "
                    "whether you can be there."
                )
            ),
        ]
    if outcome.decision is QueueDecision.DECLINED:
        return [
            Text.of(
                N_("Your referral for {student} (sent {date}) has not been accepted."), **params
            ),
            Text.of(
                N_("The care coordinator's reason: {reason}"),
                reason=Text.raw(outcome.reason or ""),
            ),
        ]
    undecided = Text.of(
        N_("Your referral for {student} (sent {date}) is not decided yet."), **params
    )
    if outcome.care_team is None:
        return [undecided]
    return [undecided, Text.of(care_team_outcome(outcome.care_team).mentor_line)]
