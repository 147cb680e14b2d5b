"""Command-line commands of the e-mail channel: contact details, bounces, waiting notices.

``trajectbot contact set EXTERNAL_ID --email … --prefer email|telegram|auto [--school CODE]``,
``trajectbot contact show EXTERNAL_ID``, ``trajectbot email bounce ADDRESS`` and
``trajectbot outbox waiting``. Registered on `bot.cli.main` by `register`. Like `bot.cli`,
this module imports only click and `dialogs.text` at the top; the machinery is imported when a
command runs.
"""

# ruff: noqa: PLC0415 - lazy imports keep `trajectbot --help` fast (as in bot/cli.py)

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

import click

from dialogs.text import N_, Text

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from services.accounts.contacts import ContactDetails
    from services.outbox.store import WaitingCount

__all__ = ["register"]

T = TypeVar("T")


def register(main: click.Group) -> None:
    """Add this module's command groups to the ``trajectbot`` command."""
    main.add_command(contact_group)
    main.add_command(email_group)
    main.add_command(outbox_group)


def _settings() -> Settings:
    from bot.config import load_settings

    return load_settings()


def _say(settings: Settings, text: Text, *, err: bool = False) -> None:
    from dialogs.i18n import Catalogs

    click.echo(Catalogs(settings.locales_path).get(settings.cli_language).render(text), err=err)


