"""Web sessions and one-time login links.

A session is a random token in an HttpOnly cookie; only its SHA-256 is stored, with the
session's CSRF secret (the synchronizer token of every form) and an absolute expiry. A login
link is the same idea for the bot: a linked staff member asks for one in chat and gets a link
valid for `LOGIN_LINK_TTL`, usable once, that starts a session. Both need a staff account
(`StaffAccount`): the administrator decides who uses the web app by creating accounts.

Every function runs inside the caller's unit of work (`services.kernel.uow.run_unit_of_work`)
and never begins or commits.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.invites import hash_token
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed, StorageError
from storage.models import LoginLink, Person, Role, StaffAccount, WebSession

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
#: Roles that may have a web account (and ask the bot for a login link).
STAFF_ROLES = frozenset(
    {Role.CARE_COORDINATOR, Role.COACH, Role.ADMIN, Role.PARTNERSHIP_VIEWER, Role.DISTRICT_COACH}
)
LOGIN_LINK_TTL = timedelta(minutes=10)


class LinkProblem(StrEnum):
    """Why a login link cannot be used (each gets its own message)."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    #: The link was valid, but its person has no usable web account any more.
    NO_ACCOUNT = "no_account"


class LoginLinkInvalid(StorageError):  # noqa: N818 - named like InviteInvalid
    """A login link cannot be used; ``problem`` says why (unknown, used, expired, no account)."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(f"login link {problem.value}")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started: the raw ``token`` goes into the cookie, and nowhere else."""

    token: str
    csrf_token: str
    expires_at: datetime
    person_id: int


@dataclass(frozen=True, slots=True)
class StaffSession:
    """The staff member behind a session cookie, as stored now (roles freshly loaded)."""

    session_id: int
    account_id: int
    person: Person
    csrf_token: str
    expires_at: datetime


async def start_session(
    *, session: AsyncSession, account: StaffAccount, method: str, now: datetime, ttl: timedelta
) -> NewSession:
    """Start a session for ``account``; audited as ``web.login``.

    Expired sessions of everyone are swept here, so the table stays small without a job.
    """
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    row = WebSession(
        school_id=account.school_id,
        person_id=account.person_id,
        account_id=account.id,
        token_hash=hash_token(token),
        csrf_secret=csrf,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    record_audit(
        session=session,
        school_id=account.school_id,
        actor_id=account.person_id,
        action="web.login",
        subject_type="staff_account",
        subject_id=account.id,
        details={"web_session_id": row.id, "method": method},
        at=now,
    )
    return NewSession(token, csrf, row.expires_at, account.person_id)


async def resolve_session(
    *, session: AsyncSession, token: str, now: datetime
) -> StaffSession | None:
    """The live session for a cookie's ``token``, or ``None`` (unknown or expired).

    A short read. The person is re-read, roles included, on every call.
    """
    if not token:
        return None
    row = await session.scalar(
        select(WebSession).where(
            WebSession.token_hash == hash_token(token), WebSession.expires_at > now
        )
    )
    if row is None:
        return None
    person = await session.get(Person, row.person_id, populate_existing=True)
    if person is None or person.ended_at is not None:
        return None  # a person who has left has no access, whatever sessions they had
    return StaffSession(row.id, row.account_id, person, row.csrf_secret, row.expires_at)


async def end_session(*, session: AsyncSession, token: str, now: datetime) -> None:
    """Log out: the session is deleted; audited as ``web.logout``."""
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(token)))
    if row is None:
        return
    await session.delete(row)
    record_audit(
        session=session,
        school_id=row.school_id,
        actor_id=row.person_id,
        action="web.logout",
        subject_type="staff_account",
        subject_id=row.account_id,
        details={"web_session_id": row.id},
        at=now,
    )


async def create_login_link(
    *, session: AsyncSession, person: Person, now: datetime, ttl: timedelta = LOGIN_LINK_TTL
) -> str:
    """A one-time login token for ``person``; returns the raw token.

    `NotAllowed` unless the person (re-read from the database) holds a staff role
    (`STAFF_ROLES`) and has a web account. Audited as ``web.login_link`` with ids only.
    """
    person = await reload_actor(session=session, actor=person)
    if person.ended_at is not None or not any(person.has_role(role) for role in STAFF_ROLES):
        log.info("login link refused: person_id=%s holds no staff role", person.id)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    account = await session.scalar(select(StaffAccount).where(StaffAccount.person_id == person.id))
    if account is None:
        log.info("login link refused: person_id=%s has no web account", person.id)
        raise NotAllowed(
            Text.of(N_("You have no account for the web app. Ask the administrator to create one."))
        )
    token = secrets.token_urlsafe(32)
    link = LoginLink(
        school_id=person.school_id,
        person_id=person.id,
        token_hash=hash_token(token),
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(link)
    await session.flush()
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=person.id,
        action="web.login_link",
        subject_type="staff_account",
        subject_id=account.id,
        details={"login_link_id": link.id},
        at=now,
    )
    log.info("login link created for person_id=%s", person.id)
    return token


async def redeem_login_link(
    *, session: AsyncSession, token: str, now: datetime, ttl: timedelta = SESSION_TTL
) -> NewSession:
    """Use a login link once and start a session.

    `LoginLinkInvalid` (with the `LinkProblem`) when the token is unknown, used or expired, or
    the account is gone. The link is spent by a conditional UPDATE, so of two redemptions one
    wins. The login throttle does not apply: a valid link from the bot always works, so a
    stranger guessing passwords can never lock the owner out.
    """
    link_id = await session.scalar(
        update(LoginLink)
        .where(
            LoginLink.token_hash == hash_token(token),
            LoginLink.used_at.is_(None),
            LoginLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginLink.id)
        .execution_options(synchronize_session=False)
    )
    if link_id is None:
        problem = await _link_problem(session=session, token=token)
        log.info("login link refused: %s", problem.value)
        raise LoginLinkInvalid(problem)
    link = await session.get_one(LoginLink, link_id)
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.person_id == link.person_id)
    )
    ended = await session.scalar(select(Person.ended_at).where(Person.id == link.person_id))
    if account is None or ended is not None:
        log.info("login link refused: no usable account for person_id=%s", link.person_id)
        raise LoginLinkInvalid(LinkProblem.NO_ACCOUNT)
    account.last_login_at = now
    return await start_session(session=session, account=account, method="link", now=now, ttl=ttl)


async def _link_problem(*, session: AsyncSession, token: str) -> LinkProblem:
    """Why the link of ``token`` could not be spent: never seen, used before, or too old."""
    found = (
        await session.execute(
            select(LoginLink.id, LoginLink.used_at).where(LoginLink.token_hash == hash_token(token))
        )
    ).first()
    if found is None:
        return LinkProblem.UNKNOWN
    return LinkProblem.USED if found.used_at is not None else LinkProblem.EXPIRED
