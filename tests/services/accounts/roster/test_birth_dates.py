"""Students' dates of birth from the project CSV and OneRoster's demographics.csv (pure):
the formats, the bad dates, students only, an empty cell or a missing column keeps the date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dialogs.text import Text
from services.accounts.roster.model import ROSTER_ROLES, Roster, RosterPerson
from services.accounts.roster.oneroster import parse_bundle, read_bundle
from services.accounts.roster.plan import Current, SchoolState, make_plan
from services.accounts.roster.project_csv import parse_project_csv
from storage.models import Role

BUNDLE = Path(__file__).parents[3] / "support" / "fixtures" / "oneroster"
TODAY = date(2026, 9, 1)
HEADER = "external_id,roles,given_name,family_name,birth_date\n"
NOT_A_DATE = "Line {line}: {column} is not a date (write YYYY-MM-DD or DD-MM-YYYY)."
FUTURE = "Line {line}: {column} lies in the future."
TWICE = "Line {line}: sourcedId {external_id} is also on line {first}."
TOO_OLD = "Line {line}: {column} is more than {count} year ago."
TOO_OLD_PLURAL = "Line {line}: {column} is more than {count} years ago."


def _csv(*rows: str, header: str = HEADER) -> Roster:
    return parse_project_csv((header + "\n".join(rows) + "\n").encode(), "people.csv", today=TODAY)


def _rendered(text: Text) -> str:
    wording = text.plural if text.plural is not None and text.count != 1 else text.msgid
    return wording.format(**text.params)


def _dates(roster: Roster) -> dict[str, date | None]:
    return {person.external_id: person.birth_date for person in roster.people}


def test_iso_and_dutch_dates_with_dashes_or_slashes() -> None:
    roster = _csv(
        "L1,student,Daan,Akkerveld,2008-03-14",
        "L2,student,Noor,Bremhorst,14-03-2009",
        "L3,student,Zoë,Eemsteden,1/2/2010",  # Dutch Excel's short date (d-m-jjjj)
        "L4,student,Finn,Fennema,2010/02/01",
        "L5,student,Lotte,Gravenveld,",
    )
    assert roster.bad_rows == ()
    assert _dates(roster) == {
        "L1": date(2008, 3, 14),
        "L2": date(2009, 3, 14),
        "L3": date(2010, 2, 1),
        "L4": date(2010, 2, 1),
        "L5": None,  # an empty cell keeps the date the school has
    }
    assert "birth_date" in roster.fields


def test_a_file_without_the_column_leaves_dates_alone() -> None:
    roster = _csv("L1,student,Daan,Akkerveld", header="external_id,roles,given_name,family_name\n")
    assert roster.bad_rows == ()
    assert roster.fatal == ()
    assert "birth_date" not in roster.fields
    assert _dates(roster) == {"L1": None}


def test_bad_future_and_too_old_dates_are_bad_rows() -> None:
    roster = _csv(
        "L1,student,Daan,Akkerveld,31-02-2008",
        "L2,student,Noor,Bremhorst,14.03.2009",
        "L3,student,Zoë,Eemsteden,2026-09-02",
        "L4,student,Finn,Fennema,1926-08-31",
        "L5,student,Lotte,Gravenveld,2026-09-01",  # today: not in the future
        "L6,student,Bram,Hoekstra,1926-09-01",  # exactly 100 years ago: still accepted
        "L7,student,Sem,Jansen,14-03/2009",  # two separators
    )
    assert [(b.file, b.line, b.external_id, b.reason.msgid) for b in roster.bad_rows] == [
        ("people.csv", 2, "L1", NOT_A_DATE),
        ("people.csv", 3, "L2", NOT_A_DATE),
        ("people.csv", 4, "L3", FUTURE),
        ("people.csv", 5, "L4", TOO_OLD),
        ("people.csv", 8, "L7", NOT_A_DATE),
    ]
    assert [_rendered(b.reason) for b in roster.bad_rows] == [
        "Line 2: birth_date is not a date (write YYYY-MM-DD or DD-MM-YYYY).",
        "Line 3: birth_date is not a date (write YYYY-MM-DD or DD-MM-YYYY).",
        "Line 4: birth_date lies in the future.",
        "Line 5: birth_date is more than 100 years ago.",
        "Line 8: birth_date is not a date (write YYYY-MM-DD or DD-MM-YYYY).",
    ]
    assert roster.bad_rows[3].reason.plural == TOO_OLD_PLURAL
    # A bad row is not imported; the good ones are.
    assert _dates(roster) == {"L5": date(2026, 9, 1), "L6": date(1926, 9, 1)}


def test_the_readers_default_to_today() -> None:
    future = parse_project_csv(
        (HEADER + "L1,student,Daan,Akkerveld,2999-01-01\n").encode(), "people.csv"
    )
    assert [b.reason.msgid for b in future.bad_rows] == [FUTURE]


def test_a_date_on_a_row_without_the_student_role_is_ignored() -> None:
    roster = _csv(
        "P1,parent,Kees,Akkerveld,1975-06-01",
        "D1,teacher;mentor,Anouk,Klasema,geen datum",
        "L1,student;parent,Daan,Akkerveld,2008-03-14",
    )
    assert roster.bad_rows == ()
    assert _dates(roster) == {"P1": None, "D1": None, "L1": date(2008, 3, 14)}


def _state(born: date | None) -> SchoolState:
    current = Current("L1", "Test", "L1", None, "nl", None, frozenset({Role.STUDENT}), False, born)
    return SchoolState(people={"L1": current}, mentor_of={}, parent_of={})


def _roster(born: date | None, fields: frozenset[str]) -> Roster:
    person = RosterPerson(
        "L1", "Test", "L1", frozenset({Role.STUDENT}), "people.csv", 2, birth_date=born
    )
    return Roster(
        source="people.csv",
        people=(person,),
        mentor_of={},
        parent_of={},
        managed_roles=ROSTER_ROLES,
        fields=fields,
        full=False,
    )


WITH_COLUMN = frozenset({"birth_date"})


def test_a_changed_date_is_a_change_and_an_unchanged_one_is_not() -> None:
    changed = make_plan(_roster(date(2008, 3, 15), WITH_COLUMN), _state(date(2008, 3, 14)))
    assert [(c.external_id, dict(c.values), c.fields) for c in changed.changed] == [
        ("L1", {"birth_date": date(2008, 3, 15)}, ("birth_date",))
    ]
    assert changed.unchanged == 0
    first = make_plan(_roster(date(2008, 3, 14), WITH_COLUMN), _state(None))
    assert [dict(c.values) for c in first.changed] == [{"birth_date": date(2008, 3, 14)}]
    same = make_plan(_roster(date(2008, 3, 14), WITH_COLUMN), _state(date(2008, 3, 14)))
    assert same.is_empty
    assert same.unchanged == 1


def test_an_empty_cell_or_a_missing_column_keeps_the_stored_date() -> None:
    empty = make_plan(_roster(None, WITH_COLUMN), _state(date(2008, 3, 14)))
    assert empty.is_empty
    # A date the source does not carry (no column) is never written, even when present.
    without = make_plan(_roster(date(2009, 1, 1), frozenset()), _state(date(2008, 3, 14)))
    assert without.is_empty


def test_a_new_student_is_added_with_the_date() -> None:
    empty = SchoolState(people={}, mentor_of={}, parent_of={})
    plan = make_plan(_roster(date(2008, 3, 14), WITH_COLUMN), empty)
    assert [c.values.get("birth_date") for c in plan.added] == [date(2008, 3, 14)]
    no_column = make_plan(_roster(date(2008, 3, 14), frozenset()), empty)
    assert "birth_date" not in no_column.added[0].values


# OneRoster: demographics.csv


def _demographics(*rows: str) -> dict[str, bytes]:
    files = read_bundle(BUNDLE)
    files["demographics.csv"] = ("sourcedId,status,birthDate,sex\n" + "\n".join(rows)).encode()
    return files


def _bundle_dates(roster: Roster) -> dict[str, date]:
    return {p.external_id: p.birth_date for p in roster.people if p.birth_date is not None}


def test_the_fixture_bundle_sets_the_students_dates() -> None:
    roster = parse_bundle(read_bundle(BUNDLE), school_code="vmbo-noord", source="b", today=TODAY)
    assert roster.bad_rows == ()
    assert _bundle_dates(roster) == {"stu-1001": date(2012, 3, 14), "stu-1002": date(2012, 11, 2)}
    assert "birth_date" in roster.fields


def test_demographics_of_students_only_and_bad_dates_name_the_file_and_line() -> None:
    files = _demographics(
        "stu-1001,,14-03-2012",  # the Dutch format is read too
        "stu-1002,,2012-13-01",
        "stu-1003,,2099-01-01",
        "par-3001,,nonsense",  # a parent: ignored
        "stu-9001,,nonsense",  # the other school's student: ignored
        "stu-1004,tobedeleted,nonsense",  # a deleted row: ignored
        "stu-1003,,2011-05-05",  # twice
        "tea-2001,,1980-01-01",  # a teacher: no date
    )
    roster = parse_bundle(files, school_code="vmbo-noord", source="b", today=TODAY)
    assert [(b.file, b.line, b.external_id, b.reason.msgid) for b in roster.bad_rows] == [
        ("demographics.csv", 3, "stu-1002", NOT_A_DATE),
        ("demographics.csv", 4, "stu-1003", FUTURE),
        ("demographics.csv", 8, "stu-1003", TWICE),
    ]
    assert _rendered(roster.bad_rows[0].reason) == (
        "Line 3: birthDate is not a date (write YYYY-MM-DD or DD-MM-YYYY)."
    )
    assert _bundle_dates(roster) == {"stu-1001": date(2012, 3, 14)}
    # The student of a bad demographics row is still imported (the stored date is kept).
    assert "stu-1002" in {p.external_id for p in roster.people}


def test_a_student_without_a_row_or_with_an_empty_cell_keeps_the_date() -> None:
    roster = parse_bundle(
        _demographics("stu-1001,,", "stu-1002,,2012-11-02"),
        school_code="vmbo-noord",
        source="b",
        today=TODAY,
    )
    assert roster.bad_rows == ()
    assert _bundle_dates(roster) == {"stu-1002": date(2012, 11, 2)}
    assert "birth_date" in roster.fields


def test_without_demographics_or_its_birth_date_column_dates_are_left_alone() -> None:
    files = read_bundle(BUNDLE)
    del files["demographics.csv"]
    without = parse_bundle(files, school_code="vmbo-noord", source="b", today=TODAY)
    assert without.fields == {"group", "email"}
    assert _bundle_dates(without) == {}
    files["demographics.csv"] = b"sourcedId,status,sex\nstu-1001,,male\n"
    no_column = parse_bundle(files, school_code="vmbo-noord", source="b", today=TODAY)
    assert no_column.fatal == ()
    assert no_column.fields == {"group", "email"}
    assert _bundle_dates(no_column) == {}


def test_demographics_with_dates_but_no_sourced_id_is_fatal() -> None:
    files = read_bundle(BUNDLE)
    files["demographics.csv"] = b"status,birthDate\n,2012-03-14\n"
    roster = parse_bundle(files, school_code="vmbo-noord", source="b", today=TODAY)
    assert [(f.file, f.reason.params.get("column")) for f in roster.fatal] == [
        ("demographics.csv", "sourcedid")
    ]
