"""`trajectbot export …` as separate processes (issue 12, the seed systems): the files equal the
fixtures byte for byte, the closing report reads back, an unknown school, a week that does not
exist and an open trajectory are refused with a message (exit 1, no file), every export is
audited as the system with ``channel: cli``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog
from tests.bot.test_cli import trajectbot
from tests.bot.test_cli_imports import _help_in_fresh_interpreter
from tests.support.export_world import ADVICE, GOALS, ExportWorld, build_export_world

FIXTURES = Path(__file__).resolve().parents[1] / "support" / "fixtures" / "exports"
BASE_URL = "https://trajectbot.example.nl"


@pytest.fixture
async def world(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> ExportWorld:
    monkeypatch.setenv("WEB_BASE_URL", BASE_URL)
    async with session.begin():
        built = await build_export_world(session)
    session.expunge_all()
    return built


async def _audit(session: AsyncSession) -> list[AuditLog]:
    async with session.begin():
        return list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action.like("export.%")).order_by(AuditLog.id)
            )
        )


async def test_magister_and_lvs_files_equal_the_fixtures(
    world: ExportWorld, database_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    del world
    magister, lvs = tmp_path / "magister.csv", tmp_path / "lvs.csv"

    done = trajectbot(
        database_url, "export", "magister", "--school", "vmbo-noord", "--week", "2026-W10",
        "--out", str(magister),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"7 attendance rows of week 2026-W10 written to {magister}." in done.stderr
    assert magister.read_bytes() == (FIXTURES / "magister-2026-W10.csv").read_bytes()

    done = trajectbot(
        database_url, "export", "lvs", "--school", "vmbo-noord", "--week", "2026-W10",
        "--out", str(lvs),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert lvs.read_bytes() == (FIXTURES / "lvs-2026-W10.csv").read_bytes()

    audit = await _audit(session)
    assert [(row.action, row.actor_id, row.details["channel"]) for row in audit] == [
        ("export.magister", None, "cli"),
        ("export.lvs", None, "cli"),
    ]


async def test_the_closing_report_of_a_closed_trajectory_only(
    world: ExportWorld, database_url: str, tmp_path: Path
) -> None:
    pdf, refused = tmp_path / "closing.pdf", tmp_path / "open.pdf"

    done = trajectbot(
        database_url, "export", "closing-report", "--school", "vmbo-noord",
        "--trajectory", str(world.trajectories["otto"]), "--out", str(pdf),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages
    )
    assert " ".join(GOALS.split()) in text
    assert ADVICE in text

    done = trajectbot(
        database_url, "export", "closing-report", "--school", "vmbo-noord",
        "--trajectory", str(world.trajectories["sam"]), "--out", str(refused),
    )  # fmt: skip
    assert done.returncode == 1
    assert "The closing report is ready once the trajectory is closed." in done.stderr
    assert not refused.exists()

    intake = tmp_path / "intake.pdf"
    done = trajectbot(
        database_url, "export", "intake-report", "--school", "vmbo-noord",
        "--trajectory", str(world.trajectories["otto"]), "--out", str(intake),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Intake report written to {intake}." in done.stderr
    text = " ".join(
        " ".join((page.extract_text() or "").split())
        for page in PdfReader(io.BytesIO(intake.read_bytes())).pages
    )
    assert "Intakeverslag" in text
    assert " ".join(GOALS.split()) in text


async def test_an_unknown_school_or_week_is_refused(
    world: ExportWorld, database_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    del world
    out = tmp_path / "x.csv"

    unknown = trajectbot(
        database_url, "export", "magister", "--school", "nope", "--week", "2026-W10",
        "--out", str(out),
    )  # fmt: skip
    bad_week = trajectbot(
        database_url, "export", "lvs", "--school", "vmbo-noord", "--week", "2027-W53",
        "--out", str(out),
    )  # fmt: skip
    several = trajectbot(
        database_url, "export", "magister", "--week", "2026-W10", "--out", str(out)
    )

    assert unknown.returncode == 1
    assert "There is no school with code “nope”." in unknown.stderr
    assert bad_week.returncode == 1
    assert "The year 2027 has no week 53." in bad_week.stderr
    assert several.returncode == 1
    assert "There are several schools" in several.stderr
    assert not out.exists()
    assert await _audit(session) == []


def test_export_help_imports_no_heavy_machinery() -> None:
    found = _help_in_fresh_interpreter(["export", "magister", "--help"])

    assert found["code"] == 0
    assert "--week" in str(found["help"])
    assert found["heavy"] == []
