"""Booking under contention: many students booking the same time-out block at once (issue 4).

A school with one time-out room of ``--places`` places and ``--attempts`` students, each with an
active trajectory that allows time-out. Every student tries to book the same block at the same
moment: one `services.appointments.booking.book` call each, in its own unit of work, all
started together (asyncio.gather). Exactly ``--places`` get a place; the others are refused
with `SlotTaken` and the nearest free alternatives. Measured: the whole run's wall time,
attempts/s and bookings/s, and the latency of each attempt (p50, p99, max).

    .venv/bin/python bench/booking_contention.py [--attempts N] [--places P]
                                                [--database-url URL]

SQLite (a temporary file, WAL) by default; ``--database-url postgresql+asyncpg://…`` runs it
on PostgreSQL (migrated to the newest revision; a new school is added, nothing is wiped).
Prints figures only and exits 1 when the outcome is wrong (not exactly P bookings).
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
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.booking import book
from services.appointments.defaults import install_defaults
from services.appointments.errors import SlotTaken
from services.appointments.views import AppointmentView
from services.kernel.uow import run_unit_of_work
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_database
from storage.models import (
    Appointment,
    AppointmentKind,
    Person,
    PersonRole,
    Referral,
    Role,
    School,
    Trajectory,
    TrajectoryStatus,
    Urgency,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
#: Monday 2 March 2026, 10:30 in Amsterdam; the contested block is Tuesday 11:00.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BLOCK = datetime.combine(date(2026, 3, 3), clock(11, 0), tzinfo=AMSTERDAM).astimezone(UTC)


class _RetryCounter(logging.Handler):
    """Counts the units of work SQLite made wait beyond its busy timeout (tried again)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "tried again" in record.getMessage():
            self.count += 1


async def _school(
    session_factory: async_sessionmaker[AsyncSession], attempts: int, places: int
) -> list[Person]:
    """A new school with the default appointment types and ``attempts`` students in support."""
    async with session_factory() as session, session.begin():
        code = f"bench-{uuid.uuid4().hex[:8]}"
        school = School(code=code, name=f"Bench {code}")
        session.add(school)
        await session.flush()
        await install_defaults(session=session, school_id=school.id, timeout_places=places)
        mentor = Person(
            school_id=school.id,
            external_id="mentor",
            given_name="Bench",
            family_name="Mentor",
            roles=[PersonRole(role=Role.MENTOR)],
        )
        students = [
            Person(
                school_id=school.id,
                external_id=f"s{n:05d}",
                given_name="Bench",
                family_name=f"Student {n}",
                roles=[PersonRole(role=Role.STUDENT)],
            )
            for n in range(attempts)
        ]
        session.add_all([mentor, *students])
        await session.flush()
        referrals = [
            Referral(
                school_id=school.id,
                student_id=student.id,
                mentor_id=mentor.id,
                help_question_student="-",
                help_question_teacher="-",
                tried="-",
                urgency=Urgency.NORMAL,
                parents_informed=True,
                support=["time_out"],
                intake_from=NOW.date(),
                intake_days=["mon"],
                text_language="nl",
                created_at=NOW,
            )
            for student in students
        ]
        session.add_all(referrals)
        await session.flush()
        session.add_all(
            Trajectory(
                school_id=school.id,
                student_id=referral.student_id,
                referral_id=referral.id,
                status=TrajectoryStatus.ACTIVE,
                timeouts_in_plan=True,
                timeouts_per_week=2,
                activated_at=NOW,
                created_at=NOW,
            )
            for referral in referrals
        )
    return students


async def _attempt(
    session_factory: async_sessionmaker[AsyncSession], student: Person
) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        outcome = await run_unit_of_work(
            session_factory,
            lambda session: book(
                session=session,
                actor=student,
                student_id=student.id,
                kind=AppointmentKind.TIME_OUT,
                starts_at=BLOCK,
                now=NOW,
            ),
        )
        result = "booked" if isinstance(outcome, AppointmentView) else type(outcome).__name__
    except SlotTaken as taken:
        result = "refused" if taken.alternatives else "refused without alternatives"
    except Exception as error:  # every other outcome is counted, not raised
        result = f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"
    return result, time.perf_counter() - started


def _percentile_ms(latencies: Sequence[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


async def run(database_url: str, attempts: int, places: int) -> int:
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    retries = _RetryCounter()
    logging.getLogger("services.kernel.uow").addHandler(retries)
    try:
        session_factory = create_sessionmaker(engine)
        students = await _school(session_factory, attempts, places)
        started = time.perf_counter()
        results = await asyncio.gather(*(_attempt(session_factory, s) for s in students))
        seconds = time.perf_counter() - started
        async with session_factory() as session:
            stored = await session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.student_id.in_([s.id for s in students]))
            )
    finally:
        logging.getLogger("services.kernel.uow").removeHandler(retries)
        await engine.dispose()

    outcomes = Counter(result for result, _ in results)
    latencies = [latency for _, latency in results]
    booked = outcomes["booked"]
    print(
        f"{attempts} attempts at one time-out block with {places} places, all at once "
        f"({engine.dialect.name}; Python {sys.version.split()[0]})"
    )
    print(
        f"outcome: {booked} booked, {outcomes['refused']} refused with alternatives, "
        f"{stored} appointments stored; SQLite lock retries: {retries.count}"
    )
    print(
        f"wall {seconds:6.2f} s  {attempts / seconds:7.1f} attempts/s"
        f"  {booked / seconds:7.1f} bookings/s"
    )
    print(
        f"latency per attempt: p50 {_percentile_ms(latencies, 0.50):8.1f} ms"
        f"  p99 {_percentile_ms(latencies, 0.99):8.1f} ms"
        f"  max {max(latencies) * 1000:8.1f} ms  mean {statistics.fmean(latencies) * 1000:8.1f} ms"
    )
    wrong = {k: v for k, v in outcomes.items() if k not in ("booked", "refused")}
    for reason, count in sorted(wrong.items()):
        print(f"FAILED: {count} attempts ended in {reason}")
    return 0 if booked == places == stored and not wrong else 1


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--attempts", type=int, default=500, help="students booking at once")
    parser.add_argument("--places", type=int, default=10, help="places in the time-out room")
    parser.add_argument(
        "--database-url",
        default=None,
        help="database to run on (default: a temporary SQLite file, WAL)",
    )
    args = parser.parse_args(argv)
    attempts, places = max(1, args.attempts), max(1, args.places)
    if args.database_url:
        return await run(args.database_url, attempts, places)
    with tempfile.TemporaryDirectory(prefix="trajectbot-bench-") as tmp:
        return await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", attempts, places)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
