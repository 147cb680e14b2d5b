"""/login in Telegram: a linked staff member gets a one-time link into the web app; others do
not. Through `Dispatcher.feed_update` with the recording Bot API session (no network)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.telegram.dispatcher import create_dispatcher
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.web_sessions import redeem_login_link
from services.demo.school import create_demo_data
from storage.models import LoginLink, Role
from tests.bot.telegram_fakes import Person, RecordingSession, update
from tests.support.units import unit

BASE_URL = "https://trajectbot.school.example"


@dataclass
class Harness:
    app: App
    bot: Bot
    dispatcher: Dispatcher
    api: RecordingSession

    async def feed(self, data: dict[str, Any]) -> None:
        await self.dispatcher.feed_update(self.bot, update(self.bot, data))

    async def link(self, user: Person, external_id: str, role: Role) -> None:
        async with self.app.sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            token = await create_invite(
                session=session, person=person, role=role, now=datetime.now(UTC)
            )
        await self.feed(user.text(f"/start {token}"))
        await self.feed(user.press(self.api.last(user.id), "lang:en"))


@pytest.fixture
async def tg(engine: AsyncEngine, database_url: str) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        web_base_url=BASE_URL,
        flood_limit=1000,
    )
    async with build_app(settings) as app:
        async with app.sessions() as session:
            await unit(session, create_demo_data, if_empty=True)
        api = RecordingSession()
        yield Harness(app, Bot("42:TEST", session=api), create_dispatcher(app), api)


async def test_a_care_coordinator_gets_a_link_that_logs_in_once(tg: Harness) -> None:
    zoco = Person(3001, "en")
    await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
    await tg.feed(zoco.text("/login"))
    reply = tg.api.last(3001).text
    found = re.search(re.escape(BASE_URL) + r"/login/link/([\w-]+)", reply)
    assert found is not None, reply
    assert "works once, within 10 minutes" in reply
    async with tg.app.sessions() as session:
        link = (await session.scalars(select(LoginLink))).one()
        assert link.token_hash != found.group(1)  # only the hash is stored
    async with tg.app.sessions() as session, session.begin():
        started = await redeem_login_link(
            session=session, token=found.group(1), now=datetime.now(UTC)
        )
    assert started.person_id == link.person_id


async def test_the_menu_offers_the_web_app_to_staff_only(tg: Harness) -> None:
    coach = Person(3002, "en")
    await tg.link(coach, "coach", Role.COACH)
    menu = tg.api.last(3002)
    assert "Log in to the web app" in [label for label, _ in menu.buttons()]
    await tg.feed(coach.press(menu, menu.data_for("Log in to the web app")))
    assert f"{BASE_URL}/login/link/" in tg.api.last(3002).text

    mentor = Person(3003, "en")
    await tg.link(mentor, "mentor1", Role.MENTOR)
    assert "Log in to the web app" not in [label for label, _ in tg.api.last(3003).buttons()]
    await tg.feed(mentor.text("/login"))
    assert tg.api.last(3003).text == "This is not available for your role."
    async with tg.app.sessions() as session:
        assert len(list(await session.scalars(select(LoginLink)))) == 1


async def test_a_stranger_only_learns_how_to_get_access(tg: Harness) -> None:
    stranger = Person(3004, "en")
    await tg.feed(stranger.text("/login"))
    assert "personal invitation link" in tg.api.last(3004).text
    async with tg.app.sessions() as session:
        assert list(await session.scalars(select(LoginLink))) == []
