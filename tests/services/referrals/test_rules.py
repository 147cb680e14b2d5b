"""Where a referral stands for its mentor (`services.referrals.rules`): pure, no database."""

from __future__ import annotations

import pytest

from dialogs.i18n import Catalogs
from services.referrals.rules import ReferralStage, referral_stage, stage_label
from storage.models import QueueDecision, QueueStatus, TrajectoryStatus, WaitingReason

EN = Catalogs().get("en")


@pytest.mark.parametrize(
    ("status", "waiting", "decision", "trajectory", "stage"),
    [
        (None, None, None, None, ReferralStage.SUBMITTED),
        (QueueStatus.NEW, None, None, None, ReferralStage.SUBMITTED),
        (QueueStatus.IN_PROGRESS, None, None, None, ReferralStage.IN_ANALYSIS),
        (QueueStatus.WAITING, WaitingReason.CARE_TEAM, None, None, ReferralStage.WITH_CARE_TEAM),
        (
            QueueStatus.WAITING,
            WaitingReason.INTAKE,
            QueueDecision.ACCEPTED,
            TrajectoryStatus.PLANNED,
            ReferralStage.INTAKE_TO_PLAN,
        ),
        (
            QueueStatus.CLOSED,
            None,
            QueueDecision.ACCEPTED,
            TrajectoryStatus.ACTIVE,
            ReferralStage.RUNNING,
        ),
        (
            QueueStatus.CLOSED,
            None,
            QueueDecision.ACCEPTED,
            TrajectoryStatus.CLOSED,
            ReferralStage.TRAJECTORY_CLOSED,
        ),
        (QueueStatus.CLOSED, None, QueueDecision.DECLINED, None, ReferralStage.DECLINED),
        (QueueStatus.CLOSED, None, None, None, ReferralStage.CLOSED),
    ],
)
def test_the_stage_follows_the_decision_then_the_item(
    status: QueueStatus | None,
    waiting: WaitingReason | None,
    decision: QueueDecision | None,
    trajectory: TrajectoryStatus | None,
    stage: ReferralStage,
) -> None:
    assert (
        referral_stage(
            item_status=status,
            waiting_reason=waiting,
            decision=decision,
            trajectory_status=trajectory,
        )
        is stage
    )


def test_every_stage_has_plain_words() -> None:
    labels = {EN.render(stage_label(stage)) for stage in ReferralStage}
    assert len(labels) == len(ReferralStage)
    assert EN.render(stage_label(ReferralStage.WITH_CARE_TEAM)) == "with the care team for advice"
    assert all("ZAT" not in label for label in labels)
