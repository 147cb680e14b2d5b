"""Looking people up. Queries only; nothing here commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.adulthood import parents_see
from services.kernel.languages import SUPPORTED_LANGUAGES
from services.kernel.uow import update_cache
from storage.models import Guardianship, Mentorship, Person, PersonRole, Role

log = logging.getLogger(__name__)


async def get_person_by_external_id(
    *, session: AsyncSession, school_id: int, external_id: str
) -> Person | None:
    """The person with the school's own id ``external_id``, or ``None``."""
    result = await session.scalars(
        select(Person).where(Person.school_id == school_id, Person.external_id == external_id)
    )
    return result.one_or_none()


async def get_person_by_telegram_id(
    *, session: AsyncSession, telegram_user_id: int
) -> Person | None:
    """The person whose account is linked to this Telegram user, or ``None``.

    A person who has left (``ended_at`` set by a sync) is ``None``: unknown to the channels.
    """
    result = await session.scalars(
        select(Person).where(Person.telegram_user_id == telegram_user_id, Person.ended_at.is_(None))
    )
    return result.one_or_none()


async def mentees_of(*, session: AsyncSession, mentor: Person) -> list[Person]:
    """The students ``mentor`` is mentor of in their own school, by family then given name.

    Inside a Telegram update from the process cache while the cache version stands (the list
    is re-read on every step of a flow otherwise); the people are detached: read them only.
    """
    cache = await update_cache()
    key = ("mentees", mentor.id, mentor.school_id)
    if cache is not None and key in cache:
        return list(cache.get(key))
    result = await session.scalars(
        select(Person)
        .join(
            Mentorship,
            (Mentorship.student_id == Person.id) & (Mentorship.school_id == Person.school_id),
        )
        .where(Mentorship.mentor_id == mentor.id, Mentorship.school_id == mentor.school_id)
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    mentees = list(result)
    if cache is not None:
        for mentee in mentees:
            if mentee in session:
                session.expunge(mentee)
        cache.put(key, tuple(mentees))
    return mentees


async def parents_of_students(
    *, session: AsyncSession, school_id: int, student_ids: Iterable[int]
) -> dict[int, list[Person]]:
    """Each student's parents (`Guardianship`) in the school, by family then given name; a
    student without parents is left out.

    Inside a Telegram update from the process cache while the cache version stands (the
    referral flow asks for its mentees' parents on every step); detached: read them only.
    """
    wanted = set(student_ids)
    if not wanted:
        return {}
    cache = await update_cache()
    key = ("parents", school_id, tuple(sorted(wanted)))
    if cache is not None and key in cache:
        return {student: list(parents) for student, parents in cache.get(key)}
    rows = await session.execute(
        select(Guardianship.student_id, Person)
        .join(
            Person,
            (Person.id == Guardianship.parent_id) & (Person.school_id == Guardianship.school_id),
        )
        .where(
            Guardianship.school_id == school_id,
            Guardianship.student_id.in_(wanted),
            # The consent choices: an adult student who withdrew it has no parent to ask.
            parents_see(Guardianship.student_id),
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )
    found: dict[int, list[Person]] = {}
    for student_id, parent in rows:
        found.setdefault(student_id, []).append(parent)
    if cache is not None:
        for parents in found.values():
            for parent in parents:
                if parent in session:
                    session.expunge(parent)
        cache.put(key, tuple((student, tuple(parents)) for student, parents in found.items()))
    return found


async def people_by_id(
    *, session: AsyncSession, school_id: int, ids: Iterable[int | None]
) -> dict[int, Person]:
    """The people of the school among ``ids`` (``None`` and other schools' ids are skipped)."""
    wanted = {person_id for person_id in ids if person_id is not None}
    if not wanted:
        return {}
    found = await session.scalars(
        select(Person).where(Person.school_id == school_id, Person.id.in_(wanted))
    )
    return {person.id: person for person in found}


def name_of(people: Mapping[int, Person], person_id: int | None) -> str | None:
    """The display name of ``person_id`` in ``people``; ``None`` for none or an erased one."""
    if person_id is None or person_id not in people:
        return None
    return people[person_id].display_name


async def care_coordinators_of(*, session: AsyncSession, school_id: int) -> list[Person]:
    """Every care coordinator (ZOCO) of the school, in a stable order."""
    result = await session.scalars(_care_coordinators_query(), {"school_id": school_id})
    return list(result)


async def care_coordinator_ids(*, session: AsyncSession, school_id: int) -> tuple[int, ...]:
    """The ids of the school's care coordinators, in `care_coordinators_of`'s order.

    One query of ids (not the people with their roles); inside a Telegram update from the
    process cache while the cache version stands (a role given or ended bumps it): every
    referral, questionnaire and time-out request notifies them.
    """
    cache = await update_cache()
    key = ("care_coordinator_ids", school_id)
    if cache is not None and key in cache:
        kept: tuple[int, ...] = cache.get(key)
        return kept
    result = await session.scalars(_care_coordinator_ids_query(), {"school_id": school_id})
    ids = tuple(result)
    if cache is not None:
        cache.put(key, ids)
    return ids


@cache
def _care_coordinator_ids_query() -> Select[int]:
    # The same rows and order as `_care_coordinators_query`, ids only.
    return _care_coordinators_query().with_only_columns(Person.id)


@cache
def _care_coordinators_query() -> Select[Person]:
    # Built once per process: every referral, questionnaire and time-out request asks it.
    return (
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(
            Person.school_id == bindparam("school_id"),
            PersonRole.role == Role.CARE_COORDINATOR,
        )
        .order_by(Person.family_name, Person.given_name, Person.id)
    )


async def set_language(*, session: AsyncSession, person: Person, language: str) -> None:
    """Store the person's chosen language (an operation: flushes, does not commit).

    Raises ``ValueError`` for a language the product does not speak.
    """
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    person.language = language
    session.add(person)
    await session.flush()
    log.info("language set person_id=%s language=%s", person.id, language)
