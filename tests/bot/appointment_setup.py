"""The demo school made ready for appointments, relative to the real clock (the Telegram
layer reads it): shared by the feed_update and the end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.app import App
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.appointments.defaults import install_defaults
from services.conversations.runtime import school_today
from storage.models import CoachAvailability, Person, TrajectoryStatus
from tests.support.factories import add_trajectory


async def prepare_demo_booking(app: App, timeout_places: int = 4) -> None:
    """Default appointment types, the demo coach's hours (Mon–Fri 8:30–16:30) and three
    trajectories around today: Bram (lln13) and Lieke (lln14) in support with time-out in the
    plan, Amira (lln15) accepted and waiting for her intake (mentor2 is their mentor).
    """
    today = school_today(datetime.now(UTC))
    async with app.sessions() as session, session.begin():
        school = await find_school(session=session, code="demo")
        await install_defaults(session=session, school_id=school.id, timeout_places=timeout_places)

        async def person(external_id: str) -> Person:
            found = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert found is not None
            return found

        coach, mentor = await person("coach"), await person("mentor2")
        for weekday in range(5):
            session.add(
                CoachAvailability(
                    school_id=school.id,
                    coach_id=coach.id,
                    weekday=weekday,
                    starts_at=time(8, 30),
                    ends_at=time(16, 30),
                )
            )
        start, end = today - timedelta(days=7), today + timedelta(days=90)
        for student in ("lln13", "lln14"):
            await add_trajectory(session, mentor, await person(student), start=start, end=end)
        await add_trajectory(
            session,
            mentor,
            await person("lln15"),
            status=TrajectoryStatus.PLANNED,
            start=start,
            end=end,
        )
