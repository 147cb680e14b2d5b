"""Personal invitations to the web chat sent by e-mail (``trajectbot invite --send``).

A parent who has only an e-mail address gets the same invitation a printed link gives: an
`Invite` (single use, expiring, only its hash stored) and an outbox row of kind
``person.invitation`` whose payload holds the invite's id and its expiry, never a token. The
token is made when the row is claimed: `services.outbox.store.claim_due` gives that same invite
a fresh token (`services.accounts.invites.reissue_invite`), so the e-mail carries the link of
this invite and no second one, and the token is never stored in clear. An invite used or expired
before the row goes withdraws the row (``cancelled``, ``invite_unavailable``); the row's
``not_after`` is the invite's expiry.

The bulk form, for a school's IT person: every parent of the school with a working e-mail
address, no linked Telegram chat, who has not left and got no invite (printed, sent, or a
notice's one-time link) in the last days. `plan_parent_invitations` reads who; the caller writes
them in small units of work with `send_invitations` (each person checked again) and audits the
run once with `record_bulk_invitations` (counts only).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.invites import DEFAULT_INVITE_TTL, create_invite, hash_token
from services.kernel.audit import record_audit
from services.outbox.kinds import OutboxKind
from storage.models import Invite, Outbox, Person, PersonRole, Role

log = logging.getLogger(__name__)

PERSON_INVITATION = OutboxKind.PERSON_INVITATION
#: ``last_error`` of an invitation row whose invite was used or expired before it went.
INVITE_UNAVAILABLE = "invite_unavailable"
#: By default a parent invited (any invite) in the last this many days is not invited again.
DEFAULT_NOT_INVITED_DAYS = 14

__all__ = [
    "DEFAULT_NOT_INVITED_DAYS",
    "INVITE_UNAVAILABLE",
    "PERSON_INVITATION",
    "InvitationPlan",
    "NotSendable",
    "SentInvitation",
    "plan_parent_invitations",
    "record_bulk_invitations",
    "send_invitation",
    "send_invitations",
]


class NotSendable(StrEnum):
    """Why an invitation cannot be sent by e-mail to a person."""

    ENDED = "ended"
    NO_EMAIL = "no_email"
    EMAIL_UNREACHABLE = "email_unreachable"
    NO_ROLE = "no_role"


@dataclass(frozen=True, slots=True)
class SentInvitation:
    """An invitation written to the outbox: its invite, outbox row and expiry."""

    invite_id: int
    outbox_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationPlan:
    """Who a bulk run invites (person ids) and how many it skips, per reason (counts)."""

    candidates: tuple[int, ...]
    with_telegram: int
    without_email: int
    email_unreachable: int
    ended: int
    recently_invited: int


def sendable(person: Person) -> NotSendable | None:
    """Why ``person`` cannot get an invitation by e-mail, or None (pure)."""
    if person.ended_at is not None:
        return NotSendable.ENDED
    if not person.email:
        return NotSendable.NO_EMAIL
    if person.email_unreachable_at is not None:
        return NotSendable.EMAIL_UNREACHABLE
    return None


async def send_invitation(
    *,
    session: AsyncSession,
    person: Person,
    role: Role,
    now: datetime,
    ttl: timedelta = DEFAULT_INVITE_TTL,
    actor_id: int | None = None,
) -> SentInvitation | NotSendable:
    """Invite ``person`` (in ``role``) to the web chat by e-mail; or why not.

    An operation (joins the caller's transaction, flushes): an `Invite` (audited
    ``invite.create``), an outbox row of kind ``person.invitation`` due now and never sent
    after the invite expires, and an ``invite.send`` audit row (ids only). The token made
    here is thrown away: the outbox gives the invite a fresh one when it sends the e-mail.
    """
    refused = sendable(person)
    if refused is not None:
        return refused
    if not person.has_role(role):
        return NotSendable.NO_ROLE
    token = await create_invite(session=session, person=person, role=role, ttl=ttl, now=now)
    invite = await session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    assert invite is not None  # noqa: S101 - just written
    row = Outbox(
        school_id=person.school_id,
        recipient_id=person.id,
        kind=OutboxKind.PERSON_INVITATION,
        payload={"invite_id": invite.id, "expires_at": invite.expires_at.isoformat()},
        dedup_key=f"{PERSON_INVITATION}:{invite.id}",
        next_attempt_at=now,
        not_after=invite.expires_at,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=actor_id,
        action="invite.send",
        subject_type="person",
        subject_id=person.id,
        details={"invite_id": invite.id, "outbox_id": row.id, "channel": "email"},
        at=now,
    )
    await session.flush()
    log.info("invitation queued invite_id=%s outbox_id=%s", invite.id, row.id)
    return SentInvitation(invite.id, row.id, invite.expires_at)


async def plan_parent_invitations(
    *, session: AsyncSession, school_id: int, not_invited_days: int, now: datetime
) -> InvitationPlan:
    """Which parents of the school a bulk run invites, and how many it skips (a query).

    Invited: a parent with an e-mail address that works, no linked Telegram chat, who has
    not left and has had no invite (of any kind) created in the last ``not_invited_days``.
    Each skipped parent is counted under the first reason that applies, in the order ended,
    Telegram, no address, address not working, recently invited.
    """
    parents = list(
        await session.scalars(
            select(Person)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(Person.school_id == school_id, PersonRole.role == Role.PARENT)
            .order_by(Person.id)
        )
    )
    since = now - timedelta(days=not_invited_days)
    recent = set(
        await session.scalars(
            select(Invite.person_id).where(
                Invite.school_id == school_id, Invite.created_at >= since
            )
        )
    )
    counts = {"telegram": 0, "ended": 0, "no_email": 0, "unreachable": 0, "recent": 0}
    candidates: list[int] = []
    for parent in parents:
        refused = sendable(parent)
        if refused is NotSendable.ENDED:
            counts["ended"] += 1
        elif parent.telegram_chat_id is not None:
            counts["telegram"] += 1
        elif refused is NotSendable.NO_EMAIL:
            counts["no_email"] += 1
        elif refused is NotSendable.EMAIL_UNREACHABLE:
            counts["unreachable"] += 1
        elif parent.id in recent:
            counts["recent"] += 1
        else:
            candidates.append(parent.id)
    return InvitationPlan(
        candidates=tuple(candidates),
        with_telegram=counts["telegram"],
        without_email=counts["no_email"],
        email_unreachable=counts["unreachable"],
        ended=counts["ended"],
        recently_invited=counts["recent"],
    )


async def send_invitations(
    *,
    session: AsyncSession,
    school_id: int,
    person_ids: Collection[int],
    not_invited_days: int,
    now: datetime,
    ttl: timedelta = DEFAULT_INVITE_TTL,
) -> int:
    """Invite the parents ``person_ids`` (one batch of a bulk run); returns how many.

    An operation. Each is checked again (the plan was read in an earlier transaction): still
    a parent of the school, sendable, no Telegram chat, not invited since the plan's window.
    """
    since = now - timedelta(days=not_invited_days)
    sent = 0
    for person_id in sorted(person_ids):
        person = await session.get(Person, person_id)
        if person is None or person.school_id != school_id or person.telegram_chat_id:
            continue
        invited = await session.scalar(
            select(Invite.id).where(Invite.person_id == person_id, Invite.created_at >= since)
        )
        if invited is not None:
            continue
        outcome = await send_invitation(
            session=session, person=person, role=Role.PARENT, now=now, ttl=ttl
        )
        if isinstance(outcome, SentInvitation):
            sent += 1
    return sent


def record_bulk_invitations(
    *, session: AsyncSession, school_id: int, plan: InvitationPlan, sent: int, now: datetime
) -> None:
    """The one audit row of a bulk run (``invite.send_parents``): counts only."""
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=None,
        action="invite.send_parents",
        subject_type="school",
        subject_id=school_id,
        details={
            "sent": sent,
            "planned": len(plan.candidates),
            "skipped_telegram": plan.with_telegram,
            "skipped_no_email": plan.without_email,
            "skipped_email_unreachable": plan.email_unreachable,
            "skipped_ended": plan.ended,
            "skipped_recently_invited": plan.recently_invited,
        },
        at=now,
    )
