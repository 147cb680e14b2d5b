"""Backups and restores of the database: SQLite by its online backup API, PostgreSQL by
``pg_dump`` / ``pg_restore``. Used by `trajectbot backup` / `restore` (`bot/cli_ops.py`).

SQLite: `sqlite3.Connection.backup` copies the database in one step while the app keeps
running (WAL: the copy is one read snapshot, writers are not blocked); the copy is switched
out of WAL mode (one self-contained file), checked (``PRAGMA integrity_check``), synced and
renamed into place, so a half-written backup never carries the final name.

PostgreSQL: ``pg_dump --format=custom`` into a temporary file, read back with ``pg_restore``
(the archive is complete and holds a schema revision) and renamed into place. The connection
comes from ``DATABASE_URL``; the password travels in ``PGPASSWORD`` (never on a command line,
never printed: `describe_url`).

A restore accepts a file only when it is a trajectbot database at a schema revision this code
knows (`storage/migrations`); a newer revision is refused, an older one is restored and then
migrated to the newest (what `trajectbot init` does). The database being replaced is kept
first, next to it (SQLite: ``<db>.before-restore-<time>``; PostgreSQL: a dump
``<db name>.before-restore-<time>.dump`` beside the backup file). Refused while anything
else is connected to the database.

Errors are `BackupError` subclasses carrying facts only; the CLI words them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade_database

SQLITE_HEADER = b"SQLite format 3\x00"
#: pg_dump's custom format starts with these bytes.
PG_ARCHIVE_HEADER = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass
class DatabaseMissingError(BackupError):
    """The SQLite database to back up does not exist."""

    path: Path


@dataclass
class FileMissingError(BackupError):
    """The backup file to restore does not exist."""

    path: Path


@dataclass
class NotADatabaseError(BackupError):
    """The file is neither an SQLite database nor a PostgreSQL archive that can be read."""

    path: Path


@dataclass
class WrongKindError(BackupError):
    """An SQLite file given to a PostgreSQL database or the other way round."""

    path: Path


@dataclass
class DamagedError(BackupError):
    """The integrity check failed (on a fresh copy: nothing was kept)."""

    path: Path


@dataclass
class NotTrajectbotError(BackupError):
    """A database, but without trajectbot's schema revision (``alembic_version``)."""

    path: Path


@dataclass
class NewerRevisionError(BackupError):
    """The file's schema revision is unknown to this code: made by a newer trajectbot."""

    path: Path
    revision: str


@dataclass
class CopyFailedError(BackupError):
    """Writing the copy failed (disk full, no permission, database locked too long); the
    file that was there before is untouched."""

    path: Path
    reason: str


@dataclass
class DatabaseUnreachableError(BackupError):
    """The PostgreSQL server did not answer (down, wrong address, refused login)."""

    reason: str


@dataclass
class SameFileError(BackupError):
    """The backup would be written over the database itself."""

    path: Path


class DatabaseInUseError(BackupError):
    """Another program holds the database open: stop trajectbot before restoring."""


@dataclass
class ProgramMissingError(BackupError):
    """``pg_dump`` / ``pg_restore`` is not on PATH."""

    program: str


@dataclass
class ProgramFailedError(BackupError):
    """``pg_dump`` / ``pg_restore`` answered with an error."""

    program: str
    returncode: int
    detail: str


@dataclass(frozen=True)
class BackupResult:
    """A verified backup: where, how big, at which schema revision."""

    file: Path
    size: int
    revision: str


@dataclass(frozen=True)
class RestoreCheck:
    """A backup file found fit to restore."""

    file: Path
    revision: str
    #: True when the revision is older than the code's newest: migrated after the restore.
    needs_upgrade: bool


def timestamp(now: datetime | None = None) -> str:
    """A file-name-safe UTC time stamp, e.g. ``20261203T091500Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def unused_name(path: Path) -> Path:
    """``path``, or with ``-2``, ``-3``… (before a ``.db``/``.dump`` suffix) when it exists."""
    stem, suffix = (path.stem, path.suffix) if path.suffix in (".db", ".dump") else (path.name, "")
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{stem}-{number}{suffix}")
    return candidate


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql`` (anything else: ValueError)."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise ValueError(f"no backups for the {name} backend")
    return name


def describe_url(url: str) -> str:
    """What to call the database in messages: a path, or ``user@host:port/db`` (no password)."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        return str(sqlite_path(url))
    where = f"{sa_url.host or 'localhost'}:{sa_url.port or 5432}/{sa_url.database or ''}"
    return f"{sa_url.username}@{where}" if sa_url.username else where


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite+aiosqlite:///path`` URL."""
    database = make_url(url).database or ""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database has nothing to back up")
    return Path(database).expanduser()


def _known_revisions() -> tuple[set[str], set[str]]:
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    return known, set(script.get_heads())


