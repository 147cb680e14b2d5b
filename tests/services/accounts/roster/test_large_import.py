"""A large import does not block the app: staff log in while it writes, batch by batch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts import staff_accounts
from services.accounts.roster.sync import sync_people
from services.accounts.staff_accounts import (
    LoginStatus,
    create_staff_account,
    log_in,
    new_credentials,
)
from services.kernel.uow import run_unit_of_work
from storage.models import Person
from tests.support.factories import NOW, add_person, add_school

PASSWORD = "a-long-enough-password"
ROWS = 1500


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast argon2 parameters: the test measures the database lock, not the hash."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(staff_accounts, "password_hasher", lambda: cheap)


async def test_staff_log_in_while_a_large_import_is_written(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    credentials = await new_credentials("zoco", PASSWORD)

    async def school_with_a_coordinator(session: AsyncSession) -> None:
        from storage.models import Role

        school = await add_school(session)
        zoco = await add_person(session, school, "zoco", Role.CARE_COORDINATOR)
        await create_staff_account(
            session=session,
            person=zoco,
            username=credentials.username,
            password_hash=credentials.password_hash,
            now=NOW,
        )

    await run_unit_of_work(session_factory, school_with_a_coordinator)
    csv = tmp_path / "leerlingen.csv"
    csv.write_bytes(
        "\r\n".join(
            [
                "external_id;roles;given_name;family_name;group",
                *(f"L{n};student;Leerling{n};Achternaam{n};{n % 30}B" for n in range(ROWS)),
            ]
        ).encode("cp1252")
    )

    async def people() -> int:
        async with session_factory() as session:
            return int(await session.scalar(select(func.count()).select_from(Person)) or 0)

    importing = asyncio.create_task(
        sync_people(session_factory, path=csv, school_code=None, now=NOW, batch_size=100)
    )
    seen: list[tuple[LoginStatus, int, bool]] = []
    while not importing.done():
        outcome = await log_in(
            sessions=session_factory, username="zoco", password=PASSWORD, now=NOW
        )
        seen.append((outcome.status, await people(), importing.done()))
    result = await importing

    assert result.written
    assert result.stats is not None
    assert result.stats.transactions > ROWS // 100
    assert await people() == ROWS + 1
    assert all(status is LoginStatus.OK for status, _, _ in seen)
    # Logins succeeded while the import was half-way: some people written, not all.
    during = [written for _, written, done in seen if not done and 1 < written < ROWS + 1]
    assert len(during) >= 3, seen
