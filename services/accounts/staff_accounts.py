"""Staff accounts for the web app: created with the CLI, passwords hashed with argon2id.

An account only proves who is at the keyboard; what they may see and do comes from the
person's roles, read from the database on every request. Logging in takes three steps so that
the slow password check (argon2, ~0.1–0.2 s, in a thread) never holds a write transaction:
read the account and the throttle's counters (one unit of work), verify the password outside
any transaction, then record the outcome (a session, or a failure) in one short unit of work.
Creating an account likewise hashes the password (`new_credentials`) before its unit of work.

No account is ever locked (issue 13: a lock anyone can trigger is a weapon against staff).
Recent failures are counted per (username typed, client address) and per client address, and
after a few the form asks for a progressive wait (`services.accounts.rules`); while a wait
runs, no password is even checked, and the answer is the same whether the username exists or
not. A successful login clears that username's failures from that address. The owner is never
locked out by others: the bot's one-time login link is not throttled.

Failed (``web.login_failed``) and throttled (``web.login_throttled``) attempts on a known
account are audited with the account id and a digest tag of the address (never the password
or the address itself); attempts for unknown usernames cannot be tied to a school and are only
logged, without the name. The account of a person who has left (``ended_at``, set by a sync
of the administration system) is treated as an unknown username.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import N_, Text
from services.accounts.login_throttle import clear_failures, recent_failures, record_failure
from services.accounts.people import get_person_by_external_id
from services.accounts.rules import RecentFailures, address_key, required_wait, username_key
from services.accounts.schools import find_school
from services.accounts.web_sessions import (
    SESSION_TTL,
    STAFF_ROLES,
    NewSession,
    start_session,
)
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotFound
from services.kernel.uow import run_unit_of_work
from storage.models import Person, StaffAccount

log = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
PASSWORD_MIN = 12
PASSWORD_MAX = 256


class LoginStatus(StrEnum):
    """How a login attempt ended."""

    OK = "ok"
    #: Unknown username or wrong password (one answer for both).
    INVALID = "invalid"
    #: Too many recent failures: the password was not checked (known or unknown username).
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """The result of `log_in`: a new session when ``status`` is ``ok``.

    ``retry_after`` is the wait before the next attempt is checked: always set when
    ``throttled``, and set with ``invalid`` when this failure started a wait.
    """

    status: LoginStatus
    session: NewSession | None = None
    retry_after: timedelta | None = None


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106 low-memory profile)."""
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (slow on purpose: call it in a thread)."""
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (slow on purpose: call it in a thread)."""
    try:
        return password_hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against for unknown usernames, so that they take as long as a wrong password.
    return hash_password("not-a-password-of-anyone")


def validate_username(username: str) -> Text | None:
    """What is wrong with a username, or ``None``: 3–64 of a–z, 0–9, dot, dash, underscore."""
    if USERNAME_PATTERN.fullmatch(username) is None:
        return Text.of(
            N_(
                "A username has 3 to 64 characters: lowercase letters, digits, dots, dashes "
                "or underscores, starting with a letter or digit."
            )
        )
    return None


def validate_password(password: str) -> Text | None:
    """What is wrong with a new password, or ``None`` (at least 12 characters)."""
    if len(password) < PASSWORD_MIN:
        return Text.plural_of(
            "A password needs at least {count} character.",
            "A password needs at least {count} characters.",
            PASSWORD_MIN,
        )
    if len(password) > PASSWORD_MAX:
        return Text.plural_of(
            "A password has at most {count} character.",
            "A password has at most {count} characters.",
            PASSWORD_MAX,
        )
    return None


@dataclass(frozen=True, slots=True)
class NewCredentials:
    """A new account's checked username (lowercase) and its password's argon2id hash."""

    username: str
    password_hash: str


async def new_credentials(username: str, password: str) -> NewCredentials:
    """Check a new username and password and hash the password (in a thread).

    Done before the unit of work that creates the account, so the slow hash holds no
    transaction. `InputInvalid` for a bad username or password.
    """
    username = username.strip().lower()
    problem = validate_username(username) or validate_password(password)
    if problem is not None:
        raise InputInvalid(problem)
    password_hash = await asyncio.to_thread(hash_password, password)
    return NewCredentials(username, password_hash)


async def find_staff_member(
    *, session: AsyncSession, school_code: str | None, external_id: str
) -> Person:
    """The person ``external_id`` of the school ``school_code`` (`NotFound` when unknown)."""
    school = await find_school(session=session, code=school_code)
    person = await get_person_by_external_id(
        session=session, school_id=school.id, external_id=external_id
    )
    if person is None:
        raise NotFound(Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id)))
    return person


async def create_staff_account(
    *, session: AsyncSession, person: Person, username: str, password_hash: str, now: datetime
) -> StaffAccount:
    """Create the web account of ``person`` with a password already hashed (`new_credentials`).

    Runs inside the caller's unit of work. `InputInvalid` for a person without a staff role
    (`STAFF_ROLES`), a person who already has an account, or a username in use. Audited as
    ``staff_account.create``.
    """
    if not any(person.has_role(role) for role in STAFF_ROLES):
        raise InputInvalid(
            Text.of(
                N_(
                    "Only care coordinators, coaches, district coaches, administrators and "
                    "partnership viewers can have a web account."
                )
            )
        )
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.person_id == person.id)):
        raise InputInvalid(Text.of(N_("This person already has a web account.")))
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
        raise InputInvalid(Text.of(N_("This username is already taken.")))
    account = StaffAccount(
        school_id=person.school_id,
        person_id=person.id,
        username=username,
        password_hash=password_hash,
        created_at=now,
    )
    session.add(account)
    await session.flush()
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=None,
        action="staff_account.create",
        subject_type="staff_account",
        subject_id=account.id,
        details={"person_id": person.id},
        at=now,
    )
    log.info("staff account created account_id=%s person_id=%s", account.id, person.id)
    return account