def _check_revision(path: Path, revision: str | None) -> RestoreCheck:
    if revision is None:
        raise NotTrajectbotError(path)
    known, heads = _known_revisions()
    if revision not in known:
        raise NewerRevisionError(path, revision)
    return RestoreCheck(path, revision, needs_upgrade=revision not in heads)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _place(temporary: Path, target: Path) -> None:
    """fsync ``temporary``, rename it to ``target`` (atomic on one file system), sync the dir."""
    with temporary.open("rb+") as handle:
        os.fsync(handle.fileno())
    temporary.replace(target)
    _fsync_directory(target.parent)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _integrity_ok(connection: sqlite3.Connection) -> bool:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return rows == [("ok",)]


def backup_sqlite(database: Path, target: Path) -> BackupResult:
    """Copy the live SQLite ``database`` to ``target``, consistently, atomically, verified."""
    if not database.is_file():
        raise DatabaseMissingError(database)
    if target.resolve() == database.resolve():
        raise SameFileError(target)
    try:
        return _backup_sqlite(database, target)
    except (sqlite3.Error, OSError) as exc:
        raise CopyFailedError(target, str(exc)) from exc


def _backup_sqlite(database: Path, target: Path) -> BackupResult:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_beside(target)
    temporary.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(database, timeout=30)
        try:
            copy = sqlite3.connect(temporary)
            try:
                # pages=-1: one step, one read snapshot; WAL lets the app write meanwhile.
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
                if not _integrity_ok(copy):
                    raise DamagedError(target)
                revision = _sqlite_revision(copy)
            finally:
                copy.close()
        finally:
            source.close()
        if revision is None:
            raise NotTrajectbotError(database)
        _place(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, revision)


def check_sqlite_backup(file: Path) -> RestoreCheck:
    """Is ``file`` an intact trajectbot SQLite database at a revision this code knows?"""
    if not file.is_file():
        raise FileMissingError(file)
    with file.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header.startswith(PG_ARCHIVE_HEADER):
        raise WrongKindError(file)
    if header != SQLITE_HEADER:
        raise NotADatabaseError(file)
    # Read-only and immutable: the check must not create a -wal beside the backup.
    connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        try:
            intact = _integrity_ok(connection)
        except sqlite3.DatabaseError:
            intact = False
        if not intact:
            raise DamagedError(file)
        revision = _sqlite_revision(connection)
    finally:
        connection.close()
    return _check_revision(file, revision)


