"""A student's events recorded with a trajectory's steps: afstroom and VAVO ticked at closing,
and the observation request a referral's "observation wanted" tick makes at acceptance
(`services.indicators` counts them; its records module writes the others)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActivityKind,
    StudentEvent,
    StudentEventKind,
    StudentEventSource,
    SupportActivity,
    Trajectory,
)


def request_from_referral(
    trajectory: Trajectory, *, requested_by_id: int, now: datetime
) -> SupportActivity:
    """The observation request a referral's "observation wanted" tick makes at acceptance
    (the caller adds it to the session)."""
    return SupportActivity(
        school_id=trajectory.school_id,
        kind=ActivityKind.CLASS_OBSERVATION,
        trajectory_id=trajectory.id,
        referral_id=trajectory.referral_id,
        student_id=trajectory.student_id,
        requested_by_id=requested_by_id,
        requested_at=now,
    )


def add_event(
    session: AsyncSession,
    *,
    school_id: int,
    student_id: int,
    trajectory_id: int | None,
    kind: StudentEventKind,
    on_day: date,
    until: date | None,
    source: StudentEventSource,
    recorded_by_id: int | None,
    now: datetime,
) -> StudentEvent:
    """Add one event to the session (the caller flushes)."""
    event = StudentEvent(
        school_id=school_id,
        student_id=student_id,
        trajectory_id=trajectory_id,
        kind=kind,
        on_day=on_day,
        until=until,
        source=source,
        recorded_by_id=recorded_by_id,
        created_at=now,
    )
    session.add(event)
    return event


async def event_exists(
    session: AsyncSession, school_id: int, student_id: int, kind: StudentEventKind, on_day: date
) -> bool:
    """Whether the same event of the student on the same day is recorded."""
    found = await session.scalar(
        select(StudentEvent.id).where(
            StudentEvent.school_id == school_id,
            StudentEvent.student_id == student_id,
            StudentEvent.kind == kind,
            StudentEvent.on_day == on_day,
        )
    )
    return found is not None


async def record_closing_events(
    *,
    session: AsyncSession,
    trajectory: Trajectory,
    actor_id: int,
    on_day: date,
    outflow: bool,
    vavo: bool,
    now: datetime,
) -> None:
    """Afstroom and VAVO ticked at closing, as the student's events of the closing day."""
    for wanted, kind in ((outflow, StudentEventKind.OUTFLOW), (vavo, StudentEventKind.VAVO)):
        if wanted and not await event_exists(
            session, trajectory.school_id, trajectory.student_id, kind, on_day
        ):
            add_event(
                session,
                school_id=trajectory.school_id,
                student_id=trajectory.student_id,
                trajectory_id=trajectory.id,
                kind=kind,
                on_day=on_day,
                until=None,
                source=StudentEventSource.CLOSING,
                recorded_by_id=actor_id,
                now=now,
            )
