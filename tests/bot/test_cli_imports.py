"""`trajectbot --help` imports nothing heavy: each command imports its machinery when it runs.

Checked in a fresh interpreter (this test process has imported everything already) by what is
in `sys.modules` after importing `bot.cli` and rendering the help texts. No timing is asserted
here; the start time is measured by `bench/cli_start.py` (figures in docs/testing.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Slow to import, and needed only by a command that runs.
HEAVY = (
    "sqlalchemy",
    "sqlalchemy.ext.asyncio",
    "alembic",
    "aiogram",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "pydantic_settings",
    "babel",
    "asyncio",
    "services",
    "storage",
    "web",
)

_PROBE = """
import contextlib, io, json, sys
import bot.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = bot.cli.main(ARGS, prog_name="trajectbot", standalone_mode=False)
heavy = [name for name in HEAVY if name in sys.modules]
print(json.dumps({"code": code, "help": out.getvalue(), "heavy": heavy}))
"""


def _help_in_fresh_interpreter(args: list[str], language: str = "en") -> dict[str, object]:
    """The help of ``trajectbot ARGS`` and the heavy modules loaded, with CLI_LANGUAGE set."""
    source = _PROBE.replace("ARGS", repr(args)).replace("HEAVY", repr(HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLI_LANGUAGE": language},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "staff-account"),
        (["init", "--help"], "Alembic migrations"),
        (["staff-account", "create", "--help"], "--password-stdin"),
    ],
)
def test_help_imports_no_heavy_machinery(args: list[str], expected: str) -> None:
    found = _help_in_fresh_interpreter(args)

    assert found["code"] == 0
    assert expected in str(found["help"])
    assert found["heavy"] == [], f"`trajectbot {' '.join(args)}` imported {found['heavy']}"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check is not vacuous: importing the composition root is noticed."""
    source = "import sys, bot.app; print('sqlalchemy.ext.asyncio' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "True"
