"""What a school starts with: the four appointment types and opening hours Mon–Fri.

The numbers follow the seeds: a time-out is one lesson hour in a room with a few places, a
begeleidingsgesprek half an hour with the coach, an intake an hour with everyone at the table
(and a quarter of an hour between gesprekken to write things down).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AppointmentKind,
    AppointmentResource,
    AppointmentType,
    OpeningHours,
    Role,
)

DEFAULT_OPENS = time(8, 30)
DEFAULT_CLOSES = time(16, 30)
DEFAULT_TIMEOUT_PLACES = 4


@dataclass(frozen=True, slots=True)
class TypeDefaults:
    """One default appointment type."""

    resource: AppointmentResource
    duration_minutes: int
    step_minutes: int
    buffer_minutes: int
    bookable_by: tuple[Role, ...]
    attendees: tuple[Role, ...]
    #: ``None``: the school's lead time; a time-out is for now (0).
    lead_time_minutes: int | None = None


DEFAULT_TYPES: dict[AppointmentKind, TypeDefaults] = {
    AppointmentKind.INTAKE: TypeDefaults(
        AppointmentResource.COACH,
        60,
        30,
        15,
        (Role.PARENT, Role.CARE_COORDINATOR),
        (Role.STUDENT, Role.PARENT, Role.MENTOR, Role.COACH),
    ),
    AppointmentKind.GESPREK: TypeDefaults(
        AppointmentResource.COACH, 30, 30, 0, (Role.STUDENT,), (Role.STUDENT, Role.COACH)
    ),
    AppointmentKind.TIME_OUT: TypeDefaults(
        AppointmentResource.ROOM, 50, 50, 0, (Role.STUDENT,), (Role.STUDENT,), lead_time_minutes=0
    ),
    AppointmentKind.EVALUATION: TypeDefaults(
        AppointmentResource.COACH,
        45,
        30,
        15,
        (Role.PARENT, Role.CARE_COORDINATOR),
        (Role.STUDENT, Role.PARENT, Role.MENTOR, Role.COACH),
    ),
}


async def install_defaults(
    *,
    session: AsyncSession,
    school_id: int,
    timeout_places: int = DEFAULT_TIMEOUT_PLACES,
    opens: time = DEFAULT_OPENS,
    closes: time = DEFAULT_CLOSES,
) -> None:
    """Add the default types and Mon–Fri opening hours the school does not have yet.

    In the caller's transaction; existing rows are left as they are.
    """
    have = set(
        await session.scalars(
            select(AppointmentType.kind).where(AppointmentType.school_id == school_id)
        )
    )
    for kind, spec in DEFAULT_TYPES.items():
        if kind in have:
            continue
        session.add(
            AppointmentType(
                school_id=school_id,
                kind=kind,
                resource=spec.resource,
                duration_minutes=spec.duration_minutes,
                step_minutes=spec.step_minutes,
                buffer_minutes=spec.buffer_minutes,
                capacity=timeout_places if spec.resource is AppointmentResource.ROOM else 1,
                bookable_by=[role.value for role in spec.bookable_by],
                attendees=[role.value for role in spec.attendees],
                active=True,
                lead_time_minutes=spec.lead_time_minutes,
            )
        )
    open_days = set(
        await session.scalars(
            select(OpeningHours.weekday).where(OpeningHours.school_id == school_id)
        )
    )
    for weekday in range(5):
        if weekday not in open_days:
            session.add(
                OpeningHours(school_id=school_id, weekday=weekday, opens_at=opens, closes_at=closes)
            )
    await session.flush()
