"""A OneRoster 1.1 / 1.2 CSV bundle (a directory or a .zip) as a `Roster`.

Read: ``manifest.csv``, ``orgs.csv``, ``users.csv``, ``classes.csv``, ``enrollments.csv``
(and ``roles.csv`` of 1.2 when ``users.csv`` has no ``role`` column), and ``demographics.csv``
when the bundle has it, for one column only: a student's ``birthDate`` (the age-18 rule).
Everything else in it (sex, ethnicity, place of birth), ``academicSessions.csv`` and
``courses.csv`` are ignored on purpose: the product needs no sex or timetable.

The mapping (docs/architecture.md, "People from the administration system"):

- the school: the org named by ``org`` (its ``sourcedId`` or ``identifier``, e.g. the BRIN
  number), else the org of type ``school`` whose ``identifier`` is the school's code (any
  case), else the bundle's only school; users and classes of other orgs are skipped;
- ``sourcedId`` → external id (at most 64 characters); ``givenName`` (``preferredGivenName``,
  the roepnaam, when filled in) and ``middleName familyName`` (the tussenvoegsel first: "van
  Dijk") → the names; ``email`` → the e-mail address;
- ``demographics.csv`` ``birthDate`` (``YYYY-MM-DD``) → the date of birth of a student (its
  row's ``sourcedId`` is the student's; rows of others, of other schools and ``tobedeleted``
  rows are ignored); an empty cell, a student without a row, or a bundle without the file
  (or without its ``birthDate`` column) keeps the date the school has;
- role ``student`` → student; ``parent``, ``guardian``, ``relativeToStudent`` → parent of the
  students in their ``agentSourcedIds`` (and of the students naming them there);
  ``teacher`` → teacher. Administrators, aides, proctors and the like are not imported: the
  roles of the app (admin, care coordinator, coach) are given in the app, never by a file;
- a class of ``classType`` ``homeroom`` (the stamklas) is a group: its ``title`` (its
  ``classCode`` when the title is longer than 32 characters) is the group of the students
  enrolled in it, and every teacher enrolled in it is a mentor of those students;
- ``status`` ``tobedeleted`` or ``enabledUser`` ``false`` → the person has left (ended);
- the manifest's ``file.users`` ``delta`` makes the default a partial sync (only the people
  in the file change); ``bulk`` (or no manifest entry) a full one.
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from pathlib import Path, PurePosixPath

from dialogs.text import N_, Text
from services.accounts.roster.decoding import Row, Table, Undecodable, read_table
from services.accounts.roster.model import (
    GROUP_MAX,
    ROSTER_ROLES,
    BadRow,
    Roster,
    RosterPerson,
    check_birth_date,
    check_email,
    check_external_id,
    check_name,
    parse_birth_date,
    today_utc,
    unreadable,
)
from storage.models import Role

REQUIRED_FILES = ("orgs.csv", "users.csv", "classes.csv", "enrollments.csv")
#: Optional: read for the students' ``birthDate`` only.
DEMOGRAPHICS = "demographics.csv"
READ_FILES = ("manifest.csv", *REQUIRED_FILES, "roles.csv", DEMOGRAPHICS)
#: A bundle larger than this (uncompressed) is refused before it is read.
BUNDLE_MAX_BYTES = 512 * 1024 * 1024

ROLE_MAP: Mapping[str, Role] = {
    "student": Role.STUDENT,
    "parent": Role.PARENT,
    "guardian": Role.PARENT,
    "relativetostudent": Role.PARENT,
    "teacher": Role.TEACHER,
}


class BundleUnreadable(Exception):  # noqa: N818 - reads as the outcome, like the kernel's errors
    """The bundle cannot be read at all; ``problem`` says why, translated."""

    def __init__(self, problem: BadRow) -> None:
        super().__init__(problem.reason.msgid)
        self.problem = problem


def is_bundle(path: Path) -> bool:
    """A directory or a .zip file is read as a OneRoster bundle; anything else as a CSV."""
    return path.is_dir() or path.suffix.lower() == ".zip"


def read_bundle(path: Path) -> dict[str, bytes]:
    """The bundle's files by lower-case name (a .zip's files may sit in one folder). Does IO."""
    files: dict[str, bytes] = {}
    if path.is_dir():
        for child in path.iterdir():
            if child.name.lower() in READ_FILES and child.is_file():
                files[child.name.lower()] = child.read_bytes()
        return files
    try:
        with zipfile.ZipFile(path) as bundle:
            members = [
                info
                for info in bundle.infolist()
                if PurePosixPath(info.filename).name.lower() in READ_FILES
            ]
            if sum(info.file_size for info in members) > BUNDLE_MAX_BYTES:
                raise BundleUnreadable(
                    BadRow(path.name, 0, Text.of(N_("The bundle is too large to import.")))
                )
            for info in members:
                files[PurePosixPath(info.filename).name.lower()] = bundle.read(info)
    except (zipfile.BadZipFile, OSError) as error:
        raise BundleUnreadable(
            BadRow(
                path.name,
                0,
                Text.of(N_("{file} is not a readable .zip file."), file=Text.raw(path.name)),
            )
        ) from error
    return files


def parse_bundle(
    files: Mapping[str, bytes],
    *,
    school_code: str,
    source: str,
    org: str | None = None,
    today: date | None = None,
) -> Roster:
    """The roster of the school ``school_code`` (the org ``org``) in the bundle (pure).

    ``today`` (default: today, UTC) is what a date of birth may not lie after."""
    missing = [name for name in REQUIRED_FILES if name not in files]
    if missing:
        return unreadable(
            source,
            [
                BadRow(name, 0, Text.of(N_("The file {file} is missing."), file=Text.raw(name)))
                for name in missing
            ],
        )
    try:
        tables = {name: read_table(data, name) for name, data in files.items()}
    except Undecodable as undecodable:
        return unreadable(source, [undecodable.problem])
    fatal = [
        problem
        for name, needed in _NEEDED_COLUMNS.items()
        if name in tables
        for problem in _missing_columns(tables[name], needed)
    ]
    if DEMOGRAPHICS in tables and "birthdate" not in tables[DEMOGRAPHICS].columns:
        del tables[DEMOGRAPHICS]  # no date of birth in it: nothing of it is imported
    if DEMOGRAPHICS in tables:
        fatal.extend(_missing_columns(tables[DEMOGRAPHICS], _DEMOGRAPHICS_COLUMNS))
    if "role" not in tables["users.csv"].columns and "roles.csv" not in tables:
        fatal.append(
            BadRow(
                "users.csv",
                1,
                Text.of(N_("Line {line}: column {column} is missing."), line=1, column="role"),
            )
        )
    if fatal:
        return unreadable(source, fatal)
    chosen = _school_org(tables["orgs.csv"], school_code, org)
    if isinstance(chosen, BadRow):
        return unreadable(source, [chosen])
    return _Mapper(tables, chosen, source, today_utc() if today is None else today).roster()


_NEEDED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedid", "name", "identifier"),
    "users.csv": ("sourcedid", "status", "orgsourcedids", "givenname", "familyname"),
    "classes.csv": ("sourcedid", "title", "classtype", "schoolsourcedid"),
    "enrollments.csv": ("sourcedid", "classsourcedid", "usersourcedid", "role"),
    "roles.csv": ("usersourcedid", "role", "orgsourcedid"),
}
#: A demographics.csv with a ``birthDate`` column must say whose dates they are.
_DEMOGRAPHICS_COLUMNS = ("sourcedid",)


def _missing_columns(table: Table, needed: tuple[str, ...]) -> list[BadRow]:
    return [
        BadRow(
            table.file,
            1,
            Text.of(N_("Line {line}: column {column} is missing."), line=1, column=column),
        )
        for column in needed
        if column not in table.columns
    ]


def _active(row: Row) -> bool:
    return row.get("status").lower() != "tobedeleted"


def _school_org(orgs: Table, school_code: str, org: str | None) -> str | BadRow:
    """The sourcedId of the school's org, or why it cannot be chosen."""
    active = [row for row in orgs.rows if _active(row)]
    schools = [row for row in active if row.get("type").lower() == "school"] or active
    wanted = (org or school_code).lower()
    for row in active if org else schools:
        if wanted in {row.get("identifier").lower(), row.get("sourcedid").lower()}:
            return row.get("sourcedid")
    if org is None and len(schools) == 1:
        return schools[0].get("sourcedid")
    return BadRow(
        "orgs.csv",
        0,
        Text.of(
            N_(
                "No school in orgs.csv has the identifier “{code}”: it lists {identifiers}. "
                "Choose one: “School in the export” on the web, --org on the command line."
            ),
            code=Text.raw(org or school_code),
            identifiers=Text.raw(", ".join(row.get("identifier") or "?" for row in schools)),
        ),
    )


