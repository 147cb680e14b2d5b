"""The personal invitation by e-mail (issue 12): ``trajectbot invite PERSON --send`` and the bulk
``trajectbot invite --all-parents-without-telegram --send``.

The command runs as a school's IT person runs it (a subprocess on the test database); the real
outbox worker sends through the product's `EmailSender` to the SMTP test server
(`tests.support.smtp_server`), and the link read back from the e-mail is opened in the real web
app: it logs the parent in once, and it is the link of the invite the command made (no second
invite, the token never stored in clear).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.i18n import Catalogs
from dialogs.text import Text
from services.accounts.invites import create_invite, hash_token
from services.conversations.web_chat import LinkProblem
from services.outbox.invitations import INVITE_UNAVAILABLE
from services.outbox.kinds import OutboxKind
from storage.models import AuditLog, Invite, Outbox, OutboxStatus, Person, Role
from tests.bot.test_cli import trajectbot
from tests.bot.test_email_channel import Clock, FakeTelegram, drain, set_contact, worker
from tests.support.booking_world import World, build_world
from tests.support.factories import add_person
from tests.support.smtp_server import (
    SmtpTestServer,
    html_text,
    plain_text,
    smtp_server_fixture,  # noqa: F401 - the smtp_server fixture
)
from tests.web.chat_client import chat_app
from web.routes.chat import LINK_PROBLEMS

CATALOGS = Catalogs()
LINK = re.compile(r"http://testserver/c/([A-Za-z0-9_-]+)")
INVITATION = (
    "The school invites you to its chat about the extra support at school (the support room). "
    "In the chat you can book and move appointments, read the intake report and answer the "
    "school's questions, in your own language. It opens in the web browser: no app is "
    "needed.\n\nThe link below is personal: it works once, until {date}. Please do not pass it "
    "on."
)
PIET = "piet.ouder@example.org"
Factory = async_sessionmaker[AsyncSession]


def say(language: str, msgid: str, **params: object) -> str:
    return CATALOGS.get(language).render(Text.of(msgid, **params))  # type: ignore[arg-type]


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


def soon() -> Clock:
    """The worker's clock just after the command ran (it uses the real time)."""
    return Clock(datetime.now(UTC) + timedelta(minutes=1))


async def invitations(sessions: Factory) -> list[Outbox]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Outbox)
                .where(Outbox.kind == OutboxKind.PERSON_INVITATION)
                .order_by(Outbox.id)
            )
        )


async def test_a_parent_with_only_email_gets_the_invitation_and_its_link_works_once(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, migrated_url: str
) -> None:
    await set_contact(session_factory, world.other_parent.id, email=PIET, language="pl")
    sent = await asyncio.to_thread(
        trajectbot, migrated_url, "invite", "p2", "--send", "--school", world.school.code
    )
    assert sent.returncode == 0, sent.stderr
    assert "The invitation goes by e-mail to the address the school has" in sent.stdout
    assert "E-mail is not set up" in sent.stderr  # the command's own settings have no SMTP
    assert "/c/" not in sent.stdout  # no link printed: it goes by e-mail only

    [row] = await invitations(session_factory)
    async with session_factory() as session:
        [invite] = list(
            await session.scalars(select(Invite).where(Invite.person_id == world.other_parent.id))
        )
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "invite.send"))
    # Ids only: no token, no address in the row.
    assert set(row.payload) == {"invite_id", "expires_at"}
    assert row.payload["invite_id"] == invite.id
    assert row.not_after == invite.expires_at
    assert audit is not None
    assert audit.subject_id == world.other_parent.id
    assert audit.details == {"invite_id": invite.id, "outbox_id": row.id, "channel": "email"}

    telegram = FakeTelegram()
    await drain(worker(session_factory, soon(), server=smtp_server, telegram=telegram))
    assert telegram.sent == []
    [mail] = smtp_server.to(PIET)
    assert mail["Subject"] == say("pl", "Your personal link to the school's chat")
    assert mail["Content-Language"] == "pl"
    text = plain_text(mail).replace("\r\n", "\n")
    assert text.startswith(say("pl", INVITATION, date=invite.expires_at))
    assert say("pl", "Open the chat") in text
    found = LINK.search(text)
    assert found is not None
    token = found.group(1)
    assert f'href="http://testserver/c/{token}"' in html_text(mail)

    # The link is the invite the command made: still one invite, and it holds this token.
    async with session_factory() as session:
        invites = list(
            await session.scalars(select(Invite).where(Invite.person_id == world.other_parent.id))
        )
        stored = await session.get_one(Outbox, row.id)
    assert [i.id for i in invites] == [invite.id]
    assert invites[0].token_hash == hash_token(token)
    assert (stored.status, stored.channel) == (OutboxStatus.SENT, "email")

    async with chat_app(migrated_url, datetime.now(UTC) + timedelta(hours=1)) as web:
        page = await web.user().open_link(token)
        assert page.status == 200
        assert page.lang == "pl"
        again = await web.user().get(f"/c/{token}")
        assert again.status == 410
        assert CATALOGS.get("pl").render(LINK_PROBLEMS[LinkProblem.USED]) in again.text
    async with session_factory() as session:
        used = await session.get_one(Invite, invite.id, populate_existing=True)
    assert used.used_at is not None


