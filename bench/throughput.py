"""Updates per second: the full Telegram stack against a bare aiogram echo handler (issue 3).

Full stack: update → dispatcher + middlewares (idempotency claim, identity, throttling) →
handler → dialog engine → database commit → reply rendered and "sent". Several onboarded
mentors type through the verwijzing (button presses read from what the bot showed them, typed
answers), each starting a new referral when one is sent. The echo baseline is one
``@router.message()`` handler answering the text, fed as many updates through the same kind
of fake Bot API session. No network: the session answers Bot API calls in-process.

    .venv/bin/python bench/throughput.py [--updates N] [--database-url URL] [--mentors M]
                                         [--concurrency C]

Prints figures only; speed targets are never asserted (this is a benchmark, not a test).
"""

# ruff: noqa: E402 - the repository root goes on sys.path before the project is imported

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import gc
import itertools
import logging
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message, User
from pydantic import SecretStr
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.telegram.callbacks import FlowCallback, MenuCallback
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.handlers.menu import OPEN_FLOW
from bot.telegram.middlewares import commit_before_sending
from dialogs.events import Action
from services.accounts.importer import import_people
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.conversations.updates import claim_update
from services.demo.school import DEMO_SCHOOL_CODE, create_demo_data
from services.kernel.uow import run_unit_of_work, run_update_unit, update_cache
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_database
from storage.models import Person, ProcessedUpdate, Referral, Role

BOT_USER = User(id=42, is_bot=True, first_name="Trajectbot", username="trajectbot_bench_bot")
TOKEN = "42:BENCH"  # noqa: S105 - a fake bot token; nothing leaves the process
FLOW = "verwijzing"
DEMO_STUDENTS = tuple(f"lln{i:02d}" for i in range(1, 16))
#: Telegram user ids of the simulated people start here (plus the person's database id).
TELEGRAM_ID_BASE = 7_000_000
ANSWERS = (
    "She wants to feel less anxious in class.",
    "How can I help him take part without pressure?",
    "Two talks with the mentor and a seat near the door.",
    "A fixed routine for homework, with short breaks.",
    "Clear instructions one step at a time.",
    "I am calling them on Thursday after the parents' evening.",
)


# --- A fake Bot API: answers like Telegram, keeps only what the simulated people look at. ---


@dataclass
class Shown:
    """One bot message as the chat shows it now (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None

    def buttons(self) -> list[str]:
        """Callback data of every button, row by row."""
        if self.markup is None:
            return []
        return [b.callback_data or "" for row in self.markup.inline_keyboard for b in row]


class FakeBotApi(BaseSession):
    """In-process Bot API: every call is answered at once; the last message per chat is kept."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        #: Seconds each call waits before it is answered (a network's round trip).
        self.latency = latency
        self.calls = 0
        self._messages: dict[int, Shown] = {}
        self._last: dict[int, int] = {}
        self._ids = itertools.count(1)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        self.calls += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        result: Any
        if isinstance(method, SendMessage):
            markup = method.reply_markup
            shown = Shown(
                next(self._ids),
                int(method.chat_id),
                method.text,
                markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )
            self._messages[shown.message_id] = shown
            self._last[shown.chat_id] = shown.message_id
            result = self._message(shown)
        elif isinstance(method, EditMessageText):
            shown = self._messages[int(method.message_id or 0)]
            shown.text = method.text or ""
            shown.markup = method.reply_markup
            result = self._message(shown)
        elif isinstance(method, EditMessageReplyMarkup):
            shown = self._messages[int(method.message_id or 0)]
            shown.markup = method.reply_markup
            result = self._message(shown)
        elif isinstance(method, AnswerCallbackQuery):
            result = True
        elif isinstance(method, GetMe):
            result = BOT_USER
        else:
            raise TypeError(f"unexpected Bot API call {type(method).__name__}")
        return result  # type: ignore[no-any-return]

    def _message(self, shown: Shown) -> Message:
        return Message(
            message_id=shown.message_id,
            date=datetime.now(UTC),
            chat=Chat(id=shown.chat_id, type="private"),
            text=shown.text,
            reply_markup=shown.markup,
            from_user=BOT_USER,
        )

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        for _ in ():  # nothing is ever downloaded
            yield b""

    async def close(self) -> None:
        return None

    def last(self, chat_id: int) -> Shown | None:
        """The newest bot message in this private chat."""
        message_id = self._last.get(chat_id)
        return None if message_id is None else self._messages[message_id]


