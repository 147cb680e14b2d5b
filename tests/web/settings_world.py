"""The settings area's world: the demo school with its booking set-up (types, hours, the
coach's hours, Daan's active trajectory with time-out in the plan) and its web accounts, a
mentor with a web account, and a second school created as a real school is (`create_school`)
with its own administrator. The clock is the real time: the demo trajectories start today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import create_demo_data
from services.settings.rules import Region
from services.settings.school import FirstAdmin, create_school
from storage.models import AuditLog, Person, School, StaffAccount
from tests.support.units import unit
from tests.web.staff_client import OTHER_PASSWORD, Clock


@dataclass
class SettingsWorld:
    """Ids of what the tests talk about."""

    app: App
    clock: Clock
    school_id: int
    other_school_id: int
    ids: dict[str, int]

    async def audit(self, action: str) -> list[AuditLog]:
        async with self.app.sessions() as session:
            rows = await session.scalars(
                select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
            )
            return list(rows)

    async def person(self, external_id: str) -> Person:
        async with self.app.sessions() as session:
            found = await session.scalar(
                select(Person).where(
                    Person.school_id == self.school_id, Person.external_id == external_id
                )
            )
            assert found is not None
            return found


def real_clock() -> Clock:
    """The web app's clock at the real time (the demo's trajectories start today)."""
    return Clock(datetime.now(UTC))


async def build_settings_world(app: App, clock: Clock) -> SettingsWorld:
    """The world above; the second school's admin logs in as ``beheer-zuid``."""
    async with app.sessions() as session:
        summary = await unit(session, create_demo_data, if_empty=True, with_appointments=True)
    assert summary.school_id is not None

    async def more(session: AsyncSession) -> int:
        created = await create_school(
            session=session,
            code="vmbo-zuid",
            name="Vmbo Zuid",
            timezone="Europe/Amsterdam",
            region=Region.ZUID,
            admin=FirstAdmin("beheer2", "Jorien", "Zuidema"),
            now=clock.now,
        )
        password_hash = hash_password(OTHER_PASSWORD)
        await create_staff_account(
            session=session,
            person=created.admin,
            username="beheer-zuid",
            password_hash=password_hash,
            now=clock.now,
        )
        mentor = await session.scalar(
            select(Person).where(
                Person.school_id == summary.school_id, Person.external_id == "mentor1"
            )
        )
        assert mentor is not None
        # Only staff can get a web account; a mentor's is written directly, as if their
        # staff role had been taken away since (roles are re-read on every request).
        session.add(
            StaffAccount(
                school_id=mentor.school_id,
                person_id=mentor.id,
                username="mentor1",
                password_hash=password_hash,
                created_at=clock.now,
            )
        )
        return created.school.id

    async with app.sessions() as session:
        other_id = await unit(session, more)
    async with app.sessions() as session:
        demo = await session.get_one(School, summary.school_id)
        people = await session.scalars(select(Person).where(Person.school_id == demo.id))
        ids = {person.external_id: person.id for person in people}
    return SettingsWorld(app, clock, summary.school_id, other_id, ids)
