"""The web app's commands as separate processes: `trajectbot staff-account create` and
`trajectbot run` (what `make run` starts) serving the web app and saying how to log in."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from services.demo.school import DEMO_PASSWORD
from tests.bot.test_cli import ROOT, trajectbot


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def demo_db(migrated_url: str) -> str:
    database_url = migrated_url  # a copy of the migrated template: init finds it at head
    assert trajectbot(database_url, "init").returncode == 0
    created = trajectbot(database_url, "demo-data", "--if-empty")
    assert created.returncode == 0, created.stderr
    assert f"password “{DEMO_PASSWORD}”" in created.stdout
    assert "zoco, coach, admin, swv" in created.stdout
    assert "mentor1" in created.stdout
    return database_url


async def test_staff_account_create_reads_the_password_and_refuses_bad_ones(
    demo_db: str,
) -> None:
    created = trajectbot(
        demo_db,
        "staff-account",
        "create",
        "--person",
        "mentor1",
        "--username",
        "anouk",
        "--password-stdin",
        lines=["a-long-enough-password"],
    )
    assert created.returncode == 1
    assert "Only care coordinators, coaches, district coaches, administrators" in created.stderr

    short = trajectbot(
        demo_db, "staff-account", "create", "--person", "zoco", "--password-stdin", lines=["kort"]
    )
    assert short.returncode == 1
    assert "at least 12 characters" in short.stderr

    taken = trajectbot(
        demo_db,
        "staff-account",
        "create",
        "--person",
        "zoco",
        "--username",
        "zoco2",
        "--password-stdin",
        lines=["a-long-enough-password"],
    )
    assert taken.returncode == 1
    assert "already has a web account" in taken.stderr


async def test_run_serves_the_web_app_and_says_how_to_log_in(demo_db: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": demo_db,
        "CLI_LANGUAGE": "en",
        "LOG_LEVEL": "WARNING",
        "WEB_PORT": str(port),
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    output = tmp_path / "run.out"
    with output.open("w") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", stdout=sink, stderr=sink, cwd=ROOT, env=env
        )
    try:
        health = None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(300):  # bounded: about 30 s to start
                try:
                    health = (await client.get("/healthz", timeout=1)).json()
                    break
                except httpx.TransportError:
                    if process.returncode is not None:
                        break
                    await asyncio.sleep(0.1)
        assert health == {"status": "ok", "database": "ok", "schema": "current"}, output.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        returncode = await asyncio.wait_for(process.wait(), timeout=30)
    said = output.read_text()
    assert returncode == 0, said
    assert f"The web app runs at http://127.0.0.1:{port}" in said
    assert f"password “{DEMO_PASSWORD}”" in said
    assert "No TELEGRAM_BOT_TOKEN is set" in said
    assert "Traceback" not in said
