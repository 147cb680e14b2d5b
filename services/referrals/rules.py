"""Where a referral stands, in the mentor's words (pure: facts in, a stage out).

The facts are the referral's queue item (status, what it waits for, the decision) and the
trajectory an acceptance created. `referral_stage` decides; `stage_label` says it in plain
words (B1, no jargon) for "My referrals".

The care team's decision (issue 15): `care_team_outcome` says what it implies for the care
coordinator (the next step, whether the item goes back to analysis) and for the mentor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialogs.text import N_, Text
from services.kernel.text_input import validate_text
from storage.models import (
    CareTeamDecision,
    QueueDecision,
    QueueStatus,
    TrajectoryStatus,
    WaitingReason,
)


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


# --- The care team (ZAT): what its decision means for the care coordinator (issue 15) ---

#: Longest question for the care team and longest advice, in characters.
CARE_TEAM_QUESTION_MAX = 1000
CARE_TEAM_ADVICE_MAX = 2000

#: How each care team decision reads (staff pages, the mentor's chat).
CARE_TEAM_DECISION_LABELS: dict[CareTeamDecision, str] = {
    CareTeamDecision.TRAJECTORY: N_("help from the support room"),
    CareTeamDecision.OTHER_SUPPORT: N_("other support within the school"),
    CareTeamDecision.EXTERNAL: N_("a referral outside the school"),
    CareTeamDecision.DISCUSS_AGAIN: N_("to be discussed again"),
}


class CareTeamNextStep(StrEnum):
    """The care coordinator's next step after the care team's decision."""

    #: Back in analysis: place the student (accept for the intake).
    ACCEPT = "accept"
    #: Back in analysis: decline the referral, with the other support or the external
    #: referral as the reason the mentor reads.
    DECLINE = "decline"
    #: Still waiting for the care team: put it on a next meeting's agenda.
    NEXT_MEETING = "next_meeting"


@dataclass(frozen=True, slots=True)
class CareTeamOutcome:
    """What a care team decision implies: whether the referral's queue item goes back to the
    care coordinator's analysis (the care team advises, only the coordinator places or
    declines), the next step shown with it, and the sentence the mentor reads."""

    back_to_analysis: bool
    next_step: CareTeamNextStep
    next_step_label: str
    mentor_line: str


_CARE_TEAM_OUTCOMES: dict[CareTeamDecision, CareTeamOutcome] = {
    CareTeamDecision.TRAJECTORY: CareTeamOutcome(
        True,
        CareTeamNextStep.ACCEPT,
        N_("Accept the referral and plan the intake."),
        N_(
            "The care team advises help from the support room. The care coordinator "
            "will now place the student; you will hear about the intake."
        ),
    ),
    CareTeamDecision.OTHER_SUPPORT: CareTeamOutcome(
        True,
        CareTeamNextStep.DECLINE,
        N_("Decline the referral and arrange the other support with the mentor."),
        N_(
            "The care team advises other support within the school instead of the support "
            "room. The care coordinator will contact you about it."
        ),
    ),
    CareTeamDecision.EXTERNAL: CareTeamOutcome(
        True,
        CareTeamNextStep.DECLINE,
        N_("Decline the referral and start the referral outside the school."),
        N_(
            "The care team advises a referral outside the school. The care coordinator will "
            "contact you about it."
        ),
    ),
    CareTeamDecision.DISCUSS_AGAIN: CareTeamOutcome(
        False,
        CareTeamNextStep.NEXT_MEETING,
        N_("Put the referral on the agenda of a next care team meeting."),
        N_("The care team will discuss your referral again at a next meeting."),
    ),
}


def care_team_outcome(decision: CareTeamDecision) -> CareTeamOutcome:
    """What the care team's ``decision`` implies (the one rule; web and chat show it)."""
    return _CARE_TEAM_OUTCOMES[decision]


def validate_care_team_question(text: str) -> Text | None:
    """What is wrong with the question for the care team (``None``: fine)."""
    return validate_text(text, 5, CARE_TEAM_QUESTION_MAX)


def validate_care_team_advice(text: str) -> Text | None:
    """What is wrong with the care team's advice as recorded (``None``: fine)."""
    return validate_text(text, 5, CARE_TEAM_ADVICE_MAX)
