"""What `trajectbot export …` runs (`bot/cli_exports.py`): one unit of work through
`services.exports.views` as the system (``actor=None``, audited with ``channel: cli``), then
the file made (outside the transaction) and written. Imported only when one of these commands
runs.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.cli import _catalog, _run, build_app, load_settings
from bot.config import Settings
from dialogs.text import N_, Text
from services.accounts.schools import find_school
from services.exports.closing_report_pdf import render_closing_report_pdf
from services.exports.rules import (
    SCHOOL_LANGUAGE,
    Week,
    encode_csv,
    encode_text,
    lvs_table,
    lvs_text,
    parse_week,
)
from services.exports.views import (
    Channel,
    LvsOutput,
    lvs_summary,
    magister_export,
)
from services.exports.views import (
    closing_report as closing_report_of,
)
from services.exports.views import (
    intake_report as intake_report_of,
)
from services.kernel.errors import NotAllowed
from services.kernel.uow import run_unit_of_work
from services.trajectories.intake_report_pdf import render_intake_report_pdf

#: What an export does in its unit of work: (how to make the file, what to say when written).
Made = tuple[Callable[[], bytes], Text]
Work = Callable[[App, AsyncSession, int, datetime], Awaitable[Made]]


def _say(settings: Settings, text: Text) -> None:
    click.echo(_catalog(settings).render(text), err=True)


def _write(out: Path, data: bytes) -> None:
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)


def _export(settings: Settings, *, school_code: str | None, out: Path, work: Work) -> int:
    """Find the school, run ``work`` in one unit of work, write its file; the exit status."""
    now = datetime.now(UTC)

    async def go() -> int:
        async with build_app(settings, log_level="WARNING") as app:

            async def unit(session: AsyncSession) -> Made:
                school = await find_school(session=session, code=school_code)
                return await work(app, session, school.id, now)

            try:
                make, summary = await run_unit_of_work(app.sessions, unit)
            except NotAllowed as refused:
                _say(settings, refused.reason)
                return 1
            _write(out, make())
            _say(settings, summary)
            return 0

    return _run(go())


def _week(settings: Settings, value: str) -> Week | None:
    parsed = parse_week(value)
    if isinstance(parsed, Text):
        _say(settings, parsed)
        return None
    return parsed


def magister(*, school_code: str | None, week: str, out: Path) -> int:
    """The week's attendance for Magister as CSV."""
    settings = load_settings()
    chosen = _week(settings, week)
    if chosen is None:
        return 1

    async def work(app: App, session: AsyncSession, school_id: int, now: datetime) -> Made:
        table = await magister_export(
            session=session,
            actor=None,
            school_id=school_id,
            week=chosen,
            now=now,
            channel=Channel.CLI,
        )
        catalog = app.catalogs.get(SCHOOL_LANGUAGE)
        summary = Text.plural_of(
            "{count} attendance row of week {week} written to {file}.",
            "{count} attendance rows of week {week} written to {file}.",
            len(table.rows),
            week=Text.raw(str(chosen)),
            file=Text.raw(str(out)),
        )
        return (lambda: encode_csv(table, catalog)), summary

    return _export(settings, school_code=school_code, out=out, work=work)


def lvs(*, school_code: str | None, week: str, out: Path, as_text: bool) -> int:
    """The week's summary per student for the LVS, as CSV or text."""
    settings = load_settings()
    chosen = _week(settings, week)
    if chosen is None:
        return 1
    output = LvsOutput.TEXT if as_text else LvsOutput.CSV

    async def work(app: App, session: AsyncSession, school_id: int, now: datetime) -> Made:
        summary = await lvs_summary(
            session=session,
            actor=None,
            school_id=school_id,
            week=chosen,
            now=now,
            channel=Channel.CLI,
            output=output,
        )
        catalog = app.catalogs.get(SCHOOL_LANGUAGE)
        base_url = settings.web_url

        def make() -> bytes:
            if as_text:
                lines = lvs_text(
                    summary.rows, chosen, school_name=summary.school_name, base_url=base_url
                )
                return encode_text(lines, catalog)
            return encode_csv(lvs_table(summary.rows, chosen, base_url), catalog)

        said = Text.plural_of(
            "{count} student of week {week} written to {file}.",
            "{count} students of week {week} written to {file}.",
            len(summary.rows),
            week=Text.raw(str(chosen)),
            file=Text.raw(str(out)),
        )
        return make, said

    return _export(settings, school_code=school_code, out=out, work=work)


def closing_report(*, school_code: str | None, trajectory_id: int, out: Path) -> int:
    """A closed trajectory's closing report as a PDF."""
    settings = load_settings()

    async def work(app: App, session: AsyncSession, school_id: int, now: datetime) -> Made:
        report = await closing_report_of(
            session=session,
            actor=None,
            school_id=school_id,
            trajectory_id=trajectory_id,
            now=now,
            channel=Channel.CLI,
        )
        catalog = app.catalogs.get(SCHOOL_LANGUAGE)
        said = Text.of(N_("Closing report written to {file}."), file=Text.raw(str(out)))
        return (lambda: render_closing_report_pdf(report, catalog)), said

    return _export(settings, school_code=school_code, out=out, work=work)


def intake_report(*, school_code: str | None, trajectory_id: int, out: Path) -> int:
    """A trajectory's intake report as a PDF (the one the trajectory page links)."""
    settings = load_settings()

    async def work(app: App, session: AsyncSession, school_id: int, now: datetime) -> Made:
        report = await intake_report_of(
            session=session,
            actor=None,
            school_id=school_id,
            trajectory_id=trajectory_id,
            now=now,
            channel=Channel.CLI,
        )
        catalog = app.catalogs.get(SCHOOL_LANGUAGE)
        said = Text.of(N_("Intake report written to {file}."), file=Text.raw(str(out)))
        return (lambda: render_intake_report_pdf(report, catalog)), said

    return _export(settings, school_code=school_code, out=out, work=work)
