"""Personal invitation links (`trajectbot invite`): Telegram deep link, web chat link and their
QR codes for one person."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import segno
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.invites import create_invite
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.kernel.uow import run_unit_of_work
from storage.models import PersonRole, Role

#: Which role an invitation is for when none is named: the one with the most to do in chat.
ROLE_PRIORITY = (
    Role.CARE_COORDINATOR,
    Role.COACH,
    Role.MENTOR,
    Role.TEACHER,
    Role.ADMIN,
    Role.PARENT,
    Role.STUDENT,
)


async def bot_username(app: App) -> str | None:
    """The bot's @username: from settings, else asked from Telegram (needs the token)."""
    if app.settings.telegram_bot_username:
        return app.settings.telegram_bot_username.lstrip("@")
    if app.settings.telegram_bot_token is None:
        return None
    from bot.telegram.dispatcher import create_bot  # noqa: PLC0415 - aiogram only when needed

    bot = create_bot(app)
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    return me.username


async def make_invitation(
    app: App,
    *,
    external_id: str,
    school_code: str | None,
    role: str | None,
    days: int,
    catalog: Catalog,
) -> int:
    """Create the invite, print its links and write their QR codes; returns an exit status.

    One token, two doors: the Telegram deep link (when the bot's username is known) and the
    web chat's ``WEB_BASE_URL/c/<token>``. Whichever is opened first uses the invitation.
    """
    username = await bot_username(app)
    if not username:
        # The web chat needs no Telegram: the invitation still works in a browser.
        click.echo(
            catalog.render(
                Text.of(
                    N_(
                        "Set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN) to get a Telegram "
                        "link as well."
                    )
                )
            ),
            err=True,
        )
    now = datetime.now(UTC)

    async def invite(session: AsyncSession) -> str | Text:
        # The invitation's token, or why there is none.
        school = await find_school(session=session, code=school_code)
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        if person is None:
            return Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id))
        wanted = _role(person.roles, role)
        if wanted is None:
            return Text.of(N_("This person does not have that role."))
        return await create_invite(
            session=session, person=person, role=wanted, ttl=timedelta(days=days), now=now
        )

    outcome = await run_unit_of_work(app.sessions, invite)
    if isinstance(outcome, Text):
        click.echo(catalog.render(outcome), err=True)
        return 1
    token = outcome
    web_link = f"{app.settings.web_url}/c/{token}"
    qr_codes = [(web_link, app.settings.invites_dir / f"{external_id}-web.png")]
    if username:
        telegram_link = f"https://t.me/{username}?start={token}"
        qr_codes.insert(0, (telegram_link, app.settings.invites_dir / f"{external_id}.png"))
    for link, path in qr_codes:
        await asyncio.to_thread(write_qr, link, path)
    paths = [path for _link, path in qr_codes]
    if username:
        click.echo(catalog.render(Text.of(N_("Telegram: {link}"), link=Text.raw(telegram_link))))
    click.echo(catalog.render(Text.of(N_("Web chat: {link}"), link=Text.raw(web_link))))
    click.echo(
        catalog.render(
            Text.of(
                N_("QR code: {path}. The link works once and is valid until {date}."),
                path=Text.raw(tuple(Text.raw(str(path)) for path in paths)),
                date=now + timedelta(days=days),
            )
        )
    )
    if username:
        click.echo(
            catalog.render(
                Text.of(
                    N_(
                        "Both links are the same invitation: it works once, in Telegram or "
                        "in the browser."
                    )
                )
            )
        )
    return 0


def _role(held: Sequence[PersonRole], wanted: str | None) -> Role | None:
    roles = {r.role for r in held}
    if wanted is not None:
        try:
            choice = Role(wanted)
        except ValueError:
            return None
        return choice if choice in roles else None
    return next((r for r in ROLE_PRIORITY if r in roles), None)