def sqlite_in_use(database: Path) -> bool:
    """True when another connection holds ``database`` open (the app, a worker, a shell).

    An exclusive lock cannot be had while any other connection is open on a WAL database
    (each one holds a shared lock), even an idle one in a connection pool.
    """
    if not database.exists():
        return False
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("PRAGMA locking_mode=EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("SELECT count(*) FROM sqlite_master").fetchall()
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()
    return False


def restore_sqlite(
    check: RestoreCheck, database: Path, *, now: datetime | None = None
) -> Path | None:
    """Put the checked backup in place of ``database``; returns where the old one was kept.

    The old database is copied first with the backup API (so what sat in its WAL is kept
    too); then its -wal/-shm are removed (a stale WAL must never be replayed onto the restored
    file) and the backup is renamed into place.
    """
    if sqlite_in_use(database):
        raise DatabaseInUseError
    previous: Path | None = None
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        if database.exists():
            previous = unused_name(
                database.with_name(f"{database.name}.before-restore-{timestamp(now)}")
            )
            try:
                _copy_sqlite(database, previous)
            except BaseException:
                previous.unlink(missing_ok=True)
                raise
        temporary = _temporary_beside(database)
        try:
            shutil.copyfile(check.file, temporary)
            for suffix in ("-wal", "-shm", "-journal"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            _place(temporary, database)
        finally:
            temporary.unlink(missing_ok=True)
    except (sqlite3.Error, OSError) as exc:
        raise CopyFailedError(database, str(exc)) from exc
    return previous


def _copy_sqlite(database: Path, target: Path) -> None:
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()


# --- PostgreSQL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PgTarget:
    """Where ``DATABASE_URL`` points, as libpq environment variables."""

    url: URL

    @classmethod
    def from_url(cls, url: str) -> PgTarget:
        return cls(make_url(url))

    @property
    def name(self) -> str:
        return str(self.url.database or "")

    def environment(self) -> dict[str, str]:
        """The process environment plus PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE."""
        env = dict(os.environ)
        query = self.url.query
        host = self.url.host or _first(query.get("host"))
        settings = {
            "PGHOST": host,
            "PGPORT": str(self.url.port) if self.url.port else None,
            "PGUSER": self.url.username,
            "PGPASSWORD": self.url.password,
            "PGDATABASE": self.url.database,
            "PGSSLMODE": _first(query.get("sslmode")) or _ssl_mode(_first(query.get("ssl"))),
        }
        for key, value in settings.items():
            if value:
                env[key] = str(value)
        return env


def _first(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _ssl_mode(value: str | None) -> str | None:
    # asyncpg's ?ssl=… takes libpq's sslmode words, plus true/false.
    if value is None:
        return None
    return {"true": "require", "false": "disable"}.get(value.lower(), value)


def _run_program(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    program = shutil.which(args[0])
    if program is None:
        raise ProgramMissingError(args[0])
    done = subprocess.run(  # noqa: S603  (our own arguments, no shell)
        [program, *args[1:]], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ProgramFailedError(args[0], done.returncode, _last_line(done.stderr))
    return done


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def require_programs(*programs: str) -> None:
    """Raise `ProgramMissingError` for the first of ``programs`` not on PATH."""
    for program in programs:
        if shutil.which(program) is None:
            raise ProgramMissingError(program)


_COPY_REVISION = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)\n", re.M)


def _archive_revision(file: Path, env: dict[str, str]) -> str | None:
    done = _run_program(
        ["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(file)], env
    )
    found = _COPY_REVISION.search(done.stdout)
    if found is None or found.group(1) == "\\.":
        return None
    return found.group(1).strip()


def _archive_tables(file: Path, env: dict[str, str]) -> set[str]:
    done = _run_program(["pg_restore", "--list", str(file)], env)
    tables: set[str] = set()
    for line in done.stdout.splitlines():
        # e.g. "215; 1259 16390 TABLE public person postgres"
        parts = line.split()
        if len(parts) >= 6 and not line.startswith(";") and parts[3] == "TABLE":
            tables.add(parts[5])
    return tables


def backup_postgres(url: str, target: Path) -> BackupResult:
    """``pg_dump --format=custom`` of ``url`` to ``target``: atomic, read back, revision known."""
    require_programs("pg_dump", "pg_restore")
    env = PgTarget.from_url(url).environment()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_beside(target)
    temporary.unlink(missing_ok=True)
    try:
        _run_program(["pg_dump", "--format=custom", "--no-password", f"--file={temporary}"], env)
        revision = _archive_revision(temporary, env)  # reading it back checks the archive
        if revision is None:
            raise NotTrajectbotError(target)
        _place(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, revision)


def check_postgres_backup(file: Path) -> RestoreCheck:
    """Is ``file`` a readable pg_dump archive of trajectbot at a revision this code knows?"""
    if not file.is_file():
        raise FileMissingError(file)
    with file.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header == SQLITE_HEADER:
        raise WrongKindError(file)
    if not header.startswith(PG_ARCHIVE_HEADER):
        raise NotADatabaseError(file)
    require_programs("pg_restore")
    try:
        revision = _archive_revision(file, dict(os.environ))
    except ProgramFailedError as failed:
        raise DamagedError(file) from failed
    return _check_revision(file, revision)


def _reason(exc: BaseException) -> str:
    """The driver's own words, one line, no statement (and never the URL's password)."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines() or [type(original).__name__]
    return lines[0][:200]


async def postgres_in_use(url: str) -> bool:
    """True when any other session is connected to the database."""
    try:
        return await _postgres_in_use(url)
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnreachableError(_reason(exc)) from exc


async def _postgres_in_use(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            others = await connection.scalar(
                text(
                    # Client sessions only: an autovacuum worker is not "in use".
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            )
    finally:
        await engine.dispose()
    return bool(others)


async def _drop_tables_not_in(url: str, keep: set[str]) -> None:
    # pg_restore --clean drops only what the archive holds; a table made by a later migration
    # would stay and break the upgrade after restoring an older backup.
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names = (
                await connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ).all()
            for name in sorted(set(names) - keep):
                quoted = connection.dialect.identifier_preparer.quote(name)
                await connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted} CASCADE")
    finally:
        await engine.dispose()


async def restore_postgres(
    check: RestoreCheck, url: str, previous_dir: Path, *, now: datetime | None = None
) -> Path:
    """Replace the database at ``url`` by the checked archive; returns the dump of the old one."""
    require_programs("pg_dump", "pg_restore")
    if await postgres_in_use(url):
        raise DatabaseInUseError
    target = PgTarget.from_url(url)
    env = target.environment()
    previous = unused_name(previous_dir / f"{target.name}.before-restore-{timestamp(now)}.dump")
    _run_program(["pg_dump", "--format=custom", "--no-password", f"--file={previous}"], env)
    try:
        # Every table goes (the old database is in ``previous``): a table or constraint made by
        # a later migration may hang on one in the archive (a foreign key to ``person`` under
        # a newer name), and --clean, which drops only what the archive names, would fail.
        await _drop_tables_not_in(url, set())
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnreachableError(_reason(exc)) from exc
    _run_program(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={target.name}",
            str(check.file),
        ],
        env,
    )
    return previous


async def upgrade_after_restore(check: RestoreCheck, url: str) -> str | None:
    """Migrate a restored older database to the newest revision; returns it (None: no need)."""
    if not check.needs_upgrade:
        return None
    await upgrade_database(url)
    _known, heads = _known_revisions()
    return ", ".join(sorted(heads))
