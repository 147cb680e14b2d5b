"""What a sync would do (pure): a roster compared with the school's people and links.

The rules:

- a person in the roster and not in the school is added (unless the roster says they left);
- a person in both is changed where the roster differs: names; roles (the roster's roles,
  plus the roles it does not decide: `Roster.managed_roles`); the group, the language, the
  e-mail address and a student's date of birth where the roster carries them
  (`Roster.fields`; an empty language, address or date keeps the school's); the students
  they are mentor or parent of, where listed; a person who had left and is listed again
  comes back (``ended_at`` cleared);
- the roster says a person left (OneRoster ``tobedeleted``): they are ended;
- a full sync ends, in addition, every person of the school who is not in the roster, holds
  a role an administration system gives (`ROSTER_ROLES`) and has not ended yet. A person
  holding only roles given in the app (the first admin, an external coach) is never ended
  by a sync, and neither is a person whose row was bad;
- a link to a student who is neither in the roster nor in the school, or to someone who is
  not a student, makes the holder's row bad.

Ended people keep their roles and links (their history stays readable); they lose access
(see `services.accounts.people.is_active`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dialogs.text import N_, Text
from services.accounts.roster.model import ROSTER_ROLES, BadRow, Roster, RosterPerson
from storage.models import Role

LinkKind = Literal["mentor", "parent"]


@dataclass(frozen=True, slots=True)
class Current:
    """One person as the school has them now."""

    external_id: str
    given_name: str
    family_name: str
    group: str | None
    language: str
    email: str | None
    roles: frozenset[Role]
    ended: bool
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class SchoolState:
    """The school's people by external id and its links (holder → students, external ids)."""

    people: Mapping[str, Current]
    mentor_of: Mapping[str, frozenset[str]]
    parent_of: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class Link:
    """A mentor or parent link between two people, by external id."""

    kind: LinkKind
    holder: str
    student: str


@dataclass(frozen=True, slots=True)
class Change:
    """A person to write: the new values of the fields that change, by field name.

    Fields: ``given_name``, ``family_name``, ``group_name``, ``language``, ``email``,
    ``birth_date``, ``roles`` (a frozenset of `Role`) and ``ended`` (``True`` ends, ``False``
    brings back).
    ``links`` names ``mentor_of`` / ``parent_of`` when the person's links change (for the
    report; the links themselves are in `Plan.links_added` / `Plan.links_removed`).
    """

    external_id: str
    values: Mapping[str, object]
    links: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """What changes, for the report (``ended_at`` for leaving or coming back)."""
        names = ["ended_at" if name == "ended" else name for name in self.values]
        return (*names, *self.links)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a sync would write, and every bad row found."""

    added: tuple[Change, ...]
    changed: tuple[Change, ...]
    ended: tuple[str, ...]
    returned: tuple[str, ...]
    links_added: tuple[Link, ...]
    links_removed: tuple[Link, ...]
    unchanged: int
    role_counts: Mapping[Role, int]
    bad_rows: tuple[BadRow, ...]
    full: bool
    skipped: int = 0
    #: Every person to write (added, changed, ended) in file order, for the batches.
    writes: tuple[Change, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """Whether the sync would change nothing."""
        return not (self.writes or self.links_added or self.links_removed)


def make_plan(roster: Roster, state: SchoolState, *, full: bool | None = None) -> Plan:
    """The plan for ``roster`` against ``state``; ``full`` defaults to the roster's own."""
    full = roster.full if full is None else full
    people = {person.external_id: person for person in roster.people}
    new_roles = {
        ext: _roles(person, state.people.get(ext), roster.managed_roles)
        for ext, person in people.items()
    }
    link_bad, bad_holders = _check_links(roster, people, new_roles, state)
    bad_ids = {bad.external_id for bad in (*roster.bad_rows, *link_bad) if bad.external_id}

    ending = _absent(state, people, bad_ids) if full else []
    # Who has left after this sync (a person listed again comes back).
    left = {
        ext
        for ext, current in state.people.items()
        if current.ended and (ext not in people or people[ext].ended)
    }
    left |= {ext for ext, person in people.items() if person.ended}
    left |= set(ending)

    added: list[Change] = []
    changed: list[Change] = []
    ended: list[str] = []
    returned: list[str] = []
    links_added: list[Link] = []
    links_removed: list[Link] = []
    unchanged = 0
    for ext, person in people.items():
        if ext in bad_holders:
            continue
        current = state.people.get(ext)
        if current is None:
            if not person.ended:
                added.append(Change(ext, _new_values(person, new_roles[ext], roster.fields)))
            continue
        if person.ended:
            if not current.ended:
                changed.append(Change(ext, {"ended": True}))
                ended.append(ext)
            else:
                unchanged += 1
            continue
        values = _changed_values(person, current, new_roles[ext], roster.fields)
        link_changes, plus, minus = _link_diff(ext, roster, state, left)
        links_added.extend(plus)
        links_removed.extend(minus)
        if values.get("ended") is False:
            returned.append(ext)
        if values or link_changes:
            changed.append(Change(ext, values, link_changes))
        else:
            unchanged += 1
    for change in added:
        for kind, wanted in _wanted_links(roster):
            links_added.extend(
                Link(kind, change.external_id, student)
                for student in sorted(wanted.get(change.external_id, frozenset()) - left)
            )
    ended.extend(ending)

    counts: Counter[Role] = Counter(
        role for person in roster.people if not person.ended for role in person.roles
    )
    bad = sorted((*roster.bad_rows, *link_bad), key=lambda b: (b.file, b.line))
    return Plan(
        added=tuple(added),
        changed=tuple(changed),
        ended=tuple(ended),
        returned=tuple(returned),
        links_added=tuple(links_added),
        links_removed=tuple(links_removed),
        unchanged=unchanged,
        role_counts=dict(sorted(counts.items())),
        bad_rows=tuple(bad),
        full=full,
        skipped=roster.skipped,
        writes=(*added, *changed, *(Change(ext, {"ended": True}) for ext in ending)),
    )


