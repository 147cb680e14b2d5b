"""`trajectbot webhook`: an aiohttp server for Telegram's webhook, checking the secret token."""

from __future__ import annotations

import asyncio
import logging

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import build_app
from bot.config import Settings
from bot.telegram.dispatcher import create_bot, create_dispatcher
from bot.telegram.polling import outbox_worker

log = logging.getLogger(__name__)


async def serve_webhook(
    settings: Settings, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve updates on ``TELEGRAM_WEBHOOK_PATH``; requests without the secret get 401.

    Registers the webhook with Telegram when ``TELEGRAM_WEBHOOK_URL`` is set. Runs until
    ``stop`` is set (or forever).
    """
    secret = settings.telegram_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set for webhook mode")
    async with build_app(settings) as app:
        bot = create_bot(app)
        dispatcher = create_dispatcher(app)
        web_app = web.Application()
        SimpleRequestHandler(
            dispatcher=dispatcher, bot=bot, secret_token=secret.get_secret_value()
        ).register(web_app, path=settings.telegram_webhook_path)
        setup_application(web_app, dispatcher, bot=bot)
        if settings.telegram_webhook_url:
            await bot.set_webhook(
                settings.telegram_webhook_url + settings.telegram_webhook_path,
                secret_token=secret.get_secret_value(),
            )
        worker_stop = asyncio.Event()
        worker = asyncio.create_task(outbox_worker(app, bot).run(worker_stop))
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, settings.telegram_webhook_host, settings.telegram_webhook_port)
        await site.start()
        log.info("webhook listening on port %s", settings.telegram_webhook_port)
        if ready is not None:
            ready.set()
        try:
            await (stop.wait() if stop is not None else asyncio.Event().wait())
        finally:
            worker_stop.set()
            await worker
            await runner.cleanup()
