"""`trajectbot invite` prints the web chat link next to the Telegram deep link (issue 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.config import Settings
from bot.invites import make_invitation
from bot.survey_links import make_survey_links
from dialogs.i18n import Catalogs
from services.conversations.web_chat import ChatLinkInvalid, LinkKind, inspect_chat_link
from storage.models import Role
from tests.support.chat_factories import build_chat_world
from tests.support.factories import NOW, add_person, add_school


async def _parent(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session, session.begin():
        school = await add_school(session)
        await add_person(session, school, "ouder7", Role.PARENT, given_name="Samira")


async def _invite(settings: Settings) -> int:
    async with build_app(settings, log_level="WARNING") as app:
        return await make_invitation(
            app,
            external_id="ouder7",
            school_code=None,
            role=None,
            days=14,
            catalog=Catalogs().get("en"),
        )


async def test_the_invitation_prints_both_links_with_one_token(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _parent(session_factory)
    settings = Settings(
        database_url=database_url,
        telegram_bot_username="demo_trajectbot",
        web_base_url="https://chat.school.example/",
        invites_dir=tmp_path,
        _env_file=None,
    )
    assert await _invite(settings) == 0
    lines = capsys.readouterr().out.splitlines()
    telegram = next(line for line in lines if line.startswith("Telegram: "))
    web = next(line for line in lines if line.startswith("Web chat: "))
    telegram_token = telegram.split("?start=", 1)[1]
    assert web == f"Web chat: https://chat.school.example/c/{telegram_token}"
    assert (tmp_path / "ouder7.png").exists()
    assert (tmp_path / "ouder7-web.png").exists()

    async with session_factory() as session, session.begin():
        link = await inspect_chat_link(session=session, token=telegram_token, now=datetime.now(UTC))
    assert link.kind is LinkKind.INVITE


async def test_without_telegram_the_web_link_still_comes(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _parent(session_factory)
    settings = Settings(
        database_url=database_url,
        telegram_bot_username=None,
        telegram_bot_token=None,
        web_base_url=None,
        invites_dir=tmp_path,
        _env_file=None,
    )
    assert await _invite(settings) == 0
    captured = capsys.readouterr()
    assert "TELEGRAM_BOT_USERNAME" in captured.err
    assert "Telegram: " not in captured.out
    web = next(line for line in captured.out.splitlines() if line.startswith("Web chat: "))
    assert web.startswith("Web chat: http://127.0.0.1:8080/c/")
    assert (tmp_path / "ouder7-web.png").exists()


async def _survey_links(settings: Settings, respondent: str, actor: str) -> int:
    async with build_app(settings, log_level="WARNING") as app:
        return await make_survey_links(
            app,
            respondent=respondent,
            actor=actor,
            school_code=None,
            catalog=Catalogs().get("en"),
            now=NOW,
        )


async def test_the_care_coordinator_prints_a_questionnaire_link_for_the_web_chat(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with session_factory() as session:
        world = await build_chat_world(session)
    settings = Settings(
        database_url=database_url,
        web_base_url="https://chat.school.example",
        invites_dir=tmp_path,
        _env_file=None,
    )
    # Only a care coordinator hands out links.
    assert await _survey_links(settings, "ouder1", "mentor") == 1
    refused = capsys.readouterr()
    assert "https://" not in refused.out
    assert "not available for your role" in refused.err

    assert await _survey_links(settings, "ouder1", "zoco") == 0
    out = capsys.readouterr().out
    web = next(line for line in out.splitlines() if line.startswith("Web chat: "))
    token = web.rsplit("/c/", 1)[1]
    assert (tmp_path / f"ouder1-questionnaire-{world.parent_invitation_id}.png").exists()
    async with session_factory() as session, session.begin():
        link = await inspect_chat_link(session=session, token=token, now=NOW)
        assert link.kind is LinkKind.SURVEY
        # The new link replaces the one issued before.
        with pytest.raises(ChatLinkInvalid):
            await inspect_chat_link(session=session, token=world.survey_token, now=NOW)