def _absent(state: SchoolState, people: Mapping[str, RosterPerson], bad_ids: set[str]) -> list[str]:
    """Who a full sync ends: not in the roster, no bad row, not ended, a roster role."""
    return [
        ext
        for ext, current in state.people.items()
        if ext not in people
        and ext not in bad_ids
        and not current.ended
        and current.roles & ROSTER_ROLES
    ]


def _link_diff(
    ext: str, roster: Roster, state: SchoolState, left: set[str]
) -> tuple[tuple[str, ...], list[Link], list[Link]]:
    """Which link fields of ``ext`` change, the links to add and the links to remove.

    Links to students who have left (or leave now) are neither added nor removed: the
    history of a leaver stays as it was.
    """
    names: list[str] = []
    plus: list[Link] = []
    minus: list[Link] = []
    for kind, wanted in _wanted_links(roster):
        if ext not in wanted:
            continue
        before = _current_links(state, kind).get(ext, frozenset())
        added = sorted(wanted[ext] - before - left)
        removed = sorted(before - wanted[ext] - left)
        if added or removed:
            names.append(f"{kind}_of")
        plus.extend(Link(kind, ext, student) for student in added)
        minus.extend(Link(kind, ext, student) for student in removed)
    return tuple(names), plus, minus


def _wanted_links(roster: Roster) -> tuple[tuple[LinkKind, Mapping[str, frozenset[str]]], ...]:
    return (("mentor", roster.mentor_of), ("parent", roster.parent_of))


def _current_links(state: SchoolState, kind: LinkKind) -> Mapping[str, frozenset[str]]:
    return state.mentor_of if kind == "mentor" else state.parent_of


def _roles(
    person: RosterPerson, current: Current | None, managed: frozenset[Role]
) -> frozenset[Role]:
    kept = current.roles - managed if current is not None else frozenset()
    return kept | person.roles


def _new_values(
    person: RosterPerson, roles: frozenset[Role], fields: frozenset[str]
) -> dict[str, object]:
    values: dict[str, object] = {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "roles": roles,
    }
    if person.group is not None:
        values["group_name"] = person.group
    if person.language is not None:
        values["language"] = person.language
    if person.email is not None and "email" in fields:
        values["email"] = person.email
    if person.birth_date is not None and "birth_date" in fields:
        values["birth_date"] = person.birth_date
    return values


def _changed_values(
    person: RosterPerson, current: Current, roles: frozenset[Role], fields: frozenset[str]
) -> dict[str, object]:
    values: dict[str, object] = {}
    if person.given_name != current.given_name:
        values["given_name"] = person.given_name
    if person.family_name != current.family_name:
        values["family_name"] = person.family_name
    if roles != current.roles:
        values["roles"] = roles
    if "group" in fields and person.group != current.group:
        values["group_name"] = person.group
    if person.language is not None and person.language != current.language:
        values["language"] = person.language
    if "email" in fields and person.email is not None and person.email != current.email:
        values["email"] = person.email
    if (
        "birth_date" in fields
        and person.birth_date is not None
        and person.birth_date != current.birth_date
    ):
        values["birth_date"] = person.birth_date
    if current.ended:
        values["ended"] = False
    return values


def _check_links(
    roster: Roster,
    people: Mapping[str, RosterPerson],
    new_roles: Mapping[str, frozenset[Role]],
    state: SchoolState,
) -> tuple[list[BadRow], set[str]]:
    """The bad links (of good and bad rows) and the good rows they make bad."""
    rejected: dict[str, RosterPerson] = {}
    for person in roster.rejected:
        rejected.setdefault(person.external_id, person)

    def is_student(ext: str) -> bool | None:
        if ext in people:
            return Role.STUDENT in new_roles[ext]
        if ext in rejected and ext not in state.people:
            # A student whose own row is bad is unknown until that row is fixed.
            return None if Role.STUDENT in rejected[ext].roles else False
        if ext in state.people:
            return Role.STUDENT in state.people[ext].roles
        return None

    checks = [
        (person, (*roster.mentor_of.get(holder, ()), *roster.parent_of.get(holder, ())))
        for holder, person in people.items()
    ] + [(person, person.link_order) for person in roster.rejected]
    bad: list[BadRow] = []
    holders: set[str] = set()
    for index, (person, targets) in enumerate(checks):
        for target in _file_order(person, targets):
            student = is_student(target)
            if student is None:
                reason = Text.of(
                    N_("Line {line}: unknown student {external_id}."),
                    line=person.line,
                    external_id=target,
                )
            elif not student:
                reason = Text.of(
                    N_("Line {line}: {external_id} is not a student."),
                    line=person.line,
                    external_id=target,
                )
            else:
                continue
            bad.append(BadRow(person.file, person.line, reason, person.external_id or None))
            if index < len(people):
                holders.add(person.external_id)
    return bad, holders


def _file_order(person: RosterPerson, targets: tuple[str, ...]) -> tuple[str, ...]:
    """Targets in the order the row names them, when it does (the project CSV)."""
    order = {ext: index for index, ext in enumerate(person.link_order)}
    return tuple(sorted(dict.fromkeys(targets), key=lambda ext: order.get(ext, len(order))))
