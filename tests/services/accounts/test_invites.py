"""Invites: hashed at rest, single use, expiring, one Telegram account per person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.invites import create_invite, hash_token, redeem_invite
from services.kernel.errors import InviteInvalid, InviteInvalidReason
from storage.models import Invite, Person, Role
from tests.support.factories import NOW, add_person, add_school


@pytest.fixture
async def parent(session_factory: async_sessionmaker[AsyncSession]) -> Person:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        return await add_person(session, school, "p1", Role.PARENT)


async def _invite(
    session_factory: async_sessionmaker[AsyncSession], person: Person, **kwargs: object
) -> str:
    async with session_factory() as session, session.begin():
        return await create_invite(
            session=session,
            person=person,
            role=Role.PARENT,
            now=NOW,
            **kwargs,  # type: ignore[arg-type]
        )


async def _redeem(
    session_factory: async_sessionmaker[AsyncSession],
    token: str,
    *,
    user_id: int = 700_000_000_001,
    after: timedelta = timedelta(hours=1),
) -> Person:
    async with session_factory() as session, session.begin():
        return await redeem_invite(
            session=session,
            token=token,
            telegram_user_id=user_id,
            telegram_chat_id=user_id,
            now=NOW + after,
        )


async def test_token_is_stored_hashed(
    parent: Person, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    token = await _invite(session_factory, parent)
    assert len(token) >= 32
    async with session_factory() as session:
        invite = (await session.scalars(select(Invite))).one()
        assert invite.token_hash == hash_token(token)
        assert invite.expires_at == NOW + timedelta(days=14)
        # Nowhere in the row, in any column.
        dump = await session.execute(text("SELECT * FROM invite"))
        assert token not in repr(dump.all())


async def test_redeem_links_telegram_once(
    parent: Person, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    token = await _invite(session_factory, parent)
    linked = await _redeem(session_factory, token, user_id=8_000_000_001)
    assert linked.id == parent.id
    async with session_factory() as session:
        stored = await session.get_one(Person, parent.id)
        assert (stored.telegram_user_id, stored.telegram_chat_id) == (8_000_000_001,) * 2
        invite = (await session.scalars(select(Invite))).one()
        assert invite.used_at == NOW + timedelta(hours=1)

    with pytest.raises(InviteInvalid) as again:
        await _redeem(session_factory, token, user_id=8_000_000_002)
    assert again.value.reason is InviteInvalidReason.USED


async def test_expired_and_unknown_tokens(
    parent: Person, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    token = await _invite(session_factory, parent, ttl=timedelta(days=1))
    with pytest.raises(InviteInvalid) as expired:
        await _redeem(session_factory, token, after=timedelta(days=1))
    assert expired.value.reason is InviteInvalidReason.EXPIRED
    with pytest.raises(InviteInvalid) as unknown:
        await _redeem(session_factory, token + "x")
    assert unknown.value.reason is InviteInvalidReason.UNKNOWN
    async with session_factory() as session:
        assert (await session.get_one(Person, parent.id)).telegram_user_id is None


async def test_account_linked_to_someone_else_is_refused(
    parent: Person, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        other = await session.get_one(Person, parent.id)
        school_id = other.school_id
        taken = Person(
            school_id=school_id,
            external_id="p2",
            given_name="Test",
            family_name="Tweede",
            telegram_user_id=555,
            roles=[],
        )
        session.add(taken)
    token = await _invite(session_factory, parent)
    with pytest.raises(InviteInvalid) as refused:
        await _redeem(session_factory, token, user_id=555)
    assert refused.value.reason is InviteInvalidReason.ACCOUNT_IN_USE
    async with session_factory() as session:
        assert (await session.scalars(select(Invite.used_at))).one() is None


async def test_invite_needs_the_role(
    parent: Person, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        with pytest.raises(ValueError, match="role"):
            await create_invite(session=session, person=parent, role=Role.MENTOR, now=NOW)
