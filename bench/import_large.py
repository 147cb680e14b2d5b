"""A large people import (issue 12): 100,000 rows of the project's CSV synced in batches.

Generates a CSV of ``--rows`` people (students, a parent each per two students, mentors of
25 students each) in Windows-1252 with ``;`` (as Dutch Excel saves it), and syncs it into a
new school with `services.accounts.roster.sync.sync_people`. Prints the time to parse and
plan, the time to write, rows/s, the number of transactions and the longest single
transaction (the longest another writer, a staff login, may have to wait). Then syncs the
same file again (nothing changes) and prints that time too.

    .venv/bin/python bench/import_large.py [--rows N] [--batch-size B] [--database-url URL]

SQLite (a temporary file, WAL) by default. Prints figures only; no assertions.
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
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.roster.sync import sync_people
from services.kernel.uow import run_unit_of_work
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_database
from storage.models import School

NOW = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def write_csv(path: Path, rows: int) -> None:
    """``rows`` invented people: students, mentors (one per 25) and parents (one per 2)."""
    lines = ["external_id;roles;given_name;family_name;group;language;mentor_of;parent_of"]
    mentors = max(1, rows // 27)
    parents = max(1, rows // 3)
    students = max(1, rows - mentors - parents)
    lines.extend(
        f"L{n};student;Leerling{n};Achternaam{n % 977};{n % 40}B;nl;;" for n in range(students)
    )
    for m in range(mentors):
        mentees = ",".join(f"L{n}" for n in range(m * 25, min(students, m * 25 + 25)))
        lines.append(f'D{m};mentor;Mentor{m};Docent{m};;nl;"{mentees}";')
    for p in range(parents):
        children = ",".join(f"L{n}" for n in (2 * p, 2 * p + 1) if n < students)
        lines.append(f'O{p};parent;Ouder{p};Ouderé{p};;;;"{children}"')
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


async def run(database_url: str, rows: int, batch_size: int, folder: Path) -> None:
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    code = f"bench-{uuid.uuid4().hex[:8]}"

    async def add_school(session: AsyncSession) -> None:
        session.add(School(code=code, name="Bench"))

    try:
        await run_unit_of_work(sessions, add_school)
        csv = folder / "people.csv"
        write_csv(csv, rows)
        print(f"rows: {rows}, file: {csv.stat().st_size / 1e6:.1f} MB, batch size: {batch_size}")

        started = time.perf_counter()
        dry = await sync_people(sessions, path=csv, school_code=code, now=NOW, dry_run=True)
        planned = time.perf_counter() - started
        assert dry.plan is not None  # noqa: S101
        print(f"read + plan (dry run): {planned:.2f} s, {len(dry.plan.added)} to add")

        started = time.perf_counter()
        result = await sync_people(
            sessions, path=csv, school_code=code, now=NOW, batch_size=batch_size
        )
        took = time.perf_counter() - started
        stats = result.stats
        assert stats is not None  # noqa: S101
        print(f"sync: {took:.2f} s, {rows / took:,.0f} rows/s")
        print(f"transactions: {stats.transactions}, longest: {stats.longest_seconds * 1000:.0f} ms")

        started = time.perf_counter()
        again = await sync_people(sessions, path=csv, school_code=code, now=NOW)
        assert again.plan is not None  # noqa: S101
        print(
            f"second sync (nothing to change: {again.plan.is_empty}): "
            f"{time.perf_counter() - started:.2f} s"
        )
    finally:
        await engine.dispose()


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trajectbot-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await run(url, args.rows, args.batch_size, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
