"""A plan written in batches, each its own unit of work, and the school read for planning.

Large imports must not block the app: on SQLite one writer holds the whole database, so a
100,000-row import in one transaction would keep every login and chat waiting for minutes.
`apply_plan` writes `DEFAULT_BATCH_SIZE` people (then links) per transaction through
`run_unit_of_work`, and pauses `DEFAULT_PAUSE_SECONDS` between two batches. The pause is
needed: every transaction begins IMMEDIATE (storage/db.py) and SQLite's busy handler is not
fair — a login waiting for the lock polls at most every 100 ms, so batches begun back to back
would win every time and the login would wait for the whole import. Everything
is parsed and planned before the first write, so a refused import writes nothing. A run
that stops half-way (a crash) leaves the batches written so far; running the same file
again completes it (a sync can be repeated).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts.leavers import withdraw_notices
from services.accounts.roster.plan import Change, Current, Link, LinkKind, Plan, SchoolState
from services.kernel.audit import record_audit
from services.kernel.languages import DEFAULT_LANGUAGE
from services.kernel.uow import run_unit_of_work
from storage.models import Guardianship, Mentorship, Person, PersonRole, Role

DEFAULT_BATCH_SIZE = 500
#: The gap between two batches in which waiting writers (a login, a chat) get the lock.
DEFAULT_PAUSE_SECONDS = 0.1
LINKS_PER_PERSON_BATCH = 4
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ApplyStats:
    """How the writes went: the number of transactions and the longest one, in seconds."""

    transactions: int
    longest_seconds: float


async def load_state(*, session: AsyncSession, school_id: int) -> SchoolState:
    """The school's people (roles included) and links, read as plain rows (no ORM objects)."""
    roles: dict[int, set[Role]] = defaultdict(set)
    for person_id, role in await session.execute(
        select(PersonRole.person_id, PersonRole.role)
        .join(Person, Person.id == PersonRole.person_id)
        .where(Person.school_id == school_id)
    ):
        roles[person_id].add(role)
    external: dict[int, str] = {}
    people: dict[str, Current] = {}
    for row in await session.execute(
        select(
            Person.id,
            Person.external_id,
            Person.given_name,
            Person.family_name,
            Person.group_name,
            Person.language,
            Person.email,
            Person.birth_date,
            Person.ended_at,
        ).where(Person.school_id == school_id)
    ):
        external[row.id] = row.external_id
        people[row.external_id] = Current(
            external_id=row.external_id,
            given_name=row.given_name,
            family_name=row.family_name,
            group=row.group_name,
            language=row.language,
            email=row.email,
            roles=frozenset(roles.get(row.id, ())),
            ended=row.ended_at is not None,
            birth_date=row.birth_date,
        )
    links: dict[LinkKind, dict[str, set[str]]] = {"mentor": defaultdict(set), "parent": {}}
    links["parent"] = defaultdict(set)
    for kind, holder, model in (
        ("mentor", Mentorship.mentor_id, Mentorship),
        ("parent", Guardianship.parent_id, Guardianship),
    ):
        for holder_id, student_id in await session.execute(
            select(holder, model.student_id).where(model.school_id == school_id)
        ):
            links[cast("LinkKind", kind)][external[holder_id]].add(external[student_id])
    return SchoolState(
        people=people,
        mentor_of={h: frozenset(s) for h, s in links["mentor"].items()},
        parent_of={h: frozenset(s) for h, s in links["parent"].items()},
    )


async def write_people(
    *, session: AsyncSession, school_id: int, changes: Sequence[Change], now: datetime
) -> None:
    """Create or update the people of ``changes`` (one batch) and flush.

    People already in the school are updated through the ORM; new people are inserted with
    two bulk statements (people, then their roles), which is what makes a batch short.
    People who end here get their pending outbox rows withdrawn in the same transaction
    (`services.accounts.leavers.withdraw_notices`): a leaver is sent no reminder.
    """
    wanted = [change.external_id for change in changes]
    existing = {
        person.external_id: person
        for person in await session.scalars(
            select(Person).where(Person.school_id == school_id, Person.external_id.in_(wanted))
        )
    }
    new: list[Change] = []
    leaving: list[int] = []
    for change in changes:
        person = existing.get(change.external_id)
        if person is None:
            new.append(change)
        else:
            if change.values.get("ended") is True:
                leaving.append(person.id)
            _set_values(person, change, now)
    await session.flush()
    await withdraw_notices(session=session, person_ids=leaving)
    if not new:
        return
    inserted = await session.execute(
        insert(Person).returning(Person.id, Person.external_id, sort_by_parameter_order=True),
        [_new_row(school_id, change, now) for change in new],
    )
    ids = {row.external_id: row.id for row in inserted}
    roles = [
        {
            "person_id": ids[change.external_id],
            "role": role,
            "started_at": now,
            "ended_at": now if change.values.get("ended") else None,
        }
        for change in new
        for role in sorted(cast("frozenset[Role]", change.values.get("roles", frozenset())))
    ]
    if roles:
        await session.execute(insert(PersonRole), roles)


def _new_row(school_id: int, change: Change, now: datetime) -> dict[str, object]:
    values = change.values
    return {
        "school_id": school_id,
        "external_id": change.external_id,
        "given_name": values["given_name"],
        "family_name": values["family_name"],
        "group_name": values.get("group_name"),
        "language": values.get("language", DEFAULT_LANGUAGE),
        "email": values.get("email"),
        "birth_date": values.get("birth_date"),
        "ended_at": now if values.get("ended") else None,
        "created_at": now,
    }


