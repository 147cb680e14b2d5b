"""A real outbox worker process for the kill -9 proof (`tests.support.outbox_proof`).

    python -m tests.support.outbox_runner LEASE_SECONDS SEND_TIMEOUT_SECONDS

The product's own parts: `build_app` from the environment's settings (``DATABASE_URL``,
``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE``), `create_bot`, `TelegramSender`, `OutboxWorker`
with Telegram's pacing as shipped. Only the lease, the send timeout, the backoff and the poll
interval are shorter than in production, so that a bounded run ends in seconds, not minutes.
SIGTERM stops it cleanly; SIGKILL is what the proof sends.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta

from bot.app import build_app
from bot.config import load_settings
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker, RetryPolicy
from bot.telegram.dispatcher import create_bot


async def main(lease: float, send_timeout: float) -> None:
    """Run the worker until SIGTERM / SIGINT."""
    async with build_app(load_settings()) as app:
        bot = create_bot(app)
        worker = OutboxWorker(
            sender=TelegramSender(bot),
            sessions=app.sessions,
            catalogs=app.catalogs,
            lease=timedelta(seconds=lease),
            send_timeout=send_timeout,
            retry=RetryPolicy(base=1.0, factor=2.0, cap=8.0, max_attempts=10),
            poll_interval=0.2,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("outbox runner ready", flush=True)  # noqa: T201 - the parent waits for it
        try:
            await worker.run(stop)
        finally:
            await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]), float(sys.argv[2])))
