"""Import a school's people from a CSV export: all rows or none.

Columns (header names, any order)::

    external_id,roles,given_name,family_name,group,language,mentor_of,parent_of

``roles``, ``mentor_of`` and ``parent_of`` hold ``;``-separated values; the links name
students by external id, in the same file or already in the school. The first four columns
are required. For each person in the file, the file is the truth: their names and roles are
replaced, and (when the column is present) the students they are mentor or parent of. An
absent ``group``/``language``/``mentor_of``/``parent_of`` column leaves that data as it is,
and an empty ``language`` keeps the language the person chose in the bot. People not in the
file are left alone.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dialogs.text import N_, Text
from services.kernel.audit import record_audit
from services.kernel.errors import ImportFailed
from services.kernel.languages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from storage.models import Guardianship, Mentorship, Person, PersonRole, Role

log = logging.getLogger(__name__)

COLUMNS = (
    "external_id",
    "roles",
    "given_name",
    "family_name",
    "group",
    "language",
    "mentor_of",
    "parent_of",
)
REQUIRED_COLUMNS = COLUMNS[:4]
NAME_MAX = 100
EXTERNAL_ID_MAX = 64
GROUP_MAX = 32
#: Line number of the first data row: line 1 is the header.
FIRST_LINE = 2


@dataclass(frozen=True, slots=True)
class ImportReport:
    """External ids of the people created and updated, in file order."""

    created: tuple[str, ...]
    updated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    external_id: str
    roles: frozenset[Role]
    given_name: str
    family_name: str
    group: str | None
    language: str | None
    mentor_of: tuple[str, ...]
    parent_of: tuple[str, ...]


async def import_people(
    *,
    session: AsyncSession,
    school_id: int,
    rows: Iterable[Mapping[str, str]] | str,
) -> ImportReport:
    """Validate every row, then create or update the school's people by external id.

    Runs inside the caller's unit of work and flushes. ``rows`` is CSV text with a header
    line, or mappings keyed by column name (numbered from line 2, as if a header preceded
    them). Raises `ImportFailed` with every problem found, one `Text` each with its line
    number, before writing anything (the caller's unit of work then rolls back whole).
    """
    columns, numbered, errors = _read(rows)
    if errors:
        raise ImportFailed(errors)
    parsed = [_parse_row(line, raw, errors) for line, raw in numbered]
    rows_by_id = _index(parsed, errors)

    existing = {
        person.external_id: person
        for person in await session.scalars(select(Person).where(Person.school_id == school_id))
    }
    _check_links(rows_by_id, existing, errors)
    if errors:
        raise ImportFailed(sorted(errors, key=_line_of))

    created: list[str] = []
    updated: list[str] = []
    for row in rows_by_id.values():
        person = existing.get(row.external_id)
        if person is None:
            person = Person(
                school_id=school_id,
                external_id=row.external_id,
                language=DEFAULT_LANGUAGE,
                roles=[],
            )
            session.add(person)
            existing[row.external_id] = person
            created.append(row.external_id)
        else:
            updated.append(row.external_id)
        _update_person(person, row, columns)
    await session.flush()

    if "mentor_of" in columns:
        for row in rows_by_id.values():
            await _sync_links(
                session=session,
                holder=Mentorship.mentor_id,
                make=_mentorship,
                school_id=school_id,
                holder_id=existing[row.external_id].id,
                wanted={existing[target].id for target in row.mentor_of},
            )
    if "parent_of" in columns:
        for row in rows_by_id.values():
            await _sync_links(
                session=session,
                holder=Guardianship.parent_id,
                make=_guardianship,
                school_id=school_id,
                holder_id=existing[row.external_id].id,
                wanted={existing[target].id for target in row.parent_of},
            )
    record_audit(
        session=session,
        school_id=school_id,
        actor_id=None,
        action="people.import",
        subject_type="school",
        subject_id=school_id,
        details={"created": len(created), "updated": len(updated)},
    )
    await session.flush()
    log.info(
        "import into school_id=%s: %s created, %s updated", school_id, *map(len, (created, updated))
    )
    return ImportReport(created=tuple(created), updated=tuple(updated))


def _line_of(error: Text) -> int:
    line = error.params.get("line", 0)
    return line if isinstance(line, int) else 0


def _read(
    rows: Iterable[Mapping[str, str]] | str,
) -> tuple[frozenset[str], list[tuple[int, Mapping[str | None, str | None]]], list[Text]]:
    """Number the rows and check the columns; CSV header problems are reported on line 1."""
    errors: list[Text] = []
    if isinstance(rows, str):
        reader = csv.DictReader(io.StringIO(rows.removeprefix("\ufeff")))
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        reader.fieldnames = header
        _check_columns(1, header, errors)
        numbered: list[tuple[int, Mapping[str | None, str | None]]] = []
        line = FIRST_LINE
        for raw in reader:
            numbered.append((line, raw))
            line = reader.line_num + 1
        return frozenset(header), numbered, errors

    numbered = []
    seen: set[str] = set()
    for line, mapping in enumerate(rows, start=FIRST_LINE):
        cells: dict[str | None, str | None] = {
            key.strip().lower(): value for key, value in mapping.items()
        }
        columns = [key for key in cells if key is not None]
        _check_columns(line, columns, errors)
        seen.update(columns)
        numbered.append((line, cells))
    return frozenset(seen), numbered, errors


def _check_columns(line: int, columns: Iterable[str], errors: list[Text]) -> None:
    present = set(columns)
    errors.extend(
        Text.of(N_("Line {line}: column {column} is missing."), line=line, column=column)
        for column in REQUIRED_COLUMNS
        if column not in present
    )
    errors.extend(
        Text.of(N_("Line {line}: unknown column {column}."), line=line, column=column)
        for column in sorted(present - set(COLUMNS))
    )


def _parse_row(line: int, raw: Mapping[str | None, str | None], errors: list[Text]) -> _Row:
    if raw.get(None):
        # csv.DictReader puts values beyond the header under the key None.
        errors.append(Text.of(N_("Line {line}: more values than columns."), line=line))

    def cell(column: str) -> str:
        return (raw.get(column) or "").strip()

    external_id = cell("external_id")
    if not external_id:
        errors.append(Text.of(N_("Line {line}: external_id is empty."), line=line))
    elif len(external_id) > EXTERNAL_ID_MAX:
        errors.append(
            Text.plural_of(
                "Line {line}: external_id is longer than {count} character.",
                "Line {line}: external_id is longer than {count} characters.",
                EXTERNAL_ID_MAX,
                line=line,
            )
        )

    roles: set[Role] = set()
    for code in _split(cell("roles").lower()):
        try:
            roles.add(Role(code))
        except ValueError:
            errors.append(Text.of(N_("Line {line}: unknown role {role}."), line=line, role=code))
    if not roles and not _split(cell("roles")):
        errors.append(Text.of(N_("Line {line}: no role given."), line=line))

    for column in ("given_name", "family_name"):
        if not cell(column):
            errors.append(Text.of(N_("Line {line}: {column} is empty."), line=line, column=column))
        elif len(cell(column)) > NAME_MAX:
            errors.append(_too_long(line=line, column=column, limit=NAME_MAX))
    if len(cell("group")) > GROUP_MAX:
        errors.append(_too_long(line=line, column="group", limit=GROUP_MAX))

    language = cell("language").lower() or None
    if language is not None and language not in SUPPORTED_LANGUAGES:
        errors.append(
            Text.of(
                N_("Line {line}: unsupported language {language}."), line=line, language=language
            )
        )

    mentor_of = _split(cell("mentor_of"))
    if mentor_of and Role.MENTOR not in roles:
        errors.append(
            Text.of(
                N_("Line {line}: {column} is filled in, but the role {role} is not."),
                line=line,
                column="mentor_of",
                role="mentor",
            )
        )
    parent_of = _split(cell("parent_of"))
    if parent_of and Role.PARENT not in roles:
        errors.append(
            Text.of(
                N_("Line {line}: parent_of is filled in, but the role parent is not."), line=line
            )
        )

    return _Row(
        line=line,
        external_id=external_id,
        roles=frozenset(roles),
        given_name=cell("given_name"),
        family_name=cell("family_name"),
        group=cell("group") or None,
        language=language,
        mentor_of=mentor_of,
        parent_of=parent_of,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(";") if part.strip()))


def _index(rows: list[_Row], errors: list[Text]) -> dict[str, _Row]:
    by_id: dict[str, _Row] = {}
    for row in rows:
        if not row.external_id:
            continue
        first = by_id.get(row.external_id)
        if first is not None:
            errors.append(
                Text.of(
                    N_("Line {line}: external_id {external_id} is also on line {first}."),
                    line=row.line,
                    external_id=row.external_id,
                    first=first.line,
                )
            )
            continue
        by_id[row.external_id] = row
    return by_id


def _check_links(
    rows: Mapping[str, _Row], existing: Mapping[str, Person], errors: list[Text]
) -> None:
    def is_student(external_id: str) -> bool | None:
        if external_id in rows:
            return Role.STUDENT in rows[external_id].roles
        if external_id in existing:
            return existing[external_id].has_role(Role.STUDENT)
        return None

    for row in rows.values():
        for target in (*row.mentor_of, *row.parent_of):
            student = is_student(target)
            if student is None:
                errors.append(
                    Text.of(
                        N_("Line {line}: unknown student {external_id}."),
                        line=row.line,
                        external_id=target,
                    )
                )
            elif not student:
                errors.append(
                    Text.of(
                        N_("Line {line}: {external_id} is not a student."),
                        line=row.line,
                        external_id=target,
                    )
                )


def _update_person(person: Person, row: _Row, columns: frozenset[str]) -> None:
    person.given_name = row.given_name
    person.family_name = row.family_name
    if "group" in columns:
        person.group_name = row.group
    if row.language is not None:
        person.language = row.language
    # Keep the rows of roles that stay, so the unit of work does not delete and re-insert them.
    person.roles = [r for r in person.roles if r.role in row.roles] + [
        PersonRole(role=role)
        for role in sorted(row.roles)
        if role not in {r.role for r in person.roles}
    ]


async def _sync_links(
    *,
    session: AsyncSession,
    holder: InstrumentedAttribute[int],
    make: Callable[[int, int, int], Mentorship | Guardianship],
    school_id: int,
    holder_id: int,
    wanted: set[int],
) -> None:
    """Make the holder's links (mentor or parent of) exactly ``wanted`` student ids."""
    model = holder.class_
    current = set(
        await session.scalars(
            select(model.student_id).where(model.school_id == school_id, holder == holder_id)
        )
    )
    if current - wanted:
        await session.execute(
            delete(model).where(
                model.school_id == school_id,
                holder == holder_id,
                model.student_id.in_(current - wanted),
            )
        )
    session.add_all(make(school_id, holder_id, student) for student in sorted(wanted - current))


def _mentorship(school_id: int, mentor_id: int, student_id: int) -> Mentorship:
    return Mentorship(school_id=school_id, mentor_id=mentor_id, student_id=student_id)


def _guardianship(school_id: int, parent_id: int, student_id: int) -> Guardianship:
    return Guardianship(school_id=school_id, parent_id=parent_id, student_id=student_id)


def _too_long(*, line: int, column: str, limit: int) -> Text:
    return Text.plural_of(
        "Line {line}: {column} is longer than {count} character.",
        "Line {line}: {column} is longer than {count} characters.",
        limit,
        line=line,
        column=column,
    )
