"""`trajectbot backup` / `restore` as separate processes, on SQLite and (`make test-postgres`)
PostgreSQL: a backup taken while a writer keeps inserting, a round trip that keeps the previous
database, and the files a restore must refuse — each with its message and exit code."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.backup import PgTarget, describe_url
from storage.db import create_engine
from storage.migrate import downgrade_database, schema_is_current, upgrade_database
from tests.bot.test_cli import ROOT, trajectbot

HEAD = "0019_outbox_leases"


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _suffix(url: str) -> str:
    return ".db" if _is_sqlite(url) else ".dump"


async def _sql(url: str, statement: str, **params: str) -> list[object]:
    """Run one statement in a committed transaction; its first column."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            found = await connection.execute(text(statement), params)
            return list(found.scalars().all()) if found.returns_rows else []
    finally:
        await engine.dispose()


def _kept(directory: Path) -> list[Path]:
    """The previous databases a restore kept under ``directory``."""
    return [path for path in directory.rglob("*before-restore-*") if path.is_file()]


async def _schools(url: str) -> list[object]:
    return await _sql(url, "SELECT code FROM school ORDER BY code")


async def _add_school(url: str, code: str) -> None:
    await _sql(
        url,
        "INSERT INTO school (name, code, timezone, created_at) "
        "VALUES (:name, :code, 'Europe/Amsterdam', CURRENT_TIMESTAMP)",
        name=f"Invented {code}",
        code=code,
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.sqlite_only
async def test_an_sqlite_backup_while_a_writer_keeps_inserting_is_consistent(
    migrated_url: str, tmp_path: Path
) -> None:
    database = Path(str(make_url(migrated_url).database))
    setup = sqlite3.connect(database)
    setup.execute("CREATE TABLE ops_probe (id INTEGER PRIMARY KEY, pair INTEGER, filler BLOB)")
    # A few MB, so the copy takes a moment while the writer goes on.
    setup.executemany(
        "INSERT INTO ops_probe (pair, filler) VALUES (?, randomblob(4096))",
        [(n // 2,) for n in range(2000)],
    )
    setup.commit()
    setup.close()

    stop = threading.Event()
    warmed = threading.Event()
    written: list[int] = []

    def writer() -> None:
        # Each transaction inserts two rows: a consistent copy holds an even number of rows.
        connection = sqlite3.connect(database, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        pair = 1000
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO ops_probe (pair) VALUES (?)", (pair,))
            connection.execute("INSERT INTO ops_probe (pair) VALUES (?)", (pair,))
            connection.execute("COMMIT")
            pair += 1
            written.append(pair)
            if len(written) == 20:
                warmed.set()
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        # Commits that may still sit in the WAL, not yet in the main file.
        assert warmed.wait(30)
        committed_before = len(written)
        target = tmp_path / "backups" / "nightly.db"
        said = _ok(trajectbot(migrated_url, "backup", str(target)))
    finally:
        stop.set()
        thread.join()

    assert f"Backup written: {target} (" in said
    assert f"schema revision {HEAD}, integrity checked" in said
    assert len(written) > 10, "the writer did not run alongside the backup"
    assert sorted(path.name for path in target.parent.iterdir()) == ["nightly.db"]  # no temp
    copy = sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        rows = copy.execute("SELECT count(*) FROM ops_probe").fetchone()[0]
        unpaired = copy.execute(
            "SELECT count(*) FROM (SELECT pair FROM ops_probe GROUP BY pair HAVING count(*) <> 2)"
        ).fetchone()[0]
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    finally:
        copy.close()
    assert rows % 2 == 0
    assert unpaired == 0
    # Everything committed before the backup began is in it (a plain file copy could miss
    # what was still in the WAL).
    assert rows >= 2000 + 2 * committed_before


async def test_restore_round_trip_keeps_the_previous_database(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    await engine.dispose()  # the test holds no connection: the restore would refuse
    await _add_school(migrated_url, "eerste")
    backup = tmp_path / f"before{_suffix(migrated_url)}"
    said = _ok(trajectbot(migrated_url, "backup", str(backup)))
    assert f"schema revision {HEAD}" in said
    await _add_school(migrated_url, "later")
    assert await _schools(migrated_url) == ["eerste", "later"]

    # Not confirmed: nothing happens.
    declined = trajectbot(migrated_url, "restore", str(backup), lines=["n"])
    assert declined.returncode == 3
    assert "Nothing was restored (confirm with --yes)." in declined.stderr
    assert await _schools(migrated_url) == ["eerste", "later"]

    said = _ok(trajectbot(migrated_url, "restore", str(backup), "--yes"))
    assert f"Restored {backup} into " in said
    assert await _schools(migrated_url) == ["eerste"]
    previous = _kept(tmp_path)
    assert len(previous) == 1
    assert f"The previous database is kept as {previous[0]}." in said
    assert "upgraded" not in said
    # The kept database is the one that was replaced: it restores to both schools.
    _ok(trajectbot(migrated_url, "restore", str(previous[0]), "--yes"))
    assert await _schools(migrated_url) == ["eerste", "later"]


async def test_restore_refuses_while_the_database_is_in_use(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / f"b{_suffix(migrated_url)}"
    _ok(trajectbot(migrated_url, "backup", str(backup)))
    async with engine.connect() as connection:  # like the running app's pool
        await connection.execute(text("SELECT 1"))
        refused = trajectbot(migrated_url, "restore", str(backup), "--yes")
    assert refused.returncode == 2
    assert "The database is in use: stop trajectbot first" in refused.stderr
    assert not _kept(tmp_path)


async def test_restore_refuses_a_file_that_is_not_a_database(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    await engine.dispose()
    await _add_school(migrated_url, "blijft")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n", encoding="utf-8")
    refused = trajectbot(migrated_url, "restore", str(junk), "--yes")
    assert refused.returncode == 1
    assert (
        f"{junk} is not a backup trajectbot can read (neither an SQLite database nor a pg_dump "
        "archive). Nothing was changed." in refused.stderr
    )
    missing = trajectbot(migrated_url, "restore", str(tmp_path / "nowhere.db"), "--yes")
    assert missing.returncode == 1
    assert f"{tmp_path / 'nowhere.db'} does not exist." in missing.stderr
    assert await _schools(migrated_url) == ["blijft"]
    assert "Traceback" not in refused.stderr + missing.stderr


@pytest.mark.sqlite_only
async def test_restore_refuses_a_database_that_is_not_trajectbots(
    migrated_url: str, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE recipe (name TEXT)")
    connection.commit()
    connection.close()
    refused = trajectbot(migrated_url, "restore", str(other), "--yes")
    assert refused.returncode == 1
    assert f"{other} is a database, but not trajectbot's (it has no schema revision)." in (
        refused.stderr
    )


async def test_restore_refuses_a_backup_of_a_newer_version(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    await engine.dispose()
    await _sql(migrated_url, "UPDATE alembic_version SET version_num = '0099_future'")
    backup = tmp_path / f"future{_suffix(migrated_url)}"
    _ok(trajectbot(migrated_url, "backup", str(backup)))
    await _sql(migrated_url, "UPDATE alembic_version SET version_num = :head", head=HEAD)

    refused = trajectbot(migrated_url, "restore", str(backup), "--yes")
    assert refused.returncode == 1
    assert (
        f"{backup} has schema revision 0099_future, which this version of trajectbot does not "
        "know: it was made by a newer version. Upgrade trajectbot first, then restore."
        in (refused.stderr)
    )
    assert await _sql(migrated_url, "SELECT version_num FROM alembic_version") == [HEAD]
    assert not _kept(tmp_path)


async def test_an_older_backup_is_restored_and_upgraded(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    await engine.dispose()
    await downgrade_database(migrated_url, "0014_contacts")
    await _add_school(migrated_url, "oud")
    backup = tmp_path / f"old{_suffix(migrated_url)}"
    assert "schema revision 0014_contacts" in _ok(trajectbot(migrated_url, "backup", str(backup)))
    await upgrade_database(migrated_url)
    await _add_school(migrated_url, "nieuw")

    said = _ok(trajectbot(migrated_url, "restore", str(backup), "--yes"))
    assert (
        f"The backup had schema revision 0014_contacts; it was upgraded to {HEAD}, as "
        "`trajectbot init` does." in said
    )
    assert await _schools(migrated_url) == ["oud"]
    check = create_engine(migrated_url)
    try:
        assert await schema_is_current(check)
    finally:
        await check.dispose()
    assert await _sql(migrated_url, "SELECT id FROM health_check") == [1]


@pytest.mark.sqlite_only
async def test_a_sqlite_file_is_not_restored_into_the_wrong_database_kind(
    migrated_url: str, tmp_path: Path
) -> None:
    fake_archive = tmp_path / "x.dump"
    fake_archive.write_bytes(b"PGDMP\x01\x0e\x00 and the rest")
    refused = trajectbot(migrated_url, "restore", str(fake_archive), "--yes")
    assert refused.returncode == 1
    assert "is a backup of the other kind of database" in refused.stderr


def test_postgresql_without_its_client_programs_says_what_to_install(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://beheer:geheim-wachtwoord@127.0.0.1:5999/nergens"
    env = {**os.environ, "DATABASE_URL": url, "CLI_LANGUAGE": "en", "PATH": str(tmp_path)}
    for args in (["backup", str(tmp_path / "b.dump")], ["restore", str(_archive(tmp_path))]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "is not installed or not on PATH" in done.stderr
        assert "apt install postgresql-client" in done.stderr
        assert "geheim" not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr


def _archive(directory: Path) -> Path:
    file = directory / "a.dump"
    file.write_bytes(b"PGDMP\x01\x0e\x00")
    return file


def test_the_postgresql_connection_travels_in_the_environment_without_printing_the_password() -> (
    None
):
    url = "postgresql+asyncpg://beheer:geheim@db.school.example:5433/trajectbot?ssl=require"
    assert describe_url(url) == "beheer@db.school.example:5433/trajectbot"
    env = PgTarget.from_url(url).environment()
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGDATABASE"]) == (
        "db.school.example",
        "5433",
        "beheer",
        "trajectbot",
    )
    assert env["PGPASSWORD"] == "geheim"
    assert env["PGSSLMODE"] == "require"


@pytest.mark.sqlite_only
def test_backups_into_a_directory_keep_the_newest(migrated_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    written = []
    for _ in range(3):
        said = _ok(trajectbot(migrated_url, "backup", "--keep", "2", f"{directory}/"))
        written.append(said.split("Backup written: ", 1)[1].split(" (", 1)[0])
    assert len(set(written)) == 3  # never the same name twice, even within one second
    assert f"Removed the old backup {written[0]} (--keep 2)." in said
    assert sorted(str(path) for path in directory.iterdir()) == sorted(written[1:])


@pytest.mark.sqlite_only
def test_a_backup_never_overwrites_the_database_itself(migrated_url: str) -> None:
    database = Path(str(make_url(migrated_url).database))
    before = database.stat().st_size
    refused = trajectbot(migrated_url, "backup", str(database))
    assert refused.returncode == 1
    assert f"{database} is the database itself: write the backup to another file." in (
        refused.stderr
    )
    assert database.stat().st_size == before


def _limit_file_size() -> None:
    # Files may not grow past 64 KiB: what a full disk does to the copy (CPython ignores
    # SIGXFSZ, so the write fails with EFBIG instead of killing the process).
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.sqlite_only
def test_a_backup_that_cannot_be_written_keeps_the_previous_one(
    migrated_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "backups" / "nightly.db"
    _ok(trajectbot(migrated_url, "backup", str(target)))
    good = target.read_bytes()
    env = {**os.environ, "DATABASE_URL": migrated_url, "CLI_LANGUAGE": "en"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(target)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
        preexec_fn=_limit_file_size,
    )
    assert done.returncode == 2, done.stderr
    assert f"Writing {target} failed: " in done.stderr
    assert "Nothing was changed." in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_bytes() == good  # the previous backup is intact
    assert [path.name for path in target.parent.iterdir()] == ["nightly.db"]  # no leftovers


def test_a_truncated_pg_dump_archive_is_reported_damaged(tmp_path: Path) -> None:
    if shutil.which("pg_restore") is None:
        pytest.skip("no pg_restore")
    archive = tmp_path / "a.dump"
    archive.write_bytes(b"PGDMP")  # the header, and nothing after it
    url = "postgresql+asyncpg://beheer:geheim@127.0.0.1:1/nergens"
    done = trajectbot(url, "restore", str(archive), "--yes")
    assert done.returncode == 1
    assert f"{archive} is damaged: the integrity check failed. Nothing was changed." in (
        done.stderr
    )
    assert "geheim" not in done.stdout + done.stderr


@pytest.mark.postgres_only
async def test_restoring_into_a_postgresql_that_does_not_answer_says_so(
    engine: AsyncEngine, migrated_url: str, tmp_path: Path
) -> None:
    assert not _is_sqlite(migrated_url)
    await engine.dispose()
    backup = tmp_path / "b.dump"
    _ok(trajectbot(migrated_url, "backup", str(backup)))
    away = make_url(migrated_url).set(port=1, password="geheim")
    done = trajectbot(away.render_as_string(hide_password=False), "restore", str(backup), "--yes")
    assert done.returncode == 2, done.stderr
    assert "The database does not answer: " in done.stderr
    assert "Nothing was changed." in done.stderr
    assert "geheim" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
