"""The `trajectbot` command line: set up, fill, try and inspect the product.

Each command builds the application through the composition root (`bot.app.build_app`).
Importing this module (and `trajectbot --help`) loads only click and `dialogs.text`: every
command imports its machinery (SQLAlchemy, Alembic, pydantic-settings, Babel, aiogram,
FastAPI) when it runs, so the command line starts fast. `tests/bot/test_cli_imports.py`
keeps it so; `bench/cli_start.py` measures the start.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click

from dialogs.text import N_, Text

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
    from bot.config import Settings
    from dialogs.i18n import Catalog
    from services.accounts.importer import ImportReport
    from storage.models import StaffAccount

T = TypeVar("T")
P = ParamSpec("P")


def build_app(
    settings: Settings, *, log_level: str | None = None
) -> AbstractAsyncContextManager[App]:
    """The composition root (`bot.app.build_app`), imported only when a command runs."""
    from bot.app import build_app as build

    return build(settings, log_level=log_level)


def load_settings() -> Settings:
    """The settings (`bot.config`, pydantic-settings), imported only when a command runs."""
    from bot.config import load_settings as load

    return load()


def pass_settings(command: Callable[Concatenate[Settings, P], T]) -> Callable[P, T]:
    """Like `click.pass_obj`, but the settings are read only when the command runs.

    So `trajectbot <command> --help` reads no `.env` and imports no pydantic-settings.
    """

    @functools.wraps(command)
    def with_settings(*args: P.args, **kwargs: P.kwargs) -> T:
        return command(load_settings(), *args, **kwargs)

    return with_settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    from bot.app import DatabaseNotReadyError
    from services.kernel.errors import NotFound

    try:
        return asyncio.run(coro)
    except NotFound as missing:
        _say(load_settings(), missing.reason, err=True)
        sys.exit(1)
    except DatabaseNotReadyError:
        _say(
            load_settings(),
            Text.of(
                N_("The database is not set up (or is out of date). Run `trajectbot init` first.")
            ),
            err=True,
        )
        sys.exit(2)


def _catalog(settings: Settings) -> Catalog:
    from dialogs.i18n import Catalogs

    return Catalogs(settings.locales_path).get(settings.cli_language)


def _say(settings: Settings, text: Text, *, err: bool = False) -> None:
    click.echo(_catalog(settings).render(text), err=err)


@click.group(help="trajectbot: the assistant of the trajectvoorziening.")
def main() -> None:
    """Entry point of the console script."""


@main.command(help="Create or upgrade the database schema (Alembic migrations).")
@pass_settings
def init(settings: Settings) -> None:
    """Run every pending migration."""
    from storage.migrate import upgrade_database

    _run(upgrade_database(settings.database_url))
    _say(settings, Text.of(N_("The database is ready.")))


@main.command("demo-data", help="Fill the database with an invented demo school.")
@click.option("--if-empty", is_flag=True, help="Do nothing when a school already exists.")
@click.option(
    "--with-appointments",
    is_flag=True,
    help="Also appointment types, opening hours, the coach's hours and two trajectories.",
)
@click.option(
    "--with-surveys",
    is_flag=True,
    help="Also three closed trajectories with answered exit questionnaires.",
)
@pass_settings
def demo_data(
    settings: Settings, if_empty: bool, with_appointments: bool, with_surveys: bool
) -> None:
    """Create the demo school and print who is who."""
    from services.demo.school import create_demo_data

    async def go() -> None:
        from services.kernel.uow import run_unit_of_work

        async with build_app(settings) as app:
            summary = await run_unit_of_work(
                app.sessions,
                lambda session: create_demo_data(
                    session=session,
                    if_empty=if_empty,
                    with_appointments=with_appointments,
                    with_surveys=with_surveys,
                ),
            )
        if not summary.created:
            _say(settings, Text.of(N_("A school already exists; no demo data added.")))
            return
        _say(
            settings,
            Text.plural_of(
                "Demo school created (code “demo”) with {count} invented person: {ids}.",
                "Demo school created (code “demo”) with {count} invented people: {ids}.",
                len(summary.external_ids),
                ids=", ".join(summary.external_ids),
            ),
        )
        _say(
            settings,
            Text.of(
                N_(
                    "Try it: `trajectbot chat --as mentor1` (a mentor) and then "
                    "`trajectbot queue --as zoco` (the care coordinator)."
                )
            ),
        )
        if summary.accounts:
            _say(settings, _demo_login_text(summary.accounts))

    _run(go())


def _demo_login_text(accounts: tuple[str, ...]) -> Text:
    from services.demo.school import DEMO_PASSWORD

    return Text.of(
        N_("Web app accounts (password “{password}”): {usernames}."),
        password=Text.raw(DEMO_PASSWORD),
        usernames=Text.raw(", ".join(accounts)),
    )


@main.command("import", help="Import students, parents, mentors and their links from a CSV file.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@pass_settings
def import_people_cmd(settings: Settings, csv_file: Path, school_code: str | None) -> None:
    """All rows or none: every bad row is reported with its line number."""
    import asyncio

    from services.accounts.importer import import_people
    from services.accounts.schools import find_school
    from services.kernel.errors import ImportFailed
    from services.kernel.uow import run_unit_of_work

    async def go() -> int:
        async with build_app(settings) as app:
            content = await asyncio.to_thread(csv_file.read_text, encoding="utf-8-sig")

            async def import_rows(session: AsyncSession) -> ImportReport:
                school = await find_school(session=session, code=school_code)
                return await import_people(session=session, school_id=school.id, rows=content)

            try:
                report = await run_unit_of_work(app.sessions, import_rows)
            except ImportFailed as failed:
                _say(
                    settings,
                    Text.plural_of(
                        "Nothing was imported: {count} problem found.",
                        "Nothing was imported: {count} problems found.",
                        len(failed.errors),
                    ),
                    err=True,
                )
                for error in failed.errors:
                    _say(settings, error, err=True)
                return 1
        _say(
            settings,
            Text.of(
                N_("Imported. New: {created}. Updated: {updated}."),
                created=len(report.created),
                updated=len(report.updated),
            ),
        )
        return 0

    sys.exit(_run(go()))


@main.command(help="Talk to the bot in this terminal, as one person (no Telegram needed).")
@click.option("--as", "person", required=True, help="The person's id at the school, e.g. mentor1.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option("--lang", "language", help="Language: nl, en, ar, tr, pl or uk.")
@pass_settings
def chat(settings: Settings, person: str, school_code: str | None, language: str | None) -> None:
    """Run the same flows as in Telegram, line by line."""
    from bot.terminal import TerminalChat

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            terminal = TerminalChat(
                app,
                external_id=person,
                school_code=school_code,
                language=language,
                stdin=sys.stdin,
                stdout=sys.stdout,
            )
            return await terminal.run()

    sys.exit(_run(go()))


@main.command(help="Show the care coordinator's queue as a table.")
@click.option("--as", "person", required=True, help="The care coordinator's id at the school.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@pass_settings
def queue(settings: Settings, person: str, school_code: str | None) -> None:
    """Only a care coordinator sees the queue, and only their own school's."""
    from bot.queue_table import print_queue

    async def go() -> int:
        async with build_app(settings) as app:
            return await print_queue(
                app, external_id=person, school_code=school_code, catalog=_catalog(settings)
            )

    sys.exit(_run(go()))


