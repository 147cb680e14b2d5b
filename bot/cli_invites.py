"""``trajectbot invite``: a person's invitation, printed (links and QR codes) or sent by e-mail.

``trajectbot invite PERSON`` prints the Telegram and web chat links of a new invitation;
``--send`` sends it by e-mail instead (an outbox row, `services.outbox.invitations`), for a
parent who has only an e-mail address; ``--all-parents-without-telegram --send`` does that for
every parent of the school with a working address, no Telegram chat, who has not left and was
not invited in the last ``--not-invited-days`` days, and prints counts only. Registered on
`bot.cli.main`. Like `bot.cli`, this module imports only click and `dialogs.text` at the top.
"""

# ruff: noqa: PLC0415 - lazy imports keep `trajectbot --help` fast (as in bot/cli.py)

from __future__ import annotations

import sys

import click

from dialogs.text import N_, Text

__all__ = ["invite"]


@click.command(
    help="Print a personal invitation link (Telegram and web chat) and write its QR codes "
    "(PNG); or, with --send, send the invitation by e-mail."
)
@click.argument("person", required=False)
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
@click.option("--role", help="The role to invite as (default: the person's main role).")
@click.option(
    "--days",
    default=14,
    show_default=True,
    type=click.IntRange(1, 60),
    help="Days the link stays valid.",
)
@click.option(
    "--send",
    is_flag=True,
    help="Send the invitation by e-mail (through the outbox) instead of printing the link.",
)
@click.option(
    "--all-parents-without-telegram",
    "all_parents",
    is_flag=True,
    help="With --send: every parent with a working e-mail address and no Telegram chat who "
    "has not left and was not invited recently. Prints counts only.",
)
@click.option(
    "--not-invited-days",
    default=14,
    show_default=True,
    type=click.IntRange(0, 365),
    help="With --all-parents-without-telegram: skip parents invited in the last DAYS days.",
)
def invite(
    *,
    person: str | None,
    school_code: str | None,
    role: str | None,
    days: int,
    send: bool,
    all_parents: bool,
    not_invited_days: int,
) -> None:
    """Single use, expiring, stored only as a hash."""
    from bot.cli import _catalog, _run, build_app, load_settings
    from bot.invites import make_invitation, send_invitation_by_email, send_parent_invitations

    settings = load_settings()
    catalog = _catalog(settings)
    if all_parents and (person is not None or not send):
        click.echo(
            catalog.render(
                Text.of(
                    N_("--all-parents-without-telegram goes with --send and without a person's id.")
                )
            ),
            err=True,
        )
        sys.exit(2)
    if person is None and not all_parents:
        click.echo(
            catalog.render(
                Text.of(N_("Give a person's id, or --all-parents-without-telegram --send."))
            ),
            err=True,
        )
        sys.exit(2)

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:
            if all_parents:
                return await send_parent_invitations(
                    app,
                    school_code=school_code,
                    days=days,
                    not_invited_days=not_invited_days,
                    catalog=catalog,
                )
            assert person is not None  # noqa: S101 - checked above
            if send:
                return await send_invitation_by_email(
                    app,
                    external_id=person,
                    school_code=school_code,
                    role=role,
                    days=days,
                    catalog=catalog,
                )
            return await make_invitation(
                app,
                external_id=person,
                school_code=school_code,
                role=role,
                days=days,
                catalog=catalog,
            )

    sys.exit(_run(go()))