# --- Simulated Telegram users. ---


class UpdateIds:
    """Update and message ids, unique within a run (and above any already handled)."""

    def __init__(self, start: int = 1) -> None:
        self._next = itertools.count(start)

    def __call__(self) -> int:
        return next(self._next)


@dataclass
class TelegramUser:
    """Produces the raw updates one person's Telegram client would send."""

    user_id: int
    ids: UpdateIds
    language_code: str = "en"

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": "Bench",
            "language_code": self.language_code,
        }

    def text(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.ids(),
            "date": 1_700_000_000,
            "chat": {"id": self.user_id, "type": "private"},
            "from": self._user(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self.ids(), "message": message}

    def press(self, shown: Shown, data: str) -> dict[str, Any]:
        return {
            "update_id": self.ids(),
            "callback_query": {
                "id": str(self.ids()),
                "from": self._user(),
                "chat_instance": "bench",
                "data": data,
                "message": {
                    "message_id": shown.message_id,
                    "date": 1_700_000_000,
                    "chat": {"id": self.user_id, "type": "private"},
                    "text": shown.text,
                    "from": BOT_USER.model_dump(),
                },
            },
        }


class UpdateSource(Protocol):
    """One simulated person: the next update they send, and news that the last one failed."""

    def next_update(self) -> dict[str, Any]: ...

    def failed(self) -> None: ...


@dataclass
class EchoSource:
    """Someone typing sentences (the echo baseline)."""

    user: TelegramUser
    rng: random.Random

    def next_update(self) -> dict[str, Any]:
        return self.user.text(self.rng.choice(ANSWERS))

    def failed(self) -> None:
        return None


@dataclass
class MentorScript:
    """A mentor who keeps filing referrals, answering whatever the bot shows last.

    Decisions come from the buttons' callback data (never their labels), so the script does not
    depend on the language or on wording: a question with a "Done" button is a multiple choice,
    one with options a single choice, one without options wants typed text (or a skip).
    """

    user: TelegramUser
    api: FakeBotApi
    rng: random.Random
    submitted: int = 0
    _ticks: dict[int, int] = field(default_factory=dict)
    _paged: set[int] = field(default_factory=set)
    _seen: tuple[int, str] | None = None
    _same: int = 0
    _last_tick: int | None = None

    def next_update(self) -> dict[str, Any]:
        shown = self.api.last(self.user.user_id)
        if shown is None:
            return self.user.text("Hallo")
        self._guard_progress(shown)
        self._last_tick = None
        flow_buttons: list[tuple[str, str, str]] = []  # (action, value, data)
        for data in shown.buttons():
            if data.startswith(f"{FlowCallback.__prefix__}:"):
                callback = FlowCallback.unpack(data)
                flow_buttons.append((callback.action, callback.value, data))
            elif data.startswith(f"{MenuCallback.__prefix__}:"):
                menu = MenuCallback.unpack(data)
                if menu.action == OPEN_FLOW and menu.value == FLOW:
                    return self.user.press(shown, data)
        if not flow_buttons:
            # The referral was sent (or a notice): typing anything brings the menu back.
            return self.user.text("Hallo")
        by_action: dict[str, list[tuple[str, str]]] = {}
        for action, value, data in flow_buttons:
            by_action.setdefault(action, []).append((value, data))
        if Action.CONFIRM.value in by_action:
            self.submitted += 1
            return self.user.press(shown, by_action[Action.CONFIRM.value][0][1])
        choices = by_action.get(Action.CHOOSE.value, [])
        if choices and Action.DONE.value in by_action:
            ticked = self._ticks.get(shown.message_id, 0)
            wanted = 1 + (shown.message_id % 2)  # one or two options, then "Done"
            if ticked < min(wanted, len(choices)):
                self._ticks[shown.message_id] = ticked + 1
                self._last_tick = shown.message_id
                return self.user.press(shown, choices[ticked][1])
            return self.user.press(shown, by_action[Action.DONE.value][0][1])
        if choices:
            pages = by_action.get(Action.PAGE.value)
            if pages and shown.message_id not in self._paged and self.rng.random() < 0.3:
                self._paged.add(shown.message_id)  # look at the next page of students first
                return self.user.press(shown, pages[0][1])
            return self.user.press(shown, self.rng.choice(choices)[1])
        if Action.SKIP.value in by_action and self.rng.random() < 0.5:
            return self.user.press(shown, by_action[Action.SKIP.value][0][1])
        return self.user.text(self.rng.choice(ANSWERS))

    def failed(self) -> None:
        """The last update raised: seeing the same question again is expected."""
        self._same = 0
        if self._last_tick is not None:  # that tick did not happen
            self._ticks[self._last_tick] -= 1

    def _guard_progress(self, shown: Shown) -> None:
        """Fail loudly instead of looping when the bot keeps showing the very same thing."""
        seen = (shown.message_id, shown.text)
        self._same = self._same + 1 if seen == self._seen else 0
        self._seen = seen
        if self._same > 12:
            raise RuntimeError(f"the script is stuck at {shown.text!r} {shown.buttons()}")


# --- Measuring. ---


@dataclass(frozen=True)
class Figures:
    updates: int
    seconds: float
    latencies: Sequence[float]
    #: Updates whose handling raised, by exception type and first line of its message.
    failures: Counter[str] = field(default_factory=Counter)
    #: CPU time of this process while driving (less sensitive to a busy machine than rate).
    cpu_seconds: float = 0.0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.updates + other.updates,
            self.seconds + other.seconds,
            [*self.latencies, *other.latencies],
            self.failures + other.failures,
            self.cpu_seconds + other.cpu_seconds,
        )

    @property
    def cpu_ms_per_update(self) -> float:
        return self.cpu_seconds / self.updates * 1000

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
        return ordered[index] * 1000


