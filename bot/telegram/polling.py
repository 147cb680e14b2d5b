"""`trajectbot run`: long polling plus the outbox worker, until interrupted."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot

from bot.app import App, build_app
from bot.config import Settings
from bot.outbox.email_sender import email_sender_from
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker, SharedRate
from bot.telegram.dispatcher import create_bot, create_dispatcher

log = logging.getLogger(__name__)


def outbox_worker(app: App, bot: Bot) -> OutboxWorker:
    """The worker that delivers what storage queued, through this bot (and by e-mail when
    SMTP is configured). On PostgreSQL its rate is shared with every other worker of the bot
    (`SharedRate`: N processes keep Telegram's limits together); SQLite paces in process."""
    shared = SharedRate() if app.engine.dialect.name == "postgresql" else None
    return OutboxWorker(
        sender=TelegramSender(bot),
        email_sender=email_sender_from(app.settings),
        sessions=app.sessions,
        catalogs=app.catalogs,
        lease=timedelta(seconds=app.settings.outbox_lease_seconds),
        shared=shared,
    )


async def run_polling(settings: Settings) -> None:
    """Poll Telegram (or ``TELEGRAM_API_BASE``) and run the outbox worker beside it."""
    async with build_app(settings) as app:
        bot = create_bot(app)
        dispatcher = create_dispatcher(app)
        stop = asyncio.Event()
        worker = asyncio.create_task(outbox_worker(app, bot).run(stop))
        try:
            log.info("polling started")
            await dispatcher.start_polling(bot, handle_signals=True)
        finally:
            stop.set()
            await worker
            await bot.session.close()
