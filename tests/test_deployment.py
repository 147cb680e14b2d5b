"""The deployment examples in deploy/ and docs/deployment.md cannot rot unnoticed.

Every ``ExecStart``/``ExecStartPre`` of the systemd units is a real `trajectbot` command line
(``trajectbot <command> --help`` answers, and its options parse); the units pass
``systemd-analyze verify`` where systemd is installed; the reverse proxy examples send traffic
to the ports and path the settings default to; ``.env.example`` lists every setting.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bot.cli import main
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))
BINARY = "/opt/trajectbot/.venv/bin/trajectbot"


def _settings(unit: Path) -> dict[str, list[str]]:
    """``key -> values`` of a unit file (keys may repeat, e.g. ExecStartPre)."""
    found: dict[str, list[str]] = {}
    for raw in unit.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def _command_lines() -> list[tuple[str, list[str]]]:
    lines = []
    for unit in UNITS:
        settings = _settings(unit)
        for key in ("ExecStartPre", "ExecStart"):
            for value in settings.get(key, []):
                words = shlex.split(value)
                assert words[0] == BINARY, f"{unit.name}: {key} runs {words[0]}"
                lines.append((f"{unit.name} {key}", words[1:]))
    return lines


COMMAND_LINES = _command_lines()


def test_there_are_units_and_each_starts_trajectbot() -> None:
    names = {unit.name for unit in UNITS}
    assert {"trajectbot.service", "trajectbot-backup.service"} <= names
    assert all(any(where.startswith(name) for where, _ in COMMAND_LINES) for name in names)


def _command(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """The command path, the click command and its own arguments."""
    command: click.Command = main
    path: list[str] = []
    rest = list(words)
    while isinstance(command, click.Group):
        assert rest, f"`trajectbot {' '.join(path)}` needs a subcommand"
        found = command.get_command(click.Context(command), rest[0])
        assert found is not None, f"`trajectbot {' '.join([*path, rest[0]])}` is no command"
        path.append(rest.pop(0))
        command = found
    return path, command, rest


@pytest.mark.parametrize(("where", "words"), COMMAND_LINES, ids=[w for w, _ in COMMAND_LINES])
def test_each_command_line_of_the_units_is_a_trajectbot_command(
    where: str, words: list[str]
) -> None:
    path, command, rest = _command(words)
    # Its options and arguments parse (nothing runs: the context is only made).
    command.make_context(" ".join(["trajectbot", *path]), rest)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *path, "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CLI_LANGUAGE": "en"},  # click's words in English, as matched below
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{where}: {done.stderr}"
    assert f"Usage: python -m bot {' '.join(path)}" in done.stdout


def test_long_running_units_restart_and_are_hardened() -> None:
    for unit in UNITS:
        settings = _settings(unit)
        for key in ("User", "WorkingDirectory", "EnvironmentFile"):
            assert settings.get(key), f"{unit.name} has no {key}="
        assert settings["NoNewPrivileges"] == ["yes"], unit.name
        assert settings["ProtectSystem"] == ["strict"], unit.name
        assert "/var/lib/trajectbot" in settings["ReadWritePaths"][0].split(), unit.name
        if settings["Type"] != ["oneshot"]:
            assert settings["Restart"] == ["on-failure"], unit.name


def test_the_timer_starts_the_backup() -> None:
    timer = _settings(DEPLOY / "trajectbot-backup.timer")
    assert timer["OnCalendar"]
    assert timer["Persistent"] == ["yes"] or timer["Persistent"] == ["true"]
    # A timer starts the service of its own name.
    assert (DEPLOY / "trajectbot-backup.service").exists()
    backup = [words for where, words in COMMAND_LINES if where.startswith("trajectbot-backup")]
    assert backup
    assert backup[0][0] == "backup"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # The real binary in place of /opt/…, so verify can check that it is executable.
    binary = Path(sys.executable).with_name("trajectbot")
    assert binary.exists()
    for unit in [*UNITS, DEPLOY / "trajectbot-backup.timer"]:
        text = unit.read_text(encoding="utf-8").replace(BINARY, str(binary))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_the_proxies_send_traffic_where_the_app_listens() -> None:
    defaults = Settings(_env_file=None)
    web = f"127.0.0.1:{defaults.web_port}"
    webhook = f"127.0.0.1:{defaults.telegram_webhook_port}"
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert f"handle {defaults.telegram_webhook_path} {{\n\t\treverse_proxy {webhook}" in caddy
    assert f"reverse_proxy {web}" in caddy
    assert (
        f"location = {defaults.telegram_webhook_path} {{\n        proxy_pass http://{webhook};"
        in nginx
    )
    assert f"proxy_pass http://{web};" in nginx
    assert "access_log off;" in nginx


def test_env_example_lists_every_setting() -> None:
    keys = set(
        re.findall(
            r"^#?\s*([A-Z][A-Z0-9_]*)=",
            (ROOT / ".env.example").read_text(encoding="utf-8"),
            re.M,
        )
    )
    missing = sorted(name.upper() for name in Settings.model_fields if name.upper() not in keys)
    assert missing == [], f".env.example lacks {missing}"


def test_the_deployment_guide_names_every_example_and_the_readme_links_it() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for example in sorted(DEPLOY.iterdir()):
        assert f"deploy/{example.name}" in guide, f"docs/deployment.md does not name {example}"
    assert "docs/deployment.md" in (ROOT / "README.md").read_text(encoding="utf-8")
