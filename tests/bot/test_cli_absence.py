"""`trajectbot absence import FILE`: long-term absence from an attendance export, in a real
process against the demo school's database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, create_sessionmaker
from storage.models import StudentEvent, StudentEventKind, StudentEventSource
from tests.bot.test_cli import demo_db, trajectbot

__all__ = ["demo_db"]  # the fixture, shared


async def _absences(database_url: str) -> list[tuple[date, date | None]]:
    engine = create_engine(database_url)
    try:
        session: AsyncSession
        async with create_sessionmaker(engine)() as session:
            return [
                (event.on_day, event.until)
                for event in await session.scalars(
                    select(StudentEvent).where(
                        StudentEvent.kind == StudentEventKind.LONG_ABSENCE,
                        StudentEvent.source == StudentEventSource.IMPORT,
                    )
                )
            ]
    finally:
        await engine.dispose()


async def test_absence_import_reads_the_export_and_names_what_it_did_not_find(
    demo_db: str, tmp_path: Path
) -> None:
    export = tmp_path / "verzuim.csv"
    export.write_text("student;from;until\nlln02;05-01-2026;\nonbekend;2026-01-05;\n")
    done = trajectbot(demo_db, "absence", "import", str(export))
    assert done.returncode == 0, done.stderr
    assert "added: 1; updated: 0; students not found: 1" in done.stdout
    assert await _absences(demo_db) == [(date(2026, 1, 5), None)]

    # The period ends: the same start again updates it.
    export.write_text("student,from,until\nlln02,2026-01-05,2026-02-06\n")
    again = trajectbot(demo_db, "absence", "import", str(export))
    assert again.returncode == 0, again.stderr
    assert "added: 0; updated: 1" in again.stdout
    assert await _absences(demo_db) == [(date(2026, 1, 5), date(2026, 2, 6))]

    # A line that cannot be read stops the whole file.
    export.write_text("student,from,until\nlln03,gisteren,\n")
    refused = trajectbot(demo_db, "absence", "import", str(export))
    assert refused.returncode == 1
    assert "could not be read" in refused.stderr
