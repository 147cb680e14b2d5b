"""`trajectbot run` and `trajectbot web`: the web app, and (with a token) the Telegram poller
and the outbox worker, in one event loop until Ctrl-C / SIGTERM.

uvicorn's ``Server.serve`` runs as a task beside aiogram's ``start_polling`` (with its own
signal handling off): one signal stops all three, and a failing part stops the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

from bot.app import App, build_app
from bot.config import Settings
from bot.housekeeping import run_daily
from dialogs.text import N_, Text
from web.app import create_web_app
from web.server import bind_socket, build_server

log = logging.getLogger(__name__)

#: What the runner tells the person at the terminal (the CLI renders it in CLI_LANGUAGE).
Announce = Callable[[Text], None]


class PortInUseError(RuntimeError):
    """The web app's address is taken (another trajectbot, or another program)."""


async def serve(
    settings: Settings,
    *,
    with_bot: bool,
    announce: Announce,
    startup_lines: Callable[[App], Awaitable[list[Text]]] | None = None,
    with_outbox: bool | None = None,
) -> None:
    """Serve the web app (and, when ``with_bot``, the Telegram bot) until stopped.

    ``with_outbox`` (default: ``with_bot``): also run the outbox worker with whichever
    channels are configured; without the bot that is e-mail alone (a school whose parents
    have only e-mail still gets its notices).
    """
    async with build_app(settings) as app:
        try:
            sock = bind_socket(settings.web_host, settings.web_port)
        except OSError as exc:
            raise PortInUseError(f"{settings.web_host}:{settings.web_port}") from exc
        server = build_server(create_web_app(app))
        # What is loaded by now (modules, catalogs, templates, the app) lives as long as the
        # process: out of the collector's way, so that a full collection during a request
        # scans what requests made, not ~200,000 objects of start-up (issue 16: on a busy
        # machine such a collection cost the partnership's page 100-200 ms, every other time).
        gc.freeze()
        stop = asyncio.Event()
        _on_signals(stop.set)
        parts: list[asyncio.Task[object]] = [asyncio.create_task(server.serve(sockets=[sock]))]
        parts.append(asyncio.create_task(run_daily(app.sessions, stop)))  # retention, pruning
        stop_bot: Callable[[], Awaitable[None]] | None = None
        if with_bot:
            stop_bot = await _start_bot(app, parts)
        elif (with_bot if with_outbox is None else with_outbox) and settings.smtp_configured:
            stop_bot = _start_email_outbox(app, parts)
        for line in await startup_lines(app) if startup_lines else []:
            announce(line)
        if stop_bot is not None:
            announce(email_line(settings))
        waiter = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({waiter, *parts}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            server.should_exit = True
            if stop_bot is not None:
                await stop_bot()
            waiter.cancel()
            results = await asyncio.gather(*parts, waiter, return_exceptions=True)
            sock.close()
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                raise result


async def _start_bot(app: App, parts: list[asyncio.Task[object]]) -> Callable[[], Awaitable[None]]:
    """Start polling and the outbox worker as tasks; return how to stop them."""
    from bot.telegram.dispatcher import create_bot, create_dispatcher  # noqa: PLC0415 - slow
    from bot.telegram.polling import outbox_worker  # noqa: PLC0415

    bot = create_bot(app)
    dispatcher = create_dispatcher(app)
    worker_stop = asyncio.Event()
    parts.append(asyncio.create_task(outbox_worker(app, bot).run(worker_stop)))
    parts.append(asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False)))
    log.info("polling started")

    async def stop() -> None:
        worker_stop.set()
        with contextlib.suppress(RuntimeError):  # polling had already stopped
            await dispatcher.stop_polling()
        await bot.session.close()

    return stop


def _start_email_outbox(
    app: App, parts: list[asyncio.Task[object]]
) -> Callable[[], Awaitable[None]]:
    """Start the outbox worker with the e-mail channel only (no Telegram token)."""
    from datetime import timedelta  # noqa: PLC0415

    from bot.outbox.email_sender import email_sender_from  # noqa: PLC0415
    from bot.outbox.worker import OutboxWorker  # noqa: PLC0415

    worker = OutboxWorker(
        email_sender=email_sender_from(app.settings),
        sessions=app.sessions,
        catalogs=app.catalogs,
        lease=timedelta(seconds=app.settings.outbox_lease_seconds),
    )
    worker_stop = asyncio.Event()
    parts.append(asyncio.create_task(worker.run(worker_stop)))
    log.info("outbox worker started for e-mail only (no TELEGRAM_BOT_TOKEN)")

    async def stop() -> None:
        worker_stop.set()

    return stop


def _on_signals(callback: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, callback)


def email_line(settings: Settings) -> Text:
    """Whether the outbox sends e-mail (for people without Telegram), and through what."""
    if settings.smtp_configured:
        return Text.of(
            N_("E-mail notices go out through {host}."),
            host=Text.raw(f"{settings.smtp_host}:{settings.smtp_port_or_default}"),
        )
    return Text.of(
        N_(
            "E-mail is not configured (SMTP_HOST, SMTP_FROM): notices for people without "
            "Telegram wait. `trajectbot outbox waiting` counts them."
        )
    )


def web_lines(settings: Settings) -> list[Text]:
    """Where the web app is."""
    return [Text.of(N_("The web app runs at {url}"), url=Text.raw(settings.web_url))]
