"""Where a referral stands, in the mentor's words (pure: facts in, a stage out).

The facts are the referral's queue item (status, what it waits for, the decision) and the
trajectory an acceptance created. `referral_stage` decides; `stage_label` says it in plain
words (B1, no jargon) for "My referrals".
"""

from __future__ import annotations

from enum import StrEnum

from dialogs.text import N_, Text
from storage.models import QueueDecision, QueueStatus, TrajectoryStatus, WaitingReason


class ReferralStage(StrEnum):
    """A referral's stage as the mentor who sent it sees it."""

    SUBMITTED = "submitted"
    IN_ANALYSIS = "in_analysis"
    WITH_CARE_TEAM = "with_care_team"
    INTAKE_TO_PLAN = "intake_to_plan"
    RUNNING = "running"
    TRAJECTORY_CLOSED = "trajectory_closed"
    DECLINED = "declined"
    #: A duplicate, added to the student's open referral or trajectory.
    MERGED = "merged"
    CLOSED = "closed"


_LABELS: dict[ReferralStage, str] = {
    ReferralStage.SUBMITTED: N_("sent, not picked up yet"),
    ReferralStage.IN_ANALYSIS: N_("the care coordinator is looking at it"),
    ReferralStage.WITH_CARE_TEAM: N_("with the care team for advice"),
    ReferralStage.INTAKE_TO_PLAN: N_("accepted: the intake is still to be planned"),
    ReferralStage.RUNNING: N_("accepted: the support is running"),
    ReferralStage.TRAJECTORY_CLOSED: N_("accepted: the support has ended"),
    ReferralStage.DECLINED: N_("not accepted"),
    ReferralStage.MERGED: N_("added to the student's referral that was already open"),
    ReferralStage.CLOSED: N_("closed"),
}


def referral_stage(
    *,
    item_status: QueueStatus | None,
    waiting_reason: WaitingReason | None,
    decision: QueueDecision | None,
    trajectory_status: TrajectoryStatus | None,
    merged: bool = False,
) -> ReferralStage:
    """The stage of a referral from its queue item and its trajectory (``None``: none).

    The decision comes first (declined; accepted: the trajectory's state says how far it
    got); undecided, the item's status says who has it (``merged``: closed as a duplicate).
    """
    if merged:
        return ReferralStage.MERGED
    if decision is QueueDecision.DECLINED:
        return ReferralStage.DECLINED
    if decision is QueueDecision.ACCEPTED or trajectory_status is not None:
        if trajectory_status is TrajectoryStatus.ACTIVE:
            return ReferralStage.RUNNING
        if trajectory_status is TrajectoryStatus.CLOSED:
            return ReferralStage.TRAJECTORY_CLOSED
        return ReferralStage.INTAKE_TO_PLAN
    if item_status is None or item_status is QueueStatus.NEW:
        return ReferralStage.SUBMITTED
    if item_status is QueueStatus.WAITING and waiting_reason is WaitingReason.CARE_TEAM:
        return ReferralStage.WITH_CARE_TEAM
    if item_status is QueueStatus.CLOSED:
        return ReferralStage.CLOSED
    return ReferralStage.IN_ANALYSIS


def stage_label(stage: ReferralStage) -> Text:
    """The stage in plain words, to be rendered in the reader's language."""
    return Text.of(_LABELS[stage])
