"""The demo school's appointment setup, so the demo can book from the first minute.

Called by `services.demo.school.create_demo_data` inside its transaction. Every name is invented;
the trajectories are created directly (an accepted referral behind each), without notifications.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments.defaults import install_defaults
from storage.models import (
    ClosedDay,
    CoachAvailability,
    EvaluationKind,
    Person,
    QueueDecision,
    QueueItem,
    QueueKind,
    QueueStatus,
    Referral,
    SupportKind,
    Trajectory,
    TrajectoryEvaluation,
    TrajectoryStatus,
    Urgency,
    WaitingReason,
    Weekday,
)

#: (student, mentor, trajectory status): Daan is in support with time-out in his plan; Amira's
#: referral was accepted and her parent (ouder1, who has two children) can book the intake.
DEMO_TRAJECTORIES = (
    ("lln01", "mentor1", TrajectoryStatus.ACTIVE),
    ("lln15", "mentor2", TrajectoryStatus.PLANNED),
)
DEMO_COACH = "coach"
DEMO_COORDINATOR = "zoco"
#: The coach's hours for gesprekken and intakes, Monday to Friday, with a lunch break.
DEMO_COACH_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(16, 0)))


def demo_closed_days(today: date) -> tuple[date, ...]:
    """King's Day this year and next, and a study day about ten days from ``today``."""
    study_day = today + timedelta(days=10)
    while study_day.weekday() >= 5:
        study_day += timedelta(days=1)
    return tuple(sorted({date(today.year, 4, 27), date(today.year + 1, 4, 27), study_day}))


async def install_demo_booking(*, session: AsyncSession, school_id: int, now: datetime) -> None:
    """Appointment types, opening hours (Mon–Fri 8:30–16:30), closed days, the demo coach's
    hours and two trajectories, in the caller's transaction."""
    await install_defaults(session=session, school_id=school_id)
    today = now.date()
    for day in demo_closed_days(today):
        session.add(ClosedDay(school_id=school_id, day=day))
    people = {
        p.external_id: p
        for p in await session.scalars(select(Person).where(Person.school_id == school_id))
    }
    coach = people[DEMO_COACH]
    for weekday in range(5):
        for starts, ends in DEMO_COACH_HOURS:
            session.add(
                CoachAvailability(
                    school_id=school_id,
                    coach_id=coach.id,
                    weekday=weekday,
                    starts_at=starts,
                    ends_at=ends,
                )
            )
    coordinator = people[DEMO_COORDINATOR]
    for student_code, mentor_code, status in DEMO_TRAJECTORIES:
        student, mentor = people[student_code], people[mentor_code]
        referral = Referral(
            school_id=school_id,
            student_id=student.id,
            mentor_id=mentor.id,
            help_question_student="Ik wil rustig kunnen blijven in de les.",
            help_question_teacher="Hoe help ik bij onrust in de klas?",
            tried="Vaste plek in de klas en korte gesprekjes na de les.",
            works_at_school="Duidelijke afspraken vooraf.",
            urgency=Urgency.NORMAL,
            parents_informed=True,
            support=[SupportKind.CONVERSATIONS.value, SupportKind.TIME_OUT.value],
            intake_from=today,
            intake_days=[Weekday.MON.value, Weekday.WED.value],
            text_language="nl",
            created_at=now,
        )
        session.add(referral)
        await session.flush()
        session.add(
            QueueItem(
                school_id=school_id,
                kind=QueueKind.REFERRAL,
                referral_id=referral.id,
                status=QueueStatus.CLOSED
                if status is TrajectoryStatus.ACTIVE
                else QueueStatus.WAITING,
                # Accepted and waiting for the intake (the queue's age clock is paused).
                waiting_since=None if status is TrajectoryStatus.ACTIVE else now,
                waiting_reason=None if status is TrajectoryStatus.ACTIVE else WaitingReason.INTAKE,
                assignee_id=coordinator.id,
                decision=QueueDecision.ACCEPTED,
                decided_at=now,
                decided_by_id=coordinator.id,
                created_at=now,
                updated_at=now,
            )
        )
        active = status is TrajectoryStatus.ACTIVE
        trajectory = Trajectory(
            school_id=school_id,
            student_id=student.id,
            referral_id=referral.id,
            status=status,
            goals="Rustig blijven in de les en op tijd hulp vragen." if active else None,
            start_date=today if active else None,
            end_date=today + timedelta(weeks=12) if active else None,
            timeouts_in_plan=True,
            coach_id=coach.id,
            created_at=now,
            intake_held_at=now if active else None,
            activated_at=now if active else None,
        )
        session.add(trajectory)
        if active:
            # A complete plan (services.trajectories.rules.plan_gaps): an interim evaluation
            # halfway and the final one on the end date.
            await session.flush()
            session.add_all(
                TrajectoryEvaluation(
                    school_id=school_id, trajectory_id=trajectory.id, kind=kind, due_on=day
                )
                for kind, day in (
                    (EvaluationKind.INTERIM, today + timedelta(weeks=6)),
                    (EvaluationKind.FINAL, today + timedelta(weeks=12)),
                )
            )
    await session.flush()
