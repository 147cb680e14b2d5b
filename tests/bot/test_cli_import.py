"""`trajectbot import` in a fresh process: a Dutch-Excel CSV and a OneRoster bundle, dry run,
sync, repeat, bad rows by file and line, an unreadable file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Person
from tests.bot.test_cli import trajectbot
from tests.support.factories import add_school, count

BUNDLE = Path(__file__).parents[1] / "support" / "fixtures" / "oneroster"
# As Dutch Excel saves "CSV (gescheiden door lijstscheidingsteken)": cp1252, ";", CRLF, and
# column names as someone typed them.
EXCEL = (
    "External_ID;Roles;Given_Name;Family_Name;Group;Language;Mentor_Of;Parent_Of;Email\r\n"
    "L1;student;René;Dijkhuis;2B;nl;;;\r\n"
    "L2;student;Zoë;Eemsteden;2B;;;;\r\n"
    'M1;"mentor;teacher";Jorien;Wadman;;nl;"L1;L2";;j.wadman@example.nl\r\n'
    ";;;;;;;;\r\n"
).encode("cp1252")


@pytest.fixture
async def school_db(migrated_url: str, session_factory: async_sessionmaker[AsyncSession]) -> str:
    async with session_factory() as session, session.begin():
        await add_school(session, "vmbo-noord")
    return migrated_url


async def test_a_dutch_excel_file_dry_run_sync_and_repeat(
    school_db: str, tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    csv = tmp_path / "leerlingen.csv"
    csv.write_bytes(EXCEL)

    dry = trajectbot(school_db, "import", str(csv), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "Dry run: nothing was written.",
        "Partial sync: people who are not in the file are left alone.",
        "Students in the file: 2.",
        "Parents in the file: 0.",
        "Teachers in the file: 1.",
        "Mentors in the file: 1.",
        "New (3): L1, L2, M1",
        "Mentor and parent links: 2 new, 0 removed.",
        "Unchanged: 0.",
    ]
    async with session_factory() as session:
        assert await count(session, Person) == 0

    done = trajectbot(school_db, "import", str(csv), "--school", "vmbo-noord")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Imported. New: 3. Changed: 0. Ended: 0."

    again = trajectbot(school_db, "import", str(csv))
    assert again.returncode == 0, again.stderr
    assert "Nothing to change: the school already matches the file." in again.stdout.splitlines()
    assert again.stdout.splitlines()[-1] == "Imported. New: 0. Changed: 0. Ended: 0."

    # A full sync of a file without Zoë ends her: history kept, unknown to the chat.
    without = tmp_path / "zonder-zoe.csv"
    without.write_bytes(b"\r\n".join(line for line in EXCEL.split(b"\r\n") if b"L2;" not in line))
    ended = trajectbot(school_db, "import", str(without), "--full")
    assert ended.returncode == 0, ended.stderr
    assert "Ended (1): L2" in ended.stdout.splitlines()
    chat = trajectbot(school_db, "chat", "--as", "L2", "--lang", "en", lines=["0"])
    assert chat.returncode == 1
    assert "Nobody with id “L2” was found." in chat.stdout
    async with session_factory() as session:
        assert await count(session, Person) == 3

    # The bundle is a full sync: the CSV's people are not in it and would leave.
    bundle = trajectbot(school_db, "import", str(BUNDLE), "--dry-run", language="nl")
    assert bundle.returncode == 0, bundle.stderr
    lines = bundle.stdout.splitlines()
    assert lines[0] == "Proefrun: er is niets opgeslagen."
    assert "Beëindigd (2): L1, M1" in lines
    assert "Niet geïmporteerd, met opzet (andere rollen, andere scholen): 2." in lines


async def test_bad_rows_are_listed_by_file_and_line(school_db: str, tmp_path: Path) -> None:
    csv = tmp_path / "fout.csv"
    csv.write_bytes(
        (
            "external_id;roles;given_name;family_name;email\r\n"
            "L1;student;René;Dijkhuis;rene@@example\r\n"
            "L2;wizard;Zoë;Eemsteden;\r\n"
            "L3;student;Sem;Coldewey;\r\n"
        ).encode("cp1252")
    )
    dry = trajectbot(school_db, "import", str(csv), "--dry-run")
    assert dry.returncode == 1
    assert "New (1): L3" in dry.stdout
    assert dry.stderr.splitlines() == [
        "2 problems found: as it is, nothing would be imported.",
        "fout.csv: Line 2: email is not an e-mail address.",
        "fout.csv: Line 3: unknown role wizard.",
        "Fix the rows, or import the others with --skip-bad-rows.",
    ]
    skipped = trajectbot(school_db, "import", str(csv), "--skip-bad-rows")
    assert skipped.returncode == 0, skipped.stderr
    assert "Bad rows left out: 2." in skipped.stdout
    assert skipped.stdout.splitlines()[-1] == "Imported. New: 1. Changed: 0. Ended: 0."


async def test_an_unreadable_file_is_refused_without_a_traceback(
    school_db: str, tmp_path: Path
) -> None:
    sheet = tmp_path / "leerlingen.xlsx"
    sheet.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00binary")
    refused = trajectbot(school_db, "import", str(sheet))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "The file could not be read; nothing was imported.",
        "leerlingen.xlsx: The file leerlingen.xlsx is not a CSV file: save it as CSV in UTF-8.",
    ]
    missing = tmp_path / "export"
    missing.mkdir()
    (missing / "users.csv").write_text("sourcedId\n", encoding="utf-8")
    bundle = trajectbot(school_db, "import", str(missing))
    assert bundle.returncode == 1
    assert "orgs.csv: The file orgs.csv is missing." in bundle.stderr.splitlines()
    assert "Traceback" not in bundle.stderr


async def test_the_dry_run_names_the_changed_fields(school_db: str, tmp_path: Path) -> None:
    csv = tmp_path / "leerlingen.csv"
    csv.write_bytes(EXCEL)
    assert trajectbot(school_db, "import", str(csv)).returncode == 0
    changed = tmp_path / "leerlingen-nieuw.csv"
    changed.write_bytes(
        EXCEL.replace(
            b"L2;student;Zo\xeb;Eemsteden;2B;;;;", b"L2;student;Zo\xeb;Eemsteden;3A;;;;z@example.nl"
        ).replace(b'"L1;L2"', b'"L1"')
    )
    dry = trajectbot(school_db, "import", str(changed), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert "Changed L2: group_name, email" in lines
    assert "Changed M1: mentor_of" in lines
    assert "Mentor and parent links: 0 new, 1 removed." in lines
    assert "Unchanged: 1." in lines
