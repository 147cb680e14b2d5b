"""The sync against a real database: dry run, repeat, leavers (history kept, access lost),
coming back, bad rows, the project CSV from Dutch Excel, the audit."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.invites import create_invite, redeem_invite
from services.accounts.people import get_person_by_external_id, get_person_by_telegram_id
from services.accounts.roster import apply as roster_apply
from services.accounts.roster.sync import sync_people
from services.accounts.staff_accounts import (
    LoginStatus,
    create_staff_account,
    log_in,
    new_credentials,
)
from services.accounts.web_sessions import resolve_session
from services.conversations.web_chat import (
    ChatLinkInvalid,
    LinkProblem,
    redeem_chat_link,
    resolve_chat_session,
)
from services.kernel.errors import InviteInvalid, InviteInvalidReason
from services.kernel.uow import run_unit_of_work
from storage.models import AuditLog, Guardianship, Mentorship, Person, PersonRole, Role
from tests.support.factories import NOW, add_person, add_school, count

BUNDLE = Path(__file__).parents[3] / "support" / "fixtures" / "oneroster"
PASSWORD = "a-long-enough-password"
ADDED = [
    "stu-1001", "stu-1002", "stu-1003", "par-3001", "par-3002", "par-3003", "par-3004",
    "tea-2001", "tea-2002", "tea-2003",
]  # fmt: skip


@pytest.fixture
async def sessions(
    session_factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        # The first admin (`school create`): a role given in the app, never ended by a sync.
        await add_person(session, school, "beheer", Role.ADMIN)
    return session_factory


def _bundle_without(tmp_path: Path, *external_ids: str) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(BUNDLE, copy)
    users = copy / "users.csv"
    lines = users.read_text(encoding="utf-8").splitlines(keepends=True)
    users.write_text(
        "".join(line for line in lines if line.split(",")[0] not in external_ids),
        encoding="utf-8",
    )
    return copy


async def _person(sessions: async_sessionmaker[AsyncSession], external_id: str) -> Person:
    async with sessions() as session:
        school_id = 1
        person = await get_person_by_external_id(
            session=session, school_id=school_id, external_id=external_id
        )
        assert person is not None
        return person


async def test_a_dry_run_plans_everything_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW, dry_run=True)
    assert result.kind == "oneroster"
    assert not result.written
    plan = result.plan
    assert plan is not None
    assert [change.external_id for change in plan.added] == ADDED
    assert plan.full
    assert plan.changed == ()
    assert plan.ended == ()
    assert plan.role_counts == {Role.STUDENT: 3, Role.PARENT: 4, Role.TEACHER: 3, Role.MENTOR: 2}
    # stu-1004 leaves and is not in the school: neither added nor linked.
    assert sorted((link.kind, link.holder, link.student) for link in plan.links_added) == [
        ("mentor", "tea-2001", "stu-1001"),
        ("mentor", "tea-2001", "stu-1002"),
        ("mentor", "tea-2002", "stu-1003"),
        ("parent", "par-3001", "stu-1001"),
        ("parent", "par-3002", "stu-1002"),
        ("parent", "par-3003", "stu-1003"),
        ("parent", "par-3004", "stu-1002"),
    ]
    async with sessions() as session:
        assert await count(session, Person) == 1
        assert await count(session, AuditLog) == 0


async def test_the_sync_writes_and_a_second_run_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await sync_people(sessions, path=BUNDLE, school_code="vmbo-noord", now=NOW)
    assert first.written
    assert first.stats is not None
    noor = await _person(sessions, "stu-1002")
    assert (noor.given_name, noor.family_name, noor.group_name) == (
        "Noor",
        "van den Bremhorst",
        "2B",
    )
    anouk = await _person(sessions, "tea-2001")
    assert {r.role for r in anouk.roles} == {Role.TEACHER, Role.MENTOR}
    assert anouk.email == "a.klasema@lindecollege.example.nl"
    async with sessions() as session:
        assert await count(session, Mentorship) == 3
        assert await count(session, Guardianship) == 4

    again = await sync_people(sessions, path=BUNDLE, school_code="vmbo-noord", now=NOW)
    assert again.plan is not None
    assert again.plan.is_empty
    assert again.plan.unchanged == 10
    async with sessions() as session:
        audits = list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))
    # One audit row per run, counts only.
    assert [(a.action, a.details["added"], a.details["changed"]) for a in audits] == [
        ("people.import", 10, 0),
        ("people.import", 0, 0),
    ]
    assert not any("Noor" in str(a.details) or "stu-" in str(a.details) for a in audits)


async def test_a_leaver_keeps_the_history_loses_access_and_can_come_back(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    # Anouk is also the care coordinator (given in the app): a web account, Telegram, a chat.
    credentials = await new_credentials("aklasema", PASSWORD)

    async def give_access(session: AsyncSession) -> tuple[str, str, str]:
        anouk = await get_person_by_external_id(
            session=session, school_id=1, external_id="tea-2001"
        )
        assert anouk is not None
        session.add(PersonRole(person_id=anouk.id, role=Role.CARE_COORDINATOR))
        await session.flush()
        await session.refresh(anouk, ["roles"])
        await create_staff_account(
            session=session,
            person=anouk,
            username=credentials.username,
            password_hash=credentials.password_hash,
            now=NOW,
        )
        anouk.telegram_user_id = 777001
        ttl = timedelta(days=14)
        chat = await create_invite(
            session=session, person=anouk, role=Role.MENTOR, ttl=ttl, now=NOW
        )
        spare = await create_invite(
            session=session, person=anouk, role=Role.MENTOR, ttl=ttl, now=NOW
        )
        telegram = await create_invite(
            session=session, person=anouk, role=Role.MENTOR, ttl=ttl, now=NOW
        )
        opened = await redeem_chat_link(session=session, token=chat, now=NOW)
        return opened.token, spare, telegram

    chat_token, spare_link, telegram_link = await run_unit_of_work(sessions, give_access)
    logged_in = await log_in(sessions=sessions, username="aklasema", password=PASSWORD, now=NOW)
    assert logged_in.status is LoginStatus.OK
    assert logged_in.session is not None

    left = await sync_people(
        sessions, path=_bundle_without(tmp_path, "tea-2001"), school_code=None, now=NOW
    )
    assert left.plan is not None
    assert left.plan.ended == ("tea-2001",)  # not the admin, who holds only an app role

    anouk = await _person(sessions, "tea-2001")
    assert anouk.ended_at is not None
    # History kept: every role, the mentorships.
    assert {r.role for r in anouk.roles} == {Role.TEACHER, Role.MENTOR, Role.CARE_COORDINATOR}
    async with sessions() as session:
        assert await count(session, Mentorship) == 3
        admin = await get_person_by_external_id(session=session, school_id=1, external_id="beheer")
        assert admin is not None
        assert admin.ended_at is None

    # Access lost: the web login, the running web session, Telegram, the web chat, links.
    again = await log_in(sessions=sessions, username="aklasema", password=PASSWORD, now=NOW)
    assert again.status is LoginStatus.INVALID
    async with sessions() as session, session.begin():
        assert (
            await resolve_session(session=session, token=logged_in.session.token, now=NOW) is None
        )
        assert await get_person_by_telegram_id(session=session, telegram_user_id=777001) is None
        assert await resolve_chat_session(session=session, token=chat_token, now=NOW) is None
        with pytest.raises(ChatLinkInvalid) as refused:
            await redeem_chat_link(session=session, token=spare_link, now=NOW)
        assert refused.value.problem is LinkProblem.UNKNOWN
    async with sessions() as session, session.begin():
        with pytest.raises(InviteInvalid) as invalid:
            await redeem_invite(
                session=session,
                token=telegram_link,
                telegram_user_id=777002,
                telegram_chat_id=777002,
                now=NOW,
            )
        assert invalid.value.reason is InviteInvalidReason.UNKNOWN

    # Listed again: she comes back, with her access.
    back = await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    assert back.plan is not None
    assert back.plan.returned == ("tea-2001",)
    assert (await _person(sessions, "tea-2001")).ended_at is None
    relogin = await log_in(sessions=sessions, username="aklasema", password=PASSWORD, now=NOW)
    assert relogin.status is LoginStatus.OK
    async with sessions() as session:
        found = await get_person_by_telegram_id(session=session, telegram_user_id=777001)
        assert found is not None


async def test_tobedeleted_ends_and_a_partial_sync_leaves_absent_people_alone(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        school_id = 1
        finn = Person(school_id=school_id, external_id="stu-1004", given_name="Finn",
                      family_name="Fennema", roles=[PersonRole(role=Role.STUDENT)])  # fmt: skip
        session.add(finn)
    await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    assert (await _person(sessions, "stu-1004")).ended_at is not None

    partial = await sync_people(
        sessions, path=_bundle_without(tmp_path, "stu-1003"), school_code=None, now=NOW,
        full=False,
    )  # fmt: skip
    assert partial.plan is not None
    assert partial.plan.ended == ()
    assert (await _person(sessions, "stu-1003")).ended_at is None


async def test_bad_rows_write_nothing_unless_skipped(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    csv = tmp_path / "leerlingen.csv"
    csv.write_bytes(
        (
            "External_ID;Roles;Given_Name;Family_Name;Group;Email\r\n"
            "L1;student;René;Dijkhuis;2B;rene@example.nl\r\n"
            "L2;student;;Eemsteden;2B;\r\n"
            "L3;student;Zoë;Fennema;2B;geen-adres\r\n"
        ).encode("cp1252")
    )
    refused = await sync_people(sessions, path=csv, school_code=None, now=NOW)
    assert refused.refused
    assert not refused.written
    assert refused.plan is not None
    assert [(b.file, b.line, b.reason.msgid) for b in refused.plan.bad_rows] == [
        ("leerlingen.csv", 3, "Line {line}: {column} is empty."),
        ("leerlingen.csv", 4, "Line {line}: {column} is not an e-mail address."),
    ]
    async with sessions() as session:
        assert await count(session, Person) == 1

    skipped = await sync_people(sessions, path=csv, school_code=None, now=NOW, skip_bad_rows=True)
    assert skipped.written
    rene = await _person(sessions, "L1")
    assert (rene.given_name, rene.group_name, rene.email) == ("René", "2B", "rene@example.nl")
    async with sessions() as session:
        assert await count(session, Person) == 2
        audit = (await session.scalars(select(AuditLog))).one()
    assert audit.details["bad_rows_skipped"] == 2


async def test_a_full_csv_sync_ends_the_absent(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "external_id,roles,given_name,family_name\nL1,student,Daan,Akkerveld\n"
        "L2,student,Noor,Bremhorst\n",
        encoding="utf-8",
    )
    await sync_people(sessions, path=csv, school_code=None, now=NOW)
    csv.write_text(
        "external_id,roles,given_name,family_name\nL1,student,Daan,Akkerveld\n", encoding="utf-8"
    )
    partial = await sync_people(sessions, path=csv, school_code=None, now=NOW)
    assert partial.plan is not None
    assert partial.plan.is_empty
    full = await sync_people(sessions, path=csv, school_code=None, now=NOW, full=True)
    assert full.plan is not None
    assert full.plan.ended == ("L2",)
    assert (await _person(sessions, "L2")).ended_at is not None
    assert (await _person(sessions, "beheer")).ended_at is None


async def test_a_full_sync_of_an_empty_file_is_refused(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    empty = tmp_path / "leeg.csv"
    empty.write_text("external_id,roles,given_name,family_name\n", encoding="utf-8")
    refused = await sync_people(sessions, path=empty, school_code=None, now=NOW, full=True)
    assert [bad.reason.msgid for bad in refused.fatal] == [
        "The file lists nobody: a full sync would end everyone. Nothing done."
    ]
    async with sessions() as session:
        ended = await session.scalar(
            select(func.count()).select_from(Person).where(Person.ended_at.is_not(None))
        )
    assert ended == 0


async def test_a_file_that_cannot_be_opened_is_a_reason(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    gone = tmp_path / "people.csv"
    gone.symlink_to(tmp_path / "elsewhere.csv")  # a link to a file that is not there
    result = await sync_people(sessions, path=gone, school_code=None, now=NOW)
    assert [bad.reason.msgid for bad in result.fatal] == ["The file {file} cannot be opened."]


async def test_a_batch_the_database_refuses_stops_the_run_with_a_reason(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(**_: object) -> None:
        raise OperationalError("INSERT …", {}, Exception("database or disk is full"))

    monkeypatch.setattr(roster_apply, "write_links", refuse)
    stopped = await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    assert [bad.reason.msgid[:31] for bad in stopped.fatal] == ["The import stopped half-way: th"]
    async with sessions() as session:
        assert await count(session, Person) == 11  # the people batch stays
    monkeypatch.undo()
    again = await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    assert again.plan is not None
    assert again.plan.added == ()
    assert len(again.plan.links_added) == 7  # the same file completes the run
