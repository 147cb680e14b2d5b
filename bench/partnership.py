"""A partnership's worth of data (issue 16): 30 schools × 1,500 students, ~2,250 referrals,
and how long the staff pages and exports take on it.

Builds a fresh database (PostgreSQL on ``--server``, a database made for the run and dropped
after; or ``--database-url``) with ``--schools`` schools. Each school's people come in through
the product's roster import (`services.accounts.roster.sync.sync_people`, the project's CSV:
``--students`` students, a mentor per 25, a parent per 2); each school gets a care
coordinator with a web account, and the first school a partnership viewer. Referrals
(``--referrals`` per school, 75 by default: 2,250 for 30 schools) are submitted through the
product (`services.referrals.submission.submit_referral`: referral, queue item, notices,
audit), spread over the last six months. A third of them get a trajectory (two thirds of
those active, half of those closed), written directly as rows the way the indicator tests do
(the decisions flow would add nothing to what is timed).

Then, through the web app over httpx's ASGI transport (no network), logged in as the first
school's care coordinator and as the partnership viewer, each page is fetched ``--repeat``
times: the queue, the trajectory list, one trajectory's page, the school's indicators (page,
CSV, XLSX), the exports (page, Magister CSV, LVS CSV) and the partnership's indicators (page,
CSV, XLSX), the partnership's summary page and one school's detail page of it. Prints the
first and the median time of each, with the response's status, its size and the SQL
statements one fetch ran (counted on the engine, ``before_cursor_execute``).

    .venv/bin/python bench/partnership.py [--schools 30] [--students 1500] [--referrals 75]

``--keep`` leaves the database made for the run (its address is printed), and
``--database-url URL --no-build`` times the pages again on such a database without building.

Bounded: the build dominates (about a minute for 30 schools on the development machine);
``--schools 3`` is a quick run. Prints figures only; nothing is asserted.
"""

# ruff: noqa: E402 - the repository root goes on sys.path first; a bench writes files

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import gc
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App, build_app
from bot.config import Settings
from services.accounts.roster.sync import sync_people
from services.accounts.staff_accounts import create_staff_account, hash_password
from services.kernel.uow import run_unit_of_work
from services.referrals.submission import ReferralDraft, submit_referral
from storage.migrate import upgrade_database
from storage.models import (
    Mentorship,
    Person,
    PersonRole,
    Referral,
    Role,
    School,
    SupportKind,
    Trajectory,
    TrajectoryStatus,
    Urgency,
    Weekday,
)
from web.app import create_web_app

PASSWORD = "bench-password-long-enough"  # noqa: S105 - an invented password for a throwaway database
NOW = datetime.now(UTC).replace(microsecond=0)


