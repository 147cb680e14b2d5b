"""The kill -9 and fault-injection proof of the outbox (issue 13), shared by
`bench/outbox_kill.py` (2,400 sends, 20 kills, figures printed) and
`tests/bot/test_outbox_kill.py` (300 sends, 5 kills, bounds asserted).

A fake Bot API (aiohttp, on 127.0.0.1, a free port) records every ``sendMessage`` it accepts,
by the queue item id in the message's button (one per outbox row), and when it arrived; with a
fault rate it answers that share of requests with 429 (``retry_after`` 1), 500, or a timeout
in equal thirds. A timeout is the worst case for duplicates: the message **was delivered**
and the answer never comes in time ("Telegram may have delivered it"). A real worker process
(`tests.support.outbox_runner`: the product's worker, `TelegramSender`, Telegram's pacing) is
killed with SIGKILL at spread-out points and started again until every row is settled.

Rows are of a kind resent after an uncertain attempt (``timeout.requested``) or of one that is
held (``survey.completed``), spread evenly at ``resend_share``: `Figures` counts each class
apart. The bounded test uses half and half (both classes stressed); the bench uses the share of
resent kinds in a school's real traffic (`SCHOOL_MIX`), so its duplicate figure is the one a
school would see under the same faults.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.outbox.kinds import OutboxKind, resend_when_uncertain
from storage.db import create_engine, create_sessionmaker
from storage.models import Outbox, OutboxStatus, Person, PersonRole, Role, School

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "4242:OUTBOX-PROOF"
CHAT_BASE = 910_000
RESEND_KIND = OutboxKind.TIMEOUT_REQUESTED
HELD_KIND = OutboxKind.SURVEY_COMPLETED

#: The notices of one trajectory, by kind (from the lifecycle journey: two care coordinators,
#: a mentor, a student with two parents, one of them by e-mail; an intake and six support
#: meetings with two recipients each, one of them moved; three time-outs, one outside the plan;
#: four exit questionnaires, three answered). What a school sends in a year is this times its
#: trajectories, plus nothing else of note, so the share of resent kinds carries over.
SCHOOL_MIX: dict[OutboxKind, int] = {
    OutboxKind.REFERRAL_NEW: 2,
    OutboxKind.REFERRAL_ACCEPTED: 1,
    OutboxKind.REFERRAL_ACCEPTED_PARENT: 2,
    OutboxKind.PERSON_INVITATION: 1,
    OutboxKind.APPOINTMENT_MENTOR_CONFIRM: 1,
    OutboxKind.APPOINTMENT_CALENDAR: 16,
    OutboxKind.APPOINTMENT_REMINDER: 28,
    OutboxKind.APPOINTMENT_CANCELLED: 1,
    OutboxKind.TIMEOUT_TEACHER: 3,
    OutboxKind.TIMEOUT_REQUESTED: 2,
    OutboxKind.TIMEOUT_DECIDED: 1,
    OutboxKind.INTAKE_REPORT: 4,
    OutboxKind.SURVEY_INVITE: 4,
    OutboxKind.SURVEY_REMINDER: 6,
    OutboxKind.SURVEY_COMPLETED: 6,
}


def school_resend_share() -> float:
    """The share of a school's notices whose kind is resent after an uncertain attempt."""
    resent = sum(n for kind, n in SCHOOL_MIX.items() if resend_when_uncertain(kind))
    return resent / sum(SCHOOL_MIX.values())


SETTLED = (
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.UNCERTAIN,
    OutboxStatus.UNREACHABLE,
    OutboxStatus.CANCELLED,
)


