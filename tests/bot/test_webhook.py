"""`trajectbot webhook`: a real aiohttp server; requests without the right secret are refused."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.telegram.webhook import serve_webhook
from storage.db import create_engine
from storage.models import ProcessedUpdate

SECRET = "s3cret-token_value"


async def _processed(database_url: str, update_id: int) -> None:
    engine = create_engine(database_url)
    try:
        while True:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id)
                )
            if found is not None:
                return
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_checks_the_secret_token_header(
    engine: AsyncEngine, database_url: str
) -> None:
    del engine  # migrated
    port = _free_port()
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=SecretStr("42:TEST"),
        telegram_api_base="http://127.0.0.1:9",  # nothing is sent in this test
        telegram_webhook_secret=SecretStr(SECRET),
        telegram_webhook_port=port,
    )
    ready, stop = asyncio.Event(), asyncio.Event()
    server = asyncio.create_task(serve_webhook(settings, ready=ready, stop=stop))
    await asyncio.wait_for(ready.wait(), timeout=30)
    url = f"http://127.0.0.1:{port}{settings.telegram_webhook_path}"
    # An edited message: no handler answers it, so the server needs no Bot API to accept it.
    update = {
        "update_id": 77,
        "edited_message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "edit_date": 1_700_000_001,
            "chat": {"id": 5, "type": "private"},
            "text": "x",
        },
    }
    try:
        async with aiohttp.ClientSession() as client:
            async with client.post(url, json=update) as missing:
                assert missing.status == 401
            async with client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as wrong:
                assert wrong.status == 401
            async with client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as right:
                assert right.status == 200
        # Accepted updates are handled in the background: wait until it is recorded as done.
        await asyncio.wait_for(_processed(database_url, 77), timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=30)


async def test_webhook_mode_refuses_to_start_without_a_secret(database_url: str) -> None:
    settings = Settings(
        _env_file=None, database_url=database_url, telegram_bot_token=SecretStr("42:TEST")
    )
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        await serve_webhook(settings)
