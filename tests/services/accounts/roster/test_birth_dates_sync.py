"""Students' dates of birth written by the sync (a real database): set, changed, kept by an
empty cell or a file without the column, refused when bad; OneRoster's demographics.csv."""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import Text
from services.accounts.people import get_person_by_external_id
from services.accounts.roster.report import report_lines
from services.accounts.roster.sync import SyncResult, sync_people
from storage.models import Person, Role
from tests.support.factories import NOW, add_person, add_school, count

BUNDLE = Path(__file__).parents[3] / "support" / "fixtures" / "oneroster"
HEADER = "external_id,roles,given_name,family_name,birth_date\n"
ROWS = (
    "L1,student,Daan,Akkerveld,2008-03-14\n"
    "L2,student,Noor,Bremhorst,02-11-2007\n"
    "P1,parent,Kees,Akkerveld,1975-06-01\n"
)


@pytest.fixture
async def sessions(
    session_factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    async with session_factory() as session, session.begin():
        school = await add_school(session, "vmbo-noord")
        await add_person(session, school, "beheer", Role.ADMIN)
    return session_factory


async def _born(sessions: async_sessionmaker[AsyncSession], external_id: str) -> date | None:
    async with sessions() as session:
        person = await get_person_by_external_id(
            session=session, school_id=1, external_id=external_id
        )
        assert person is not None
        return person.birth_date


async def _sync(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, text: str
) -> SyncResult:
    csv = tmp_path / "leerlingen.csv"
    csv.write_text(text, encoding="utf-8")
    return await sync_people(sessions, path=csv, school_code=None, now=NOW)


def _changed(result: SyncResult) -> list[tuple[str, tuple[str, ...]]]:
    assert result.plan is not None
    return [(change.external_id, change.fields) for change in result.plan.changed]


async def test_the_csv_sets_the_dates_and_a_second_run_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="services")
    first = await _sync(sessions, tmp_path, HEADER + ROWS)
    assert first.written
    assert await _born(sessions, "L1") == date(2008, 3, 14)
    assert await _born(sessions, "L2") == date(2007, 11, 2)
    assert await _born(sessions, "P1") is None  # a parent's date is not imported
    again = await _sync(sessions, tmp_path, HEADER + ROWS)
    assert again.plan is not None
    assert again.plan.is_empty
    assert again.plan.unchanged == 3
    # Nothing personal in the product's logs: no date, no name.
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("services"))
    assert "import into school_id=1" in logged
    for personal in ("2008", "03-14", "11-2007", "Daan", "Akkerveld"):
        assert personal not in logged


async def test_a_changed_date_is_reported_and_written(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _sync(sessions, tmp_path, HEADER + ROWS)
    changed = await _sync(
        sessions,
        tmp_path,
        HEADER + ROWS.replace("2008-03-14", "15-03-2008"),
    )
    assert changed.written
    assert _changed(changed) == [("L1", ("birth_date",))]
    assert changed.plan is not None
    assert changed.plan.unchanged == 2
    lines = [text for text, _ in report_lines(changed, dry_run=False, fix_hint=Text.of("x"))]
    assert [
        text.params["fields"] for text in lines if text.msgid == "Changed {external_id}: {fields}"
    ] == [Text.raw("birth_date")]
    assert await _born(sessions, "L1") == date(2008, 3, 15)
    assert await _born(sessions, "L2") == date(2007, 11, 2)


async def test_an_empty_cell_and_a_file_without_the_column_keep_the_date(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _sync(sessions, tmp_path, HEADER + ROWS)
    empty = await _sync(sessions, tmp_path, HEADER + ROWS.replace("2008-03-14", ""))
    assert empty.plan is not None
    assert empty.plan.is_empty
    assert await _born(sessions, "L1") == date(2008, 3, 14)
    no_column = await _sync(
        sessions,
        tmp_path,
        "external_id,roles,given_name,family_name,group\nL1,student,Daan,Akkerveld,2B\n",
    )
    assert _changed(no_column) == [("L1", ("group_name",))]
    assert await _born(sessions, "L1") == date(2008, 3, 14)


async def test_a_bad_or_future_date_refuses_the_file(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    refused = await _sync(
        sessions,
        tmp_path,
        HEADER + "L1,student,Daan,Akkerveld,2008-14-03\nL2,student,Noor,Bremhorst,2999-01-01\n",
    )
    assert refused.refused
    assert not refused.written
    assert refused.plan is not None
    assert [(b.line, b.reason.msgid) for b in refused.plan.bad_rows] == [
        (2, "Line {line}: {column} is not a date (write YYYY-MM-DD or DD-MM-YYYY)."),
        (3, "Line {line}: {column} lies in the future."),
    ]
    async with sessions() as session:
        assert await count(session, Person) == 1


async def test_oneroster_demographics_sets_the_students_dates(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    result = await sync_people(sessions, path=BUNDLE, school_code=None, now=NOW)
    assert result.written
    assert await _born(sessions, "stu-1001") == date(2012, 3, 14)
    assert await _born(sessions, "stu-1002") == date(2012, 11, 2)
    assert await _born(sessions, "stu-1003") is None  # no row in demographics.csv
    assert await _born(sessions, "par-3001") is None

    copy = tmp_path / "bundle"
    shutil.copytree(BUNDLE, copy)
    demographics = copy / "demographics.csv"
    demographics.write_text(
        demographics.read_text(encoding="utf-8").replace("2012-03-14", "2012-03-15"),
        encoding="utf-8",
    )
    changed = await sync_people(sessions, path=copy, school_code=None, now=NOW)
    assert _changed(changed) == [("stu-1001", ("birth_date",))]
    assert await _born(sessions, "stu-1001") == date(2012, 3, 15)

    demographics.unlink()  # without demographics.csv the dates stay
    without = await sync_people(sessions, path=copy, school_code=None, now=NOW)
    assert without.plan is not None
    assert without.plan.is_empty
    assert await _born(sessions, "stu-1001") == date(2012, 3, 15)
