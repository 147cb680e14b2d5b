"""`trajectbot backup` and `trajectbot restore`: the database to a file and back.

The work is in `storage.backup` (SQLite's online backup API; ``pg_dump`` / ``pg_restore`` for
PostgreSQL); this module words the outcome in the CLI's language and picks the exit code:

0  done
1  the file cannot be restored: missing, not a database, not trajectbot's, damaged, of the
   other database kind, or made by a newer version (its schema revision is unknown here);
   or a backup would overwrite the database itself
2  not possible now: the database is in use, does not exist or does not answer;
   ``pg_dump``/``pg_restore`` are missing or failed; writing the copy failed (disk full,
   permissions); the upgrade after a restore failed
3  the restore was not confirmed (answer "y", or pass ``--yes``)

Registered on `bot.cli.main` by one line at the end of `bot/cli.py`. Like the rest of the CLI,
only click and `dialogs.text` are imported at module level (`tests/bot/test_cli_imports.py`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import _say, main, pass_settings
from dialogs.text import N_, Text

if TYPE_CHECKING:
    from bot.config import Settings
    from storage.backup import BackupError, BackupResult

#: Exit codes (see the module docstring).
BAD_FILE = 1
NOT_NOW = 2
NOT_CONFIRMED = 3

_PREFIX = "trajectbot-"


def _raw(value: object) -> Text:
    return Text.raw(str(value))


def _fail(settings: Settings, error: BackupError) -> None:
    """Say what went wrong, exit with its code."""
    from storage import backup as b  # noqa: PLC0415

    code = BAD_FILE
    match error:
        case b.DatabaseMissingError(path=path):
            code = NOT_NOW
            text = Text.of(
                N_(
                    "There is no database at {database}: nothing to back up "
                    "(`trajectbot init` creates it)."
                ),
                database=_raw(path),
            )
        case b.CopyFailedError(path=path, reason=reason):
            code = NOT_NOW
            text = Text.of(
                N_("Writing {file} failed: {reason}. Nothing was changed."),
                file=_raw(path),
                reason=_raw(reason),
            )
        case b.DatabaseUnreachableError(reason=reason):
            code = NOT_NOW
            text = Text.of(
                N_("The database does not answer: {reason}. Nothing was changed."),
                reason=_raw(reason),
            )
        case b.SameFileError(path=path):
            text = Text.of(
                N_("{file} is the database itself: write the backup to another file."),
                file=_raw(path),
            )
        case b.FileMissingError(path=path):
            text = Text.of(N_("{file} does not exist."), file=_raw(path))
        case b.NotADatabaseError(path=path):
            text = Text.of(
                N_(
                    "{file} is not a backup trajectbot can read (neither an SQLite database "
                    "nor a pg_dump archive). Nothing was changed."
                ),
                file=_raw(path),
            )
        case b.WrongKindError(path=path):
            text = Text.of(
                N_(
                    "{file} is a backup of the other kind of database: an SQLite file cannot "
                    "be restored into PostgreSQL, nor a pg_dump archive into SQLite. Nothing "
                    "was changed."
                ),
                file=_raw(path),
            )
        case b.DamagedError(path=path):
            text = Text.of(
                N_("{file} is damaged: the integrity check failed. Nothing was changed."),
                file=_raw(path),
            )
        case b.NotTrajectbotError(path=path):
            text = Text.of(
                N_(
                    "{file} is a database, but not trajectbot's (it has no schema revision). "
                    "Nothing was changed."
                ),
                file=_raw(path),
            )
        case b.NewerRevisionError(path=path, revision=revision):
            text = Text.of(
                N_(
                    "{file} has schema revision {revision}, which this version of trajectbot "
                    "does not know: it was made by a newer version. Upgrade trajectbot first, "
                    "then restore. Nothing was changed."
                ),
                file=_raw(path),
                revision=_raw(revision),
            )
        case b.DatabaseInUseError():
            code = NOT_NOW
            text = Text.of(
                N_(
                    "The database is in use: stop trajectbot first (the service, `trajectbot "
                    "run`, `web` or `webhook`, and any other program that has it open). "
                    "Nothing was changed."
                )
            )
        case b.ProgramMissingError(program=program):
            code = NOT_NOW
            text = Text.of(
                N_(
                    "{program} is not installed or not on PATH: install the PostgreSQL client "
                    "programs (Debian/Ubuntu: apt install postgresql-client) to back up or "
                    "restore a PostgreSQL database."
                ),
                program=_raw(program),
            )
        case b.ProgramFailedError(program=program, returncode=returncode, detail=detail):
            code = NOT_NOW
            text = Text.of(
                N_("{program} failed (exit code {code}): {detail}"),
                program=_raw(program),
                code=_raw(returncode),
                detail=_raw(detail),
            )
        case _:
            raise error
    _say(settings, text, err=True)
    sys.exit(code)


def _backup_file(target: Path, backend: str) -> Path:
    """``target`` itself, or a time-stamped file inside it when it is a directory (one that
    exists, or one named with a trailing slash: made)."""
    from storage.backup import timestamp, unused_name  # noqa: PLC0415

    if not target.is_dir():
        return target
    suffix = ".db" if backend == "sqlite" else ".dump"
    return unused_name(target / f"{_PREFIX}{timestamp()}{suffix}")


def _prune(settings: Settings, directory: Path, keep: int) -> None:
    """Keep the ``keep`` newest time-stamped backups this command wrote in ``directory``."""
    ours = sorted(
        (
            path
            for path in directory.iterdir()
            if path.is_file() and path.name.startswith(_PREFIX) and path.suffix in (".db", ".dump")
        ),
        key=lambda path: (path.stat().st_mtime_ns, path.name),  # oldest first
    )
    for old in ours[: max(len(ours) - keep, 0)]:
        old.unlink()
        _say(
            settings,
            Text.of(
                N_("Removed the old backup {file} (--keep {keep})."),
                file=_raw(old),
                keep=_raw(keep),
            ),
        )


@main.command(
    help=(
        "Back up the database to FILE while the app keeps running; the copy is checked. A "
        "directory (existing, or written with a trailing slash) gets a time-stamped file."
    )
)
@click.argument("target", metavar="FILE", type=click.Path())
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="With a directory: keep only this many newest backups there.",
)
@pass_settings
def backup(settings: Settings, target: str, keep: int | None) -> None:
    """SQLite: online backup API; PostgreSQL: pg_dump --format=custom."""
    from storage import backup as b  # noqa: PLC0415

    kind = b.backend(settings.database_url)
    directory = Path(target)
    result: BackupResult
    try:
        if target.endswith(("/", os.sep)):
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise b.CopyFailedError(directory, exc.strerror or str(exc)) from exc
        file = _backup_file(directory, kind)
        if kind == "sqlite":
            result = b.backup_sqlite(b.sqlite_path(settings.database_url), file)
        else:
            result = b.backup_postgres(settings.database_url, file)
    except b.BackupError as error:
        _fail(settings, error)
        return
    _say(
        settings,
        Text.of(
            N_(
                "Backup written: {file} ({size} bytes, schema revision {revision}, "
                "integrity checked)."
            ),
            file=_raw(result.file),
            size=_raw(result.size),
            revision=_raw(result.revision),
        ),
    )
    if keep is not None and directory.is_dir():
        _prune(settings, directory, keep)


@main.command(
    help=(
        "Replace the database with the backup FILE (stop trajectbot first). The current "
        "database is kept beside it; an older backup is upgraded to the newest schema."
    )
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_settings
def restore(settings: Settings, file: Path, yes: bool) -> None:
    """Check the file, confirm, keep the current database, put the backup in place, upgrade."""
    import asyncio  # noqa: PLC0415

    from dialogs.i18n import Catalogs  # noqa: PLC0415
    from storage import backup as b  # noqa: PLC0415

    kind = b.backend(settings.database_url)
    database = b.describe_url(settings.database_url)
    try:
        if kind == "sqlite":
            check = b.check_sqlite_backup(file)
            in_use = b.sqlite_in_use(b.sqlite_path(settings.database_url))
        else:
            check = b.check_postgres_backup(file)
            b.require_programs("pg_dump", "pg_restore")
            in_use = asyncio.run(b.postgres_in_use(settings.database_url))
        if in_use:
            raise b.DatabaseInUseError
    except b.BackupError as error:
        _fail(settings, error)
        return
    if not yes:
        question = (
            Catalogs(settings.locales_path)
            .get(settings.cli_language)
            .render(
                Text.of(
                    N_(
                        "Replace the database {database} with {file} (schema revision "
                        "{revision})? The current database is kept beside it."
                    ),
                    database=_raw(database),
                    file=_raw(file),
                    revision=_raw(check.revision),
                )
            )
        )
        try:
            confirmed = click.confirm(question, default=False, err=True)
        except click.Abort:  # end of input, Ctrl-C
            click.echo(err=True)
            confirmed = False
        if not confirmed:
            _say(settings, Text.of(N_("Nothing was restored (confirm with --yes).")), err=True)
            sys.exit(NOT_CONFIRMED)
    try:
        if kind == "sqlite":
            previous = b.restore_sqlite(check, b.sqlite_path(settings.database_url))
        else:
            previous = asyncio.run(
                b.restore_postgres(check, settings.database_url, file.resolve().parent)
            )
    except b.BackupError as error:
        _fail(settings, error)
        return
    _say(
        settings,
        Text.of(N_("Restored {file} into {database}."), file=_raw(file), database=_raw(database)),
    )
    if previous is not None:
        _say(
            settings,
            Text.of(N_("The previous database is kept as {previous}."), previous=_raw(previous)),
        )
    try:
        upgraded_to = asyncio.run(b.upgrade_after_restore(check, settings.database_url))
    except Exception:  # any migration failure: say what to do, no traceback
        _say(
            settings,
            Text.of(
                N_(
                    "The backup was restored, but upgrading it to the newest schema failed: "
                    "run `trajectbot init` to see why."
                )
            ),
            err=True,
        )
        sys.exit(NOT_NOW)
    if upgraded_to is not None:
        _say(
            settings,
            Text.of(
                N_(
                    "The backup had schema revision {old}; it was upgraded to {new}, as "
                    "`trajectbot init` does."
                ),
                old=_raw(check.revision),
                new=_raw(upgraded_to),
            ),
        )