def write_qr(link: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(link, error="m").save(str(path), scale=8, border=4)


def _smtp_warning(app: App, catalog: Catalog) -> None:
    if not app.settings.smtp_configured:
        click.echo(
            catalog.render(
                Text.of(
                    N_(
                        "E-mail is not set up (SMTP_HOST, SMTP_FROM): the invitations wait "
                        "until it is."
                    )
                )
            ),
            err=True,
        )


_NOT_SENDABLE = {
    "ended": N_("This person has left the school: no invitation is sent."),
    "no_email": N_(
        "This person has no e-mail address. Add one with “trajectbot contact set”, or print "
        "the link (without --send)."
    ),
    "email_unreachable": N_(
        "This person's e-mail address does not work. Set a new one with “trajectbot contact "
        "set”, or print the link (without --send)."
    ),
    "no_role": N_("This person does not have that role."),
}


async def send_invitation_by_email(
    app: App,
    *,
    external_id: str,
    school_code: str | None,
    role: str | None,
    days: int,
    catalog: Catalog,
) -> int:
    """``trajectbot invite PERSON --send``: the invitation as an outbox row sent by e-mail.

    The e-mail carries this invitation's web chat link (`services.outbox.invitations`);
    nothing is printed but the outcome. Returns an exit status.
    """
    from services.outbox.invitations import SentInvitation, send_invitation  # noqa: PLC0415

    now = datetime.now(UTC)

    async def work(session: AsyncSession) -> SentInvitation | Text:
        school = await find_school(session=session, code=school_code)
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        if person is None:
            return Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id))
        wanted = _role(person.roles, role)
        if wanted is None:
            return Text.of(N_("This person does not have that role."))
        outcome = await send_invitation(
            session=session, person=person, role=wanted, ttl=timedelta(days=days), now=now
        )
        if isinstance(outcome, SentInvitation):
            return outcome
        return Text.of(_NOT_SENDABLE[outcome.value])

    outcome = await run_unit_of_work(app.sessions, work)
    if isinstance(outcome, Text):
        click.echo(catalog.render(outcome), err=True)
        return 1
    _smtp_warning(app, catalog)
    click.echo(
        catalog.render(
            Text.of(
                N_(
                    "The invitation goes by e-mail to the address the school has, sent by "
                    "`trajectbot run`. Its link works once and is valid until {date}."
                ),
                date=outcome.expires_at,
            )
        )
    )
    return 0


#: Parents invited per unit of work in a bulk run (short transactions: logins go on).
BULK_BATCH = 100


async def send_parent_invitations(
    app: App,
    *,
    school_code: str | None,
    days: int,
    not_invited_days: int,
    catalog: Catalog,
) -> int:
    """``trajectbot invite --all-parents-without-telegram --send``: counts only, audited once."""
    from services.outbox.invitations import (  # noqa: PLC0415
        InvitationPlan,
        plan_parent_invitations,
        record_bulk_invitations,
        send_invitations,
    )

    now = datetime.now(UTC)

    async def plan_work(session: AsyncSession) -> tuple[int, InvitationPlan]:
        school = await find_school(session=session, code=school_code)
        plan = await plan_parent_invitations(
            session=session, school_id=school.id, not_invited_days=not_invited_days, now=now
        )
        return school.id, plan

    school_id, plan = await run_unit_of_work(app.sessions, plan_work)
    sent = 0
    for start in range(0, len(plan.candidates), BULK_BATCH):
        batch = plan.candidates[start : start + BULK_BATCH]

        async def batch_work(session: AsyncSession, batch: Sequence[int] = batch) -> int:
            return await send_invitations(
                session=session,
                school_id=school_id,
                person_ids=batch,
                not_invited_days=not_invited_days,
                now=now,
                ttl=timedelta(days=days),
            )

        sent += await run_unit_of_work(app.sessions, batch_work)

    async def audit(session: AsyncSession) -> None:
        record_bulk_invitations(session=session, school_id=school_id, plan=plan, sent=sent, now=now)

    await run_unit_of_work(app.sessions, audit)
    if sent:
        _smtp_warning(app, catalog)
    lines = (
        Text.of(N_("Invited by e-mail: {count}"), count=sent),
        Text.of(N_("Skipped, Telegram linked: {count}"), count=plan.with_telegram),
        Text.of(N_("Skipped, no e-mail address: {count}"), count=plan.without_email),
        Text.of(N_("Skipped, e-mail address not working: {count}"), count=plan.email_unreachable),
        Text.of(N_("Skipped, left the school: {count}"), count=plan.ended),
        Text.of(
            N_("Skipped, invited in the last {days} days: {count}"),
            days=not_invited_days,
            count=plan.recently_invited,
        ),
    )
    for line in lines:
        click.echo(catalog.render(line))
    return 0
