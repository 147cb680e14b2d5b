"""More than one worker on one PostgreSQL (issue 16): updates/s with 1, 2 and 4 processes, and
whether Telegram's limits and "handled once" still hold.

For each configuration a fresh database is made on the PostgreSQL server (``--server``,
default ``127.0.0.1:5432``, user postgres), migrated and filled with the demo school, invented
mentors (onboarded through the bot) and ``--notices`` outbox rows to invented people with a
chat. Then N worker processes start at the same moment, each one what `trajectbot webhook`
runs: the product's dispatcher (fed with `feed_raw_update`, the load balancer's share of the
updates) and the product's outbox worker with the shared rate, both against a fake Bot API in
the process. Each process:

* drives its share of the mentors through the referral flow for ``--seconds`` (the same
  scripted mentors as `bench/throughput.py`, ``--lanes`` updates in flight);
* is also fed, like every other process, the same ``--strangers`` updates (a redelivery
  reaching every worker): each must be handled by exactly one process;
* then (all processes from the same moment, after the updates) sends the outbox, recording
  the wall-clock time of every send.

Printed per configuration: updates/s (all processes: the mentors' updates and the strangers'
updates each process handled), the strangers' updates
handled more than once (duplicates, must be 0) and not at all, the outbox's most sends in any
one-second window (Telegram allows ~30), the smallest gap between two sends to one chat
(at least 1 s), and rows sent twice or not sent.

    .venv/bin/python bench/scale_out.py [--workers 1 2 4] [--seconds 6] [--notices 180]

Prints figures only; nothing is asserted. Bounded: about 25-30 s per configuration on a quiet
2-core machine (setup, the load, the outbox: at most 20 s), longer when it is busy.
"""

# ruff: noqa: E402, ASYNC110, ASYNC240 - the repository root goes on sys.path first; a bench
# polls files and processes

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from aiogram import Bot
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.throughput import (
    TOKEN,
    FakeBotApi,
    MentorScript,
    TelegramUser,
    UpdateIds,
    add_mentors,
    onboard,
)
from bot.app import build_app
from bot.config import Settings
from bot.outbox import OutgoingMessage
from bot.outbox.worker import OutboxWorker, SharedRate
from bot.telegram.dispatcher import create_dispatcher
from services.accounts.schools import find_school
from services.demo.school import DEMO_SCHOOL_CODE, create_demo_data
from services.kernel.uow import run_unit_of_work
from services.outbox.kinds import OutboxKind
from storage.migrate import upgrade_database
from storage.models import Outbox, OutboxStatus, Person, PersonRole, Role

MENTORS_PER_WORKER = 6
#: Telegram ids of the invented people who get the outbox rows (chat id = user id).
NOTICE_CHAT_BASE = 8_000_000
#: Telegram ids of the strangers whose updates every worker is fed.
STRANGER_BASE = 9_000_000
NOTICES_PER_PERSON = 3


# --- The parent: one database per configuration, N children, the figures. ---


async def _admin(server: str, *statements: str) -> None:
    connection = await asyncpg.connect(f"postgresql://postgres@{server}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _settings(url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        telegram_bot_token=SecretStr(TOKEN),
        flood_limit=1_000_000_000,
    )


