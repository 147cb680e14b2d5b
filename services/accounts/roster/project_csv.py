"""The project's own CSV (pure): ``external_id,roles,given_name,family_name,group,language,
mentor_of,parent_of,email,birth_date``.

Column names in any case and order, spaces trimmed; the first four are required. ``roles``,
``mentor_of`` and ``parent_of`` hold values separated by ``;`` (or ``,``). For each person in
the file the file is the truth for their names and roles, and (when the column is present)
their group and the students they are mentor or parent of. An empty ``language`` keeps the
language the person chose in the bot; an empty ``email`` keeps the address the school has.
``birth_date`` (``YYYY-MM-DD`` or ``DD-MM-YYYY``, ``-`` or ``/``) is read for students only
(the age-18 rule; ignored on other rows); an empty cell keeps the date the school has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from dialogs.text import N_, Text
from services.accounts.roster.decoding import Row, Table, read_table
from services.accounts.roster.model import (
    GROUP_MAX,
    BadRow,
    Roster,
    RosterPerson,
    check_birth_date,
    check_email,
    check_external_id,
    check_name,
    parse_birth_date,
    today_utc,
    too_long,
)
from services.kernel.languages import SUPPORTED_LANGUAGES
from storage.models import Role

COLUMNS = (
    "external_id",
    "roles",
    "given_name",
    "family_name",
    "group",
    "language",
    "mentor_of",
    "parent_of",
    "email",
    "birth_date",
)
REQUIRED_COLUMNS = COLUMNS[:4]
#: Line number of the first data row: line 1 is the header.
FIRST_LINE = 2


def parse_project_csv(data: bytes, file: str, *, today: date | None = None) -> Roster:
    """Read the file's bytes (any supported encoding and delimiter); see `parse_table`."""
    return parse_table(read_table(data, file), today=today)


def parse_project_rows(
    rows: Iterable[Mapping[str, str]], file: str = "people", *, today: date | None = None
) -> Roster:
    """Rows given as mappings (the demo data, tests), numbered as if a header preceded them."""
    numbered = [
        Row(line, {key.strip().lower(): value for key, value in mapping.items()})
        for line, mapping in enumerate(rows, start=FIRST_LINE)
    ]
    columns = tuple(dict.fromkeys(key for row in numbered for key in row.cells))
    return parse_table(Table(file, columns, tuple(numbered), (), "utf-8", ","), today=today)


def parse_table(table: Table, *, today: date | None = None) -> Roster:
    """The roster in ``table``: every bad row with its reason, the good rows as people.

    ``today`` (default: today, UTC) is what a date of birth may not lie after."""
    today = today_utc() if today is None else today
    file = table.file
    fatal = [BadRow(file, 1, reason) for reason in _check_columns(table.columns)]
    columns = frozenset(table.columns)
    bad: list[BadRow] = list(table.bad_rows)
    people: list[RosterPerson] = []
    mentor_of: dict[str, frozenset[str]] = {}
    parent_of: dict[str, frozenset[str]] = {}
    first_line: dict[str, int] = {}
    rejected: list[RosterPerson] = []
    if not fatal:
        for row in table.rows:
            external_id = row.get("external_id")
            problems = _problems(row, today)
            first = first_line.get(external_id) if external_id else None
            if first is not None:
                problems.insert(
                    0,
                    Text.of(
                        N_("Line {line}: external_id {external_id} is also on line {first}."),
                        line=row.line,
                        external_id=external_id,
                        first=first,
                    ),
                )
            elif external_id:
                first_line[external_id] = row.line
            if problems:
                bad.extend(BadRow(file, row.line, p, external_id or None) for p in problems)
                rejected.append(_person(row, file))
                continue
            people.append(_person(row, file))
            if "mentor_of" in columns:
                mentor_of[external_id] = frozenset(split_list(row.get("mentor_of")))
            if "parent_of" in columns:
                parent_of[external_id] = frozenset(split_list(row.get("parent_of")))
    return Roster(
        source=file,
        people=tuple(people),
        mentor_of=mentor_of,
        parent_of=parent_of,
        managed_roles=frozenset(Role),
        fields=columns & {"group", "language", "email", "birth_date"},
        full=False,
        bad_rows=tuple(sorted(bad, key=lambda b: b.line)),
        fatal=tuple(fatal),
        rejected=tuple(rejected),
    )


def split_list(value: str) -> tuple[str, ...]:
    """``a; b,c`` → ``("a", "b", "c")``, duplicates and empty parts dropped."""
    parts = value.replace(",", ";").split(";")
    return tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))


def _check_columns(columns: Iterable[str]) -> list[Text]:
    present = set(columns) - {""}
    return [
        Text.of(N_("Line {line}: column {column} is missing."), line=1, column=column)
        for column in REQUIRED_COLUMNS
        if column not in present
    ] + [
        Text.of(N_("Line {line}: unknown column {column}."), line=1, column=column)
        for column in sorted(present - set(COLUMNS))
    ]


def _roles(row: Row) -> tuple[frozenset[Role], list[Text]]:
    roles: set[Role] = set()
    problems: list[Text] = []
    for code in split_list(row.get("roles").lower()):
        try:
            roles.add(Role(code))
        except ValueError:
            problems.append(
                Text.of(N_("Line {line}: unknown role {role}."), line=row.line, role=code)
            )
    if not roles and not problems:
        problems.append(Text.of(N_("Line {line}: no role given."), line=row.line))
    return frozenset(roles), problems


def _problems(row: Row, today: date) -> list[Text]:
    line = row.line
    problems: list[Text] = []
    problem = check_external_id(line, row.get("external_id"))
    if problem is not None:
        problems.append(problem)
    roles, role_problems = _roles(row)
    problems.extend(role_problems)
    for column in ("given_name", "family_name"):
        problem = check_name(line, column, row.get(column))
        if problem is not None:
            problems.append(problem)
    if len(row.get("group")) > GROUP_MAX:
        problems.append(too_long(line=line, column="group", limit=GROUP_MAX))
    language = row.get("language").lower()
    if language and language not in SUPPORTED_LANGUAGES:
        problems.append(
            Text.of(
                N_("Line {line}: unsupported language {language}."), line=line, language=language
            )
        )
    problem = check_email(line, "email", row.get("email"))
    if problem is not None:
        problems.append(problem)
    if Role.STUDENT in roles:  # a date of birth on another row is ignored
        problem = check_birth_date(line, "birth_date", row.get("birth_date"), today)
        if problem is not None:
            problems.append(problem)
    if row.get("mentor_of") and Role.MENTOR not in roles:
        problems.append(
            Text.of(
                N_("Line {line}: {column} is filled in, but the role {role} is not."),
                line=line,
                column="mentor_of",
                role="mentor",
            )
        )
    if row.get("parent_of") and Role.PARENT not in roles:
        problems.append(
            Text.of(
                N_("Line {line}: parent_of is filled in, but the role parent is not."), line=line
            )
        )
    return problems


def _person(row: Row, file: str) -> RosterPerson:
    roles, _ = _roles(row)
    return RosterPerson(
        external_id=row.get("external_id"),
        given_name=row.get("given_name"),
        family_name=row.get("family_name"),
        roles=roles,
        file=file,
        line=row.line,
        group=row.get("group") or None,
        language=row.get("language").lower() or None,
        email=row.get("email") or None,
        birth_date=parse_birth_date(row.get("birth_date")) if Role.STUDENT in roles else None,
        link_order=split_list(f"{row.get('mentor_of')};{row.get('parent_of')}"),
    )
