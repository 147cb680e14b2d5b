# ruff: noqa: PLC0415 - the command imports its machinery when it runs (a fast --help)

"""`trajectbot staff-account login-link`: a one-time login link for a staff member's web
account, printed on the command line (a first administrator who has no Telegram, or a
forgotten password). Registered on the ``staff-account`` group by `bot/cli.py`.

Like every command module, this imports only click and `dialogs.text` at the top; the
machinery is imported when the command runs.
"""

from __future__ import annotations

import sys

import click

from dialogs.text import N_, Text

#: The web app's page that redeems a login link (`web.routes.auth`).
LINK_PATH = "/login/link/"


@click.command(
    "login-link",
    help="Print a one-time login link (valid 10 minutes) for a staff member's web account.",
)
@click.option("--person", "person", required=True, help="The person's id at the school.")
@click.option("--school", "school_code", help="School code (may be left out if there is one).")
def login_link(person: str, school_code: str | None) -> None:
    """The link logs the person in once; asking again makes a new one."""
    from datetime import UTC, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.cli import _run, _say, build_app, load_settings
    from services.accounts.staff_accounts import find_staff_member
    from services.accounts.web_sessions import create_login_link
    from services.kernel.errors import NotAllowed
    from services.kernel.uow import run_unit_of_work

    settings = load_settings()

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:

            async def create(session: AsyncSession) -> str:
                member = await find_staff_member(
                    session=session, school_code=school_code, external_id=person
                )
                return await create_login_link(
                    session=session, person=member, now=datetime.now(UTC)
                )

            try:
                token = await run_unit_of_work(app.sessions, create)
            except NotAllowed as refused:
                _say(settings, refused.reason, err=True)
                return 1
        _say(
            settings,
            Text.of(
                N_("Open this link within 10 minutes to log in once: {url}"),
                url=Text.raw(settings.web_url + LINK_PATH + token),
            ),
        )
        return 0

    sys.exit(_run(go()))