async def drive(
    feed: Callable[[dict[str, Any]], Awaitable[Any]],
    lanes: Sequence[Sequence[UpdateSource]],
    total: int,
) -> Figures:
    """Feed ``total`` updates; each lane takes turns among its sources, lanes run concurrently."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    remaining = total
    # What the simulated people do (reading the last message, unpacking its buttons, choosing)
    # is their work, not the bot's: left out of the time and the CPU on both sides.
    people_seconds = people_cpu = 0.0

    async def lane(sources: Sequence[UpdateSource]) -> None:
        nonlocal remaining, people_seconds, people_cpu
        for source in itertools.cycle(sources):
            if remaining <= 0:
                return
            remaining -= 1
            wall, cpu = time.perf_counter(), time.process_time()
            data = source.next_update()
            people_seconds += time.perf_counter() - wall
            people_cpu += time.process_time() - cpu
            started = time.perf_counter()
            try:
                await feed(data)
            except Exception as error:  # counted and reported; the person just tries again
                reason = str(error).splitlines()[0] if str(error) else ""
                failures[f"{type(error).__name__}: {reason[:100]}"] += 1
                source.failed()
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane(sources) for sources in lanes if sources))
    return Figures(
        total,
        time.perf_counter() - started - people_seconds,
        latencies,
        failures,
        time.process_time() - cpu - people_cpu,
    )


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    return [list(items[i::parts]) for i in range(parts)]


Runner = Callable[[int], Awaitable[Figures]]


async def bench_echo(concurrency: int, users: int) -> Runner:
    """A runner that feeds N updates to the bare echo dispatcher (warmed up)."""
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(TOKEN, session=FakeBotApi())
    ids = UpdateIds()
    people = [TelegramUser(TELEGRAM_ID_BASE + n, ids) for n in range(users)]
    rng = random.Random(7)

    async def feed(data: dict[str, Any]) -> None:
        await dispatcher.feed_raw_update(bot, data)

    sources = [EchoSource(person, rng) for person in people]
    await drive(feed, [sources], 200)  # warm-up, not counted
    gc.freeze()  # the same for both sides

    async def run(updates: int) -> Figures:
        return await drive(feed, split(sources, concurrency), updates)

    return run


@asynccontextmanager
async def bench_skeleton(concurrency: int, users: int, database_url: str) -> AsyncIterator[Runner]:
    """The echo plus what every update of the full stack does before any product logic: one
    unit of work (`run_update_unit`: a session, a deferred transaction, the cache versions read,
    the update's claim written and committed before the reply leaves). How far the frameworks
    alone (aiogram, SQLAlchemy's async session) are from the bare echo."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await update_cache()  # the versions, as the identity middleware reads them
        await message.answer(message.text or "")

    dispatcher = Dispatcher()

    async def one_unit(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        update_id = event.update_id
        return await run_update_unit(
            sessions,
            lambda: handler(event, data),
            claim=lambda session: claim_update(
                session=session, update_id=update_id, savepoint=False
            ),
        )

    dispatcher.update.outer_middleware(one_unit)
    dispatcher.include_router(router)
    bot = Bot(TOKEN, session=FakeBotApi())
    commit_before_sending(bot)
    # Below every id the full stack uses on the same database (it counts up from the highest).
    async with sessions() as session:
        lowest = int(await session.scalar(select(func.min(ProcessedUpdate.update_id))) or 0)
    ids = UpdateIds(min(lowest, 0) - 2_000_000_000)
    people = [TelegramUser(TELEGRAM_ID_BASE + n, ids) for n in range(users)]
    rng = random.Random(7)

    async def feed(data: dict[str, Any]) -> None:
        await dispatcher.feed_raw_update(bot, data)

    sources = [EchoSource(person, rng) for person in people]
    await drive(feed, [sources], 200)  # warm-up, not counted

    async def run(updates: int) -> Figures:
        return await drive(feed, split(sources, concurrency), updates)

    try:
        yield run
    finally:
        await engine.dispose()


@dataclass
class Counters:
    commits: int = 0
    statements: int = 0

    def on_commit(self, *_: Any) -> None:
        self.commits += 1

    def on_statement(self, *_: Any) -> None:
        self.statements += 1

    @asynccontextmanager
    async def watching(self, engine: AsyncEngine) -> AsyncIterator[None]:
        """Count while open. Not while the time is measured: a listener on every statement
        costs SQLAlchemy's event dispatch (and the call) on each, which production does not pay."""
        sync = engine.sync_engine
        event.listen(sync, "commit", self.on_commit)
        event.listen(sync, "before_cursor_execute", self.on_statement)
        try:
            yield
        finally:
            event.remove(sync, "commit", self.on_commit)
            event.remove(sync, "before_cursor_execute", self.on_statement)


class RedoneUpdates(logging.Handler):
    """Counts updates done again from the start (SQLite: a snapshot gone stale, the lock lost:
    `services.kernel.uow.run_update_unit` logs each at INFO)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "update handled again" in record.getMessage():
            self.count += 1


async def add_mentors(app: App, count: int) -> list[Person]:
    """The demo school's mentors, plus invented ones (three demo students each) up to ``count``."""
    async with app.sessions() as session, session.begin():
        school = await find_school(session=session, code=DEMO_SCHOOL_CODE)
        extra = [
            {
                "external_id": f"bench_mentor{n}",
                "roles": "mentor;teacher",
                "given_name": "Bench",
                "family_name": f"Mentor {n}",
                "language": "en",
                "mentor_of": ";".join(DEMO_STUDENTS[(3 * n + k) % 15] for k in range(3)),
            }
            for n in range(1, max(0, count - 2) + 1)
        ]
        if extra:
            await import_people(session=session, school_id=school.id, rows=extra)
        names = ["mentor1", "mentor2", *(row["external_id"] for row in extra)][:count]
        mentors = []
        for name in names:
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=name
            )
            if person is None:
                raise RuntimeError(f"no demo person {name}")
            mentors.append(person)
        return mentors


async def onboard(
    *,
    app: App,
    dispatcher: Dispatcher,
    bot: Bot,
    api: FakeBotApi,
    mentors: Sequence[Person],
    ids: UpdateIds,
) -> list[MentorScript]:
    """Link each mentor's Telegram account with an invite (``/start <token>``), pick English."""
    scripts = []
    for number, person in enumerate(mentors):
        user = TelegramUser(person.telegram_user_id or TELEGRAM_ID_BASE + person.id, ids)
        script = MentorScript(user, api, random.Random(number))
        if person.telegram_user_id is None:
            async with app.sessions() as session, session.begin():
                token = await create_invite(
                    session=session, person=person, role=Role.MENTOR, now=datetime.now(UTC)
                )
            await dispatcher.feed_raw_update(bot, user.text(f"/start {token}"))
            screen = api.last(user.user_id)
            if screen is None:
                raise RuntimeError("no language screen after /start")
            await dispatcher.feed_raw_update(bot, user.press(screen, "lang:en"))
        else:  # linked in an earlier run on this database: leave any unfinished referral
            await dispatcher.feed_raw_update(bot, user.text("/stop"))
        scripts.append(script)
    return scripts


async def count_referrals(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


@asynccontextmanager
async def bench_full_stack(
    database_url: str, mentor_count: int, concurrency: int, latency: float = 0.0
) -> AsyncIterator[tuple[Runner, Callable[[], Awaitable[dict[str, float]]]]]:
    """A runner for the full stack, and what it did per update so far (statements, ...)."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr(TOKEN),
        # The flood control still runs on every update; it just never drops one here.
        flood_limit=1_000_000_000,
    )
    async with build_app(settings, log_level="WARNING") as app:
        async with app.sessions() as session:
            await run_unit_of_work(
                session, lambda unit: create_demo_data(session=unit, if_empty=False)
            )
            start_id = max(
                0, int(await session.scalar(select(func.max(ProcessedUpdate.update_id))) or 0)
            )
        mentors = await add_mentors(app, mentor_count)
        api = FakeBotApi(latency)
        bot = Bot(TOKEN, session=api)
        dispatcher = create_dispatcher(app)
        ids = UpdateIds(start_id + 1)
        scripts = await onboard(
            app=app, dispatcher=dispatcher, bot=bot, api=api, mentors=mentors, ids=ids
        )
        referrals_before = await count_referrals(app)

        async def feed(data: dict[str, Any]) -> None:
            await dispatcher.feed_raw_update(bot, data)

        await drive(feed, [scripts], 100)  # warm-up (caches, compiled statements), not counted
        gc.freeze()  # as `trajectbot run` does once started (bot/runner.py)
        counters = Counters()
        counted_updates = 0
        redone = RedoneUpdates()
        uow_log = logging.getLogger("services.kernel.uow")
        # Counted and printed at the end, not one line each.
        uow_log.setLevel(logging.INFO)
        uow_log.propagate = False
        uow_log.addHandler(redone)
        calls_before = api.calls
        fed = 0

        async def run(updates: int) -> Figures:
            nonlocal fed
            fed += updates
            return await drive(feed, split(scripts, concurrency), updates)

        async def extra() -> dict[str, float]:
            nonlocal counted_updates
            # Statements and commits per update: counted on a pass of their own, after the
            # timed rounds (the same scripts going on), so the listeners cost no measured time.
            calls = api.calls
            counted_updates = max(100, min(fed, 1_000))
            async with counters.watching(app.engine):
                await drive(feed, [scripts], counted_updates)
            counted_calls = api.calls - calls
            referrals = await count_referrals(app) - referrals_before
            confirmed = sum(script.submitted for script in scripts)
            per = max(1, fed)
            return {
                "mentors": len(scripts),
                "referrals": referrals,
                "confirmed": confirmed,
                "commits": counters.commits / counted_updates,
                "statements": counters.statements / counted_updates,
                "api_calls": (api.calls - calls_before - counted_calls) / per,
                "redone": redone.count,
            }

        yield run, extra


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=2000, help="updates per measurement")
    parser.add_argument(
        "--database-url",
        default=None,
        help="database for the full stack (default: a temporary SQLite file, WAL)",
    )
    parser.add_argument("--mentors", type=int, default=6, help="simulated mentors (at least 1)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="updates in flight at once (1: one after another, like a single worker)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="interleaved echo/full-stack rounds")
    parser.add_argument(
        "--api-latency",
        type=float,
        default=0.0,
        help="ms each Bot API call of the full stack waits (a network; default 0: none)",
    )
    args = parser.parse_args(argv)
    updates, mentors = max(1, args.updates), max(1, args.mentors)
    concurrency = max(1, min(args.concurrency, mentors))

    # A failed update is counted and summarised below, not logged with a traceback each.
    logging.getLogger("aiogram.event").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="trajectbot-bench-") as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_database(database_url)
        run_echo = await bench_echo(concurrency, mentors)
        latency = max(0.0, args.api_latency) / 1000
        async with (
            bench_skeleton(concurrency, mentors, database_url) as run_skeleton,
            bench_full_stack(database_url, mentors, concurrency, latency) as (run_full, counted),
        ):
            # Interleaved rounds, so a machine that gets busier or calmer affects both alike.
            rounds = max(1, min(args.rounds, updates))
            echo = skeleton = full = Figures(0, 0.0, [])
            for n in range(rounds):
                share = updates // rounds + (1 if n < updates % rounds else 0)
                echo = echo + await run_echo(share)
                skeleton = skeleton + await run_skeleton(share)
                full = full + await run_full(share)
            extra = await counted()

    shown_url = args.database_url or "temporary SQLite file (WAL, synchronous=NORMAL)"
    print(f"database: {shown_url}; concurrency {concurrency}; Python {sys.version.split()[0]}")
    print(
        f"workload: {extra['mentors']:.0f} mentors filing referrals, "
        f"{extra['referrals']:.0f} referrals stored ({extra['confirmed']:.0f} confirmed); "
        f"per update {extra['commits']:.1f} commits, {extra['statements']:.1f} SQL statements, "
        f"{extra['api_calls']:.1f} Bot API calls; {extra['redone']:.0f} updates done again"
        + (f"; Bot API calls wait {args.api_latency:g} ms" if args.api_latency else "")
    )
    for name, figures in (("echo", echo), ("skeleton", skeleton), ("full stack", full)):
        print(
            f"{name:<10}  {figures.updates:>6} updates  {figures.rate:>7.0f} updates/s"
            f"  p50 {figures.percentile_ms(0.50):6.2f} ms"
            f"  p99 {figures.percentile_ms(0.99):6.2f} ms"
            f"  mean {statistics.fmean(figures.latencies) * 1000:6.2f} ms"
            f"  CPU {figures.cpu_ms_per_update:6.3f} ms/update"
        )
    print(
        f"ratio full/echo = {full.rate / echo.rate:.4f}"
        f"  (the echo handles {echo.rate / full.rate:.0f}x as many updates per second)"
    )
    print(
        f"ratio skeleton/echo = {skeleton.rate / echo.rate:.4f}  (the frameworks' floor: aiogram"
        " and one SQLAlchemy unit of work per update, no product logic)"
    )
    print(
        f"CPU per update: full stack {full.cpu_ms_per_update:.2f} ms, echo "
        f"{echo.cpu_ms_per_update:.3f} ms; CPU ratio echo/full = "
        f"{echo.cpu_ms_per_update / full.cpu_ms_per_update:.4f}"
    )
    failed = 0
    for name, figures in (("echo", echo), ("skeleton", skeleton), ("full stack", full)):
        for reason, count in figures.failures.most_common():
            failed += count
            print(f"FAILED {name}: {count} updates raised {reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