def _ids(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Mapper:
    """One pass over the tables of one school (kept in a class to share the lookups)."""

    def __init__(self, tables: Mapping[str, Table], org: str, source: str, today: date) -> None:
        self.tables = tables
        self.org = org
        self.source = source
        self.today = today
        self.bad: list[BadRow] = [b for table in tables.values() for b in table.bad_rows]
        self.skipped = 0

    def roster(self) -> Roster:
        users = self._users()
        roles = self._roles(users)
        groups, homeroom_students, homeroom_teachers = self._homerooms(users)
        birth_dates = self._birth_dates(roles)
        people: list[RosterPerson] = []
        mentor_of: dict[str, frozenset[str]] = {}
        parent_of: dict[str, set[str]] = {}
        students: set[str] = set()
        for sourced_id, row in users.items():
            person_roles = roles.get(sourced_id, frozenset())
            if not person_roles:
                self.skipped += 1
                continue
            classes = homeroom_teachers.get(sourced_id, [])
            if Role.TEACHER in person_roles:
                mentees = {s for c in classes for s in homeroom_students.get(c, ())}
                if classes:
                    person_roles |= {Role.MENTOR}
                mentor_of[sourced_id] = frozenset(mentees)
            if Role.STUDENT in person_roles:
                students.add(sourced_id)
            if Role.PARENT in person_roles:
                parent_of[sourced_id] = set(_ids(row.get("agentsourcedids")))
            people.append(
                self._person(row, person_roles, groups.get(sourced_id), birth_dates.get(sourced_id))
            )
        for student in students:
            for agent in _ids(users[student].get("agentsourcedids")):
                if agent in parent_of:
                    parent_of[agent].add(student)
        return Roster(
            source=self.source,
            people=tuple(people),
            mentor_of=mentor_of,
            parent_of={holder: frozenset(s) for holder, s in parent_of.items()},
            managed_roles=ROSTER_ROLES,
            # Dates of birth only from a bundle that has them: otherwise they are left alone.
            fields=frozenset(
                {"group", "email", "birth_date"}
                if DEMOGRAPHICS in self.tables
                else {"group", "email"}
            ),
            full=self._full(),
            bad_rows=tuple(sorted(self.bad, key=lambda b: (b.file, b.line))),
            skipped=self.skipped,
        )

    def _full(self) -> bool:
        manifest = self.tables.get("manifest.csv")
        if manifest is None:
            return True
        for row in manifest.rows:
            if row.get("propertyname").lower() == "file.users":
                return row.get("value").lower() != "delta"
        return True

    def _users(self) -> dict[str, Row]:
        """The users of the school whose rows can be imported, by sourcedId."""
        users: dict[str, Row] = {}
        first: dict[str, int] = {}
        for row in self.tables["users.csv"].rows:
            if self.org not in _ids(row.get("orgsourcedids")):
                self.skipped += 1
                continue
            sourced_id = row.get("sourcedid")
            problems = [
                problem
                for problem in (
                    check_external_id(row.line, sourced_id, "sourcedId"),
                    check_name(row.line, "givenName", self._given_name(row)),
                    check_name(row.line, "familyName", self._family_name(row)),
                    check_email(row.line, "email", row.get("email")),
                )
                if problem is not None
            ]
            if sourced_id in first:
                problems.insert(
                    0,
                    Text.of(
                        N_("Line {line}: sourcedId {external_id} is also on line {first}."),
                        line=row.line,
                        external_id=sourced_id,
                        first=first[sourced_id],
                    ),
                )
            elif sourced_id:
                first[sourced_id] = row.line
            if problems:
                self.bad.extend(
                    BadRow("users.csv", row.line, p, sourced_id or None) for p in problems
                )
                continue
            users[sourced_id] = row
        return users

    def _birth_dates(self, roles: Mapping[str, frozenset[Role]]) -> dict[str, date]:
        """The dates of birth of the school's students, by sourcedId (empty cells left out).

        Only students' rows are read (a date is meaningful for the age-18 rule only); an
        unreadable, future or implausibly old date is a bad row of demographics.csv.
        """
        if DEMOGRAPHICS not in self.tables:
            return {}
        found: dict[str, date] = {}
        first: dict[str, int] = {}
        for row in self.tables[DEMOGRAPHICS].rows:
            sourced_id = row.get("sourcedid")
            if not _active(row) or Role.STUDENT not in roles.get(sourced_id, frozenset()):
                continue
            if sourced_id in first:
                problem: Text | None = Text.of(
                    N_("Line {line}: sourcedId {external_id} is also on line {first}."),
                    line=row.line,
                    external_id=sourced_id,
                    first=first[sourced_id],
                )
            else:
                first[sourced_id] = row.line
                problem = check_birth_date(row.line, "birthDate", row.get("birthdate"), self.today)
            if problem is not None:
                self.bad.append(BadRow(DEMOGRAPHICS, row.line, problem, sourced_id))
                found.pop(sourced_id, None)
                continue
            born = parse_birth_date(row.get("birthdate"))
            if born is not None:
                found[sourced_id] = born
        return found

    def _roles(self, users: Mapping[str, Row]) -> dict[str, frozenset[Role]]:
        found: dict[str, set[Role]] = defaultdict(set)
        if "role" in self.tables["users.csv"].columns:
            for sourced_id, row in users.items():
                role = ROLE_MAP.get(row.get("role").lower())
                if role is not None:
                    found[sourced_id].add(role)
        else:
            for row in self.tables["roles.csv"].rows:
                role = ROLE_MAP.get(row.get("role").lower())
                user = row.get("usersourcedid")
                if role is not None and user in users and row.get("orgsourcedid") == self.org:
                    found[user].add(role)
        return {user: frozenset(roles) for user, roles in found.items()}

    def _homerooms(
        self, users: Mapping[str, Row]
    ) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
        """Each student's group; each homeroom's students; each teacher's homerooms."""
        titles: dict[str, str] = {}
        for row in self.tables["classes.csv"].rows:
            if (
                not _active(row)
                or row.get("schoolsourcedid") != self.org
                or row.get("classtype").lower() != "homeroom"
            ):
                continue
            title = row.get("title") if len(row.get("title")) <= GROUP_MAX else row.get("classcode")
            if not title or len(title) > GROUP_MAX:
                self.bad.append(
                    BadRow(
                        "classes.csv",
                        row.line,
                        Text.plural_of(
                            "Line {line}: the class title is empty or longer than {count} "
                            "character.",
                            "Line {line}: the class title is empty or longer than {count} "
                            "characters.",
                            GROUP_MAX,
                            line=row.line,
                        ),
                    )
                )
                continue
            titles[row.get("sourcedid")] = title
        groups: dict[str, str] = {}
        students: dict[str, list[str]] = defaultdict(list)
        teachers: dict[str, list[str]] = defaultdict(list)
        for row in self.tables["enrollments.csv"].rows:
            klass, user = row.get("classsourcedid"), row.get("usersourcedid")
            if not _active(row) or klass not in titles or user not in users:
                continue
            role = row.get("role").lower()
            if role == "student":
                students[klass].append(user)
                groups.setdefault(user, titles[klass])
            elif role == "teacher":
                teachers[user].append(klass)
        return groups, students, teachers

    @staticmethod
    def _given_name(row: Row) -> str:
        return row.get("preferredgivenname") or row.get("givenname")

    @staticmethod
    def _family_name(row: Row) -> str:
        return " ".join(part for part in (row.get("middlename"), row.get("familyname")) if part)

    def _person(
        self, row: Row, roles: frozenset[Role], group: str | None, birth_date: date | None
    ) -> RosterPerson:
        ended = not _active(row) or row.get("enableduser").lower() == "false"
        return RosterPerson(
            external_id=row.get("sourcedid"),
            given_name=self._given_name(row),
            family_name=self._family_name(row),
            roles=roles,
            file="users.csv",
            line=row.line,
            group=group,
            email=row.get("email") or None,
            birth_date=birth_date,
            ended=ended,
        )
