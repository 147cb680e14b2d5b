"""Staff accounts for the web app: created with the CLI, passwords hashed with argon2id.

An account only proves who is at the keyboard; what they may see and do comes from the
person's roles, read from the database on every request. Logging in is a unit of work in
three steps so that the slow password check (argon2, ~0.1–0.2 s, in a thread) never holds a
write transaction: read the account, verify the password outside any transaction, then record
the outcome (a session, or a failed attempt and perhaps a lock) in one short transaction.

After `MAX_FAILED_ATTEMPTS` wrong passwords in a row the account is locked for `LOCKOUT`;
while locked, no password is even checked. Failed attempts are audited with the account id
only (never the username typed); attempts for unknown usernames cannot be tied to a school
and are only logged, without the name.
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
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.accounts.people import get_person_by_external_id
from services.accounts.schools import find_school
from services.accounts.web_sessions import (
    SESSION_TTL,
    STAFF_ROLES,
    NewSession,
    start_session_in_transaction,
)
from services.kernel.audit import record_audit
from services.kernel.errors import InputInvalid, NotFound
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


async def create_staff_account(
    *,
    session: AsyncSession,
    school_code: str | None,
    external_id: str,
    username: str,
    password: str,
    now: datetime,
) -> StaffAccount:
    """Create the web account of the staff member ``external_id`` (a unit of work; the CLI's).

    `NotFound` for an unknown school or person; `InputInvalid` for a bad username or password,
    a person without a staff role (`STAFF_ROLES`), a person who already has an account, or a
    username in use. Audited as ``staff_account.create``.
    """
    username = username.strip().lower()
    problem = validate_username(username) or validate_password(password)
    if problem is not None:
        raise InputInvalid(problem)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with session.begin():
        school = await find_school(session=session, code=school_code)
        person = await get_person_by_external_id(
            session=session, school_id=school.id, external_id=external_id
        )
        if person is None:
            raise NotFound(
                Text.of(N_("Nobody with id “{id}” was found."), id=Text.raw(external_id))
            )
        return await create_staff_account_in_transaction(
            session=session, person=person, username=username, password_hash=password_hash, now=now
        )


async def create_staff_account_in_transaction(
    *, session: AsyncSession, person: Person, username: str, password_hash: str, now: datetime
) -> StaffAccount:
    """`create_staff_account` as an operation, with the password already hashed."""
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


async def log_in(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    now: datetime,
    session_ttl: timedelta = SESSION_TTL,
) -> LoginOutcome:
    """Check a username and password; on success start a web session (a unit of work).

    ``session`` must not be inside a transaction. See the module docstring for the steps,
    the lock-out and what is audited.
    """
    async with session.begin():
        account = await session.scalar(
            select(StaffAccount).where(StaffAccount.username == username.strip().lower())
        )
        account_id = None if account is None else account.id
        locked_until = None if account is None else _locked_until(account, now)
        password_hash = _dummy_hash() if account is None else account.password_hash
    if account_id is None:
        await asyncio.to_thread(verify_password, password_hash, password)
        log.info("login failed: unknown username")
        return LoginOutcome(LoginStatus.INVALID)
    if locked_until is not None:
        log.info("login refused: account_id=%s is locked", account_id)
        return LoginOutcome(LoginStatus.LOCKED, locked_until=locked_until)
    matches = await asyncio.to_thread(verify_password, password_hash, password)
    async with session.begin():
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
        started = await start_session_in_transaction(
            session=session, account=account, method="password", now=now, ttl=session_ttl
        )
    log.info("login ok account_id=%s", account_id)
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