async def test_an_invite_used_before_the_email_goes_withdraws_it(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, migrated_url: str
) -> None:
    """The parent was also handed the printed link and used it: the e-mail is not sent."""
    await set_contact(session_factory, world.other_parent.id, email=PIET, language="nl")
    sent = await asyncio.to_thread(
        trajectbot, migrated_url, "invite", "p2", "--send", "--school", world.school.code
    )
    assert sent.returncode == 0, sent.stderr
    async with session_factory() as session, session.begin():
        invite = await session.scalar(select(Invite))
        assert invite is not None
        invite.used_at = datetime.now(UTC)
    await drain(worker(session_factory, soon(), server=smtp_server))
    assert smtp_server.messages == []
    [row] = await invitations(session_factory)
    assert (row.status, row.last_error) == (OutboxStatus.CANCELLED, INVITE_UNAVAILABLE)


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        ("none", "This person has no e-mail address."),
        ("bounced", "This person's e-mail address does not work."),
        ("ended", "This person has left the school: no invitation is sent."),
    ],
)
async def test_a_person_the_invitation_cannot_reach_is_refused_clearly(
    session_factory: Factory, world: World, migrated_url: str, setup: str, said: str
) -> None:
    if setup != "none":
        await set_contact(session_factory, world.parent.id, email="pia.ouder@example.org")
    async with session_factory() as session, session.begin():
        parent = await session.get_one(Person, world.parent.id)
        if setup == "bounced":
            parent.email_unreachable_at = datetime.now(UTC)
        if setup == "ended":
            parent.ended_at = datetime.now(UTC)
    refused = await asyncio.to_thread(trajectbot, migrated_url, "invite", "p1", "--send")
    assert refused.returncode == 1
    assert said in refused.stderr
    assert "Traceback" not in refused.stderr
    assert await invitations(session_factory) == []


async def test_the_bulk_form_needs_send_and_no_person(
    session_factory: Factory, world: World, migrated_url: str
) -> None:
    del session_factory, world
    alone = await asyncio.to_thread(
        trajectbot, migrated_url, "invite", "--all-parents-without-telegram"
    )
    assert alone.returncode == 2
    assert "goes with --send" in alone.stderr
    nobody = await asyncio.to_thread(trajectbot, migrated_url, "invite")
    assert nobody.returncode == 2
    assert "Give a person's id" in nobody.stderr


async def test_the_bulk_invitation_skips_telegram_no_email_leavers_and_recent_invites(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, migrated_url: str
) -> None:
    now = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        school = world.school
        only_email = await add_person(session, school, "p3", Role.PARENT)
        both = await add_person(session, school, "p4", Role.PARENT)
        no_email = await add_person(session, school, "p5", Role.PARENT)
        left = await add_person(session, school, "p6", Role.PARENT)
        recent = await add_person(session, school, "p7", Role.PARENT)
        bounced = await add_person(session, school, "p8", Role.PARENT)
        teacher = await add_person(session, school, "t9", Role.TEACHER)
        for person in (only_email, both, left, recent, bounced, teacher):
            person.email = f"{person.external_id}@example.org"
        both.telegram_user_id = both.telegram_chat_id = 9004
        left.ended_at = now - timedelta(days=1)
        bounced.email_unreachable_at = now - timedelta(days=2)
        await create_invite(
            session=session, person=recent, role=Role.PARENT, now=now - timedelta(days=3)
        )
    del no_email

    run = await asyncio.to_thread(
        trajectbot,
        migrated_url,
        "invite",
        "--all-parents-without-telegram",
        "--send",
        "--school",
        world.school.code,
    )
    assert run.returncode == 0, run.stderr
    # Counts only (p1 and p2 of the world have no address either).
    assert run.stdout.splitlines() == [
        "Invited by e-mail: 1",
        "Skipped, Telegram linked: 1",
        "Skipped, no e-mail address: 3",
        "Skipped, e-mail address not working: 1",
        "Skipped, left the school: 1",
        "Skipped, invited in the last 14 days: 1",
    ]
    assert "@" not in run.stdout + run.stderr
    assert [row.recipient_id for row in await invitations(session_factory)] == [only_email.id]
    async with session_factory() as session:
        audit = await session.scalar(
            select(AuditLog).where(AuditLog.action == "invite.send_parents")
        )
    assert audit is not None
    assert audit.details == {
        "sent": 1,
        "planned": 1,
        "skipped_telegram": 1,
        "skipped_no_email": 3,
        "skipped_email_unreachable": 1,
        "skipped_ended": 1,
        "skipped_recently_invited": 1,
    }

    await drain(worker(session_factory, soon(), server=smtp_server, telegram=FakeTelegram()))
    assert [mail["To"] for mail in smtp_server.messages] == ["p3@example.org"]
    assert LINK.search(plain_text(smtp_server.messages[0]))

    # Run again the next day: the parent just invited is not invited twice.
    again = await asyncio.to_thread(
        trajectbot,
        migrated_url,
        "invite",
        "--all-parents-without-telegram",
        "--send",
        "--not-invited-days",
        "7",
    )
    assert again.returncode == 0, again.stderr
    assert "Invited by e-mail: 0" in again.stdout
    assert "Skipped, invited in the last 7 days: 2" in again.stdout
    assert len(await invitations(session_factory)) == 1


async def test_the_invitation_goes_by_email_even_when_a_chat_is_linked(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, migrated_url: str
) -> None:
    """A personal invitation to the web chat is an e-mail; Telegram has no use for it."""
    await set_contact(session_factory, world.other_parent.id, email=PIET, chat=9002)
    sent = await asyncio.to_thread(trajectbot, migrated_url, "invite", "p2", "--send")
    assert sent.returncode == 0, sent.stderr
    telegram = FakeTelegram()
    await drain(worker(session_factory, soon(), server=smtp_server, telegram=telegram))
    assert telegram.sent == []
    assert len(smtp_server.to(PIET)) == 1
    [row] = await invitations(session_factory)
    assert (row.status, row.channel) == (OutboxStatus.SENT, "email")