@main.command(
    "survey-report",
    help="Exit questionnaire figures of a school for a period: means per question, response rate.",
)
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option(
    "--from",
    "start",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day of the period (YYYY-MM-DD).",
)
@click.option(
    "--to",
    "end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day of the period (YYYY-MM-DD), included.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for a spreadsheet instead.")
@pass_settings
def survey_report_cmd(
    settings: Settings,
    school_code: str | None,
    start: datetime,
    end: datetime,
    as_csv: bool,
) -> None:
    """Answers of questionnaires completed in the period; invitations created in it."""
    from bot.survey_table import print_survey_report

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            return await print_survey_report(
                app,
                school_code=school_code,
                start=start.date(),
                end=end.date(),
                as_csv=as_csv,
                catalog=_catalog(settings),
            )

    sys.exit(_run(go()))


@main.command(
    help="Print a personal invitation link (Telegram and web chat) and write its QR codes (PNG)."
)
@click.argument("person")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option("--role", help="The role to invite as (default: the person's main role).")
@click.option(
    "--days",
    default=14,
    show_default=True,
    type=click.IntRange(1, 60),
    help="Days the link stays valid.",
)
@pass_settings
def invite(
    settings: Settings, person: str, school_code: str | None, role: str | None, days: int
) -> None:
    """Single use, expiring, stored only as a hash: the link is shown once, here."""
    from bot.invites import make_invitation

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            return await make_invitation(
                app,
                external_id=person,
                school_code=school_code,
                role=role,
                days=days,
                catalog=_catalog(settings),
            )

    sys.exit(_run(go()))


