"""One import run: read, plan, and (unless it is a dry run) write in batches.

The order keeps the app responsive and a refused run harmless: the school is looked up (a
short read), the file is read and parsed in a worker thread, the school's people are read
(one read), the plan is made in a worker thread, and only then, when there is no bad row
(or ``skip_bad_rows`` says to leave them out), is anything written (`apply.apply_plan`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.text import N_, Text
from services.accounts.roster.apply import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PAUSE_SECONDS,
    ApplyStats,
    apply_plan,
    load_state,
)
from services.accounts.roster.decoding import Undecodable
from services.accounts.roster.model import (
    BadRow,
    Roster,
    administration_roles_only,
    unreadable,
)
from services.accounts.roster.oneroster import (
    BundleUnreadable,
    is_bundle,
    parse_bundle,
    read_bundle,
)
from services.accounts.roster.plan import Plan, make_plan
from services.accounts.roster.project_csv import parse_project_csv
from services.accounts.schools import find_school
from services.kernel.access import require_role
from services.kernel.uow import run_unit_of_work
from storage.models import Person, Role, School

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a run found and did.

    ``fatal``: the source could not be read at all (no plan). ``refused``: there were bad
    rows and they were not to be skipped, so nothing was written. ``written``: the plan was
    applied (``stats`` says how).
    """

    source: str
    kind: str
    fatal: tuple[BadRow, ...] = ()
    plan: Plan | None = None
    refused: bool = False
    written: bool = False
    stats: ApplyStats | None = None


def load_roster(path: Path, *, school_code: str, org: str | None = None) -> tuple[str, Roster]:
    """The roster in ``path`` (a OneRoster directory or .zip, else the project's CSV) and
    the kind of source (``oneroster`` / ``csv``). Reads the file: call it in a thread."""
    kind = "oneroster" if is_bundle(path) else "csv"
    try:
        if kind == "oneroster":
            files = read_bundle(path)
            return kind, parse_bundle(files, school_code=school_code, source=path.name, org=org)
        return kind, parse_project_csv(path.read_bytes(), path.name)
    except BundleUnreadable as unreadable_bundle:
        return kind, unreadable(path.name, [unreadable_bundle.problem])
    except Undecodable as undecodable:
        return kind, unreadable(path.name, [undecodable.problem])
    except OSError:
        cannot = Text.of(N_("The file {file} cannot be opened."), file=Text.raw(path.name))
        return kind, unreadable(path.name, [BadRow(path.name, 0, cannot)])


async def sync_people(
    sessions: async_sessionmaker[AsyncSession],
    *,
    path: Path,
    school_code: str | None,
    now: datetime,
    dry_run: bool = False,
    full: bool | None = None,
    skip_bad_rows: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause_seconds: float = DEFAULT_PAUSE_SECONDS,
    org: str | None = None,
    actor: Person | None = None,
) -> SyncResult:
    """Import ``path`` into the school ``school_code`` (`NotFound` when there is none).

    With ``actor`` (the web's import page): into the actor's own school, ``school_code``
    ignored, only while they hold the admin role (read again from the database; `NotAllowed`
    otherwise); the file decides the administration system's roles only
    (`model.administration_roles_only`); the audit row names them. Without (the command
    line): the operator's run.
    """

    async def school_of_run(session: AsyncSession) -> School:
        if actor is None:
            return await find_school(session=session, code=school_code)
        admin = await require_role(session=session, actor=actor, role=Role.ADMIN)
        return await session.get_one(School, admin.school_id)

    school = await run_unit_of_work(sessions, school_of_run)
    school_id, code = school.id, school.code
    kind, roster = await asyncio.to_thread(load_roster, path, school_code=code, org=org)
    if roster.fatal:
        return SyncResult(source=roster.source, kind=kind, fatal=roster.fatal)
    if actor is not None:
        # From the web: the file decides the administration system's roles only.
        roster = administration_roles_only(roster)
    if not roster.people and (roster.full if full is None else full):
        # An empty export (a wrong filter, a failed run) would end everyone: refused.
        empty = BadRow(
            roster.source,
            0,
            Text.of(N_("The file lists nobody: a full sync would end everyone. Nothing done.")),
        )
        return SyncResult(source=roster.source, kind=kind, fatal=(empty,))
    state = await run_unit_of_work(
        sessions, lambda session: load_state(session=session, school_id=school_id)
    )
    plan = await asyncio.to_thread(make_plan, roster, state, full=full)
    if plan.bad_rows and not skip_bad_rows:
        return SyncResult(source=roster.source, kind=kind, plan=plan, refused=True)
    if dry_run:
        return SyncResult(source=roster.source, kind=kind, plan=plan)
    try:
        stats = await apply_plan(
            sessions,
            school_id=school_id,
            plan=plan,
            source=kind,
            now=now,
            batch_size=batch_size,
            pause_seconds=pause_seconds,
            actor_id=None if actor is None else actor.id,
        )
    except SQLAlchemyError as error:
        # The message would carry the rows' values (names): only the kind of error is logged.
        log.warning("import into school_id=%s stopped: %s", school_id, type(error).__name__)
        stopped = Text.of(
            N_(
                "The import stopped half-way: the database refused a batch. What was written "
                "stays; run the same file again."
            )
        )
        return SyncResult(
            source=roster.source, kind=kind, plan=plan, fatal=(BadRow(roster.source, 0, stopped),)
        )
    log.info(
        "import into school_id=%s: %s transactions, longest %.2f s",
        school_id,
        stats.transactions,
        stats.longest_seconds,
    )
    return SyncResult(source=roster.source, kind=kind, plan=plan, written=True, stats=stats)
