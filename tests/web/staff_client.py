"""The staff web app through httpx (ASGI, no network): a fixed, movable clock, the demo school,
a second school, a referral waiting in the queue; a browser-like client that logs in and posts
forms with the CSRF token the page carries."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, build_app
from bot.config import Settings
from services.accounts.people import get_person_by_external_id
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.demo.school import DEMO_PASSWORD, create_demo_data
from services.referrals.submission import submit_referral
from storage.models import AuditLog, Person, QueueItem, Role, School
from tests.support.factories import NOW, add_mentorship, add_person, add_school, draft
from tests.support.units import unit
from web.app import create_web_app

#: The password of the second school's accounts (as the demo school's: a test fixture).
OTHER_PASSWORD = "another-long-password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """The web app's clock: starts at `NOW`, moved by the tests."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class StaffWorld:
    """What the tests talk about (ids only; the rows live in the database)."""

    app: App
    clock: Clock
    school_id: int
    item_id: int
    referral_id: int
    student_name: str
    other_school_id: int
    other_item_id: int
    ids: dict[str, int] = field(default_factory=dict)

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app.sessions

    async def audit(self, action: str) -> list[AuditLog]:
        async with self.app.sessions() as session:
            rows = await session.scalars(
                select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
            )
            return list(rows)

    async def item(self, item_id: int | None = None) -> QueueItem:
        async with self.app.sessions() as session:
            return await session.get_one(QueueItem, item_id or self.item_id)


async def _referral(session: AsyncSession, school_id: int, mentor_id: str, student_id: str) -> int:
    mentor = await get_person_by_external_id(
        session=session, school_id=school_id, external_id=mentor_id
    )
    student = await get_person_by_external_id(
        session=session, school_id=school_id, external_id=student_id
    )
    assert mentor is not None
    assert student is not None
    referral = await submit_referral(
        session=session, mentor=mentor, draft=draft(student.id), now=NOW
    )
    item_id = await session.scalar(select(QueueItem.id).where(QueueItem.referral_id == referral.id))
    assert item_id is not None
    return item_id


async def build_world(app: App, clock: Clock) -> StaffWorld:
    """The demo school (with its web accounts) and a referral of Noor Bremhorst (lln02) by
    mentor1; a second school with its own care coordinator, coach and a referral."""
    async with app.sessions() as session:
        await unit(session, create_demo_data, if_empty=True)
    async with app.sessions() as session, session.begin():
        demo = await session.scalar(select(School).where(School.code == "demo"))
        assert demo is not None
        item_id = await _referral(session, demo.id, "mentor1", "lln02")
        referral_id = (await session.get_one(QueueItem, item_id)).referral_id
        assert referral_id is not None
        other = await add_school(session, "vmbo-zuid")
        other_zoco = await add_person(session, other, "z2", Role.CARE_COORDINATOR)
        other_coach = await add_person(session, other, "c2", Role.COACH)
        other_mentor = await add_person(session, other, "m2", Role.MENTOR)
        other_student = await add_person(session, other, "s2", Role.STUDENT, group_name="1C")
        await add_mentorship(session, other_mentor, other_student)
        password_hash = hash_password(OTHER_PASSWORD)
        for person, username in ((other_zoco, "zoco-zuid"), (other_coach, "coach-zuid")):
            await create_staff_account(
                session=session,
                person=person,
                username=username,
                password_hash=password_hash,
                now=NOW,
            )
        other_referral = await submit_referral(
            session=session, mentor=other_mentor, draft=draft(other_student.id), now=NOW
        )
        other_item_id = await session.scalar(
            select(QueueItem.id).where(QueueItem.referral_id == other_referral.id)
        )
        assert other_item_id is not None
        people = await session.scalars(select(Person).where(Person.school_id == demo.id))
        ids = {person.external_id: person.id for person in people}
    return StaffWorld(
        app=app,
        clock=clock,
        school_id=demo.id,
        item_id=item_id,
        referral_id=referral_id,
        student_name="Noor Bremhorst",
        other_school_id=other.id,
        other_item_id=other_item_id,
        ids=ids,
    )


@asynccontextmanager
async def staff_app(
    database_url: str, clock: Clock
) -> AsyncIterator[tuple[App, httpx.ASGITransport]]:
    """The product's app and web app on ``database_url`` (migrated), as an ASGI transport."""
    settings = Settings(_env_file=None, database_url=database_url)
    async with build_app(settings, log_level="WARNING") as app:
        web_app = create_web_app(app, clock=clock)
        yield app, httpx.ASGITransport(app=web_app, raise_app_exceptions=False)


class Browser:
    """One person's browser: its own cookies, the last page, forms posted with their token."""

    def __init__(self, transport: httpx.ASGITransport, language: str | None = "en") -> None:
        # English unless asked otherwise: its wording is the source text, so assertions on it
        # do not depend on translators.
        cookies = {"trajectbot_lang": language} if language else {}
        self.client = httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        )
        self.page: httpx.Response | None = None

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> httpx.Response:
        self.page = await self.client.get(path)
        return self.page

    def csrf(self) -> str:
        assert self.page is not None
        found = _CSRF.search(self.page.text)
        assert found is not None, "no form with a CSRF token on the page"
        return found.group(1)

    async def post(
        self,
        path: str,
        data: Mapping[str, str | list[str]] | None = None,
        *,
        token: bool = True,
    ) -> httpx.Response:
        fields: dict[str, str | list[str]] = dict(data or {})
        if token and "csrf_token" not in fields:
            fields["csrf_token"] = self.csrf()
        self.page = await self.client.post(path, data=fields)
        return self.page

    async def log_in(self, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        await self.get("/login")
        return await self.post("/login", {"username": username, "password": password})

    @property
    def text(self) -> str:
        """The last page's text, entities decoded."""
        assert self.page is not None
        return html.unescape(self.page.text)
