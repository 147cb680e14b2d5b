"""Issue 13: a bad setting is one line on stderr naming the setting and why, exit code 2, no
traceback — for any command (`bot.cli_guard`, `bot.config.load_settings`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: (setting, value, a part of the reason): the kinds of mistakes an operator makes in `.env`.
BAD = (
    ("DATABASE_URL", "not a url", "not a database address"),
    ("DATABASE_URL", "", "not a database address"),
    ("DATABASE_URL", "mysql://user@db/trajectbot", "driver “mysql” is not supported"),
    ("DATABASE_URL", "postgresql://user@db/trajectbot", "driver “postgresql” is not supported"),
    ("DATABASE_URL", "sqlite:///var/x.db", "driver “sqlite” is not supported"),
    ("DATABASE_URL", "postgresql+asyncpg://u:secret@db:port/x", "not a database address"),
    ("DATABASE_URL", "sqlite+aiosqlite:////proc/no/such/x.db", "cannot be opened or reached"),
    ("DATABASE_URL", "postgresql+asyncpg://u:secret@127.0.0.1:1/x", "cannot be opened or reached"),
    ("LOG_LEVEL", "LOUD", "“LOUD” is not a log level"),
    ("LOG_LEVEL", "5", "“5” is not a log level"),
    ("WEB_PORT", "99999", "less than or equal to 65535"),
    ("SMTP_SECURITY", "ssl", "not accepted"),
)


def _trajectbot(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(("name", "value", "reason"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_setting_is_one_line_and_exit_code_2(
    name: str, value: str, reason: str, tmp_path: Path
) -> None:
    env = {
        key: val
        for key, val in os.environ.items()
        if key not in {"DATABASE_URL", "LOG_LEVEL", "WEB_PORT", "SMTP_SECURITY"}
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "CLI_LANGUAGE": "en",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite",
            name: value,
        }
    )
    # `init` for the database's address, a command that builds the app for the others.
    command = ["init"] if name == "DATABASE_URL" else ["queue", "--as", "zoco"]
    done = _trajectbot(command, env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"The setting {name} is not valid: ")
    assert reason in lines[0]
    assert "secret" not in done.stderr  # a password in the address is never repeated


@pytest.mark.parametrize(
    "url",
    ["sqlite+aiosqlite:////proc/no/such/x.db", "postgresql+asyncpg://u:secret@127.0.0.1:1/x"],
)
def test_an_unreachable_database_is_one_line_for_a_command_that_builds_the_app(
    url: str, tmp_path: Path
) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), CLI_LANGUAGE="en", DATABASE_URL=url)
    done = _trajectbot(["queue", "--as", "zoco"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # no traceback
    assert "DATABASE_URL is not valid: the database cannot be opened or reached" in done.stderr


def test_every_command_goes_through_the_guard() -> None:
    from bot.cli import main
    from bot.cli_guard import GuardedGroup

    assert isinstance(main, GuardedGroup)
