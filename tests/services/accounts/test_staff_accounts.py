"""Staff accounts, web sessions and login links in storage: rules, throttle, single use, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.rules import FIRST_DELAY, PAIR_FREE
from services.accounts.staff_accounts import (
    LoginStatus,
    create_staff_account,
    find_staff_member,
    log_in,
    new_credentials,
    validate_password,
    validate_username,
    verify_password,
)
from services.accounts.web_sessions import (
    LOGIN_LINK_TTL,
    LinkProblem,
    LoginLinkInvalid,
    create_login_link,
    end_session,
    redeem_login_link,
    resolve_session,
)
from services.kernel.errors import InputInvalid, NotAllowed, NotFound
from services.kernel.uow import run_unit_of_work
from storage.models import AuditLog, LoginFailure, Person, Role, StaffAccount, WebSession
from tests.support.factories import NOW, add_person, add_school

PASSWORD = "a-long-enough-password"


@pytest.fixture
async def people(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Person]:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        return {
            "zoco": await add_person(session, school, "z1", Role.CARE_COORDINATOR),
            "coach": await add_person(session, school, "c1", Role.COACH),
            "viewer": await add_person(session, school, "v1", Role.PARTNERSHIP_VIEWER),
            "mentor": await add_person(session, school, "m1", Role.MENTOR),
        }


async def _create(
    factory: async_sessionmaker[AsyncSession], external_id: str, username: str
) -> StaffAccount:
    # As the CLI does it: the password hashed first, then one unit of work.
    credentials = await new_credentials(username, PASSWORD)

    async def create(session: AsyncSession) -> StaffAccount:
        person = await find_staff_member(
            session=session, school_code="vmbo-noord", external_id=external_id
        )
        return await create_staff_account(
            session=session,
            person=person,
            username=credentials.username,
            password_hash=credentials.password_hash,
            now=NOW,
        )

    return await run_unit_of_work(factory, create)


async def test_an_account_stores_only_an_argon2id_hash(
    people: dict[str, Person], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    account = await _create(session_factory, "z1", "Ilse.Z")
    assert account.username == "ilse.z"
    assert account.person_id == people["zoco"].id
    assert account.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in account.password_hash
    assert verify_password(account.password_hash, PASSWORD)
    assert not verify_password(account.password_hash, PASSWORD + "x")
    async with session_factory() as session:
        (audit,) = await session.scalars(
            select(AuditLog).where(AuditLog.action == "staff_account.create")
        )
    assert audit.details == {"person_id": people["zoco"].id}


@pytest.mark.usefixtures("people")
async def test_account_rules(session_factory: async_sessionmaker[AsyncSession]) -> None:
    assert validate_username("ab") is not None
    assert validate_username("-zoco") is not None
    assert validate_username("zoco die") is not None
    assert validate_username("zoco_1.b-c") is None
    assert validate_password("short") is not None
    assert validate_password("x" * 12) is None
    assert validate_password("x" * 257) is not None
    await _create(session_factory, "z1", "zoco")
    with pytest.raises(InputInvalid):  # a mentor is not staff of the web app
        await _create(session_factory, "m1", "mentor")
    with pytest.raises(InputInvalid):  # one account per person
        await _create(session_factory, "z1", "zoco2")
    with pytest.raises(InputInvalid):  # usernames are unique
        await _create(session_factory, "c1", "zoco")
    with pytest.raises(NotFound):
        await _create(session_factory, "nobody", "nobody")
    await _create(session_factory, "v1", "viewer")


@pytest.mark.usefixtures("people")
async def test_log_in_starts_a_session_that_resolves_to_the_person(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await _create(session_factory, "c1", "coach")
    async with session_factory() as session:
        outcome = await log_in(sessions=session, username=" Coach ", password=PASSWORD, now=NOW)
    assert outcome.status is LoginStatus.OK
    assert outcome.session is not None
    async with session_factory() as session, session.begin():
        found = await resolve_session(session=session, token=outcome.session.token, now=NOW)
        stored = (await session.scalars(select(WebSession))).one()
    assert found is not None
    assert found.person.external_id == "c1"
    assert found.person.has_role(Role.COACH)
    assert found.csrf_token == outcome.session.csrf_token
    assert stored.token_hash != outcome.session.token  # only the hash is stored
    async with session_factory() as session, session.begin():
        later = NOW + timedelta(hours=12)
        assert (
            await resolve_session(session=session, token=outcome.session.token, now=later) is None
        )
    async with session_factory() as session, session.begin():
        await end_session(session=session, token=outcome.session.token, now=NOW)
    async with session_factory() as session, session.begin():
        assert await resolve_session(session=session, token=outcome.session.token, now=NOW) is None


@pytest.mark.usefixtures("people")
async def test_failures_ask_for_a_growing_wait_per_address_and_a_success_resets(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    account = await _create(session_factory, "z1", "zoco")

    async def attempt(
        password: str, at: timedelta = timedelta(0), address: str = "192.0.2.10"
    ) -> tuple[LoginStatus, timedelta | None]:
        async with session_factory() as session:
            outcome = await log_in(
                sessions=session,
                username="zoco",
                password=password,
                now=NOW + at,
                client_address=address,
            )
        return outcome.status, outcome.retry_after

    # A success in between resets the count of this address.
    for _ in range(PAIR_FREE - 1):
        assert await attempt("wrong-password!") == (LoginStatus.INVALID, None)
    assert (await attempt(PASSWORD))[0] is LoginStatus.OK
    for _ in range(PAIR_FREE - 1):
        assert await attempt("wrong-password!") == (LoginStatus.INVALID, None)
    # The failure that starts a wait says so; during the wait nothing is checked, not even the
    # right password, and nothing is counted.
    assert await attempt("wrong-password!") == (LoginStatus.INVALID, FIRST_DELAY)
    status, wait = await attempt(PASSWORD, FIRST_DELAY - timedelta(seconds=1))
    assert (status, wait) == (LoginStatus.THROTTLED, timedelta(seconds=1))
    # The same account from another address is not slowed down at all.
    assert (await attempt(PASSWORD, address="198.51.100.7"))[0] is LoginStatus.OK
    # After the wait the password is checked again.
    assert (await attempt(PASSWORD, FIRST_DELAY))[0] is LoginStatus.OK
    async with session_factory() as session:
        failures = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action == "web.login_failed").order_by(AuditLog.id)
            )
        )
        throttled = list(
            await session.scalars(select(AuditLog).where(AuditLog.action == "web.login_throttled"))
        )
        left = list(await session.scalars(select(LoginFailure)))
    assert len(failures) == 2 * (PAIR_FREE - 1) + 1
    assert len(throttled) == 1
    assert {(row.subject_type, row.subject_id) for row in failures + throttled} == {
        ("staff_account", account.id)
    }
    assert all(
        set(row.details) == {"address", "failures", "address_failures", "wait_seconds"}
        for row in failures + throttled
    )
    assert [row.details["failures"] for row in failures] == [1, 2, 3, 4, 1, 2, 3, 4, 5]
    assert failures[-1].details["wait_seconds"] == FIRST_DELAY.total_seconds()
    # Neither the address nor the password is stored or audited as typed.
    assert "192.0.2.10" not in str([row.details for row in failures + throttled])
    assert left == []  # the success cleared this address's failures


async def test_an_unknown_username_is_throttled_like_a_known_one_and_not_audited(
    people: dict[str, Person], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    del people
    await _create(session_factory, "z1", "zoco")
    answers: dict[str, list[tuple[LoginStatus, timedelta | None]]] = {}
    for username in ("zoco", "nobody-here"):
        answers[username] = []
        for _ in range(PAIR_FREE + 1):
            async with session_factory() as session:
                outcome = await log_in(
                    sessions=session,
                    username=username,
                    password="wrong-password!",
                    now=NOW,
                    client_address=f"192.0.2.{len(username)}",
                )
            answers[username].append((outcome.status, outcome.retry_after))
    assert answers["zoco"] == answers["nobody-here"]
    assert answers["zoco"][-1] == (LoginStatus.THROTTLED, FIRST_DELAY)
    async with session_factory() as session:
        audited = list(await session.scalars(select(AuditLog.details)))
        stored = list(await session.scalars(select(LoginFailure.username_hash)))
    assert "nobody-here" not in str(audited)
    assert len(stored) == 2 * PAIR_FREE
    assert all(len(digest) == 64 and "nobody" not in digest for digest in stored)


async def test_a_login_link_is_for_staff_with_an_account_and_works_once(
    people: dict[str, Person], session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        with pytest.raises(NotAllowed):  # a mentor is not staff of the web app
            await create_login_link(session=session, person=people["mentor"], now=NOW)
    async with session_factory() as session, session.begin():
        with pytest.raises(NotAllowed):  # staff, but no account yet
            await create_login_link(session=session, person=people["coach"], now=NOW)
    await _create(session_factory, "c1", "coach")
    async with session_factory() as session, session.begin():
        token = await create_login_link(session=session, person=people["coach"], now=NOW)
    async with session_factory() as session, session.begin():
        started = await redeem_login_link(session=session, token=token, now=NOW)
    assert started.person_id == people["coach"].id
    async with session_factory() as session, session.begin():
        with pytest.raises(LoginLinkInvalid) as used:
            await redeem_login_link(session=session, token=token, now=NOW)
    assert used.value.problem is LinkProblem.USED
    async with session_factory() as session, session.begin():
        late = await create_login_link(session=session, person=people["coach"], now=NOW)
    async with session_factory() as session, session.begin():
        with pytest.raises(LoginLinkInvalid) as expired:
            await redeem_login_link(session=session, token=late, now=NOW + LOGIN_LINK_TTL)
    assert expired.value.problem is LinkProblem.EXPIRED
    async with session_factory() as session, session.begin():
        with pytest.raises(LoginLinkInvalid) as unknown:
            await redeem_login_link(session=session, token="made-up", now=NOW)
    assert unknown.value.problem is LinkProblem.UNKNOWN
