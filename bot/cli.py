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
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click

from bot.cli_guard import GuardedGroup
from dialogs.text import N_, Text

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.app import App
    from bot.config import Settings
    from dialogs.i18n import Catalog
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


@click.group(cls=GuardedGroup, help="trajectbot: the assistant of the trajectvoorziening.")
def main() -> None:
    """Entry point of the console script."""


@main.command(help="Create or upgrade the database schema (Alembic migrations).")
@pass_settings
def init(settings: Settings) -> None:
    """Run every pending migration."""
    from bot.app import database_reachable
    from storage.migrate import upgrade_database

    with database_reachable():
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
    _serve(settings, with_bot=with_bot, with_outbox=True)


@main.command(help="Run the web app only (staff dashboard, indicators, web chat).")
@pass_settings
def web(settings: Settings) -> None:
    """The web app without the Telegram bot."""
    _serve(settings, with_bot=False)


def _serve(settings: Settings, *, with_bot: bool, with_outbox: bool = False) -> None:
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
                with_outbox=with_outbox or with_bot,
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
    )
    from services.kernel.errors import InputInvalid
    from services.kernel.uow import run_unit_of_work

    password = _read_password(settings, from_stdin=password_stdin)

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


def _read_password(settings: Settings, *, from_stdin: bool) -> str:
    """A new password: the first line of stdin, or asked twice (hidden); exits 1 when weak."""
    from services.accounts.staff_accounts import validate_password

    catalog = _catalog(settings)
    if from_stdin:
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
    return password


def _parsed(settings: Settings, value: T | Text) -> T:
    """A parsed value, or the problem printed and exit status 1."""
    if isinstance(value, Text):
        from bot.school_setup import refuse

        sys.exit(refuse(_catalog(settings), [value]))
    return value


@main.group(help="A real school: create it (with its first administrator).")
def school() -> None:
    """Commands for schools."""


