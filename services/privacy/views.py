"""The AVG rights for their entry points (web, CLI): who may, and the audit.

An export is for a care coordinator or an administrator *of the person's school* (re-read
from the database now); an erasure and the retention period for an administrator of that
school; the command line acts as the system (``actor=None``, run by whoever runs the server).
Anyone else gets `NotAllowed`; a person of another school the same answer as a missing one
(ids cannot be probed). Every action is audited with ids and counts only.

Services here take a session already in a transaction and never begin one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.text import N_, Text
from services.kernel.access import reload_actor
from services.kernel.audit import record_audit
from services.kernel.errors import NotAllowed, NotFound
from services.privacy.collect import collect_person
from services.privacy.erasure import Erasure, ErasureRefused, erase_person, open_trajectories
from services.privacy.rules import retention_problem
from services.settings.changes import SettingsInvalid, require_admin
from storage.models import Person, Role, School

log = logging.getLogger(__name__)

#: Who may see and export a person's data.
EXPORT_ROLES = (Role.CARE_COORDINATOR, Role.ADMIN)

EXPORT = "privacy.export"
ERASE = "privacy.erase"
VIEW = "privacy.view"
RETENTION_SETTING = "settings.retention"

_NOT_FOR_YOU = N_("This is not available for your role.")
#: The largest id an INTEGER column holds on PostgreSQL (a larger one would be a database error).
_MAX_ID = 2**31 - 1
_NO_PERSON = N_("There is no such person at this school.")


class Channel(StrEnum):
    """Where a right was exercised (kept in the audit row)."""

    WEB = "web"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class PrivacySubject:
    """The person a privacy page is about, as the page shows them."""

    person_id: int
    external_id: str
    name: str
    roles: tuple[str, ...]
    erased: bool
    open_trajectories: int


async def _authorized(
    session: AsyncSession, actor: Person | None, person_id: int, *, roles: tuple[Role, ...]
) -> tuple[Person, int | None]:
    """The subject (of the actor's school) and the actor's id; `NotAllowed` / `NotFound`."""
    actor_id: int | None = None
    school_id: int | None = None
    if actor is not None:
        fresh = await reload_actor(session=session, actor=actor)
        if not any(fresh.has_role(role) for role in roles):
            log.info("privacy refused: person_id=%s", fresh.id)
            raise NotAllowed(Text.of(_NOT_FOR_YOU))
        actor_id, school_id = fresh.id, fresh.school_id
    if not 0 < person_id <= _MAX_ID:
        raise NotFound(Text.of(_NO_PERSON))  # outside the column's range: nobody
    person = await session.get(Person, person_id, populate_existing=True)
    if person is None or (school_id is not None and person.school_id != school_id):
        raise NotFound(Text.of(_NO_PERSON))
    return person, actor_id


async def find_person(*, session: AsyncSession, school_id: int, external_id: str) -> Person:
    """The person of the school with this external id (student number, staff code)."""
    if not external_id or len(external_id) > 64 or not external_id.isprintable():
        raise NotFound(Text.of(_NO_PERSON))  # no stored number has controls (or NUL)
    person = await session.scalar(
        select(Person).where(Person.school_id == school_id, Person.external_id == external_id)
    )
    if person is None:
        raise NotFound(Text.of(_NO_PERSON))
    return person


async def privacy_subject(
    *, session: AsyncSession, actor: Person, person_id: int, now: datetime
) -> PrivacySubject:
    """What the privacy page shows of a person (coordinator or admin of their school)."""
    person, actor_id = await _authorized(session, actor, person_id, roles=EXPORT_ROLES)
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=actor_id,
        action=VIEW,
        subject_type="person",
        subject_id=person.id,
        at=now,
    )
    return PrivacySubject(
        person_id=person.id,
        external_id=person.external_id,
        name=person.display_name,
        roles=tuple(sorted(r.role.value for r in person.roles)),
        erased=person.erased_at is not None,
        open_trajectories=len(await open_trajectories(session=session, person_id=person.id)),
    )


async def export_person(
    *,
    session: AsyncSession,
    actor: Person | None,
    person_id: int,
    now: datetime,
    channel: Channel,
    form: str,
) -> dict[str, Any]:
    """Everything about the person (`services.privacy.collect`), audited (``form``: json/pdf)."""
    person, actor_id = await _authorized(session, actor, person_id, roles=EXPORT_ROLES)
    data = await collect_person(session=session, person=person, made_at=now)
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=actor_id,
        action=EXPORT,
        subject_type="person",
        subject_id=person.id,
        details={"channel": channel.value, "form": form},
        at=now,
    )
    return data


def _same_name(typed: str, name: str) -> bool:
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold()


async def erase(
    *,
    session: AsyncSession,
    actor: Person | None,
    person_id: int,
    now: datetime,
    channel: Channel,
    force: bool = False,
    typed_name: str | None = None,
) -> Erasure:
    """Erase the person (administrator of their school, or the system); on the web the
    administrator types the person's name to confirm (``typed_name``). Audited (counts)."""
    person, actor_id = await _authorized(session, actor, person_id, roles=(Role.ADMIN,))
    if typed_name is not None and not _same_name(typed_name, person.display_name):
        raise ErasureRefused(
            Text.of(N_("The name you typed is not this person's name: nothing was erased."))
        )
    if actor_id == person.id:
        raise ErasureRefused(Text.of(N_("You cannot erase yourself.")))
    result = await erase_person(
        session=session, person=person, actor_id=actor_id, force=force, now=now
    )
    record_audit(
        session=session,
        school_id=person.school_id,
        actor_id=actor_id,
        action=ERASE,
        subject_type="person",
        subject_id=person.id,
        details={"channel": channel.value, "force": force, **result.details()},
        at=now,
    )
    return result


async def set_retention(
    *, session: AsyncSession, actor: Person | None, school_id: int, months: int, now: datetime
) -> School:
    """Set the school's retention period (months after closing; administrator or system)."""
    await require_admin(session=session, actor=actor, school_id=school_id)
    problem = retention_problem(months)
    if problem is not None:
        raise SettingsInvalid([problem], fields=[("care_retention_months", problem)])
    school = await session.get_one(School, school_id)
    school.care_retention_months = months
    await session.flush()
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=None if actor is None else actor.id,
        action=RETENTION_SETTING,
        subject_type="school",
        subject_id=school_id,
        details={"months": months},
        at=now,
    )
    return school