async def prepare(url: str, mentors: int, notices: int) -> list[int]:
    """Migrate, fill the demo school, onboard ``mentors`` and queue ``notices`` rows;
    returns the mentors' Telegram ids."""
    await upgrade_database(url)
    async with build_app(_settings(url), log_level="WARNING") as app:
        await run_unit_of_work(
            app.sessions, lambda session: create_demo_data(session=session, if_empty=False)
        )
        people = await add_mentors(app, mentors)
        api = FakeBotApi()
        bot = Bot(TOKEN, session=api)
        scripts = await onboard(
            app=app,
            dispatcher=create_dispatcher(app),
            bot=bot,
            api=api,
            mentors=people,
            ids=UpdateIds(1),
        )

        async def queue(session: Any) -> None:
            school = await find_school(session=session, code=DEMO_SCHOOL_CODE)
            now = datetime.now(UTC)
            recipients = []
            for n in range(max(1, notices // NOTICES_PER_PERSON)):
                person = Person(
                    school_id=school.id,
                    external_id=f"bench_notice{n}",
                    given_name="Bench",
                    family_name=f"Reader {n}",
                    language="en",
                    telegram_user_id=NOTICE_CHAT_BASE + n,
                    telegram_chat_id=NOTICE_CHAT_BASE + n,
                    roles=[PersonRole(role=Role.PARENT)],
                )
                session.add(person)
                recipients.append(person)
            await session.flush()
            for n in range(notices):
                session.add(
                    Outbox(
                        school_id=school.id,
                        recipient_id=recipients[n % len(recipients)].id,
                        kind=OutboxKind.REFERRAL_NEW,
                        payload={"referral_id": n + 1, "queue_item_id": n + 1},
                        dedup_key=f"bench:{n}",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )

        await run_unit_of_work(app.sessions, queue)
        await bot.session.close()
        return [script.user.user_id for script in scripts]


@dataclass
class Outcome:
    workers: int
    updates: int
    seconds: float
    failures: Counter[str]
    strangers: int
    handled: Counter[int]
    sends: list[tuple[float, int, int]]
    notices: int
    left: int
    #: CPU seconds the worker processes and the PostgreSQL server used during the load.
    worker_cpu: float = 0.0
    database_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def run_configuration(args: argparse.Namespace, workers: int, workdir: Path) -> Outcome:
    name = f"tb_scale_{os.getpid()}_{workers}"
    url = f"postgresql+asyncpg://postgres@{args.server}/{name}"
    await _admin(args.server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    try:
        users = await prepare(url, MENTORS_PER_WORKER * workers, args.notices)
        go = workdir / f"go{workers}"
        children = []
        for number in range(workers):
            out = workdir / f"w{workers}_{number}.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                json.dumps(
                    {
                        "url": url,
                        "number": number,
                        "users": users[number::workers],
                        "go": str(go),
                        "seconds": args.seconds,
                        "lanes": args.lanes,
                        "strangers": args.strangers,
                        "out": str(out),
                    }
                ),
            ]
            children.append((subprocess.Popen(command), out))  # noqa: S603, ASYNC220
        # Every child imports, connects and warms up; then all start at the same moment.
        while not all(Path(f"{out}.ready").exists() for _, out in children):
            if any(process.poll() is not None for process, _ in children):
                raise RuntimeError("a worker process ended before it was ready")
            await asyncio.sleep(0.1)
        start_at = time.time() + 0.5
        go.write_text(str(start_at))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        database_before = _postgres_cpu()
        await asyncio.sleep(max(0.0, start_at + args.seconds - time.time()))
        database_cpu = _postgres_cpu() - database_before
        for process, _ in children:
            while process.poll() is None:
                await asyncio.sleep(0.2)
        results = [json.loads(out.read_text()) for _, out in children]
        left = await _left(url)
    finally:
        await _admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    handled: Counter[int] = Counter()
    for result in results:
        handled.update(result["strangers_handled"])
    return Outcome(
        workers=workers,
        updates=sum(result["updates"] + len(result["strangers_handled"]) for result in results),
        seconds=args.seconds,
        failures=sum((Counter(result["failures"]) for result in results), Counter()),
        strangers=args.strangers,
        handled=handled,
        sends=[tuple(send) for result in results for send in result["sends"]],
        notices=args.notices,
        left=left,
        worker_cpu=sum(result["cpu"] for result in results),
        database_cpu=database_cpu,
    )


def _postgres_cpu() -> float:
    """CPU seconds (user + system) of every PostgreSQL server process on this machine so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if name.startswith("postgres"):
            parts = fields[1].split()
            total += int(parts[11]) + int(parts[12])  # utime, stime (fields 14 and 15)
    return total / ticks


async def _left(url: str) -> int:
    async with build_app(_settings(url), log_level="WARNING") as app, app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(
                    Outbox.dedup_key.like("bench:%"),
                    Outbox.status != OutboxStatus.SENT,
                )
            )
            or 0
        )


def report(outcome: Outcome, baseline: float | None) -> None:
    sends = sorted(outcome.sends)
    times = [at for at, _, _ in sends]
    busiest = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat, _ in sends:
        per_chat[chat].append(at)
    gaps = [b - a for stamps in per_chat.values() for a, b in pairwise(sorted(stamps))]
    sent_twice = sum(count - 1 for count in Counter(i for _, _, i in sends).values() if count > 1)
    duplicates = sum(count - 1 for count in outcome.handled.values() if count > 1)
    missed = outcome.strangers - len(outcome.handled)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    speedup = f"  ({outcome.rate / baseline:.2f}x one worker)" if baseline else ""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    available = (os.cpu_count() or 1) * outcome.seconds
    busy = (outcome.worker_cpu + outcome.database_cpu) / available
    print(f"--- {outcome.workers} worker process(es)   (machine load average now: {load})")
    lines = [
        f"updates/s                : {outcome.rate:8.1f}   "
        f"({outcome.updates} in {outcome.seconds:.0f} s){speedup}",
        f"strangers' updates       : {outcome.strangers} fed to every worker; "
        f"duplicates {duplicates}, not handled {missed}",
        f"outbox sends             : {len(sends)} over {span:.1f} s "
        f"({len(sends) / span if span else 0:.1f}/s); rows sent twice {sent_twice}; "
        f"seeded rows not sent {outcome.left}",
        f"most sends in any 1 s    : {busiest} (limit 30)",
        f"smallest gap in one chat : {min(gaps):.3f} s (limit 1 s)"
        if gaps
        else "smallest gap in one chat : -",
        f"CPU during the load      : workers {outcome.worker_cpu:.1f} s + PostgreSQL "
        f"{outcome.database_cpu:.1f} s of {available:.0f} s ({os.cpu_count()} CPUs x "
        f"{outcome.seconds:.0f} s): {busy:.0%} busy; "
        f"{outcome.worker_cpu / max(1, outcome.updates) * 1000:.2f} ms worker + "
        f"{outcome.database_cpu / max(1, outcome.updates) * 1000:.2f} ms database per update",
    ]
    if outcome.failures:
        lines.insert(
            1,
            f"updates that raised      : {sum(outcome.failures.values())} "
            f"{dict(outcome.failures.most_common(3))}",
        )
    print("\n".join(lines))


# --- A child: one worker process (dispatcher + outbox worker), for a fixed time. ---


@dataclass
class RecordingSender:
    sends: list[tuple[float, int, int]]

    async def send(self, message: OutgoingMessage) -> None:
        self.sends.append((time.time(), message.chat_id or 0, message.outbox_id))


async def child(spec: dict[str, Any]) -> None:
    number = int(spec["number"])
    async with build_app(_settings(spec["url"]), log_level="ERROR") as app:
        api = FakeBotApi()
        bot = Bot(TOKEN, session=api)
        dispatcher = create_dispatcher(app)
        ids = UpdateIds(10_000_000 * (number + 1))
        scripts = [
            MentorScript(TelegramUser(user_id, ids), api, random.Random(user_id))
            for user_id in spec["users"]
        ]
        sends: list[tuple[float, int, int]] = []
        worker = OutboxWorker(
            sender=RecordingSender(sends),
            sessions=app.sessions,
            catalogs=app.catalogs,
            batch_size=30,
            poll_interval=0.2,
            start_pause=0.0,
            shared=SharedRate(),
        )
        # Warm the connection pool and the code paths before the clock starts.
        async with app.sessions() as session:
            await session.scalar(select(func.count()).select_from(Outbox))
        Path(f"{spec['out']}.ready").touch()
        go = Path(spec["go"])
        while not go.exists():
            await asyncio.sleep(0.02)
        start_at = float(go.read_text())
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = start_at + spec["seconds"]
        cpu_before = time.process_time()
        updates = 0
        failures: Counter[str] = Counter()
        handled: list[int] = []

        async def strangers() -> None:
            # Every worker gets the same updates (ids 1_000_000 + n): one of them handles each.
            for n in range(spec["strangers"]):
                user_id = STRANGER_BASE + n
                data = TelegramUser(user_id, UpdateIds(1_000_000 + n)).text("hello")
                await dispatcher.feed_raw_update(bot, data)
                if api.last(user_id) is not None:
                    handled.append(n)

        async def lane(mine: Sequence[MentorScript]) -> None:
            nonlocal updates
            while time.time() < deadline:
                for script in mine:
                    if time.time() >= deadline:
                        return
                    try:
                        await dispatcher.feed_raw_update(bot, script.next_update())
                    except Exception as error:
                        failures[type(error).__name__] += 1
                        script.failed()
                    updates += 1

        lanes = [scripts[i :: spec["lanes"]] for i in range(spec["lanes"])]
        await asyncio.gather(strangers(), *(lane(mine) for mine in lanes if mine))
        cpu = time.process_time() - cpu_before
        # Then the outbox, every worker from the same moment, until the seeded rows are out
        # (or 20 s at most).
        await asyncio.sleep(max(0.0, deadline + 1.0 - time.time()))
        await _send_outbox(app, worker)
        await bot.session.close()
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "updates": updates,
                "failures": failures,
                "strangers_handled": handled,
                "sends": sends,
                "cpu": cpu,
            }
        )
    )


async def _send_outbox(app: Any, worker: OutboxWorker) -> None:
    """Run the outbox worker until the seeded rows are out (20 s at most)."""
    stop = asyncio.Event()
    outbox = asyncio.create_task(worker.run(stop))
    until = time.time() + 20.0
    while time.time() < until and await _seeded_left(app) > 0:
        await asyncio.sleep(0.5)
    stop.set()
    await outbox


async def _seeded_left(app: Any) -> int:
    async with app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(
                    Outbox.dedup_key.like("bench:%"),
                    Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                )
            )
            or 0
        )


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=6.0, help="load per configuration")
    parser.add_argument("--lanes", type=int, default=4, help="updates in flight per process")
    parser.add_argument("--strangers", type=int, default=100)
    parser.add_argument("--notices", type=int, default=180)
    parser.add_argument("--server", default="127.0.0.1:5432")
    args = parser.parse_args(argv)
    if args.child:
        await child(json.loads(args.child))
        return 0
    print(
        f"PostgreSQL at {args.server}; {MENTORS_PER_WORKER} mentors and {args.lanes} updates "
        f"in flight per worker process; {os.cpu_count()} CPUs (shared with the database)"
    )
    baseline = None
    with tempfile.TemporaryDirectory() as workdir:
        for workers in args.workers:
            outcome = await run_configuration(args, workers, Path(workdir))
            report(outcome, baseline)
            if workers == 1:
                baseline = outcome.rate
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