@school.command(
    "create",
    help="Create a school on an empty (or shared) database, with its first administrator and "
    "their web account; the region's school holidays become closed days.",
)
@click.option("--code", required=True, help="Short code, e.g. de-linde (lowercase, digits, -).")
@click.option("--name", required=True, help="The school's name.")
@click.option(
    "--timezone", default="Europe/Amsterdam", show_default=True, help="The school's time zone."
)
@click.option("--region", required=True, help="School-holiday region: noord, midden or zuid.")
@click.option("--admin", "admin_id", required=True, help="The administrator's id at the school.")
@click.option("--admin-given-name", required=True, help="The administrator's given name.")
@click.option("--admin-family-name", required=True, help="The administrator's family name.")
@click.option("--admin-language", default="nl", show_default=True, help="nl, en, ar, tr, pl, uk.")
@click.option("--username", help="Login name (default: the administrator's id).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
@pass_settings
def school_create(
    settings: Settings,
    *,
    code: str,
    name: str,
    timezone: str,
    region: str,
    admin_id: str,
    admin_given_name: str,
    admin_family_name: str,
    admin_language: str,
    username: str | None,
    password_stdin: bool,
) -> None:
    """The school, its admin (a person with the admin role) and the admin's web account."""
    from bot.school_setup import refuse, run_school_create
    from services.accounts.staff_accounts import new_credentials
    from services.kernel.errors import InputInvalid
    from services.settings.rules import parse_region
    from services.settings.school import FirstAdmin

    chosen = _parsed(settings, parse_region(region))
    password = _read_password(settings, from_stdin=password_stdin)

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            try:
                credentials = await new_credentials(username or admin_id, password)
            except InputInvalid as refused:
                return refuse(_catalog(settings), [refused.reason])
            return await run_school_create(
                app,
                catalog=_catalog(settings),
                code=code,
                name=name,
                timezone=timezone,
                region=chosen,
                admin=FirstAdmin(admin_id, admin_given_name, admin_family_name, admin_language),
                credentials=credentials,
                web_url=settings.web_url,
            )

    sys.exit(_run(go()))


@main.group(
    "settings",
    help="A school's settings: appointment types, opening hours, closed days, coaches' hours, "
    "booking rules. Every change applies to the next booking.",
)
def settings_group() -> None:
    """Commands for a school's settings."""


_SCHOOL_OPTION = click.option(
    "--school", "school_code", help="School code (may be left out if there is one)."
)


def _setting(settings: Settings, school_code: str | None, work: Any) -> None:
    from bot.school_setup import run_setting

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            return await run_setting(
                app, catalog=_catalog(settings), school_code=school_code, work=work
            )

    sys.exit(_run(go()))


@settings_group.command("show", help="Print the school's settings.")
@_SCHOOL_OPTION
@pass_settings
def settings_show(settings: Settings, school_code: str | None) -> None:
    """Types, hours, booking rules, coaches' hours and the coming closed days."""
    from bot.school_setup import print_settings

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            return await print_settings(app, catalog=_catalog(settings), school_code=school_code)

    sys.exit(_run(go()))


def _roles(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


@settings_group.command(
    "type", help="Change an appointment type (intake, gesprek, time_out, evaluation)."
)
@click.argument("kind", type=click.Choice(["intake", "gesprek", "time_out", "evaluation"]))
@_SCHOOL_OPTION
@click.option("--duration", type=int, help="Minutes.")
@click.option("--step", type=int, help="Minutes between possible start times.")
@click.option("--buffer", type=int, help="Minutes after it that count as busy.")
@click.option("--capacity", type=int, help="Places (time-out room); 1 for a coach.")
@click.option("--bookable-by", help="Who books: student,parent,care_coordinator,coach.")
@click.option("--attendees", help="Who attends: student,parent,mentor,coach.")
@click.option("--lead-time", type=int, help="Minimum notice in minutes for this type.")
@click.option("--school-lead-time", is_flag=True, help="Use the school's lead time instead.")
@click.option("--active/--inactive", default=None, help="Offered or not.")
@pass_settings
def settings_type(
    settings: Settings,
    *,
    kind: str,
    school_code: str | None,
    duration: int | None,
    step: int | None,
    buffer: int | None,
    capacity: int | None,
    bookable_by: str | None,
    attendees: str | None,
    lead_time: int | None,
    school_lead_time: bool,
    active: bool | None,
) -> None:
    """Unspecified values stay as they are."""
    from services.settings.changes import TypeChange, set_appointment_type
    from storage.models import AppointmentKind

    change = TypeChange(
        duration_minutes=duration,
        step_minutes=step,
        buffer_minutes=buffer,
        capacity=capacity,
        bookable_by=_roles(bookable_by),
        attendees=_roles(attendees),
        lead_time_minutes=lead_time,
        school_lead_time=school_lead_time,
        active=active,
    )

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        await set_appointment_type(
            session=session,
            school_id=school_id,
            actor=None,
            kind=AppointmentKind(kind),
            change=change,
            now=now,
        )
        return [Text.of(N_("Appointment type “{kind}” saved."), kind=Text.raw(kind))]

    _setting(settings, school_code, work)


@settings_group.command(
    "hours", help="Opening hours of one weekday: `hours mon 08:30-16:30`, or `hours sat closed`."
)
@click.argument("weekday")
@click.argument("hours")
@_SCHOOL_OPTION
@pass_settings
def settings_hours(settings: Settings, weekday: str, hours: str, school_code: str | None) -> None:
    """No hours: the trajectvoorziening is closed that weekday."""
    from services.settings.changes import set_opening_hours
    from services.settings.rules import parse_span, parse_weekday

    day = _parsed(settings, parse_weekday(weekday))
    span = None if hours.strip().lower() == "closed" else _parsed(settings, parse_span(hours))

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        await set_opening_hours(
            session=session, school_id=school_id, actor=None, weekday=day, hours=span, now=now
        )
        return [Text.of(N_("Opening hours saved."))]

    _setting(settings, school_code, work)


@settings_group.command(
    "closed-day",
    help="Close days (`closed-day add 2026-11-20 --label Studiedag`) or open them again "
    "(`closed-day remove 2026-11-20`); --to for a range.",
)
@click.argument("action", type=click.Choice(["add", "remove"]))
@click.argument("first")
@click.option("--to", "last", help="Last day of a range (YYYY-MM-DD), included.")
@click.option("--label", help="What the day is, e.g. Studiedag.")
@_SCHOOL_OPTION
@pass_settings
def settings_closed_day(
    settings: Settings,
    *,
    action: str,
    first: str,
    last: str | None,
    label: str | None,
    school_code: str | None,
) -> None:
    """Bookings already made on a closed day stay; new ones are refused."""
    from services.settings.changes import add_closed_days, remove_closed_days
    from services.settings.rules import parse_date

    start = _parsed(settings, parse_date(first))
    end = _parsed(settings, parse_date(last)) if last else start

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        if action == "add":
            count = await add_closed_days(
                session=session,
                school_id=school_id,
                actor=None,
                start=start,
                end=end,
                label=label,
                now=now,
            )
            return [
                Text.plural_of("{count} day closed.", "{count} days closed.", count),
            ]
        count = await remove_closed_days(
            session=session, school_id=school_id, actor=None, start=start, end=end, now=now
        )
        return [Text.plural_of("{count} day open again.", "{count} days open again.", count)]

    _setting(settings, school_code, work)


@settings_group.command(
    "holidays", help="Close the school on the coming school holidays of its region (shipped data)."
)
@click.option("--region", help="noord, midden or zuid (default: the school's).")
@click.option("--school-year", help="Only this school year, e.g. 2027-2028 (default: all coming).")
@_SCHOOL_OPTION
@pass_settings
def settings_holidays(
    settings: Settings, region: str | None, school_year: str | None, school_code: str | None
) -> None:
    """Days already closed stay; the region becomes the school's."""
    from bot.school_setup import unchecked_line
    from services.settings.changes import install_holidays
    from services.settings.rules import parse_region
    from services.settings.school import school_zone
    from storage.models import School

    chosen = _parsed(settings, parse_region(region)) if region else None

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        from services.kernel.errors import InputInvalid
        from services.settings.rules import Region

        found = await session.get_one(School, school_id)
        target = chosen or (Region(found.region) if found.region else None)
        if target is None:
            raise InputInvalid(Text.of(N_("The school has no region yet: give --region.")))
        done = await install_holidays(
            session=session,
            school_id=school_id,
            actor=None,
            region=target,
            today=now.astimezone(school_zone(found)).date(),
            now=now,
            school_year=school_year,
        )
        return [
            Text.plural_of(
                "{count} closed day added from the school holidays of the region.",
                "{count} closed days added from the school holidays of the region.",
                done.added,
            ),
            *unchecked_line(done.unchecked_years),
        ]

    _setting(settings, school_code, work)


@settings_group.command(
    "coach-hours",
    help="A coach's hours for appointments on one weekday: `coach-hours coach1 mon 09:00-12:00 "
    "13:00-16:00`; no spans: not available that day.",
)
@click.argument("coach")
@click.argument("weekday")
@click.argument("spans", nargs=-1)
@_SCHOOL_OPTION
@pass_settings
def settings_coach_hours(
    settings: Settings, coach: str, weekday: str, spans: tuple[str, ...], school_code: str | None
) -> None:
    """The spans replace the coach's hours of that weekday."""
    from services.settings.changes import find_coach, set_coach_hours
    from services.settings.rules import parse_span, parse_weekday

    day = _parsed(settings, parse_weekday(weekday))
    parsed = [_parsed(settings, parse_span(span)) for span in spans]

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        person = await find_coach(session=session, school_id=school_id, external_id=coach)
        await set_coach_hours(
            session=session,
            school_id=school_id,
            actor=None,
            coach=person,
            weekday=day,
            spans=parsed,
            now=now,
        )
        return [Text.of(N_("Hours of “{id}” saved."), id=Text.raw(coach))]

    _setting(settings, school_code, work)


@settings_group.command(
    "booking", help="The school's booking rules and the time-out cap for new trajectories."
)
@click.option("--lead-time", type=int, help="Minimum notice in minutes (types without their own).")
@click.option("--late-cancel-hours", type=int, help="A cancellation closer than this is late.")
@click.option("--horizon-days", type=int, help="How many days ahead can be booked.")
@click.option("--reminder-hour", type=int, help="Hour of the day-before reminder (0-23).")
@click.option("--timeouts-per-week", type=int, help="Time-out cap a new trajectory starts with.")
@_SCHOOL_OPTION
@pass_settings
def settings_booking(
    settings: Settings,
    *,
    lead_time: int | None,
    late_cancel_hours: int | None,
    horizon_days: int | None,
    reminder_hour: int | None,
    timeouts_per_week: int | None,
    school_code: str | None,
) -> None:
    """Unspecified values stay as they are."""
    from services.settings.changes import BookingChange, set_booking_settings

    change = BookingChange(
        lead_time_minutes=lead_time,
        late_cancel_hours=late_cancel_hours,
        horizon_days=horizon_days,
        day_reminder_hour=reminder_hour,
        timeouts_per_week=timeouts_per_week,
    )

    async def work(session: AsyncSession, school_id: int, now: datetime) -> list[Text]:
        await set_booking_settings(
            session=session, school_id=school_id, actor=None, change=change, now=now
        )
        return [Text.of(N_("Booking rules saved."))]

    _setting(settings, school_code, work)


# Commands kept in modules of their own, registered after every command above.
import bot.cli_ops  # noqa: E402  (registers `backup` and `restore` on main)
from bot.cli_email import register as _register_email  # noqa: E402
from bot.cli_exports import export  # noqa: E402
from bot.cli_import import import_cmd  # noqa: E402
from bot.cli_invites import invite  # noqa: E402
from bot.cli_websettings import login_link  # noqa: E402

main.add_command(export)
main.add_command(import_cmd)
main.add_command(invite)
staff_account.add_command(login_link)
_register_email(main)  # contact, email, outbox
import bot.cli_absence  # noqa: E402  (registers `absence` on main)
import bot.cli_outbox  # noqa: E402, F401  (adds list, retry, cancel to `outbox`)
import bot.cli_privacy as _privacy  # noqa: E402, F401  (registers `privacy` on main)
