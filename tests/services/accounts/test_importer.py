"""The people import in one transaction: everything checked first, every problem reported,
all or nothing (the batched sync of the command line: tests/services/accounts/roster/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import Text
from services.accounts.importer import import_people
from services.accounts.people import get_person_by_external_id, mentees_of
from services.kernel.errors import ImportFailed
from storage.models import AuditLog, Guardianship, Mentorship, Person, Role, School
from tests.support.factories import add_school, count

SAMPLE = (Path(__file__).parents[2] / "support" / "fixtures" / "people.csv").read_text(
    encoding="utf-8"
)
HEADER = "external_id,roles,given_name,family_name,group,language,mentor_of,parent_of\n"


@pytest.fixture
async def school(session_factory: async_sessionmaker[AsyncSession]) -> School:
    async with session_factory() as session, session.begin():
        return await add_school(session)


def _rendered(errors: tuple[Text, ...]) -> list[str]:
    return [
        (error.plural if error.plural is not None and error.count != 1 else error.msgid).format(
            **error.params
        )
        for error in errors
    ]


async def test_sample_file_imports(
    school: School, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        report = await import_people(session=session, school_id=school.id, rows=SAMPLE)
    assert report.created == (
        "L1001", "L1002", "L1003", "D2001", "D2002", "O3001", "O3002", "Z4001"
    )  # fmt: skip
    assert report.updated == ()

    async with session_factory() as session:
        anouk = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="D2001"
        )
        assert anouk is not None
        assert {r.role for r in anouk.roles} == {Role.MENTOR, Role.TEACHER}
        assert [p.external_id for p in await mentees_of(session=session, mentor=anouk)] == [
            "L1001",
            "L1002",
        ]
        noor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="L1002"
        )
        assert noor is not None
        assert (noor.group_name, noor.language) == ("2B", "nl")
        assert await count(session, Guardianship) == 3
        assert await count(session, Mentorship) == 3
        audit = (await session.scalars(select(AuditLog))).one()
        assert audit.action == "people.import"
        # Counts only: no names or ids of people.
        assert audit.details == {
            "source": "csv", "full": False, "added": 8, "changed": 0, "ended": 0,
            "returned": 0, "links_added": 6, "links_removed": 0, "bad_rows_skipped": 0,
        }  # fmt: skip


async def test_reimport_updates_and_replaces_links(
    school: School, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        await import_people(session=session, school_id=school.id, rows=SAMPLE)
    async with session_factory() as session, session.begin():
        noor = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="L1002"
        )
        assert noor is not None
        noor.language = "uk"  # chosen in the bot; an empty cell must not undo it

    changed = [
        {"external_id": "D2001", "roles": "mentor", "given_name": "Anouk",
         "family_name": "Klasema-Vos", "mentor_of": "L1002;L1003"},
        {"external_id": "L1002", "roles": "student", "given_name": "Noor",
         "family_name": "Bremhorst", "language": ""},
    ]  # fmt: skip
    async with session_factory() as session, session.begin():
        report = await import_people(session=session, school_id=school.id, rows=changed)
    # Noor's row changes nothing (an empty language keeps the one chosen in the bot).
    assert (report.created, report.updated) == ((), ("D2001",))

    async with session_factory() as session:
        anouk = await get_person_by_external_id(
            session=session, school_id=school.id, external_id="D2001"
        )
        assert anouk is not None
        assert anouk.family_name == "Klasema-Vos"
        assert [r.role for r in anouk.roles] == [Role.MENTOR]
        mentees = await mentees_of(session=session, mentor=anouk)
        assert [p.external_id for p in mentees] == ["L1002", "L1003"]
        noor = await session.get_one(Person, mentees[0].id)
        assert noor.language == "uk"
        # The group column was absent: the group stays.
        assert noor.group_name == "2B"
        # D2002 was not in the file: still mentor of L1003.
        assert await count(session, Mentorship) == 3


async def test_every_bad_row_is_reported_and_nothing_written(
    school: School, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    bad = HEADER + "\n".join(
        [
            "L1,student,Daan,Akkerveld,2B,nl,,",  # line 2: fine
            ",student,Noor,Bremhorst,2B,nl,,",
            "L1,student,Sem,Coldewey,2B,nl,,",
            "L4,student;wizard,Yara,Dijkhuis,2B,nl,,",
            "L5,student,Finn,Eemsteden,2B,fr,,",
            "L6,student,,Fennema,2B,nl,,",
            f"L7,student,Lotte,{'x' * 101},2B,nl,,",
            "D1,teacher,Anouk,Klasema,,nl,L1,",
            "D2,mentor,Ruben,Lesterhuis,,nl,L1;L99;D3,",
            "D3,coach,Jeroen,Trajectveld,,nl,,L1",
        ]
    )
    async with session_factory() as session, session.begin():
        with pytest.raises(ImportFailed) as failed:
            await import_people(session=session, school_id=school.id, rows=bad)
    assert _rendered(failed.value.errors) == [
        "Line 3: external_id is empty.",
        "Line 4: external_id L1 is also on line 2.",
        "Line 5: unknown role wizard.",
        "Line 6: unsupported language fr.",
        "Line 7: given_name is empty.",
        "Line 8: family_name is longer than 100 characters.",
        "Line 9: mentor_of is filled in, but the role mentor is not.",
        "Line 10: unknown student L99.",
        "Line 10: D3 is not a student.",
        "Line 11: parent_of is filled in, but the role parent is not.",
    ]
    async with session_factory() as session:
        assert await count(session, Person) == 0
        assert await count(session, AuditLog) == 0


async def test_missing_and_unknown_columns(
    school: School, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    csv_text = "external_id,roles,given_name,familyname\nL1,student,Daan,Akkerveld\n"
    async with session_factory() as session, session.begin():
        with pytest.raises(ImportFailed) as failed:
            await import_people(session=session, school_id=school.id, rows=csv_text)
    assert _rendered(failed.value.errors) == [
        "Line 1: column family_name is missing.",
        "Line 1: unknown column familyname.",
    ]


async def test_links_to_students_already_in_the_school(
    school: School, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session, session.begin():
        await import_people(session=session, school_id=school.id, rows=SAMPLE)
    parent_only = "\ufeff" + HEADER + "O9,parent,Agnieszka,Holtkamp,,pl,,L1003\n"
    async with session_factory() as session, session.begin():
        report = await import_people(session=session, school_id=school.id, rows=parent_only)
    assert report.created == ("O9",)
    async with session_factory() as session:
        assert await count(session, Guardianship) == 4
