"""Staff accounts for the web app: created with the CLI, passwords hashed with argon2id.

An account only proves who is at the keyboard; what they may see and do comes from the
person's roles, read from the database on every request. Logging in takes three steps so that
the slow password check (argon2, ~0.1–0.2 s, in a thread) never holds a write transaction:
read the account (one unit of work), verify the password outside any transaction, then record
the outcome (a session, or a failed attempt and perhaps a lock) in one short unit of work.
Creating an account likewise hashes the password (`new_credentials`) before its unit of work.

After `MAX_FAILED_ATTEMPTS` wrong passwords in a row the account is locked for `LOCKOUT`;
while locked, no password is even checked. Failed attempts are audited with the account id
only (never the username typed); attempts for unknown usernames cannot be tied to a school
and are only logged, without the name. The account of a person who has left (``ended_at``,
set by a sync of the administration system) is treated as an unknown username.
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
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
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

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
PASSWORD_MIN = 12
PASSWORD_MAX = 256


class LoginStatus(StrEnum):
    """How a login attempt ended."""

    OK = "ok"
    #: Unknown username or wrong password (one answer for both).
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """The result of `log_in`: a new session when ``status`` is ``ok``."""

    status: LoginStatus
    session: NewSession | None = None
    locked_until: datetime | None = None


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
                    "Only care coordinators, coaches, administrators and partnership viewers "
                    "can have a web account."
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
    locked_until: datetime | None
    password_hash: str


async def log_in(
    *,
    sessions: async_sessionmaker[AsyncSession] | AsyncSession,
    username: str,
    password: str,
    now: datetime,
    session_ttl: timedelta = SESSION_TTL,
) -> LoginOutcome:
    """Check a username and password; on success start a web session.

    Two units of work, each begun through `run_unit_of_work` (``sessions`` as it takes them:
    the factory, or a session with no transaction open), with the password check between
    them outside any transaction. See the module docstring for the lock-out and the audit.
    """
    candidate = await run_unit_of_work(
        sessions, lambda session: _login_candidate(session=session, username=username, now=now)
    )
    if candidate.account_id is None:
        await asyncio.to_thread(verify_password, candidate.password_hash, password)
        log.info("login failed: unknown username")
        return LoginOutcome(LoginStatus.INVALID)
    if candidate.locked_until is not None:
        log.info("login refused: account_id=%s is locked", candidate.account_id)
        return LoginOutcome(LoginStatus.LOCKED, locked_until=candidate.locked_until)
    matches = await asyncio.to_thread(verify_password, candidate.password_hash, password)
    account_id = candidate.account_id
    outcome = await run_unit_of_work(
        sessions,
        lambda session: _record_login(
            session=session,
            account_id=account_id,
            password=password,
            matches=matches,
            now=now,
            session_ttl=session_ttl,
        ),
    )
    if outcome.status is LoginStatus.OK:
        log.info("login ok account_id=%s", account_id)
    return outcome


async def _login_candidate(*, session: AsyncSession, username: str, now: datetime) -> _Candidate:
    account = await session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    ended = (
        None
        if account is None
        else await session.scalar(select(Person.ended_at).where(Person.id == account.person_id))
    )
    if account is None or ended is not None:
        # A person who has left (ended by a sync) is treated as an unknown username.
        return _Candidate(None, None, _dummy_hash())
    return _Candidate(account.id, _locked_until(account, now), account.password_hash)


async def _record_login(
    *,
    session: AsyncSession,
    account_id: int,
    password: str,
    matches: bool,
    now: datetime,
    session_ttl: timedelta,
) -> LoginOutcome:
    account = await session.get_one(StaffAccount, account_id, populate_existing=True)
    locked_until = _locked_until(account, now)
    if locked_until is not None:
        # Locked by a concurrent attempt while this password was being checked.
        return LoginOutcome(LoginStatus.LOCKED, locked_until=locked_until)
    if not matches:
        return await _record_failure(session=session, account=account, now=now)
    account.failed_attempts = 0
    account.locked_until = None
    account.last_login_at = now
    if password_hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    started = await start_session(
        session=session, account=account, method="password", now=now, ttl=session_ttl
    )
    return LoginOutcome(LoginStatus.OK, session=started)


def _locked_until(account: StaffAccount, now: datetime) -> datetime | None:
    if account.locked_until is not None and account.locked_until > now:
        return account.locked_until
    return None


async def _record_failure(
    *, session: AsyncSession, account: StaffAccount, now: datetime
) -> LoginOutcome:
    # Counted in SQL, so concurrent wrong guesses each count.
    attempts = await session.scalar(
        update(StaffAccount)
        .where(StaffAccount.id == account.id)
        .values(failed_attempts=StaffAccount.failed_attempts + 1)
        .returning(StaffAccount.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    attempts = int(attempts or 0)
    locked_until = None
    if attempts >= MAX_FAILED_ATTEMPTS:
        locked_until = now + LOCKOUT
        await session.execute(
            update(StaffAccount)
            .where(StaffAccount.id == account.id)
            .values(failed_attempts=0, locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
    record_audit(
        session=session,
        school_id=account.school_id,
        actor_id=None,
        action="web.login_failed",
        subject_type="staff_account",
        subject_id=account.id,
        details={"attempts": attempts, "locked": locked_until is not None},
        at=now,
    )
    log.info("login failed account_id=%s attempts=%s", account.id, attempts)
    if locked_until is not None:
        return LoginOutcome(LoginStatus.LOCKED, locked_until=locked_until)
    return LoginOutcome(LoginStatus.INVALID)
