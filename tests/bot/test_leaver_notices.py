"""A person who has left (issue 12: the roster sync ends leavers) is sent nothing more.

The real outbox worker with the SMTP test server (`tests.support.smtp_server`) and a
recording fake Telegram: the sync that ends a parent withdraws their scheduled reminders in
the same transaction, and a row that reaches a leaver anyway (written after the sync) is
withdrawn when claimed, on either channel. Both end ``cancelled`` with ``last_error``
``ended``; the care coordinator is not told per leaver.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.leavers import ENDED
from services.accounts.roster.sync import sync_people
from services.appointments.notices import APPOINTMENT_REMINDER
from services.outbox.kinds import OutboxKind
from services.outbox.store import count_waiting
from storage.models import Outbox, OutboxStatus, Person, PersonRole
from tests.bot.test_email_channel import (
    PIA,
    Clock,
    FakeTelegram,
    book_confirmed_intake,
    drain,
    enqueue,
    rows,
    set_contact,
    worker,
)
from tests.support.booking_world import NOW, WEDNESDAY, World, at, build_world
from tests.support.smtp_server import (
    SmtpTestServer,
    smtp_server_fixture,  # noqa: F401 - the smtp_server fixture
)

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(session_factory: Factory) -> World:
    return await build_world(session_factory)


async def roster_without(sessions: Factory, tmp_path: Path, *leavers: Person) -> Path:
    """The school's own roster (the project's CSV) as its administration system would export
    it after ``leavers`` left: everyone else, with their roles."""
    gone = {person.id for person in leavers}
    async with sessions() as session:
        people = list(await session.scalars(select(Person).order_by(Person.id)))
        found = await session.execute(select(PersonRole.person_id, PersonRole.role))
        roles = {person_id: role.value for person_id, role in found}
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["external_id", "roles", "given_name", "family_name"])
        for person in people:
            if person.id in gone:
                continue
            out.writerow([person.external_id, roles[person.id], person.given_name,
                          person.family_name])  # fmt: skip
    return path


async def test_the_sync_that_ends_a_parent_withdraws_their_reminders(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    await set_contact(session_factory, world.parent.id, email=PIA, language="nl")
    await set_contact(session_factory, world.mentor.id, chat=7001)
    await book_confirmed_intake(session_factory, world)
    telegram = FakeTelegram()
    outbox = worker(session_factory, Clock(), server=smtp_server, telegram=telegram)
    await drain(outbox)  # the calendar files, due now
    smtp_server.clear()
    telegram.sent.clear()
    reminders = [
        r
        for r in await rows(session_factory, APPOINTMENT_REMINDER)
        if r.recipient_id == world.parent.id
    ]
    assert len(reminders) == 2
    assert {r.status for r in reminders} == {OutboxStatus.PENDING}

    result = await sync_people(
        session_factory,
        path=await roster_without(session_factory, tmp_path, world.parent),
        school_code=world.school.code,
        now=NOW + timedelta(minutes=5),
        full=True,
        pause_seconds=0,
    )
    assert result.plan is not None
    assert result.plan.ended == (world.parent.external_id,)

    # In the sync's own transaction: withdrawn, not waiting, never claimed.
    parent_rows = [r for r in await rows(session_factory) if r.recipient_id == world.parent.id]
    withdrawn = [r for r in parent_rows if r.kind == APPOINTMENT_REMINDER]
    assert [(r.status, r.last_error, r.attempts) for r in withdrawn] == [
        (OutboxStatus.CANCELLED, ENDED, 0),
        (OutboxStatus.CANCELLED, ENDED, 0),
    ]
    # The calendar file already sent stays sent: history is kept.
    assert [r.status for r in parent_rows if r.kind != APPOINTMENT_REMINDER] == [OutboxStatus.SENT]

    # At the intake's time every reminder is due: the mentor (still at school) gets theirs by
    # Telegram; the parent who left gets nothing, by either channel.
    outbox_later = worker(
        session_factory, Clock(at(WEDNESDAY, 10)), server=smtp_server, telegram=telegram
    )
    await drain(outbox_later)
    assert smtp_server.to(PIA) == []
    mentor_reminders = [
        r
        for r in await rows(session_factory, APPOINTMENT_REMINDER)
        if r.recipient_id == world.mentor.id
    ]
    assert mentor_reminders
    assert {r.status for r in mentor_reminders} == {OutboxStatus.SENT}
    assert {m.chat_id for m in telegram.sent} == {7001}
    # No care coordinator is told about the leaver.
    told = {OutboxKind.PERSON_UNREACHABLE, OutboxKind.PERSON_EMAIL_UNREACHABLE}
    assert [r for r in await rows(session_factory) if r.kind in told] == []


async def test_a_notice_written_for_a_leaver_after_the_sync_is_withdrawn_when_claimed(
    session_factory: Factory, world: World, smtp_server: SmtpTestServer
) -> None:
    """Rows addressed to a leaver on Telegram and on e-mail, and a Telegram-only one that
    would wait without a bot: settled ``cancelled``/``ended``, none sent, none waiting."""
    await set_contact(session_factory, world.parent.id, email=PIA, language="tr")
    await set_contact(session_factory, world.other_parent.id, chat=7002)
    email_row = await enqueue(
        session_factory, world.school.id, world.parent.id, OutboxKind.REFERRAL_ACCEPTED_PARENT
    )
    telegram_row = await enqueue(
        session_factory,
        world.school.id,
        world.other_parent.id,
        OutboxKind.REFERRAL_ACCEPTED_PARENT,
    )
    async with session_factory() as session, session.begin():
        for person_id in (world.parent.id, world.other_parent.id):
            (await session.get_one(Person, person_id)).ended_at = NOW
    async with session_factory() as session:
        # Not counted as waiting for a channel either: nobody will ever send them.
        assert await count_waiting(session=session, configured=()) == []

    telegram = FakeTelegram()
    await drain(worker(session_factory, Clock(), server=smtp_server, telegram=telegram))

    assert smtp_server.messages == []
    assert telegram.sent == []
    async with session_factory() as session:
        settled = {
            row.id: (row.status, row.last_error, row.channel)
            for row in await session.scalars(
                select(Outbox).where(Outbox.id.in_([email_row, telegram_row]))
            )
        }
    assert settled == {
        email_row: (OutboxStatus.CANCELLED, ENDED, None),
        telegram_row: (OutboxStatus.CANCELLED, ENDED, None),
    }
