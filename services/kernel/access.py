"""Authorization helpers: decide from the database, never from what the caller claims."""

from __future__ import annotations

import logging
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.adulthood import parents_see
from services.kernel.errors import NotAllowed
from services.kernel.uow import update_cache
from storage.models import Guardianship, Mentorship, Person, Role

log = logging.getLogger(__name__)


async def reload_actor(*, session: AsyncSession, actor: Person) -> Person:
    """The acting person as stored now (school and roles re-read from the database).

    The object a caller passes may be stale (roles changed since it was loaded) or not come
    from the database at all; only its id is trusted.
    """
    cache = await update_cache()
    cached = None if cache is None else cache.get(("person", actor.id))
    if cached is not None:
        # Inside a Telegram update the process cache holds the person as stored at this
        # update's cache version (`services.kernel.cache`): attached again, without a query.
        return await session.merge(cached, load=False)
    fresh = await session.get(Person, actor.id, populate_existing=True)
    if fresh is None:
        log.warning("unknown actor person_id=%s", actor.id)
        raise NotAllowed(Text.of(N_("You are not known at this school.")))
    return fresh


async def fresh_actor(*, session: AsyncSession, actor: Person) -> Person:
    """The person as stored now, past this process's cache: for what follows a change this
    same update made to them (the menu after they answered a question about themself)."""
    fresh = await session.get(Person, actor.id, populate_existing=True)
    return actor if fresh is None else fresh


async def require_role(*, session: AsyncSession, actor: Person, role: Role) -> Person:
    """The fresh actor row, or `NotAllowed` if they do not hold ``role``."""
    fresh = await reload_actor(session=session, actor=actor)
    if not fresh.has_role(role):
        log.info("refused: person_id=%s lacks role %s", fresh.id, role)
        raise NotAllowed(Text.of(N_("This is not available for your role.")))
    return fresh


async def is_mentor_of(*, session: AsyncSession, mentor: Person, student_id: int) -> bool:
    """Whether a Mentorship row links ``mentor`` to the student within the mentor's school."""
    found = await session.scalar(
        _mentorship_query(),
        {"school_id": mentor.school_id, "mentor_id": mentor.id, "student_id": student_id},
    )
    return found is not None


@cache
def _mentorship_query() -> Select[int]:
    # Built once per process: every referral and every mentor's page asks it.
    return select(Mentorship.id).where(
        Mentorship.school_id == bindparam("school_id"),
        Mentorship.mentor_id == bindparam("mentor_id"),
        Mentorship.student_id == bindparam("student_id"),
    )


async def is_parent_of(*, session: AsyncSession, parent: Person, student_id: int) -> bool:
    """Whether a Guardianship row links ``parent`` to the student within the parent's school,
    and the student (18 or older) did not withdraw their parents' access (`adulthood`)."""
    found = await session.scalar(
        select(Guardianship.id).where(
            Guardianship.school_id == parent.school_id,
            Guardianship.parent_id == parent.id,
            Guardianship.student_id == student_id,
            parents_see(Guardianship.student_id),
        )
    )
    return found is not None
