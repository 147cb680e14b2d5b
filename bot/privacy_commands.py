"""What `trajectbot privacy …` runs (`bot/cli_privacy.py`): one unit of work through
`services.privacy` as the system (``actor=None``, audited with ``channel: cli``). Imported
only when one of these commands runs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import _catalog, _run, build_app, load_settings
from bot.config import Settings
from dialogs.text import N_, Text
from services.accounts.schools import find_school
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.uow import run_unit_of_work
from services.privacy.export_pdf import file_name, render_export_pdf
from services.privacy.retention import Housekeeping, run_housekeeping
from services.privacy.views import Channel, export_person, find_person
from services.privacy.views import erase as erase_person
from services.privacy.views import set_retention as set_school_retention

T = TypeVar("T")


def _say(settings: Settings, text: Text) -> None:
    click.echo(_catalog(settings).render(text), err=True)


def _unit(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
    """``work`` in one unit of work; a refusal is said and gives None."""

    async def go() -> T | None:
        async with build_app(settings, log_level="WARNING") as app:
            try:
                return await run_unit_of_work(app.sessions, work)
            except (NotAllowed, InputInvalid) as refused:
                _say(settings, refused.reason)
                return None

    return _run(go())


def export_json(data: dict[str, Any]) -> bytes:
    """The export as JSON (UTF-8, keys in the documented order, indented)."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def export(*, school_code: str | None, external_id: str, out: Path) -> int:
    """Write the person's export to ``out`` as JSON and PDF."""
    settings = load_settings()
    now = datetime.now(UTC)

    async def work(session: AsyncSession) -> dict[str, Any]:
        school = await find_school(session=session, code=school_code)
        person = await find_person(session=session, school_id=school.id, external_id=external_id)
        return await export_person(
            session=session,
            actor=None,
            person_id=person.id,
            now=now,
            channel=Channel.CLI,
            form="json+pdf",
        )

    data = _unit(settings, work)
    if data is None:
        return 1
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / file_name(data, "json")
    pdf_path = out / file_name(data, "pdf")
    json_path.write_bytes(export_json(data))
    pdf_path.write_bytes(render_export_pdf(data, _catalog(settings)))
    _say(
        settings,
        Text.of(
            N_("Written: {json} and {pdf}."),
            json=Text.raw(str(json_path)),
            pdf=Text.raw(str(pdf_path)),
        ),
    )
    return 0


def erase(*, school_code: str | None, external_id: str, yes: bool, force: bool) -> int:
    """Erase the person (only with ``yes``)."""
    settings = load_settings()
    if not yes:
        _say(
            settings,
            Text.of(
                N_(
                    "Erasing cannot be undone: export the person's data first if it may be "
                    "needed, then run the command again with --yes."
                )
            ),
        )
        return 1
    now = datetime.now(UTC)

    async def work(session: AsyncSession) -> int:
        school = await find_school(session=session, code=school_code)
        person = await find_person(session=session, school_id=school.id, external_id=external_id)
        result = await erase_person(
            session=session,
            actor=None,
            person_id=person.id,
            now=now,
            channel=Channel.CLI,
            force=force,
        )
        return result.person_id

    erased = _unit(settings, work)
    if erased is None:
        return 1
    _say(
        settings,
        Text.of(N_("Erased: the person is now “Verwijderd {id}”."), id=Text.raw(str(erased))),
    )
    return 0


def report_lines(result: Housekeeping) -> list[Text]:
    """What a housekeeping run did (or would do), one line per school and one for pruning."""
    lines = [
        Text.of(
            N_("{school}: care data of {count} closed trajectories erased (kept {months} months).")
            if not result.dry_run
            else N_(
                "{school}: care data of {count} closed trajectories would be erased (kept "
                "{months} months)."
            ),
            school=Text.raw(run.code),
            count=len(run.trajectory_ids),
            months=run.months,
        )
        for run in result.schools
    ]
    pruned = result.pruned
    lines.append(
        Text.of(
            N_(
                "Pruned: {updates} update ids, {sessions} staff sessions, {links} login links, "
                "{invites} invitations, {chats} web chat sessions, {conversations} finished "
                "conversations."
            )
            if not result.dry_run
            else N_(
                "Would prune: {updates} update ids, {sessions} staff sessions, {links} login "
                "links, {invites} invitations, {chats} web chat sessions, {conversations} "
                "finished conversations."
            ),
            updates=pruned.processed_updates,
            sessions=pruned.web_sessions,
            links=pruned.login_links,
            invites=pruned.invites,
            chats=pruned.web_chat_sessions,
            conversations=pruned.conversations,
        )
    )
    return lines


def retention(*, dry_run: bool) -> int:
    """Run the retention rule and the pruning now."""
    settings = load_settings()
    now = datetime.now(UTC)
    result = _unit(
        settings, lambda session: run_housekeeping(session=session, now=now, dry_run=dry_run)
    )
    if result is None:
        return 1
    for line in report_lines(result):
        _say(settings, line)
    return 0


def set_retention(*, school_code: str | None, months: int) -> int:
    """Set the school's retention period."""
    settings = load_settings()
    now = datetime.now(UTC)

    async def work(session: AsyncSession) -> int:
        school = await find_school(session=session, code=school_code)
        await set_school_retention(
            session=session, actor=None, school_id=school.id, months=months, now=now
        )
        return months

    if _unit(settings, work) is None:
        return 1
    _say(
        settings,
        Text.plural_of(
            "Care data of closed trajectories is now kept {count} month after closing.",
            "Care data of closed trajectories is now kept {count} months after closing.",
            months,
        ),
    )
    return 0
