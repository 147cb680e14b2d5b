"""Closed demo trajectories with answered exit questionnaires, so that the queue shows results
and `trajectbot survey-report --school demo` shows figures from the first minute.

Called by `services.demo.school.create_demo_data` inside its transaction. The trajectories are
closed and the questionnaires answered through the product's own operations (invitations, reminders
withdrawn, queue items), a week and a half before ``now``. Every name and answer is invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.flows.exit_survey import SURVEY_INVITATION
from services.appointments.closing import Closing, close_trajectory
from services.surveys.completion import complete_survey
from storage.models import (
    EvaluationKind,
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    SupportKind,
    SurveyInvitation,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    Urgency,
    Weekday,
)

#: (student, mentor) of the closed trajectories: Saar (parent ouder4, Polish), Noor (parent
#: ouder2, Ukrainian) and Lieke (no parent linked).
DEMO_CLOSED = (("lln08", "mentor1"), ("lln02", "mentor1"), ("lln14", "mentor2"))
#: Who answered what (by question code); the others' invitations are still open.
DEMO_ANSWERS: Mapping[str, Mapping[str, str]] = {
    "lln08": {"S1": "4", "S2": "4", "S3": "3", "S4": "5", "S5": "Vaker even rustig zitten."},
    "ouder4": {"P1": "5", "P2": "4", "P3": "4", "P4": "na"},
    "ouder2": {"P1": "4", "P2": "3", "P3": "na", "P4": "3", "P5": "Дякую за допомогу."},
    "lln14": {"S1": "5", "S2": "3", "S3": "4", "S4": "5"},
    "mentor1": {"T1": "4", "T2": "5", "T3": "4", "T4": "3"},
}
CLOSED_AGO = timedelta(days=10)
ANSWERED_AGO = timedelta(days=8)


async def install_demo_surveys(*, session: AsyncSession, school_id: int, now: datetime) -> None:
    """Three trajectories closed ten days ago; five questionnaires answered since."""
    people = {
        p.external_id: p
        for p in await session.scalars(select(Person).where(Person.school_id == school_id))
    }
    coordinator = people["zoco"]
    coach = people["coach"]
    closed_at = now - CLOSED_AGO
    started = closed_at - timedelta(weeks=10)
    for student_code, mentor_code in DEMO_CLOSED:
        student, mentor = people[student_code], people[mentor_code]
        referral = Referral(
            school_id=school_id,
            student_id=student.id,
            mentor_id=mentor.id,
            help_question_student="Ik wil minder snel boos worden in de les.",
            help_question_teacher="Hoe houd ik haar betrokken als het onrustig wordt?",
            tried="Gesprekjes na de les en een vaste plek.",
            urgency=Urgency.NORMAL,
            parents_informed=True,
            support=[SupportKind.CONVERSATIONS.value],
            intake_from=started.date(),
            intake_days=[Weekday.TUE.value],
            text_language="nl",
            created_at=started,
        )
        session.add(referral)
        await session.flush()
        session.add(
            QueueItem(
                school_id=school_id,
                kind=QueueKind.REFERRAL,
                referral_id=referral.id,
                status=QueueStatus.CLOSED,
                assignee_id=coordinator.id,
                decision=QueueDecision.ACCEPTED,
                decided_at=started,
                decided_by_id=coordinator.id,
                created_at=started,
                updated_at=started,
            )
        )
        trajectory = Trajectory(
            school_id=school_id,
            student_id=student.id,
            referral_id=referral.id,
            status=TrajectoryStatus.ACTIVE,
            goals="Rustig blijven in de les en op tijd hulp vragen.",
            start_date=started.date(),
            end_date=closed_at.date(),
            coach_id=coach.id,
            created_at=started,
            intake_held_at=started,
            activated_at=started,
        )
        session.add(trajectory)
        await session.flush()
        session.add_all(
            TrajectoryEvaluation(
                school_id=school_id,
                trajectory_id=trajectory.id,
                kind=kind,
                due_on=day,
                held_on=day if kind is EvaluationKind.INTERIM else None,
            )
            for kind, day in (
                (EvaluationKind.INTERIM, (started + timedelta(weeks=5)).date()),
                (EvaluationKind.FINAL, closed_at.date()),
            )
        )
        await session.flush()
        await close_trajectory(
            session=session,
            actor=coordinator,
            trajectory_id=trajectory.id,
            closing=Closing(
                advice="Vaste plek vooraan en vooraf duidelijke afspraken over pauzes.",
                final_evaluation="Doelen gehaald; ze vraagt zelf op tijd om hulp.",
            ),
            now=closed_at,
        )
    for external_id, answers in DEMO_ANSWERS.items():
        respondent = people[external_id]
        invitation = await session.scalar(
            select(SurveyInvitation)
            .where(SurveyInvitation.respondent_id == respondent.id)
            .order_by(SurveyInvitation.id)
            .limit(1)
        )
        assert invitation is not None  # noqa: S101 - created by the closings above
        await complete_survey(
            session=session,
            person=respondent,
            respondent_type=invitation.respondent_type,
            answers={**answers, SURVEY_INVITATION: str(invitation.id)},
            now=now - ANSWERED_AGO,
        )