def _set_values(person: Person, change: Change, now: datetime) -> None:
    for name, value in change.values.items():
        if name == "roles":
            roles = cast("frozenset[Role]", value)
            # Keep the rows of roles that stay, so they are not deleted and inserted again.
            kept = [r for r in person.roles if r.role in roles]
            have = {r.role for r in kept}
            person.roles = kept + [
                PersonRole(role=role, started_at=now) for role in sorted(roles - have)
            ]
        elif name == "ended":
            person.ended_at = now if value else None
            # The roles end with the person (the enrolment history of the indicators); a
            # person who comes back keeps the first start (the gap is not kept).
            for held in person.roles:
                held.ended_at = now if value else None
        elif name == "email":
            person.email = cast("str", value)
            person.email_unreachable_at = None  # a new address is tried again
        else:
            setattr(person, name, value)


async def write_links(
    *, session: AsyncSession, school_id: int, added: Sequence[Link], removed: Sequence[Link]
) -> None:
    """Add and remove the mentor and parent links of one batch."""
    names = {ext for link in (*added, *removed) for ext in (link.holder, link.student)}
    found = await session.execute(
        select(Person.external_id, Person.id).where(
            Person.school_id == school_id, Person.external_id.in_(names)
        )
    )
    ids: dict[str, int] = {row.external_id: row.id for row in found}
    for kind, model, holder, column in (
        ("mentor", Mentorship, Mentorship.mentor_id, "mentor_id"),
        ("parent", Guardianship, Guardianship.parent_id, "parent_id"),
    ):
        pairs = [(ids[link.holder], ids[link.student]) for link in removed if link.kind == kind]
        if pairs:
            await session.execute(
                delete(model).where(
                    model.school_id == school_id, tuple_(holder, model.student_id).in_(pairs)
                )
            )
        rows = [
            {
                "school_id": school_id,
                column: ids[link.holder],
                "student_id": ids[link.student],
            }
            for link in added
            if link.kind == kind
        ]
        if rows:
            await session.execute(insert(model), rows)
    await session.flush()


def record_import(
    *,
    session: AsyncSession,
    school_id: int,
    plan: Plan,
    source: str,
    now: datetime,
    actor_id: int | None = None,
) -> None:
    """The one audit row of an import run: counts only, no names or ids of people.
    ``actor_id``: the administrator who ran it on the web (None: the command line, demo)."""
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=actor_id,
        action="people.import",
        subject_type="school",
        subject_id=school_id,
        details={
            "source": source,
            "full": plan.full,
            "added": len(plan.added),
            "changed": len(plan.changed) - _ending(plan),
            "ended": len(plan.ended),
            "returned": len(plan.returned),
            "links_added": len(plan.links_added),
            "links_removed": len(plan.links_removed),
            "bad_rows_skipped": len(plan.bad_rows),
        },
        at=now,
    )


def _ending(plan: Plan) -> int:
    """How many of the changed people only end (they are counted as ended)."""
    return sum(1 for change in plan.changed if dict(change.values) == {"ended": True})


async def write_plan(
    *, session: AsyncSession, school_id: int, plan: Plan, source: str, now: datetime
) -> None:
    """The whole plan in the caller's one transaction (the demo data, small imports)."""
    await write_people(session=session, school_id=school_id, changes=plan.writes, now=now)
    await write_links(
        session=session, school_id=school_id, added=plan.links_added, removed=plan.links_removed
    )
    record_import(session=session, school_id=school_id, plan=plan, source=source, now=now)
    await session.flush()


async def apply_plan(
    sessions: async_sessionmaker[AsyncSession],
    *,
    school_id: int,
    plan: Plan,
    source: str,
    now: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause_seconds: float = DEFAULT_PAUSE_SECONDS,
    actor_id: int | None = None,
) -> ApplyStats:
    """Write ``plan`` in batches of ``batch_size``, each its own unit of work; audit once
    (naming ``actor_id``, the administrator on the web, when given)."""
    timer = _Timer(pause_seconds)
    for chunk in _chunks(plan.writes, batch_size):
        await timer.run(
            sessions,
            functools.partial(_people_batch, school_id=school_id, changes=chunk, now=now),
        )
    # A link is a small row: four times as many per transaction as people.
    link_batch = batch_size * LINKS_PER_PERSON_BATCH
    links: list[tuple[Sequence[Link], Sequence[Link]]] = [
        (chunk, ()) for chunk in _chunks(plan.links_added, link_batch)
    ] + [((), chunk) for chunk in _chunks(plan.links_removed, link_batch)]
    for added, removed in links:
        await timer.run(
            sessions,
            functools.partial(_links_batch, school_id=school_id, added=added, removed=removed),
        )

    async def audit(session: AsyncSession) -> None:
        record_import(
            session=session,
            school_id=school_id,
            plan=plan,
            source=source,
            now=now,
            actor_id=actor_id,
        )

    await timer.run(sessions, audit)
    return ApplyStats(timer.count, timer.longest)


async def _people_batch(
    session: AsyncSession, *, school_id: int, changes: Sequence[Change], now: datetime
) -> None:
    await write_people(session=session, school_id=school_id, changes=changes, now=now)


async def _links_batch(
    session: AsyncSession, *, school_id: int, added: Sequence[Link], removed: Sequence[Link]
) -> None:
    await write_links(session=session, school_id=school_id, added=added, removed=removed)


class _Timer:
    def __init__(self, pause_seconds: float) -> None:
        self.pause_seconds = pause_seconds
        self.count = 0
        self.longest = 0.0

    async def run(
        self,
        sessions: async_sessionmaker[AsyncSession],
        work: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        if self.count:
            await asyncio.sleep(self.pause_seconds)
        started = time.perf_counter()
        result = await run_unit_of_work(sessions, work)
        self.count += 1
        self.longest = max(self.longest, time.perf_counter() - started)
        return result


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
