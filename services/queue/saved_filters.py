"""A care coordinator's saved queue views (issue 14): the queue's filters, search and sort
under a name, per web account, picked again from the queue page.

The query is stored as the web app normalised it and checked again whenever it is used; this
module only keeps the rows and checks that the account is the viewer's own and that the viewer
is a care coordinator (the queue is theirs alone). Operations in the caller's unit of work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import require_role
from services.kernel.errors import InputInvalid, NotAllowed
from services.kernel.text_input import clean_text, validate_text
from storage.models import Person, QueueFilterSet, Role, StaffAccount

log = logging.getLogger(__name__)

NAME_MIN = 1
NAME_MAX = 60
QUERY_MAX = 500
#: How many views one account keeps.
SETS_MAX = 20


@dataclass(frozen=True, slots=True)
class FilterSet:
    """One saved view: its id, name and the queue's query string."""

    id: int
    name: str
    query: str


async def _own_account(*, session: AsyncSession, viewer: Person, account_id: int) -> Person:
    viewer = await require_role(session=session, actor=viewer, role=Role.CARE_COORDINATOR)
    own = await session.scalar(
        select(StaffAccount.id).where(
            StaffAccount.id == account_id,
            StaffAccount.person_id == viewer.id,
            StaffAccount.school_id == viewer.school_id,
        )
    )
    if own is None:
        log.info("refused: filter sets of account %s for person_id=%s", account_id, viewer.id)
        raise NotAllowed(Text.of(N_("These saved views are not available to you.")))
    return viewer


async def list_filter_sets(
    *, session: AsyncSession, viewer: Person, account_id: int
) -> list[FilterSet]:
    """The views saved by this web account, by name."""
    await _own_account(session=session, viewer=viewer, account_id=account_id)
    rows = await session.scalars(
        select(QueueFilterSet)
        .where(QueueFilterSet.account_id == account_id)
        .order_by(QueueFilterSet.name, QueueFilterSet.id)
    )
    return [FilterSet(row.id, row.name, row.query) for row in rows]


async def save_filter_set(
    *,
    session: AsyncSession,
    viewer: Person,
    account_id: int,
    name: str,
    query: str,
    now: datetime,
) -> FilterSet:
    """Save ``query`` under ``name`` (1–60 characters; an existing view of that name is
    replaced). `InputInvalid` for a bad name, a query over 500 characters or a 21st view."""
    problem = validate_text(name, NAME_MIN, NAME_MAX)
    if problem is not None:
        raise InputInvalid(problem)
    if len(query) > QUERY_MAX:
        raise InputInvalid(Text.of(N_("This view has too many filters to save.")))
    viewer = await _own_account(session=session, viewer=viewer, account_id=account_id)
    cleaned = clean_text(name)
    existing = await session.scalar(
        select(QueueFilterSet).where(
            QueueFilterSet.account_id == account_id, QueueFilterSet.name == cleaned
        )
    )
    if existing is not None:
        existing.query = query
        await session.flush()
        return FilterSet(existing.id, existing.name, existing.query)
    count = len(
        (
            await session.scalars(
                select(QueueFilterSet.id).where(QueueFilterSet.account_id == account_id)
            )
        ).all()
    )
    if count >= SETS_MAX:
        raise InputInvalid(
            Text.of(N_("You have as many saved views as you can keep; delete one first."))
        )
    row = QueueFilterSet(
        school_id=viewer.school_id, account_id=account_id, name=cleaned, query=query, created_at=now
    )
    session.add(row)
    await session.flush()
    log.info("queue view saved by person_id=%s", viewer.id)
    return FilterSet(row.id, row.name, row.query)


async def delete_filter_set(
    *, session: AsyncSession, viewer: Person, account_id: int, filter_set_id: int
) -> None:
    """Delete one of the account's own views (another account's id changes nothing)."""
    await _own_account(session=session, viewer=viewer, account_id=account_id)
    await session.execute(
        delete(QueueFilterSet).where(
            QueueFilterSet.id == filter_set_id, QueueFilterSet.account_id == account_id
        )
    )