@dataclass(frozen=True, slots=True)
class _Candidate:
    account_id: int | None
    school_id: int | None
    password_hash: str
    wait: timedelta


@dataclass(frozen=True, slots=True)
class _Keys:
    username_hash: str
    address_hash: str

    @property
    def address_tag(self) -> str:
        """A short, stable tag of the client address for the audit (a digest, not the address)."""
        return self.address_hash[:16]


async def log_in(
    *,
    sessions: async_sessionmaker[AsyncSession] | AsyncSession,
    username: str,
    password: str,
    now: datetime,
    session_ttl: timedelta = SESSION_TTL,
    client_address: str | None = None,
) -> LoginOutcome:
    """Check a username and password from ``client_address``; on success start a web session.

    Two units of work, each begun through `run_unit_of_work` (``sessions`` as it takes them:
    the factory, or a session with no transaction open), with the password check between
    them outside any transaction. While the throttle asks for a wait
    (`services.accounts.rules.required_wait`) the password is not checked at all. See the
    module docstring for the throttle and the audit.
    """
    keys = _Keys(username_key(username), address_key(client_address))
    candidate = await run_unit_of_work(
        sessions,
        lambda session: _login_candidate(session=session, username=username, keys=keys, now=now),
    )
    if candidate.wait > timedelta(0):
        return LoginOutcome(LoginStatus.THROTTLED, retry_after=candidate.wait)
    # Unknown usernames are checked against a dummy hash: they take as long as a wrong password.
    matches = await asyncio.to_thread(verify_password, candidate.password_hash, password)
    outcome = await run_unit_of_work(
        sessions,
        lambda session: _record_login(
            session=session,
            candidate=candidate,
            keys=keys,
            password=password,
            matches=matches and candidate.account_id is not None,
            now=now,
            session_ttl=session_ttl,
        ),
    )
    if outcome.status is LoginStatus.OK:
        log.info("login ok account_id=%s", candidate.account_id)
    return outcome


async def _login_candidate(
    *, session: AsyncSession, username: str, keys: _Keys, now: datetime
) -> _Candidate:
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    ended = (
        None
        if account is None
        else await session.scalar(select(Person.ended_at).where(Person.id == account.person_id))
    )
    recent = await recent_failures(
        session=session, username_hash=keys.username_hash, address_hash=keys.address_hash, now=now
    )
    wait = required_wait(recent, now)
    if account is None or ended is not None:
        # A person who has left (ended by a sync) is treated as an unknown username.
        candidate = _Candidate(None, None, _dummy_hash(), wait)
    else:
        candidate = _Candidate(account.id, account.school_id, account.password_hash, wait)
    if wait > timedelta(0):
        _audit_attempt(
            session=session,
            candidate=candidate,
            keys=keys,
            action="web.login_throttled",
            recent=recent,
            wait=wait,
            now=now,
        )
    return candidate


async def _record_login(
    *,
    session: AsyncSession,
    candidate: _Candidate,
    keys: _Keys,
    password: str,
    matches: bool,
    now: datetime,
    session_ttl: timedelta,
) -> LoginOutcome:
    if not matches or candidate.account_id is None:
        recent = await record_failure(
            session=session,
            username_hash=keys.username_hash,
            address_hash=keys.address_hash,
            now=now,
        )
        wait = required_wait(recent, now)
        _audit_attempt(
            session=session,
            candidate=candidate,
            keys=keys,
            action="web.login_failed",
            recent=recent,
            wait=wait,
            now=now,
        )
        return LoginOutcome(LoginStatus.INVALID, retry_after=wait if wait > timedelta(0) else None)
    account = await session.get_one(StaffAccount, candidate.account_id, populate_existing=True)
    await clear_failures(
        session=session, username_hash=keys.username_hash, address_hash=keys.address_hash
    )
    account.last_login_at = now
    if password_hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    started = await start_session(
        session=session, account=account, method="password", now=now, ttl=session_ttl
    )
    return LoginOutcome(LoginStatus.OK, session=started)


def _audit_attempt(
    *,
    session: AsyncSession,
    candidate: _Candidate,
    keys: _Keys,
    action: str,
    recent: RecentFailures,
    wait: timedelta,
    now: datetime,
) -> None:
    """Audit a failed or throttled attempt on a known account; only log one on an unknown name.

    Never the password; never an unknown username (it cannot be tied to a school, and the
    ``login_failure`` rows hold only its digest). The client address appears as a digest tag.
    """
    wait_seconds = int(wait.total_seconds())
    if candidate.account_id is None or candidate.school_id is None:
        log.info(
            "%s: unknown username address=%s failures=%s wait_seconds=%s",
            action,
            keys.address_tag,
            recent.pair,
            wait_seconds,
        )
        return
    record_audit(
        session=session,
        school_id=candidate.school_id,
        actor_id=None,
        action=action,
        subject_type="staff_account",
        subject_id=candidate.account_id,
        details={
            "address": keys.address_tag,
            "failures": recent.pair,
            "address_failures": recent.address,
            "wait_seconds": wait_seconds,
        },
        at=now,
    )
    log.info(
        "%s account_id=%s address=%s failures=%s wait_seconds=%s",
        action,
        candidate.account_id,
        keys.address_tag,
        recent.pair,
        wait_seconds,
    )
