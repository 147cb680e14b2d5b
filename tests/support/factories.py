"""Small builders for storage tests. Every name is invented."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals.submission import (
    ReferralDraft,
    SupportKind,
    Urgency,
    Weekday,
    submit_referral,
)
from services.trajectories.lifecycle import Closing
from storage.models import (
    Base,
    Mentorship,
    Person,
    PersonRole,
    QueueItem,
    Role,
    School,
    Trajectory,
    TrajectoryStatus,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
#: What a care coordinator records when closing a trajectory in tests (the final evaluation
#: is held at closing, with these notes).
CLOSING = Closing(
    advice="Vaste plek vooraan; afspraken over pauzes vooraf bespreken.",
    final_evaluation="De doelen zijn gehaald; hij vraagt zelf op tijd om hulp.",
)


async def add_school(session: AsyncSession, code: str = "vmbo-noord") -> School:
    school = School(code=code, name=f"School {code}")
    session.add(school)
    await session.flush()
    return school


async def add_person(
    session: AsyncSession,
    school: School,
    external_id: str,
    *roles: Role,
    given_name: str = "Test",
    family_name: str | None = None,
    group_name: str | None = None,
) -> Person:
    person = Person(
        school_id=school.id,
        external_id=external_id,
        given_name=given_name,
        family_name=family_name or f"Persoon-{external_id}",
        group_name=group_name,
        roles=[PersonRole(role=role) for role in roles],
    )
    session.add(person)
    await session.flush()
    return person


async def add_mentorship(session: AsyncSession, mentor: Person, student: Person) -> None:
    session.add(Mentorship(school_id=mentor.school_id, mentor_id=mentor.id, student_id=student.id))
    await session.flush()


async def count(session: AsyncSession, model: type[Base]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def draft(student_id: int, **changes: object) -> ReferralDraft:
    values: dict[str, object] = {
        "student_id": student_id,
        "help_question_student": "Ik wil rustiger worden in de klas.",
        "help_question_teacher": "Hoe help ik hem bij het plannen?",
        "tried": "Vaste plek in de klas, korte gesprekjes na de les.",
        "works_at_home": None,
        "works_at_school": "Duidelijke afspraken vooraf.",
        "urgency": Urgency.NORMAL,
        "parents_informed": True,
        "parents_not_informed_reason": None,
        "support": (SupportKind.CONVERSATIONS, SupportKind.TIME_OUT),
        "intake_from": date(2026, 3, 9),
        "intake_days": (Weekday.MON, Weekday.WED),
        "text_language": "nl",
    }
    values.update(changes)
    return ReferralDraft(**values)  # type: ignore[arg-type]


async def add_queued_referral(
    session: AsyncSession, mentor: Person, student: Person, **changes: object
) -> QueueItem:
    """Submit a referral of ``student`` by ``mentor`` (at `NOW`); return its queue item."""
    referral = await submit_referral(
        session=session, mentor=mentor, draft=draft(student.id, **changes), now=NOW
    )
    item = await session.scalar(select(QueueItem).where(QueueItem.referral_id == referral.id))
    assert item is not None
    return item


async def add_trajectory(
    session: AsyncSession,
    mentor: Person,
    student: Person,
    *,
    status: TrajectoryStatus = TrajectoryStatus.ACTIVE,
    timeouts_in_plan: bool = True,
    timeouts_per_week: int = 2,
    start: date = date(2026, 3, 2),
    end: date = date(2026, 6, 26),
) -> Trajectory:
    """A trajectory of ``student`` on a referral by ``mentor``, inserted directly (no queue path).

    For tests of what comes after acceptance (booking, closing, indicators).
    """
    item = await add_queued_referral(session, mentor, student)
    assert item.referral_id is not None
    trajectory = Trajectory(
        school_id=student.school_id,
        student_id=student.id,
        referral_id=item.referral_id,
        status=status,
        goals="Rustig blijven in de les en hulp vragen als het te veel wordt.",
        start_date=start,
        end_date=end,
        timeouts_in_plan=timeouts_in_plan,
        timeouts_per_week=timeouts_per_week,
        intake_held_at=NOW if status is not TrajectoryStatus.PLANNED else None,
        activated_at=(
            NOW if status in (TrajectoryStatus.ACTIVE, TrajectoryStatus.CLOSED) else None
        ),
        closed_at=NOW if status is TrajectoryStatus.CLOSED else None,
        created_at=NOW,
    )
    session.add(trajectory)
    await session.flush()
    return trajectory
