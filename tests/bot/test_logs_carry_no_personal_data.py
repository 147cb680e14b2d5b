"""Issue 13: logs never carry names or free text, at any level.

A student renamed "Zzyzx Qwertyson" and a referral with a help question no one else would
write go through the product at ``LOG_LEVEL=DEBUG`` (its own logging set-up,
`bot.logging_setup`): Telegram updates through the dispatcher, the outbox worker delivering
the notices, the staff web app showing the referral. Every record logged anywhere (the root
logger, captured at DEBUG) is searched for the planted strings.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime

import httpx
import pytest
from aiogram import Bot
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.config import Settings
from bot.telegram.dispatcher import create_dispatcher
from services.demo.school import DEMO_PASSWORD, create_demo_data
from storage.models import Person, QueueItem, Role
from tests.bot.demo_bot import send_outbox
from tests.bot.telegram_fakes import Person as TelegramUser
from tests.bot.telegram_fakes import RecordingSession
from tests.bot.test_telegram_flows import Harness
from tests.support.units import unit
from web.app import create_web_app

GIVEN, FAMILY = "Zzyzx", "Qwertyson"
# A number in free text is planted with letters around it: bare digits turn up in any float
# that is logged (aiogram's "Duration 26.047906999844417 ms" once matched "4417").
QUESTION = "Quixotic marmalade help question qz4417qz"
PLANTED = (GIVEN, FAMILY, "Quixotic", "marmalade", "qz4417qz")


def _everything_logged(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            parts.append(record.stack_info)
    return "\n".join(parts)


async def test_nothing_personal_is_logged_at_debug(
    engine: AsyncEngine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    del engine  # migrated by the fixture
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        flood_limit=1000,
        log_level="DEBUG",
    )
    async with build_app(settings) as app:  # the product's logging set-up, at DEBUG
        caplog.set_level(logging.DEBUG)  # and every record reaching the root is kept
        assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
        async with app.sessions() as session:
            await unit(session, create_demo_data, if_empty=True)
        async with app.sessions() as session, session.begin():
            await session.execute(
                update(Person)
                .where(Person.given_name == "Lieke", Person.family_name == "Noordeloos")
                .values(given_name=GIVEN, family_name=FAMILY)
            )
        api = RecordingSession()
        tg = Harness(app, Bot("42:TEST", session=api), create_dispatcher(app), api)

        # Telegram: a mentor refers the student, typing the help question.
        mentor, chat = TelegramUser(1401, "en"), 1401
        await tg.link(mentor, "mentor2", Role.MENTOR)
        await tg.feed(mentor.press(api.last(chat), "m:flow:verwijzing"))
        await tg.feed(mentor.press(api.last(chat), api.last(chat).data_for(GIVEN)))
        for answer in (QUESTION, f"{QUESTION} (teacher)", f"{QUESTION} (tried)"):
            await tg.feed(mentor.text(answer))
        for _ in range(2):
            await tg.feed(mentor.press(api.last(chat), api.last(chat).data_for("Skip")))
        for label in ("High", "Yes", "Time-out", "Done"):
            await tg.feed(mentor.press(api.last(chat), api.last(chat).data_for(label)))
        await tg.feed(mentor.press(api.last(chat), api.last(chat).buttons()[0][1]))
        for label in ("Wednesday", "Done", "No", "Send"):
            await tg.feed(mentor.press(api.last(chat), api.last(chat).data_for(label)))
        assert "Your referral has been sent" in api.last(chat).text
        # A forged button and a crash-prone id on the way (their handling logs too).
        await tg.feed(mentor.press(api.last(chat), "q:open:9223372036854775808"))

        # The outbox worker delivers the notices (the care coordinator's, the confirmation).
        zoco = TelegramUser(1402, "en")
        await tg.link(zoco, "zoco", Role.CARE_COORDINATOR)
        await send_outbox(app, tg.bot)

        # The staff web app shows the referral to the care coordinator.
        async with app.sessions() as session:
            item_id = await session.scalar(select(QueueItem.id).order_by(QueueItem.id.desc()))
        web_app = create_web_app(app, clock=lambda: datetime.now(UTC))
        transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = await client.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            await client.post(
                "/login",
                data={"username": "zoco", "password": DEMO_PASSWORD, "csrf_token": token},
            )
            shown = await client.get(f"/queue/{item_id}")
            assert QUESTION in shown.text  # the planted text really went through
            await client.get("/queue")

    logged = _everything_logged(caplog.records)
    assert caplog.records  # logging was on
    for planted in PLANTED:
        assert planted not in logged, planted
