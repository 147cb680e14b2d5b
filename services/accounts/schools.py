"""Finding the school a command or a person belongs to. Queries only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.errors import NotFound
from storage.models import DEFAULT_TIMEOUTS_PER_WEEK, BookingSettings, School


async def find_school(*, session: AsyncSession, code: str | None) -> School:
    """The school with ``code``; without a code, the only school (NotFound when not exactly one)."""
    if code is not None:
        school = await session.scalar(select(School).where(School.code == code))
        if school is None:
            raise NotFound(
                Text.of(N_("There is no school with code “{code}”."), code=Text.raw(code))
            )
        return school
    schools = list(await session.scalars(select(School).limit(2)))
    if not schools:
        raise NotFound(
            Text.of(
                N_(
                    "There is no school yet: create one with `trajectbot school create` "
                    "(or try the demo: `trajectbot demo-data`)."
                )
            )
        )
    if len(schools) > 1:
        raise NotFound(Text.of(N_("There are several schools: choose one with --school CODE.")))
    return schools[0]


async def school_timeout_cap(*, session: AsyncSession, school_id: int) -> int:
    """The time-out cap a new trajectory of the school starts with (set by the admin).

    `BookingSettings.timeouts_per_week`; a school without booking settings (made before
    issue 12) has the model's default. The one reader both the accept form's proposal and
    `services.trajectories.lifecycle` use, so the form shows what accepting would store.
    """
    cap = await session.scalar(
        select(BookingSettings.timeouts_per_week).where(BookingSettings.school_id == school_id)
    )
    return DEFAULT_TIMEOUTS_PER_WEEK if cap is None else cap
