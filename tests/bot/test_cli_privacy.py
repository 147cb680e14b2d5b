"""`trajectbot privacy …` as separate processes (issue 13): the export writes the JSON and the
PDF, the erasure needs --yes and --force for an open trajectory, the retention's dry run counts
and changes nothing, the period is set and shown by `settings show`; audited as the system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Person, Trajectory
from tests.bot.test_cli import trajectbot
from tests.bot.test_cli_imports import _help_in_fresh_interpreter
from tests.support.privacy_world import SAM, PrivacyWorld, build_privacy_world

SCHOOL = "vmbo-privacy"


@pytest.fixture
async def world(session: AsyncSession) -> PrivacyWorld:
    async with session.begin():
        built = await build_privacy_world(session, sam_closed_at=None)
    session.expunge_all()
    return built


async def test_export_erase_and_retention_from_the_command_line(
    world: PrivacyWorld, database_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    done = trajectbot(
        database_url, "privacy", "export", "S1001", "--school", SCHOOL, "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    [json_file] = out.glob("person-export-*.json")
    [pdf_file] = out.glob("person-export-*.pdf")
    data = json.loads(json_file.read_text("utf-8"))
    assert data["person"]["family_name"] == SAM[1]
    assert SAM[1] in "".join(p.extract_text() for p in PdfReader(pdf_file).pages)
    assert SAM[1] not in json_file.name + pdf_file.name

    unknown = trajectbot(
        database_url, "privacy", "export", "S9999", "--school", SCHOOL, "--out", str(out)
    )
    assert unknown.returncode == 1
    assert "There is no such person at this school." in unknown.stderr

    without_yes = trajectbot(database_url, "privacy", "erase", "S1001", "--school", SCHOOL)
    assert without_yes.returncode == 1
    assert "--yes" in without_yes.stderr
    still_open = trajectbot(database_url, "privacy", "erase", "S1001", "--school", SCHOOL, "--yes")
    assert still_open.returncode == 1
    assert "still open" in still_open.stderr
    forced = trajectbot(
        database_url, "privacy", "erase", "S1001", "--school", SCHOOL, "--yes", "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert f"Verwijderd {world.sam.id}" in forced.stderr
    async with session.begin():
        sam = await session.get_one(Person, world.sam.id, populate_existing=True)
        assert sam.erased_at is not None
        trajectory = await session.get_one(Trajectory, world.trajectories["sam"])
        assert trajectory.closed_at is not None

    dry = trajectbot(database_url, "privacy", "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{SCHOOL}: care data of 0 closed trajectories would be erased" in dry.stderr
    assert "Would prune:" in dry.stderr

    bad = trajectbot(database_url, "privacy", "set-retention", "0", "--school", SCHOOL)
    assert bad.returncode == 1
    assert "The retention period must be from 1 to 120 months." in bad.stderr
    done = trajectbot(database_url, "privacy", "set-retention", "36", "--school", SCHOOL)
    assert done.returncode == 0, done.stderr
    shown = trajectbot(database_url, "settings", "show", "--school", SCHOOL)
    assert "erased 36 months after closing" in shown.stdout + shown.stderr

    async with session.begin():
        audit = list(
            await session.scalars(
                select(AuditLog)
                .where(AuditLog.action.in_(("privacy.export", "privacy.erase")))
                .order_by(AuditLog.id)
            )
        )
    assert [(r.action, r.actor_id, r.details["channel"]) for r in audit] == [
        ("privacy.export", None, "cli"),
        ("privacy.erase", None, "cli"),
    ]


def test_the_help_stays_light() -> None:
    for command in ("export", "erase", "retention", "set-retention"):
        found = _help_in_fresh_interpreter(["privacy", command, "--help"])
        assert found["code"] == 0
        assert found["heavy"] == []
