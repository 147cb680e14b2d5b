"""Invitations: a one-time token that links a Telegram account to a person."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.audit import record_audit
from services.kernel.errors import InviteInvalid, InviteInvalidReason
from storage.models import Invite, Person, Role

log = logging.getLogger(__name__)

DEFAULT_INVITE_TTL = timedelta(days=14)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a raw token: what the database stores and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_invite(
    *,
    session: AsyncSession,
    person: Person,
    role: Role,
    ttl: timedelta = DEFAULT_INVITE_TTL,
    now: datetime,
) -> str:
    """Create an invite for ``person`` in ``role`` and return the raw token.

    An operation: joins the caller's transaction and flushes. Only the token's hash is stored,
    so the returned value is the one chance to hand it out (deep link, QR code). Raises
    ``ValueError`` if the person does not hold ``role``.
    """
    if not person.has_role(role):
        raise ValueError(f"person does not hold role {role}")
    token = secrets.token_urlsafe(24)
    invite = Invite(
        school_id=person.school_id,
        person_id=person.id,
        role=role,
        token_hash=hash_token(token),
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=None,
        action="invite.create",
        subject_type="person",
        subject_id=person.id,
        details={"invite_id": invite.id, "role": role.value},
        at=now,
    )
    await session.flush()
    log.info("invite created invite_id=%s person_id=%s", invite.id, person.id)
    return token


async def reissue_invite(
    *, session: AsyncSession, invite_id: int, person_id: int, now: datetime
) -> str | None:
    """A new raw token for the invite ``invite_id`` of ``person_id``; None when it cannot be
    used any more (used, expired, another person's, or the person has left).

    An operation: joins the caller's transaction and flushes. Only the token's hash is stored,
    so whoever sends an invite later (the outbox, `services.outbox.invitations`) cannot read
    the token back: it gives the same invite (same id, expiry and single use) a fresh token
    at send time, by a conditional UPDATE; an earlier token of it stops working.
    """
    token = secrets.token_urlsafe(24)
    ended = await session.scalar(select(Person.ended_at).where(Person.id == person_id))
    if ended is not None:
        return None
    result = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite_id,
            Invite.person_id == person_id,
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
        .values(token_hash=hash_token(token))
        .execution_options(synchronize_session=False)
    )
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        log.info("invite_id=%s cannot be sent any more", invite_id)
        return None
    return token


async def redeem_invite(
    *,
    session: AsyncSession,
    token: str,
    telegram_user_id: int,
    telegram_chat_id: int,
    now: datetime,
) -> Person:
    """Use an invite: link the Telegram account to its person and return that person.

    An operation: joins the caller's transaction and flushes. Raises `InviteInvalid` with
    reason ``unknown``, ``used``, ``expired`` or ``account_in_use`` (the Telegram account
    already belongs to someone else). The invite is marked used by a conditional UPDATE, so
    two concurrent redemptions cannot both succeed.
    """
    invite = await session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    if invite is None:
        raise InviteInvalid(InviteInvalidReason.UNKNOWN)
    if invite.used_at is not None:
        raise InviteInvalid(InviteInvalidReason.USED)
    if invite.expires_at <= now:
        raise InviteInvalid(InviteInvalidReason.EXPIRED)
    ended = await session.scalar(select(Person.ended_at).where(Person.id == invite.person_id))
    if ended is not None:
        log.info("invite refused invite_id=%s: the person has left", invite.id)
        raise InviteInvalid(InviteInvalidReason.UNKNOWN)

    holder = await session.scalar(
        select(Person.id).where(
            Person.telegram_user_id == telegram_user_id, Person.id != invite.person_id
        )
    )
    if holder is not None:
        log.info("invite refused invite_id=%s: account linked to person_id=%s", invite.id, holder)
        raise InviteInvalid(InviteInvalidReason.ACCOUNT_IN_USE)

    claimed: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if claimed.rowcount != 1:
        raise InviteInvalid(InviteInvalidReason.USED)

    person = await session.get(Person, invite.person_id)
    if person is None:  # pragma: no cover - the FK cascades invites with their person
        raise InviteInvalid(InviteInvalidReason.UNKNOWN)
    person.telegram_user_id = telegram_user_id
    person.telegram_chat_id = telegram_chat_id
    person.unreachable_at = None
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=person.id,
        action="invite.redeem",
        subject_type="person",
        subject_id=person.id,
        details={"invite_id": invite.id},
        at=now,
    )
    await session.flush()
    log.info("invite redeemed invite_id=%s person_id=%s", invite.id, person.id)
    return person
