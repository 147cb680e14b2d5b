"""End-to-end fixtures: the Bot API emulator (a Node process per test module) and the bot.

The bot side is the product's own: `build_app`, `create_dispatcher`, long polling through
`Dispatcher.start_polling` and the `OutboxWorker` with the `TelegramSender`, talking HTTP to
the emulator at ``TELEGRAM_API_BASE``. The only test-only parts are the session that smooths
the emulator's answers (`tests.e2e.session`) and a middleware that counts handled updates.

Every test gets its own bot token (so its chats are its own in the shared emulator) and its
own database (the ``database_url`` fixture: SQLite, and PostgreSQL under
``make test-postgres``).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.outbox.telegram_sender import TelegramSender
from bot.outbox.worker import OutboxWorker
from bot.telegram.dispatcher import create_dispatcher
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.demo.school import create_demo_data
from storage.models import Role
from tests.e2e.client import Emulator, SimulatedPerson, UpdateCounter
from tests.e2e.session import EmulatorSession
from tests.support.units import unit

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("emulator.mjs")
READY = "emulator ready "
START_TIMEOUT = 20.0
_bot_ids = itertools.count(700_001)


@dataclass(frozen=True)
class EmulatorProcess:
    url: str
    log: Path


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        for line in output.splitlines():
            if line.startswith(READY):
                return line.removeprefix(READY).strip()
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}:\n{output}")
        time.sleep(0.02)
    pytest.fail(f"the emulator was not ready within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """A fresh emulator per module (its store is scanned whole on every poll) on a free port."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("the end-to-end tests need Node.js (`node`): install nodejs and npm")
    if not (ROOT / "node_modules" / "telegram-test-api").is_dir():
        pytest.fail("telegram-test-api is not installed: run `make test` (or `npm ci`)")
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with log.open("wb") as out:
        # Port 0: the launcher lets the OS pick a free port and reports it (no race).
        process = subprocess.Popen(
            [node, str(LAUNCHER), "0"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
    try:
        yield EmulatorProcess(_wait_ready(process, log), log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _until_started(started: asyncio.Event, polling: asyncio.Task[None]) -> None:
    """Until the dispatcher's startup ran; polling's own error if it failed before that."""
    waiting = asyncio.ensure_future(started.wait())
    await asyncio.wait({waiting, polling}, timeout=START_TIMEOUT, return_when="FIRST_COMPLETED")
    if not waiting.done():
        waiting.cancel()
        if polling.done():
            polling.result()  # raises what stopped it
        raise TimeoutError(f"polling did not start within {START_TIMEOUT} s")


@dataclass
class Harness:
    """The running bot (polling + outbox worker) and the emulator's client side."""

    app: App
    bot: Bot
    dispatcher: Dispatcher
    api: Emulator
    worker: OutboxWorker
    _stop_worker: asyncio.Event = field(default_factory=asyncio.Event)
    _worker_task: asyncio.Task[None] | None = None

    def start_outbox_worker(self) -> None:
        """Run the outbox worker beside polling, as `trajectbot run` does."""
        if self._worker_task is None:
            self._worker_task = asyncio.create_task(self.worker.run(self._stop_worker))

    async def stop_outbox_worker(self) -> None:
        """Let the worker finish what it claimed and return (`trajectbot run` on shutdown)."""
        self._stop_worker.set()
        if self._worker_task is not None:
            await self._worker_task

    def person(self, user_id: int) -> SimulatedPerson:
        return self.api.person(user_id)

    async def invite(self, external_id: str, role: Role) -> str:
        """A fresh invite token for the demo school's person ``external_id``."""
        async with self.app.sessions() as session, session.begin():
            school = await find_school(session=session, code="demo")
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            assert person is not None
            return await create_invite(
                session=session, person=person, role=role, now=datetime.now(UTC)
            )

    async def onboard(self, user: SimulatedPerson, external_id: str, role: Role) -> None:
        """``/start <token>`` then English (the Dutch catalog is not complete yet)."""
        token = await self.invite(external_id, role)
        await user.send(f"/start {token}")
        await user.press_data(await user.last(), "lang:en")
        assert "What would you like to do?" in (await user.last()).text


@pytest.fixture
async def e2e(
    emulator: EmulatorProcess, engine: AsyncEngine, database_url: str
) -> AsyncIterator[Harness]:
    del engine  # migrated by the fixture; the app builds its own engine on the same URL
    token = f"{next(_bot_ids)}:e2e-{secrets.token_hex(8)}"
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr(token),
        telegram_api_base=emulator.url,
        flood_limit=1000,  # the simulated people tap faster than any person
    )
    async with build_app(settings) as app:
        async with app.sessions() as session:
            await unit(session, create_demo_data, if_empty=True)
        # As `create_bot` builds it (same API base), with the test-only smoothing session.
        assert settings.telegram_api_base is not None
        bot = Bot(token=token, session=EmulatorSession(settings.telegram_api_base))
        dispatcher = create_dispatcher(app)
        counter = UpdateCounter()
        # Outermost, so an update the product handles again (a lost SQLite lock, see
        # `services.kernel.uow.run_update_unit`) counts once, when it is really done.
        products = list(dispatcher.update.outer_middleware[:])
        for middleware in products:
            dispatcher.update.outer_middleware.unregister(middleware)
        dispatcher.update.outer_middleware(counter)
        for middleware in products:
            dispatcher.update.outer_middleware(middleware)
        started = asyncio.Event()
        dispatcher.startup.register(started.set)
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        worker = OutboxWorker(
            sender=TelegramSender(bot),
            sessions=app.sessions,
            catalogs=app.catalogs,
            poll_interval=0.05,  # the product's 2 s would only slow the tests down
        )
        try:
            await _until_started(started, polling)
            async with aiohttp.ClientSession() as http:
                api = Emulator(http, emulator.url, token, counter)
                harness = Harness(app, bot, dispatcher, api, worker)
                harness.start_outbox_worker()
                try:
                    yield harness
                finally:
                    await harness.stop_outbox_worker()
        finally:
            if not polling.done():
                await dispatcher.stop_polling()
            await polling
            await bot.session.close()