@dataclass
class FakeTelegram:
    """A Bot API that delivers, refuses (429/500) or delivers without answering in time."""

    fault_rate: float = 0.0
    hang: float = 3.0
    seed: int = 13
    delivered: Counter[int] = field(default_factory=Counter)
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    timed_out: Counter[int] = field(default_factory=Counter)
    _runner: web.AppRunner | None = None
    _rng: random.Random = field(init=False)
    _ids: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def start(self) -> str:
        """Serve on a free port; returns the base URL for ``TELEGRAM_API_BASE``."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        data = await request.post()
        if method != "sendmessage":
            return _ok(True)
        chat_id = int(str(data["chat_id"]))
        markup = json.loads(str(data.get("reply_markup") or "{}"))
        [[button]] = markup["inline_keyboard"]
        item = int(button["callback_data"].rsplit(":", 1)[1])
        self.arrivals.append((time.monotonic(), chat_id))
        roll = self._rng.random()
        third = self.fault_rate / 3
        if roll < third:
            self.faults["429"] += 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if roll < 2 * third:
            self.faults["500"] += 1
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                status=500,
            )
        self.delivered[item] += 1
        if roll < self.fault_rate:
            self.faults["timeout"] += 1
            self.timed_out[item] += 1
            await asyncio.sleep(self.hang)  # delivered; the answer comes too late
        self._ids += 1
        return _ok(
            {
                "message_id": self._ids,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": str(data.get("text", "")),
            }
        )


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


async def seed_rows(
    url: str, *, sends: int, chats: int, resend_share: float = 0.5
) -> dict[int, str]:
    """``sends`` due rows to ``chats`` people, ``resend_share`` of them of a resent kind,
    spread evenly; returns queue item id → kind."""
    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            school = School(code="proof", name="Outbox proof school")
            session.add(school)
            await session.flush()
            people = []
            for n in range(chats):
                person = Person(
                    school_id=school.id,
                    external_id=f"proof-{n}",
                    given_name="Proef",
                    family_name=f"Persoon-{n}",
                    language="en",
                    roles=[PersonRole(role=Role.CARE_COORDINATOR)],
                )
                session.add(person)
                people.append(person)
            await session.flush()
            for person in people:
                person.telegram_user_id = CHAT_BASE + person.id
                person.telegram_chat_id = CHAT_BASE + person.id
            now = datetime.now(UTC)
            kinds: dict[int, str] = {}
            for n in range(sends):
                item = n + 1
                resent = int((n + 1) * resend_share) > int(n * resend_share)
                kind = RESEND_KIND if resent else HELD_KIND
                kinds[item] = kind
                session.add(
                    Outbox(
                        school_id=school.id,
                        recipient_id=people[n % chats].id,
                        kind=kind,
                        payload={"referral_id": item, "queue_item_id": item},
                        dedup_key=f"proof:{item}",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        return kinds
    finally:
        await engine.dispose()


async def _open_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.status.not_in(SETTLED))
            )
            or 0
        )


async def _statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(select(Outbox.payload, Outbox.status))
        return {int(payload["queue_item_id"]): str(status) for payload, status in rows}


def _start_worker(
    url: str, api: str, *, lease: float, send_timeout: float, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api,
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.outbox_runner", str(lease), str(send_timeout)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Figures:
    """What the fake server saw, per class of kind (``resend`` / ``held`` when uncertain)."""

    sends: int
    kills: int
    faults: Counter[str]
    once: Counter[str]
    twice: Counter[str]
    more: Counter[str]
    never: Counter[str]
    never_not_flagged: int
    never_flagged: Counter[str]
    statuses: Counter[str]
    busiest_second: int
    closest_in_chat: float
    seconds: float

    @property
    def duplicates(self) -> int:
        return sum(self.twice.values()) + sum(self.more.values())

    @property
    def resend_duplicate_rate(self) -> float:
        """Duplicates among the rows of the resent kind (the only class that may duplicate)."""
        rows = sum(c["resend"] for c in (self.once, self.twice, self.more, self.never))
        return (self.twice["resend"] + self.more["resend"]) / rows if rows else 0.0

    @property
    def lost(self) -> int:
        return sum(self.never.values())

    def lines(self) -> list[str]:
        def per(counter: Counter[str]) -> str:
            return f"{sum(counter.values())} (resend {counter['resend']}, held {counter['held']})"

        return [
            f"sends: {self.sends}, kills: {self.kills}, faults: {dict(self.faults)}, "
            f"{self.seconds:.1f} s",
            f"delivered once: {per(self.once)}",
            f"delivered twice: {per(self.twice)}; more: {per(self.more)}; duplicates "
            f"{100 * self.duplicates / self.sends:.2f} % of all sends, "
            f"{self.resend_duplicate_rate:.2%} of the resent kind's",
            f"never delivered: {per(self.never)}; of these flagged `uncertain` for an operator: "
            f"{per(self.never_flagged)}; silently lost: {self.never_not_flagged}",
            f"final statuses: {dict(self.statuses)}",
            f"rate at the server: busiest 1 s window {self.busiest_second} requests (limit 30), "
            f"closest two in one chat {self.closest_in_chat:.3f} s apart (limit 1)",
        ]


async def run_proof(
    url: str,
    *,
    sends: int,
    kills: int,
    fault_rate: float,
    workdir: Path,
    lease: float = 4.0,
    send_timeout: float = 1.5,
    seed: int = 13,
    deadline: float = 600.0,
    resend_share: float = 0.5,
) -> Figures:
    """Seed ``sends`` rows in the migrated database at ``url``, run and kill the worker."""
    chats = max(sends // 10, 1)
    kinds = await seed_rows(url, sends=sends, chats=chats, resend_share=resend_share)
    server = FakeTelegram(fault_rate=fault_rate, hang=send_timeout + 1.5, seed=seed)
    api = await server.start()
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    rng = random.Random(seed)
    log = workdir / "outbox-runner.log"
    started = time.monotonic()
    # Kill points: spread over the run, at a delivered count with some jitter.
    points = sorted(int(sends * (k + rng.uniform(0.6, 1.4)) / (kills + 1)) for k in range(kills))
    done_kills = 0
    worker = _start_worker(url, api, lease=lease, send_timeout=send_timeout, log=log)
    try:
        while True:
            if time.monotonic() - started > deadline:
                raise TimeoutError(f"the outbox was not settled within {deadline} s; see {log}")
            await asyncio.sleep(0.05)
            seen = sum(server.delivered.values())
            if done_kills < kills and seen >= points[done_kills]:
                worker.send_signal(signal.SIGKILL)
                await asyncio.to_thread(worker.wait)
                done_kills += 1
                worker = _start_worker(url, api, lease=lease, send_timeout=send_timeout, log=log)
                continue
            if done_kills >= kills and await _open_rows(sessions) == 0:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}; see {log}")
        elapsed = time.monotonic() - started
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
        statuses = await _statuses(sessions)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        await engine.dispose()
        await server.stop()
    return _figures(server, kinds, statuses, sends=sends, kills=done_kills, seconds=elapsed)


def _figures(
    server: FakeTelegram,
    kinds: dict[int, str],
    statuses: dict[int, str],
    *,
    sends: int,
    kills: int,
    seconds: float,
) -> Figures:
    once: Counter[str] = Counter()
    twice: Counter[str] = Counter()
    more: Counter[str] = Counter()
    never: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    silent = 0
    for item, kind in kinds.items():
        group = "resend" if resend_when_uncertain(kind) else "held"
        count = server.delivered[item]
        if count == 0:
            never[group] += 1
            if statuses.get(item) == OutboxStatus.UNCERTAIN:
                flagged[group] += 1
            else:
                silent += 1
        elif count == 1:
            once[group] += 1
        elif count == 2:
            twice[group] += 1
        else:
            more[group] += 1
    times = sorted(at for at, _ in server.arrivals)
    busiest, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    per_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat in server.arrivals:
        per_chat[chat].append(at)
    closest = min(
        (b - a for stamps in per_chat.values() for a, b in itertools.pairwise(stamps)),
        default=float("inf"),
    )
    return Figures(
        sends=sends,
        kills=kills,
        faults=server.faults,
        once=once,
        twice=twice,
        more=more,
        never=never,
        never_not_flagged=silent,
        never_flagged=flagged,
        statuses=Counter(statuses.values()),
        busiest_second=busiest,
        closest_in_chat=closest,
        seconds=seconds,
    )
