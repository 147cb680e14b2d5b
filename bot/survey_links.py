"""Personal exit questionnaire links for the web chat (`trajectbot survey-link`).

For a respondent without Telegram: the care coordinator prints a link (and its QR code) per
open questionnaire of that person and hands it over (letter, e-mail, in person). The link
opens the questionnaire in the browser, in the person's language; it stays usable until the
questionnaire is sent or expires. A new link replaces the previous one of the same invitation.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.invites import write_qr
from dialogs.i18n import Catalog
from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.surveys.invitations import SurveyUnavailable, open_invitations
from services.surveys.links import issue_survey_link


async def make_survey_links(
    app: App,
    *,
    respondent: str,
    actor: str,
    school_code: str | None,
    catalog: Catalog,
    now: datetime | None = None,
) -> int:
    """Issue and print a web chat link per open questionnaire of ``respondent``; exit status.

    ``actor`` must be a care coordinator of the school (checked by `issue_survey_link`).
    """
    now = now or datetime.now(UTC)

    async def issue(session: AsyncSession) -> list[tuple[int, datetime, str]] | str:
        """The links issued, or the id of the person who was not found (nothing issued)."""
        school = await find_school(session=session, code=school_code)
        people = {}
        for external_id in (actor, respondent):
            person = await get_person_by_external_id(
                session=session, school_id=school.id, external_id=external_id
            )
            if person is None:
                return external_id
            people[external_id] = person
        invitations = await open_invitations(session=session, person=people[respondent], now=now)
        issued: list[tuple[int, datetime, str]] = []
        for invitation in invitations:
            token = await issue_survey_link(
                session=session,
                actor=people[actor],
                invitation_id=invitation.invitation_id,
                now=now,
            )
            issued.append((invitation.invitation_id, invitation.expires_at, token))
        return issued

    try:
        issued = await run_unit_of_work(app.sessions, issue)
    except (NotAllowed, SurveyUnavailable) as refused:
        click.echo(catalog.render(refused.reason), err=True)
        return 1
    if isinstance(issued, str):
        click.echo(
            catalog.render(Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(issued))),
            err=True,
        )
        return 1
    if not issued:
        click.echo(
            catalog.render(Text.of(N_("This person has no open exit questionnaire."))), err=True
        )
        return 1
    for invitation_id, expires_at, token in issued:
        link = f"{app.settings.web_url}/c/{token}"
        path = app.settings.invites_dir / f"{respondent}-questionnaire-{invitation_id}.png"
        await asyncio.to_thread(write_qr, link, path)
        click.echo(catalog.render(Text.of(N_("Web chat: {link}"), link=Text.raw(link))))
        click.echo(
            catalog.render(
                Text.of(
                    N_(
                        "QR code: {path}. The link opens the questionnaire until it is sent, "
                        "at the latest until {date}."
                    ),
                    path=Text.raw(str(path)),
                    date=expires_at,
                )
            )
        )
    return 0