@main.command(
    "survey-link",
    help="Print a web chat link for each open exit questionnaire of a person (no Telegram "
    "needed) and write its QR code (PNG).",
)
@click.argument("person")
@click.option("--as", "actor", required=True, help="The care coordinator's id at the school.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@pass_settings
def survey_link(settings: Settings, person: str, actor: str, school_code: str | None) -> None:
    """A new link replaces the previous one; it works until the questionnaire is sent."""
    from bot.survey_links import make_survey_links

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            return await make_survey_links(
                app,
                respondent=person,
                actor=actor,
                school_code=school_code,
                catalog=_catalog(settings),
            )

    sys.exit(_run(go()))


@main.command(help="Serve Telegram's webhook (aiohttp); needs TELEGRAM_WEBHOOK_SECRET.")
@pass_settings
def webhook(settings: Settings) -> None:
    """Webhook mode: Telegram posts updates; the secret-token header is checked."""
    if settings.telegram_bot_token is None or not settings.telegram_webhook_secret:
        _say(
            settings,
            Text.of(
                N_(
                    "Webhook mode needs TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET "
                    "(see .env.example)."
                )
            ),
            err=True,
        )
        sys.exit(2)
    from bot.telegram.webhook import serve_webhook

    _run(serve_webhook(settings))


@main.command(
    help="Run the web app, and the Telegram bot (long polling) when TELEGRAM_BOT_TOKEN is set."
)
@pass_settings
def run(settings: Settings) -> None:
    """The web app always; without a token, explain how to try the chat in the terminal."""
    with_bot = bool(
        settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value()
    )
    if not with_bot:
        _say(
            settings,
            Text.of(
                N_(
                    "No TELEGRAM_BOT_TOKEN is set, so the Telegram bot is not started.\n"
                    "Try the bot in this terminal instead:\n"
                    "  .venv/bin/trajectbot chat --as mentor1     (a mentor: make a referral)\n"
                    "  .venv/bin/trajectbot queue --as zoco       (the care coordinator's queue)\n"
                    "To use Telegram: put TELEGRAM_BOT_TOKEN in .env (see .env.example) and run "
                    "`make run` again."
                )
            ),
        )
    _serve(settings, with_bot=with_bot)


@main.command(help="Run the web app only (staff dashboard, indicators, web chat).")
@pass_settings
def web(settings: Settings) -> None:
    """The web app without the Telegram bot."""
    _serve(settings, with_bot=False)


def _serve(settings: Settings, *, with_bot: bool) -> None:
    from bot.runner import PortInUseError, serve, web_lines
    from services.demo.school import demo_accounts
    from services.kernel.uow import run_unit_of_work

    async def lines(app: App) -> list[Text]:
        found = web_lines(settings)
        accounts = await run_unit_of_work(
            app.sessions, lambda session: demo_accounts(session=session)
        )
        if accounts:
            found.append(_demo_login_text(accounts))
        else:
            found.append(
                Text.of(
                    N_(
                        "Log in with a staff account; create one with "
                        "`trajectbot staff-account create --person ID`."
                    )
                )
            )
        if with_bot:
            found.append(Text.of(N_("The Telegram bot is running (long polling).")))
        found.append(Text.of(N_("Stop with Ctrl-C.")))
        return found

    try:
        _run(
            serve(
                settings,
                with_bot=with_bot,
                announce=lambda text: _say(settings, text),
                startup_lines=lines,
            )
        )
    except PortInUseError:
        _say(
            settings,
            Text.of(
                N_(
                    "The web app cannot listen on {address}: it is in use (is trajectbot "
                    "already running?). Stop the other program or set WEB_PORT in .env."
                ),
                address=Text.raw(f"{settings.web_host}:{settings.web_port}"),
            ),
            err=True,
        )
        sys.exit(2)


@main.group("staff-account", help="Web app accounts of staff members.")
def staff_account() -> None:
    """Commands for staff accounts."""


@staff_account.command(
    "create", help="Create a web app account for a care coordinator, coach, admin or viewer."
)
@click.option("--person", "person", required=True, help="The person's id at the school.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option("--username", help="Login name (default: the person's id).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
@pass_settings
def staff_account_create(
    settings: Settings,
    person: str,
    school_code: str | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """The password is asked twice (hidden), or read from stdin; only its argon2 hash is kept."""
    from datetime import UTC, datetime

    from services.accounts.staff_accounts import (
        create_staff_account,
        find_staff_member,
        new_credentials,
        validate_password,
    )
    from services.kernel.errors import InputInvalid
    from services.kernel.uow import run_unit_of_work

    catalog = _catalog(settings)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            catalog.render(Text.of(N_("Password"))),
            hide_input=True,
            confirmation_prompt=catalog.render(Text.of(N_("The same password again"))),
        )
    problem = validate_password(password)
    if problem is not None:
        _say(settings, problem, err=True)
        sys.exit(1)

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:

            async def create(session: AsyncSession) -> StaffAccount:
                member = await find_staff_member(
                    session=session, school_code=school_code, external_id=person
                )
                return await create_staff_account(
                    session=session,
                    person=member,
                    username=credentials.username,
                    password_hash=credentials.password_hash,
                    now=datetime.now(UTC),
                )

            try:
                # The slow hash first, outside the unit of work.
                credentials = await new_credentials(username or person, password)
                account = await run_unit_of_work(app.sessions, create)
            except InputInvalid as refused:
                _say(settings, refused.reason, err=True)
                return 1
        _say(
            settings,
            Text.of(
                N_("Web account “{username}” created. Log in at {url}"),
                username=Text.raw(account.username),
                url=Text.raw(settings.web_url + "/login"),
            ),
        )
        return 0

    sys.exit(_run(go()))
