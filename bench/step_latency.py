"""Latency of one dialog step under a steady load (issue 16): p50/p99 at 5, 20 and 40 steps/s.

1,000 simulated mentors (linked Telegram accounts, three demo mentees each) file referrals
through the full stack (dispatcher, middlewares, engine, database, rendering; the Bot API
answered in-process, see `bench.throughput`). Steps arrive open-loop at a fixed rate from
random mentors (a mentor with a step still in flight is skipped); each step's time is measured
from ``feed_raw_update`` until it returns.

    .venv/bin/python bench/step_latency.py [--seconds S] [--rates 5,20,40]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres] [--no-sqlite]

SQLite: a temporary file (WAL). PostgreSQL: a database created for the run on the given
server and dropped afterwards. Prints figures only (a benchmark, not a test).
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
import logging
import random
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from aiogram import Bot
from pydantic import SecretStr
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.throughput import (
    DEMO_STUDENTS,
    TELEGRAM_ID_BASE,
    TOKEN,
    FakeBotApi,
    MentorScript,
    TelegramUser,
    UpdateIds,
)
from bot.app import build_app
from bot.config import Settings
from bot.telegram.dispatcher import create_dispatcher
from services.accounts.importer import import_people
from services.accounts.schools import find_school
from services.demo.school import DEMO_SCHOOL_CODE, create_demo_data
from services.kernel.uow import run_unit_of_work
from storage.migrate import upgrade_database
from storage.models import Person, ProcessedUpdate

USERS = 1000


async def _populate(database_url: str) -> None:
    """The demo school plus ``USERS`` mentors, linked to Telegram and speaking English."""
    await upgrade_database(database_url)
    engine = create_async_engine(database_url)
    try:
        from storage.db import create_sessionmaker

        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            await run_unit_of_work(
                session, lambda unit: create_demo_data(session=unit, if_empty=False)
            )
        async with sessions() as session, session.begin():
            school = await find_school(session=session, code=DEMO_SCHOOL_CODE)
            rows = [
                {
                    "external_id": f"latency_mentor{n}",
                    "roles": "mentor",
                    "given_name": "Latency",
                    "family_name": f"Mentor {n}",
                    "language": "en",
                    "mentor_of": ";".join(DEMO_STUDENTS[(3 * n + k) % 15] for k in range(3)),
                }
                for n in range(USERS)
            ]
            await import_people(session=session, school_id=school.id, rows=rows)
            await session.execute(
                update(Person)
                .where(Person.external_id.like("latency_mentor%"))
                .values(
                    telegram_user_id=TELEGRAM_ID_BASE + Person.id,
                    telegram_chat_id=TELEGRAM_ID_BASE + Person.id,
                )
            )
    finally:
        await engine.dispose()


def _figures(rate: float, latencies: Sequence[float]) -> str:
    """One line: the rate, how many steps, p50, p99 and the slowest."""
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return (
        f"{rate:5.0f} steps/s  {len(ordered):5d} steps  p50 {pct(0.5):7.2f} ms"
        f"  p99 {pct(0.99):7.2f} ms  max {ordered[-1] * 1000:7.2f} ms"
    )


async def _measure(
    database_url: str, rates: Sequence[float], seconds: float, warmup: float
) -> list[str]:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr(TOKEN),
        flood_limit=1_000_000_000,
    )
    lines = []
    async with build_app(settings, log_level="WARNING") as app:
        async with app.sessions() as session:
            ids = list(
                await session.scalars(
                    select(Person.telegram_user_id).where(
                        Person.external_id.like("latency_mentor%")
                    )
                )
            )
            start_id = int(await session.scalar(select(func.max(ProcessedUpdate.update_id))) or 0)
        api = FakeBotApi()
        bot = Bot(TOKEN, session=api)
        dispatcher = create_dispatcher(app)
        update_ids = UpdateIds(start_id + 1)
        scripts = [
            MentorScript(TelegramUser(int(uid or 0), update_ids), api, random.Random(n))
            for n, uid in enumerate(ids)
        ]
        rng = random.Random(16)
        busy: set[int] = set()
        failures: Counter[str] = Counter()

        async def step(script: MentorScript, latencies: list[float]) -> None:
            data = script.next_update()
            started = time.perf_counter()
            try:
                await dispatcher.feed_raw_update(bot, data)
            except Exception as error:  # counted; the simulated person just tries again
                reason = str(error).splitlines()[0][:80] if str(error) else ""
                failures[f"{type(error).__name__}: {reason}"] += 1
                script.failed()
            latencies.append(time.perf_counter() - started)
            busy.discard(script.user.user_id)

        # Warm-up, not counted: the first mentors' opening message and a few seconds of steps
        # at the first rate, so every statement is compiled and the caches are filled (the
        # first second of a cold process is not what a running bot's steps cost).
        for script in scripts[:50]:
            await step(script, [])
        warm_until = time.perf_counter() + warmup
        while time.perf_counter() < warm_until:
            script = rng.choice(scripts)
            if script.user.user_id not in busy:
                busy.add(script.user.user_id)
                await step(script, [])
            await asyncio.sleep(1.0 / rates[0] if rates else 0.1)
        for rate in rates:
            latencies: list[float] = []
            tasks = []
            interval = 1.0 / rate
            began = time.perf_counter()
            n = 0
            while time.perf_counter() - began < seconds:
                due = began + n * interval
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                n += 1
                script = rng.choice(scripts)
                if script.user.user_id in busy:
                    continue
                busy.add(script.user.user_id)
                tasks.append(asyncio.create_task(step(script, latencies)))
            await asyncio.gather(*tasks)
            lines.append(_figures(rate, latencies))
        for reason, count in failures.most_common():
            lines.append(f"FAILED: {count} steps raised {reason}")
    return lines


async def _postgres_database(server_url: str) -> tuple[str, str]:
    name = f"tb_latency_{secrets.token_hex(4)}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=15.0, help="per rate and database")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of uncounted steps before measuring"
    )
    parser.add_argument("--rates", default="5,20,40", help="steps per second, comma-separated")
    parser.add_argument(
        "--postgres",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (a database is created per run); empty: skip",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    logging.getLogger("aiogram.event").setLevel(logging.CRITICAL)
    print(
        f"{USERS} simulated mentors; {args.seconds:.0f} s per rate; {datetime.now(UTC):%H:%M} UTC"
    )
    failed = False
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="trajectbot-latency-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'latency.db'}"
            await _populate(url)
            print("SQLite (temporary file, WAL)")
            for line in await _measure(url, rates, args.seconds, args.warmup):
                failed |= line.startswith("FAILED")
                print("  " + line)
    if args.postgres:
        name, url = await _postgres_database(args.postgres)
        try:
            await _populate(url)
            print(f"PostgreSQL ({make_url(args.postgres).host}, database {name})")
            for line in await _measure(url, rates, args.seconds, args.warmup):
                failed |= line.startswith("FAILED")
                print("  " + line)
        finally:
            await _drop_postgres_database(args.postgres, name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