def write_csv(path: Path, school: int, students: int) -> None:
    """The project's CSV for one school: students, a mentor per 25, a parent per 2."""
    lines = ["external_id;roles;given_name;family_name;group;language;mentor_of;parent_of"]
    lines.extend(
        f"L{n};student;Leerling{n};Achternaam{(n + school) % 977};{n % 40}B;nl;;"
        for n in range(students)
    )
    for m in range((students + 24) // 25):
        mentees = ",".join(f"L{n}" for n in range(m * 25, min(students, m * 25 + 25)))
        lines.append(f'D{m};mentor;Mentor{m};Docent{m};;nl;"{mentees}";')
    for p in range((students + 1) // 2):
        children = ",".join(f"L{n}" for n in (2 * p, 2 * p + 1) if n < students)
        lines.append(f'O{p};parent;Ouder{p};Ouder{p};;;;"{children}"')
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def referral_draft(student_id: int, when: datetime) -> ReferralDraft:
    return ReferralDraft(
        student_id=student_id,
        help_question_student="Ik wil rustiger worden in de klas.",
        help_question_teacher="Hoe help ik hem bij het plannen?",
        tried="Vaste plek in de klas, korte gesprekjes na de les.",
        works_at_home=None,
        works_at_school="Duidelijke afspraken vooraf.",
        urgency=Urgency.NORMAL,
        parents_informed=True,
        parents_not_informed_reason=None,
        support=(SupportKind.CONVERSATIONS, SupportKind.TIME_OUT),
        intake_from=when.date() + timedelta(days=3),
        intake_days=(Weekday.MON, Weekday.WED),
        text_language="nl",
    )


async def build(app: App, args: argparse.Namespace, folder: Path) -> None:
    """Schools, people (roster import), staff accounts, referrals and trajectories."""
    sessions = app.sessions
    password_hash = hash_password(PASSWORD)
    rng = random.Random(16)
    timings = {"import": 0.0, "referrals": 0.0}
    for number in range(args.schools):
        code = f"school-{number:02d}"

        async def add_school(session: AsyncSession, code: str = code, number: int = number) -> int:
            school = School(code=code, name=f"Bench school {number}")
            session.add(school)
            await session.flush()
            return school.id

        school_id = await run_unit_of_work(sessions, add_school)
        csv = folder / f"{code}.csv"
        write_csv(csv, number, args.students)
        started = time.perf_counter()
        result = await sync_people(sessions, path=csv, school_code=code, now=NOW)
        timings["import"] += time.perf_counter() - started
        if result.fatal:
            raise RuntimeError(f"import of {code} refused")

        async def staff(
            session: AsyncSession, school_id: int = school_id, number: int = number
        ) -> None:
            zoco = Person(
                school_id=school_id,
                external_id="zoco",
                given_name="Zorg",
                family_name=f"Coordinator {number}",
                language="en",
                roles=[PersonRole(role=Role.CARE_COORDINATOR)],
            )
            session.add(zoco)
            await session.flush()
            await create_staff_account(
                session=session,
                person=zoco,
                username=f"zoco-{number}",
                password_hash=password_hash,
                now=NOW,
            )
            if number == 0:
                viewer = Person(
                    school_id=school_id,
                    external_id="partnership",
                    given_name="Samen",
                    family_name="Werkingsverband",
                    language="en",
                    roles=[PersonRole(role=Role.PARTNERSHIP_VIEWER)],
                )
                session.add(viewer)
                await session.flush()
                await create_staff_account(
                    session=session,
                    person=viewer,
                    username="partnership",
                    password_hash=password_hash,
                    now=NOW,
                )

        await run_unit_of_work(sessions, staff)
        started = time.perf_counter()
        await run_unit_of_work(
            sessions,
            lambda session, school_id=school_id: referrals(session, school_id, args, rng),  # type: ignore[misc]
        )
        timings["referrals"] += time.perf_counter() - started
        if (number + 1) % 10 == 0:
            print(f"  {number + 1} schools built", flush=True)
    print(
        f"built: import {timings['import']:.1f} s, referrals + trajectories "
        f"{timings['referrals']:.1f} s"
    )


async def first_ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The first school (the care coordinator's and the viewer's) and its first trajectory."""
    async with sessions() as session:
        school_id = int(
            await session.scalar(select(School.id).where(School.code == "school-00")) or 0
        )
        trajectory_id = await session.scalar(
            select(Trajectory.id)
            .where(Trajectory.school_id == school_id)
            .order_by(Trajectory.id)
            .limit(1)
        )
    return {"school": school_id, "trajectory": int(trajectory_id or 0)}


async def referrals(
    session: AsyncSession, school_id: int, args: argparse.Namespace, rng: random.Random
) -> None:
    """``args.referrals`` referrals by the students' mentors over six months; a third get a
    trajectory."""
    pairs = [
        (int(mentor), int(student))
        for mentor, student in await session.execute(
            select(Mentorship.mentor_id, Mentorship.student_id)
            .join(Person, Person.id == Mentorship.student_id)
            .where(Person.school_id == school_id)
        )
    ]
    chosen = rng.sample(pairs, min(args.referrals, len(pairs)))
    mentors = {
        person.id: person
        for person in await session.scalars(
            select(Person).where(Person.id.in_({mentor for mentor, _ in chosen}))
        )
    }
    for n, (mentor_id, student_id) in enumerate(chosen):
        when = NOW - timedelta(days=rng.randint(1, 180), hours=rng.randint(0, 8))
        referral: Referral = await submit_referral(
            session=session,
            mentor=mentors[mentor_id],
            draft=referral_draft(student_id, when),
            now=when,
        )
        if n % 3:
            continue
        created = when + timedelta(days=7)
        active = n % 9 != 0
        closed = active and n % 2 == 0
        session.add(
            Trajectory(
                school_id=school_id,
                student_id=student_id,
                referral_id=referral.id,
                status=TrajectoryStatus.CLOSED
                if closed
                else TrajectoryStatus.ACTIVE
                if active
                else TrajectoryStatus.PLANNED,
                goals="Rustig blijven in de les.",
                start_date=(created + timedelta(days=7)).date() if active else None,
                end_date=NOW.date() + timedelta(days=60) if active else None,
                timeouts_in_plan=True,
                timeouts_per_week=2,
                created_at=created,
                activated_at=created + timedelta(days=7) if active else None,
                closed_at=created + timedelta(days=60) if closed else None,
            )
        )
    await session.flush()


Row = tuple[str, int, int, int, float, float]


async def measure(
    client: httpx.AsyncClient, engine: AsyncEngine, label: str, path: str, repeat: int
) -> Row:
    """(label, status, bytes, statements of the last fetch, first time, median time)."""
    times = []
    response = None
    statements = 0

    def counted(*_args: object) -> None:
        nonlocal statements
        statements += 1

    for _ in range(repeat):
        statements = 0
        event.listen(engine.sync_engine, "before_cursor_execute", counted)
        try:
            started = time.perf_counter()
            response = await client.get(path)
            times.append(time.perf_counter() - started)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", counted)
    assert response is not None  # noqa: S101
    return (
        label,
        response.status_code,
        len(response.content),
        statements,
        times[0],
        statistics.median(times),
    )


async def log_in(transport: httpx.ASGITransport, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={"trajectbot_lang": "en"}
    )
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code >= 400:
        raise RuntimeError(f"log-in as {username} refused ({answer.status_code})")
    return client


async def run(url: str, args: argparse.Namespace) -> None:
    await upgrade_database(url)
    settings = Settings(_env_file=None, database_url=url)
    async with build_app(settings, log_level="WARNING") as app:
        if not args.no_build:
            with tempfile.TemporaryDirectory(prefix="trajectbot-bench-") as tmp:
                started = time.perf_counter()
                await build(app, args, Path(tmp))
                print(f"build total: {time.perf_counter() - started:.1f} s")
            # The planner's statistics, as autovacuum would have them by now on a server that
            # runs it (the development server does not): without them the enrolment's GROUP BY
            # sorts 45,000 rows instead of hashing them.
            async with app.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
        await counts(app.sessions)
        ids = await first_ids(app.sessions)
        transport = httpx.ASGITransport(app=create_web_app(app), raise_app_exceptions=False)
        gc.freeze()  # as `trajectbot web` does before serving (bot/runner.py)
        coordinator = await log_in(transport, "zoco-0")
        viewer = await log_in(transport, "partnership")
        rows = []
        pages = [
            (coordinator, "queue", "/queue"),
            (coordinator, "trajectory list", "/trajectories"),
            (coordinator, "a trajectory's page", f"/trajectories/{ids.get('trajectory', 0)}"),
            (coordinator, "school indicators", "/indicators"),
            (coordinator, "school indicators .csv", "/indicators.csv"),
            (coordinator, "school indicators .xlsx", "/indicators.xlsx"),
            (coordinator, "exports page", "/exports"),
            (coordinator, "export Magister .csv", "/exports/magister.csv"),
            (coordinator, "export LVS .csv", "/exports/lvs.csv"),
            (viewer, "partnership summary", "/indicators/partnership"),
            (
                viewer,
                "partnership: one school",
                f"/indicators/partnership/school/{ids['school']}",
            ),
            (viewer, "partnership indicators .csv", "/indicators/partnership.csv"),
            (viewer, "partnership indicators .xlsx", "/indicators/partnership.xlsx"),
        ]
        for client, label, path in pages:
            rows.append(await measure(client, app.engine, label, path, args.repeat))
        await coordinator.aclose()
        await viewer.aclose()
    print(f"{'page':32} {'status':>6} {'bytes':>9} {'SQL':>5} {'first':>9} {'median':>9}")
    for label, status, size, statements, first, median in rows:
        print(
            f"{label:32} {status:>6} {size:>9,} {statements:>5} "
            f"{first * 1000:>7.0f}ms {median * 1000:>7.0f}ms"
        )
    print(f"load average after: {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


async def counts(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        people = await session.scalar(select(func.count()).select_from(Person))
        referrals = await session.scalar(select(func.count()).select_from(Referral))
        trajectories = await session.scalar(select(func.count()).select_from(Trajectory))
    print(f"people: {people:,}, referrals: {referrals:,}, trajectories: {trajectories:,}")


async def _admin(server: str, *statements: str) -> None:
    connection = await asyncpg.connect(f"postgresql://postgres@{server}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--students", type=int, default=1500, help="per school")
    parser.add_argument("--referrals", type=int, default=75, help="per school")
    parser.add_argument("--repeat", type=int, default=3, help="fetches of each page")
    parser.add_argument("--server", default="127.0.0.1:5432", help="PostgreSQL (user postgres)")
    parser.add_argument("--database-url", help="use this (migrated or empty) database instead")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="with --database-url: the database holds a bench's data already (--keep)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the database made for the run (not dropped)"
    )
    args = parser.parse_args(argv)
    if args.no_build and not args.database_url:
        parser.error("--no-build needs --database-url")
    print(
        f"{args.schools} schools × {args.students} students, {args.referrals} referrals each; "
        f"load average {', '.join(f'{value:.1f}' for value in os.getloadavg())}"
    )
    if args.database_url:
        await run(args.database_url, args)
        return 0
    name = f"tb_partnership_{os.getpid()}"
    await _admin(args.server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@{args.server}/{name}"
    try:
        await run(url, args)
    finally:
        if args.keep:
            print(f"kept: --database-url {url} --no-build")
        else:
            await _admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
