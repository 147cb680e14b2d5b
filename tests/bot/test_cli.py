"""The command line, driven as a person would: real processes, a real database, typed lines.

Each `trajectbot` invocation is a new process, so a conversation that continues in the next
invocation proves that state lives in the database (resume after restart).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, create_sessionmaker
from storage.models import Outbox, QueueItem, Referral

ROOT = Path(__file__).resolve().parents[2]

# mentor2 of the demo school has three mentees (lln13 Bram, lln14 Lieke, lln15 Amira).
# Numbers press the numbered buttons; anything else is typed text.
FIRST_HALF = [
    "1",  # menu: New referral
    "2",  # student: Lieke Noordeloos (3A)
    "Ze wil minder bang zijn om in de klas iets te zeggen.",
    "Hoe help ik haar om mee te doen zonder druk?",
    "Een vaste plek bij het raam en een wekelijks gesprekje.",
]
SECOND_HALF = [
    "Rustige huiswerkplek na het eten.",  # works at home (optional, answered)
    "2",  # works at school: Skip
    "3",  # urgency: high
    "2",  # parents informed: No
    "Ik bel ze donderdag na de ouderavond.",  # why not yet (appears because of "No")
    "2",  # support: tick time-out
    "1",  # support: tick support talks
    "8",  # support: Done
    "1",  # intake from: the next school day
    "2",  # intake days: tick Tuesday
    "4",  # intake days: tick Thursday
    "6",  # intake days: Done
    "2",  # the optional questions: No
    "1",  # summary: Send
    "0",  # menu: quit
]


def trajectbot(
    database_url: str, *args: str, lines: list[str] | None = None, language: str = "en"
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process against ``database_url``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CLI_LANGUAGE": language,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="".join(f"{line}\n" for line in lines or []),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
async def demo_db(demo_url: str) -> str:
    """A migrated database holding the demo school; `init` finds it at head."""
    assert trajectbot(demo_url, "init").returncode == 0
    return demo_url


async def _referrals(database_url: str) -> tuple[list[Referral], list[QueueItem], list[Outbox]]:
    engine = create_engine(database_url)
    try:
        session: AsyncSession
        async with create_sessionmaker(engine)() as session:
            return (
                list(await session.scalars(select(Referral))),
                list(await session.scalars(select(QueueItem))),
                list(await session.scalars(select(Outbox))),
            )
    finally:
        await engine.dispose()


async def test_a_full_verwijzing_in_two_sittings_lands_in_the_queue(demo_db: str) -> None:
    first = trajectbot(demo_db, "chat", "--as", "mentor2", "--lang", "en", lines=FIRST_HALF)
    assert first.returncode == 0, first.stderr
    assert "Question 5 of 13" in first.stdout  # stopped at "what works at home"
    assert "Your answers are saved" in first.stdout

    second = trajectbot(demo_db, "chat", "--as", "mentor2", "--lang", "en", lines=SECOND_HALF)
    assert second.returncode == 0, second.stderr
    assert "Welcome back" in second.stdout
    assert "Question 9 of 13" in second.stdout  # the reason question, because parents: No
    assert "Your referral has been sent" in second.stdout

    referrals, items, outbox = await _referrals(demo_db)
    assert len(referrals) == 1
    referral = referrals[0]
    assert referral.help_question_student.startswith("Ze wil minder bang")
    assert referral.works_at_home == "Rustige huiswerkplek na het eten."
    assert referral.works_at_school is None
    assert referral.urgency.value == "high"
    assert referral.parents_informed is False
    assert referral.parents_not_informed_reason == "Ik bel ze donderdag na de ouderavond."
    assert sorted(referral.support) == ["conversations", "time_out"]
    assert referral.intake_days == ["tue", "thu"]
    assert [item.status.value for item in items] == ["new"]
    assert [row.kind for row in outbox] == ["referral.new"]

    queue = trajectbot(demo_db, "queue", "--as", "zoco")
    assert queue.returncode == 0, queue.stderr
    assert "Lieke Noordeloos" in queue.stdout
    assert "1 open item" in queue.stdout


async def test_queue_is_refused_to_a_mentor(demo_db: str) -> None:
    result = trajectbot(demo_db, "queue", "--as", "mentor1")
    assert result.returncode == 1
    assert "Only a care coordinator can see the queue." in result.stderr


async def test_a_person_without_flows_is_told_so(demo_db: str) -> None:
    # The administrator has no conversation in chat (parents and students book appointments).
    result = trajectbot(demo_db, "chat", "--as", "admin", "--lang", "en", lines=[])
    assert result.returncode == 0
    assert "There is nothing for you to do here yet." in result.stdout


async def test_stop_discards_the_draft(demo_db: str) -> None:
    stopped = trajectbot(
        demo_db, "chat", "--as", "mentor2", "--lang", "en", lines=["1", "1", "2", "0"]
    )
    assert "Stopped. Nothing has been sent." in stopped.stdout
    again = trajectbot(demo_db, "chat", "--as", "mentor2", "--lang", "en", lines=["0"])
    assert "Welcome back" not in again.stdout
    referrals, _, _ = await _referrals(demo_db)
    assert referrals == []


async def test_commands_on_an_uninitialised_database_explain_what_to_do(
    database_url: str,
) -> None:
    result = trajectbot(database_url, "queue", "--as", "zoco")
    assert result.returncode == 2
    assert "Run `trajectbot init` first." in result.stderr
    assert "Traceback" not in result.stderr


def test_run_without_a_token_explains_how_to_try_the_product(tmp_path: Path) -> None:
    # The web app still needs a database: on an empty one, `run` says so after the hint.
    # (Serving on a ready database: tests/bot/test_cli_web.py.)
    result = trajectbot(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "run")
    assert "TELEGRAM_BOT_TOKEN" in result.stdout
    assert "trajectbot chat --as mentor1" in result.stdout
    assert result.returncode == 2
    assert "Run `trajectbot init` first." in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_messages_follow_the_cli_language(tmp_path: Path) -> None:
    dutch = trajectbot(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "init", language="nl")
    assert dutch.returncode == 0
    english = trajectbot(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}", "init", language="en")
    assert english.stdout.strip() == "The database is ready."
    assert dutch.stdout.strip() != english.stdout.strip()


async def test_chat_speaks_the_persons_own_language_by_default(demo_db: str) -> None:
    result = trajectbot(demo_db, "chat", "--as", "mentor2", lines=["1"])
    assert "Vraag 1 van 13" in result.stdout
    assert "Over welke leerling" in result.stdout


GOOD_CSV = """external_id,roles,given_name,family_name,group,language,mentor_of,parent_of
S1,student,Fenna,Zwartbol,1C,nl,,
S2,student,Omar,Yildiztepe,1C,tr,,
M1,mentor;teacher,Jorien,Wadman,,nl,S1;S2,
P1,parent,Hatice,Yildiztepe,,tr,,S2
"""
BAD_CSV = """external_id,roles,given_name,family_name,group,language,mentor_of,parent_of
S1,student,Fenna,Zwartbol,1C,nl,,
S1,student,Fenna,Dubbel,1C,nl,,
M1,wizard,Jorien,Wadman,,nl,S1,
P1,parent,Hatice,Yildiztepe,,xx,,S9
"""


async def test_import_reports_every_bad_row_and_writes_nothing(
    demo_db: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    refused = trajectbot(demo_db, "import", str(bad), "--school", "demo")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "Nothing was imported: 5 problems found.",
        "bad.csv: Line 3: external_id S1 is also on line 2.",
        "bad.csv: Line 4: unknown role wizard.",
        "bad.csv: Line 4: mentor_of is filled in, but the role mentor is not.",
        "bad.csv: Line 5: unsupported language xx.",
        "bad.csv: Line 5: unknown student S9.",
        "Fix the rows, or import the others with --skip-bad-rows.",
    ]

    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    imported = trajectbot(demo_db, "import", str(good), "--school", "demo")
    assert imported.returncode == 0, imported.stderr
    assert "Imported. New: 4. Changed: 0. Ended: 0." in imported.stdout
    chat = trajectbot(demo_db, "chat", "--as", "M1", "--lang", "en", lines=["1"])
    assert "Fenna Zwartbol (1C)" in chat.stdout
    assert "Omar Yildiztepe (1C)" in chat.stdout