def _now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def _unit(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from bot.app import build_app
    from services.kernel.uow import run_unit_of_work

    async with build_app(settings, log_level="WARNING") as app:
        return await run_unit_of_work(app.sessions, work)


def _execute(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` as one unit of work; a refusal is printed translated (exit 1)."""
    from bot.cli import _run
    from services.kernel.errors import InputInvalid, NotAllowed

    try:
        return _run(_unit(settings, work))
    except (InputInvalid, NotAllowed) as refused:
        _say(settings, refused.reason, err=True)
        sys.exit(1)


# --- contact ---------------------------------------------------------------------------------


@click.group("contact", help="A person's contact channels: e-mail address and preference.")
def contact_group() -> None:
    """Contact details."""


_PREFER = click.Choice(["email", "telegram", "auto"])


@contact_group.command("set", help="Set a person's e-mail address and/or preferred channel.")
@click.argument("external_id")
@click.option("--email", "email", default=None, help='The address ("" removes it).')
@click.option("--prefer", "prefer", type=_PREFER, default=None, help="The preferred channel.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
def contact_set(
    external_id: str, email: str | None, prefer: str | None, school_code: str | None
) -> None:
    """Audited; a new address clears a bounce mark."""
    from services.accounts.contacts import KEEP, find_person, set_contact
    from services.accounts.schools import find_school

    settings = _settings()
    if email is None and prefer is None:
        _say(settings, Text.of(N_("Nothing to change: give --email and/or --prefer.")), err=True)
        sys.exit(2)

    async def work(session: AsyncSession) -> ContactDetails:
        school = await find_school(session=session, code=school_code)
        person = await find_person(session=session, school_id=school.id, external_id=external_id)
        return await set_contact(
            session=session,
            actor=None,
            person_id=person.id,
            email=KEEP if email is None else email,
            preference=KEEP if prefer is None else prefer,
            now=_now(),
        )

    details = _execute(settings, work)
    _say(settings, Text.of(N_("Contact details saved.")))
    _show(settings, details)


@contact_group.command("show", help="Show a person's contact channels.")
@click.argument("external_id")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
def contact_show(external_id: str, school_code: str | None) -> None:
    """E-mail address, its bounce mark, the preference and whether Telegram is linked."""
    from services.accounts.contacts import ContactDetails, find_person
    from services.accounts.schools import find_school

    settings = _settings()

    async def work(session: AsyncSession) -> ContactDetails:
        school = await find_school(session=session, code=school_code)
        person = await find_person(session=session, school_id=school.id, external_id=external_id)
        return ContactDetails(
            person_id=person.id,
            email=person.email,
            email_unreachable=person.email_unreachable_at is not None,
            preference=person.channel_preference or "auto",
            telegram_linked=person.telegram_chat_id is not None,
        )

    _show(settings, _execute(settings, work))


def _show(settings: Settings, details: ContactDetails) -> None:
    yes, no = Text.of(N_("yes")), Text.of(N_("no"))
    email: Text = Text.raw(details.email) if details.email else Text.of(N_("(none)"))
    if details.email and details.email_unreachable:
        email = Text.of(N_("{email} (refused or bounced: not used)"), email=email)
    _say(settings, Text.of(N_("  E-mail: {email}"), email=email))
    _say(
        settings,
        Text.of(N_("  Telegram linked: {linked}"), linked=yes if details.telegram_linked else no),
    )
    _say(
        settings,
        Text.of(N_("  Preferred channel: {preference}"), preference=Text.raw(details.preference)),
    )


# --- email -----------------------------------------------------------------------------------


@click.group("email", help="The e-mail channel.")
def email_group() -> None:
    """E-mail."""


@email_group.command(
    "bounce", help="Record a bounce for ADDRESS: stop using it and tell the care coordinators."
)
@click.argument("address")
def email_bounce(address: str) -> None:
    """For a bounce that arrives after the SMTP server accepted the message."""
    from services.accounts.contacts import normalize_email
    from services.outbox.store import record_email_bounce

    settings = _settings()

    async def work(session: AsyncSession) -> list[int]:
        cleaned = normalize_email(address)
        if cleaned is None:
            return []
        return await record_email_bounce(session=session, address=cleaned, now=_now())

    marked = _execute(settings, work)
    if not marked:
        _say(
            settings,
            Text.of(N_("Nobody has this address, or it was already marked as not working.")),
        )
        return
    _say(
        settings,
        Text.plural_of(
            "The address is marked as not working for {count} person; their care "
            "coordinators are told. A new address clears the mark (`trajectbot contact set`).",
            "The address is marked as not working for {count} people; their care "
            "coordinators are told. A new address clears the mark (`trajectbot contact set`).",
            len(marked),
        ),
    )


# --- outbox ----------------------------------------------------------------------------------


@click.group("outbox", help="The outbox: notices waiting to be sent.")
def outbox_group() -> None:
    """Outbox."""


@outbox_group.command(
    "waiting",
    help="Count the notices waiting for a channel that is not configured here (.env).",
)
def outbox_waiting() -> None:
    """Per kind: how many notices wait, and for which channel (counts only, no names)."""
    from services.outbox.channels import Channel
    from services.outbox.store import count_waiting

    settings = _settings()
    configured = [
        channel
        for channel, present in (
            (Channel.TELEGRAM, settings.telegram_configured),
            (Channel.EMAIL, settings.smtp_configured),
        )
        if present
    ]

    async def work(session: AsyncSession) -> list[WaitingCount]:
        return await count_waiting(session=session, configured=configured)

    counts = _execute(settings, work)
    if not counts:
        _say(settings, Text.of(N_("No notices are waiting for a channel.")))
        return
    for count in counts:
        _say(
            settings,
            Text.of(
                N_("{count} × {kind}: waiting for {channel}"),
                count=Text.raw(count.count),
                kind=Text.raw(count.kind),
                channel=Text.raw(count.waiting_for),
            ),
        )
    if any(count.waiting_for == "email" for count in counts):
        _say(
            settings,
            Text.of(
                N_(
                    "E-mail is not configured: set SMTP_HOST and SMTP_FROM in .env (see "
                    ".env.example) and restart `trajectbot run`; the waiting notices then go."
                )
            ),
        )
    if any(count.waiting_for == "telegram" for count in counts):
        _say(
            settings,
            Text.of(
                N_(
                    "Telegram is not configured: set TELEGRAM_BOT_TOKEN in .env and restart "
                    "`trajectbot run`; the waiting notices then go."
                )
            ),
        )
