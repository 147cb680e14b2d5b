"""The neutral model both readers produce, and the checks they share (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from dialogs.text import N_, Text
from services.kernel.adulthood import years_before
from storage.models import Role

NAME_MAX = 100
EXTERNAL_ID_MAX = 64
GROUP_MAX = 32
EMAIL_MAX = 254
#: A date of birth further back than this many years is a typing error, not a student.
BIRTH_YEARS_MAX = 100

#: The roles an administration system gives. A sync decides these; the roles given in the
#: app (admin, care coordinator, coach, partnership viewer) are kept as they are by a
#: OneRoster sync, and a person who holds none of these is never ended by a sync.
ROSTER_ROLES = frozenset({Role.STUDENT, Role.PARENT, Role.TEACHER, Role.MENTOR})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: ISO (``2008-03-14``, also ``2008/03/14``) and Dutch (``14-03-2008``, ``14/3/2008``: Dutch
#: Excel's short date) dates of birth; one separator throughout.
_ISO_DATE = re.compile(r"(?P<year>\d{4})([-/])(?P<month>\d{1,2})\2(?P<day>\d{1,2})", re.ASCII)
_DUTCH_DATE = re.compile(r"(?P<day>\d{1,2})([-/])(?P<month>\d{1,2})\2(?P<year>\d{4})", re.ASCII)


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that cannot be imported: the file, its line and a translated reason.

    ``external_id`` is the id on the row when it could be read (a skipped bad row never ends
    the person it names).
    """

    file: str
    line: int
    reason: Text
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class RosterPerson:
    """One person as the administration system lists them.

    ``None`` for ``group``, ``language``, ``email`` or ``birth_date`` keeps what the school
    has (the column is absent, or the cell empty where that means "keep": a language chosen
    in the bot). ``birth_date`` is a student's only (the age-18 rule): never set for others.
    ``ended``: the source says the person left (OneRoster ``status=tobedeleted``).
    """

    external_id: str
    given_name: str
    family_name: str
    roles: frozenset[Role]
    file: str
    line: int
    group: str | None = None
    language: str | None = None
    email: str | None = None
    birth_date: date | None = None
    ended: bool = False
    #: The link targets in the order the row names them (for reporting bad links in order).
    link_order: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Roster:
    """What a source file (or bundle) says about a school's people.

    ``mentor_of`` / ``parent_of`` map a holder's external id to the students' external ids:
    for each holder listed, that set is the truth (an empty set removes their links); a
    holder not listed keeps their links. ``managed_roles`` are the roles the source decides
    (the project CSV: all; OneRoster: `ROSTER_ROLES`). ``fields`` names the optional fields
    the source carries (``group``, ``language``, ``email``, ``birth_date``): the others are
    left alone.
    ``full`` is the source's default for a full sync (absent people are ended).
    """

    source: str
    people: tuple[RosterPerson, ...]
    mentor_of: Mapping[str, frozenset[str]]
    parent_of: Mapping[str, frozenset[str]]
    managed_roles: frozenset[Role]
    fields: frozenset[str]
    full: bool
    bad_rows: tuple[BadRow, ...] = ()
    #: Rows read but not imported on purpose (OneRoster administrators, other schools).
    skipped: int = 0
    #: File-level problems (a missing file or column): nothing can be imported at all.
    fatal: tuple[BadRow, ...] = field(default=())
    #: The bad rows read as far as they go: their links are checked too (every problem is
    #: reported at once), and a link to one of them says whether it names a student.
    rejected: tuple[RosterPerson, ...] = ()


