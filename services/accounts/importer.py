"""Import a school's people from the project's CSV in one transaction: all rows or none.

The columns, the encodings and the rules are those of `services.accounts.roster`
(``project_csv`` reads, ``plan`` decides, ``apply`` writes); this entry point is the small,
single-transaction form used by the demo data and by callers that already hold a unit of
work. People not in the rows are left alone (no full sync). The `trajectbot import` command
uses `services.accounts.roster.sync` instead (dry run, full sync, batches, OneRoster).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts.roster.apply import load_state, write_plan
from services.accounts.roster.decoding import Undecodable
from services.accounts.roster.model import unreadable
from services.accounts.roster.plan import make_plan
from services.accounts.roster.project_csv import (
    COLUMNS,
    REQUIRED_COLUMNS,
    parse_project_csv,
    parse_project_rows,
)
from services.kernel.errors import ImportFailed

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "ImportReport", "import_people"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """External ids of the people created and changed, in file order."""

    created: tuple[str, ...]
    updated: tuple[str, ...]


async def import_people(
    *,
    session: AsyncSession,
    school_id: int,
    rows: Iterable[Mapping[str, str]] | str,
    now: datetime | None = None,
) -> ImportReport:
    """Validate every row, then create or update the school's people by external id.

    Runs inside the caller's unit of work and flushes. ``rows`` is CSV text with a header
    line, or mappings keyed by column name (numbered from line 2, as if a header preceded
    them). Raises `ImportFailed` with every problem found, one `Text` each with its line
    number, before writing anything.
    """
    if isinstance(rows, str):
        try:
            roster = parse_project_csv(rows.encode("utf-8"), "people.csv")
        except Undecodable as undecodable:
            roster = unreadable("people.csv", [undecodable.problem])
    else:
        roster = parse_project_rows(rows)
    if roster.fatal:
        raise ImportFailed(problem.reason for problem in roster.fatal)
    state = await load_state(session=session, school_id=school_id)
    plan = make_plan(roster, state, full=False)
    if plan.bad_rows:
        raise ImportFailed(problem.reason for problem in plan.bad_rows)
    await write_plan(
        session=session, school_id=school_id, plan=plan, source="csv", now=now or datetime.now(UTC)
    )
    report = ImportReport(
        created=tuple(change.external_id for change in plan.added),
        updated=tuple(change.external_id for change in plan.changed),
    )
    log.info(
        "import into school_id=%s: %s created, %s updated",
        school_id,
        len(report.created),
        len(report.updated),
    )
    return report
