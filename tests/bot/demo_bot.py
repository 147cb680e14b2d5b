"""The bot on the demo school for tests through the real dispatcher (`feed_update`).

`demo_bot` builds the app on the test database (migrated by the ``engine`` fixture), fills the
demo school once and wires a `Bot` to a `RecordingSession`, so each test module's harness is
built the same way; `demo_person` finds a demo person by id and `send_outbox` delivers what the
outbox holds through the product's Telegram sender.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiolimiter import AsyncLimiter
from pydantic import SecretStr

from bot.app import App, build_app
from bot.config import Settings
from bot.outbox.pacing import ChatPacer
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker
from bot.telegram.dispatcher import create_dispatcher
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import create_demo_data
from storage.models import Person
from tests.bot.telegram_fakes import RecordingSession
from tests.support.units import unit


@dataclass(frozen=True)
class DemoBot:
    """The app, a bot whose Bot API calls are recorded, and the product's dispatcher."""

    app: App
    bot: Bot
    dispatcher: Dispatcher
    api: RecordingSession


@asynccontextmanager
async def demo_bot(database_url: str, *, flood_limit: int = 1000) -> AsyncIterator[DemoBot]:
    """The bot on the demo school at ``database_url`` (already migrated); ``flood_limit``
    generous by default, as tests tap faster than any person."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        flood_limit=flood_limit,
    )
    async with build_app(settings) as app:
        async with app.sessions() as session:
            await unit(session, create_demo_data, if_empty=True)
        api = RecordingSession()
        yield DemoBot(app, Bot("42:TEST", session=api), create_dispatcher(app), api)


async def demo_person(app: App, external_id: str) -> Person:
    """The demo school's person with ``external_id`` (the test fails when there is none)."""
    async with app.sessions() as session:
        school = await find_school(session=session, code="demo")
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        assert person is not None
        return person


async def send_outbox(app: App, bot: Bot) -> None:
    """Deliver everything the outbox holds now through the product's Telegram sender."""
    worker = OutboxWorker(
        sender=TelegramSender(bot),
        sessions=app.sessions,
        catalogs=app.catalogs,
        overall=AsyncLimiter(100_000, 1),
        chats=ChatPacer(0.0),
    )
    while await worker.drain_once():
        pass