def administration_roles_only(roster: Roster) -> Roster:
    """``roster`` deciding only the roles an administration system gives (`ROSTER_ROLES`).

    For an import an administrator sends from the web: the app's own roles (admin, care
    coordinator, coach) are given in the app, so a row naming one is a bad row, and a sync
    never takes such a role away (an administrator cannot lock the school out with a file).
    """
    kept: list[RosterPerson] = []
    refused: list[BadRow] = []
    for person in roster.people:
        if person.roles <= ROSTER_ROLES:
            kept.append(person)
            continue
        reason = Text.of(
            N_(
                "Line {line}: roles such as admin, care coordinator and coach are given in "
                "the app, not by a file sent on the web."
            ),
            line=person.line,
        )
        refused.append(BadRow(person.file, person.line, reason, person.external_id))
    if not refused and roster.managed_roles <= ROSTER_ROLES:
        return roster
    return replace(
        roster,
        people=tuple(kept),
        managed_roles=roster.managed_roles & ROSTER_ROLES,
        bad_rows=(*roster.bad_rows, *refused),
        rejected=(
            *roster.rejected,
            *(person for person in roster.people if not person.roles <= ROSTER_ROLES),
        ),
    )


def unreadable(source: str, problems: Iterable[BadRow]) -> Roster:
    """A roster of no one: the source could not be read (``fatal`` says why)."""
    return Roster(
        source=source,
        people=(),
        mentor_of={},
        parent_of={},
        managed_roles=ROSTER_ROLES,
        fields=frozenset(),
        full=False,
        fatal=tuple(problems),
    )


def too_long(*, line: int, column: str, limit: int) -> Text:
    """``Line n: column is longer than limit characters.``"""
    return Text.plural_of(
        "Line {line}: {column} is longer than {count} character.",
        "Line {line}: {column} is longer than {count} characters.",
        limit,
        line=line,
        column=column,
    )


def check_external_id(line: int, value: str, column: str = "external_id") -> Text | None:
    """Why an external id cannot be used, or ``None``."""
    if not value:
        if column == "external_id":
            return Text.of(N_("Line {line}: external_id is empty."), line=line)
        return Text.of(N_("Line {line}: {column} is empty."), line=line, column=column)
    if len(value) > EXTERNAL_ID_MAX:
        return too_long(line=line, column=column, limit=EXTERNAL_ID_MAX)
    return None


def check_name(line: int, column: str, value: str) -> Text | None:
    """Why a given or family name cannot be used, or ``None``."""
    if not value:
        return Text.of(N_("Line {line}: {column} is empty."), line=line, column=column)
    if len(value) > NAME_MAX:
        return too_long(line=line, column=column, limit=NAME_MAX)
    return None


def check_email(line: int, column: str, value: str) -> Text | None:
    """Why an e-mail address cannot be used, or ``None`` (an empty cell is fine)."""
    if not value:
        return None
    if len(value) > EMAIL_MAX:
        return too_long(line=line, column=column, limit=EMAIL_MAX)
    if not _EMAIL.match(value):
        return Text.of(
            N_("Line {line}: {column} is not an e-mail address."), line=line, column=column
        )
    return None


def today_utc() -> date:
    """Today's date (UTC): the readers' default for `check_birth_date`."""
    return datetime.now(UTC).date()


def parse_birth_date(value: str) -> date | None:
    """``value`` as a date (``YYYY-MM-DD`` or ``DD-MM-YYYY``, ``-`` or ``/``), or ``None``."""
    found = _ISO_DATE.fullmatch(value) or _DUTCH_DATE.fullmatch(value)
    if found is None:
        return None
    try:
        return date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        return None


def check_birth_date(line: int, column: str, value: str, today: date) -> Text | None:
    """Why a date of birth cannot be used, or ``None`` (an empty cell is fine: it keeps)."""
    if not value:
        return None
    born = parse_birth_date(value)
    if born is None:
        return Text.of(
            N_("Line {line}: {column} is not a date (write YYYY-MM-DD or DD-MM-YYYY)."),
            line=line,
            column=column,
        )
    if born > today:
        return Text.of(N_("Line {line}: {column} lies in the future."), line=line, column=column)
    if born < years_before(today, BIRTH_YEARS_MAX):
        return Text.plural_of(
            "Line {line}: {column} is more than {count} year ago.",
            "Line {line}: {column} is more than {count} years ago.",
            BIRTH_YEARS_MAX,
            line=line,
            column=column,
        )
    return None
