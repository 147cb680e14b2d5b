"""The OneRoster bundle mapped to the neutral roster, field by field, against the fixture."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

from dialogs.text import Text
from services.accounts.roster.model import RosterPerson
from services.accounts.roster.oneroster import parse_bundle, read_bundle
from storage.models import Role

BUNDLE = Path(__file__).parents[3] / "support" / "fixtures" / "oneroster"
S, P, T, M = Role.STUDENT, Role.PARENT, Role.TEACHER, Role.MENTOR


def _person(
    ext: str, given: str, family: str, roles: set[Role], line: int, **more: object
) -> RosterPerson:
    return RosterPerson(
        external_id=ext,
        given_name=given,
        family_name=family,
        roles=frozenset(roles),
        file="users.csv",
        line=line,
        **more,  # type: ignore[arg-type]
    )


EXPECTED = (
    _person("stu-1001", "Daan", "Akkerveld", {S}, 2, group="2B",
            email="daan.akkerveld@leerling.example.nl", birth_date=date(2012, 3, 14)),
    _person("stu-1002", "Noor", "van den Bremhorst", {S}, 3, group="2B",
            birth_date=date(2012, 11, 2)),
    _person("stu-1003", "Zoë", "Eemsteden", {S}, 4, group="3A"),
    _person("stu-1004", "Finn", "Fennema", {S}, 5, group="3A", ended=True),
    _person("par-3001", "Kees", "Akkerveld", {P}, 7, email="kees.akkerveld@example.nl"),
    _person("par-3002", "Olena", "Bremhorst", {P}, 8, email="olena.bremhorst@example.com"),
    _person("par-3003", "Hatice", "Eemsteden", {P}, 9),
    _person("par-3004", "Piet", "van den Bremhorst", {P}, 10),
    _person("tea-2001", "Anouk", "Klasema", {T, M}, 11,
            email="a.klasema@lindecollege.example.nl"),
    _person("tea-2002", "Ruben", "de Lesterhuis", {T, M}, 12,
            email="r.delesterhuis@lindecollege.example.nl"),
    _person("tea-2003", "Jorien", "Wadman", {T}, 13, email="j.wadman@lindecollege.example.nl"),
)  # fmt: skip


def test_the_fixture_bundle_field_by_field() -> None:
    roster = parse_bundle(read_bundle(BUNDLE), school_code="vmbo-noord", source="oneroster")
    assert roster.fatal == ()
    assert roster.bad_rows == ()
    assert roster.people == EXPECTED
    # The homeroom (stamklas) teachers mentor its students; the maths teacher mentors no one
    # (her enrollment in 3A is tobedeleted).
    assert roster.mentor_of == {
        "tea-2001": {"stu-1001", "stu-1002"},
        "tea-2002": {"stu-1003", "stu-1004"},
        "tea-2003": frozenset(),
    }
    # From the parents' agentSourcedIds and from the students' (par-3003, par-3004).
    assert roster.parent_of == {
        "par-3001": {"stu-1001"},
        "par-3002": {"stu-1002"},
        "par-3003": {"stu-1003"},
        "par-3004": {"stu-1002"},
    }
    # The administrator and the other school's student are not imported.
    assert roster.skipped == 2
    assert roster.managed_roles == {S, P, T, M}
    # demographics.csv is read for the students' birthDate (the age-18 rule) only.
    assert roster.fields == {"group", "email", "birth_date"}
    assert roster.full  # the manifest says file.users bulk


def test_a_zip_reads_like_the_directory(tmp_path: Path) -> None:
    bundle = tmp_path / "export.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for file in BUNDLE.iterdir():
            archive.write(file, f"export-2026/{file.name}")
    roster = parse_bundle(read_bundle(bundle), school_code="VMBO-noord", source="export.zip")
    assert roster.people == EXPECTED


def test_oneroster_1_2_roles_file_and_delta(tmp_path: Path) -> None:
    files = read_bundle(BUNDLE)
    users = files["users.csv"].decode().splitlines()
    header = users[0].split(",")
    role = header.index("role")
    rows = [line.split(",") for line in users]
    roles = ["userSourcedId,roleType,role,orgSourcedId"] + [
        f"{row[0]},primary,{row[role]},{row[4]}" for row in rows[1:] if row[role]
    ]
    files["users.csv"] = "\n".join(",".join(r[:role] + r[role + 1 :]) for r in rows).encode()
    files["roles.csv"] = "\n".join(roles).encode()
    files["manifest.csv"] = b"propertyName,value\noneroster.version,1.2\nfile.users,delta\n"
    roster = parse_bundle(files, school_code="vmbo-noord", source="1.2")
    assert [(p.external_id, p.roles) for p in roster.people] == [
        (p.external_id, p.roles) for p in EXPECTED
    ]
    assert not roster.full


def test_the_school_is_chosen_by_identifier(tmp_path: Path) -> None:
    files = read_bundle(BUNDLE)
    other = parse_bundle(files, school_code="12xy00", source="b")
    assert [p.external_id for p in other.people] == ["stu-9001"]
    assert other.people[0].group == "1A"
    by_org = parse_bundle(files, school_code="de-linde", source="b", org="org-linde")
    assert by_org.people == EXPECTED
    by_brin = parse_bundle(files, school_code="de-linde", source="b", org="12xy00")
    assert [p.external_id for p in by_brin.people] == ["stu-9001"]
    unknown = parse_bundle(files, school_code="elders", source="b")
    assert unknown.people == ()
    assert [f.file for f in unknown.fatal] == ["orgs.csv"]
    identifiers = unknown.fatal[0].reason.params["identifiers"]
    assert isinstance(identifiers, Text)
    assert identifiers.params["value"] == "VMBO-NOORD, 12XY00"


def test_missing_files_and_columns_are_fatal() -> None:
    files = read_bundle(BUNDLE)
    del files["enrollments.csv"]
    roster = parse_bundle(files, school_code="vmbo-noord", source="b")
    assert [(f.file, f.reason.msgid) for f in roster.fatal] == [
        ("enrollments.csv", "The file {file} is missing.")
    ]
    files = read_bundle(BUNDLE)
    files["classes.csv"] = b"sourcedId,title\ncls-1,2B\n"
    roster = parse_bundle(files, school_code="vmbo-noord", source="b")
    assert [(f.file, f.reason.params["column"]) for f in roster.fatal] == [
        ("classes.csv", "classtype"),
        ("classes.csv", "schoolsourcedid"),
    ]


def test_bad_user_rows_by_file_and_line() -> None:
    files = read_bundle(BUNDLE)
    long_id = "x" * 65
    files["users.csv"] += (
        f"{long_id},,,true,org-linde,student,,,Sem,Coldewey,,,,,,,,\n"
        "stu-1001,,,true,org-linde,student,,,Daan,Dubbel,,,,,,,,\n"
        "stu-1005,,,true,org-linde,student,,,,Holtkamp,,,geen-adres,,,,,\n"
    ).encode()
    roster = parse_bundle(files, school_code="vmbo-noord", source="b")
    assert [(b.file, b.line, b.reason.msgid) for b in roster.bad_rows] == [
        ("users.csv", 15, "Line {line}: {column} is longer than {count} character."),
        ("users.csv", 16, "Line {line}: sourcedId {external_id} is also on line {first}."),
        ("users.csv", 17, "Line {line}: {column} is empty."),
        ("users.csv", 17, "Line {line}: {column} is not an e-mail address."),
    ]
    assert [p.external_id for p in roster.people] == [p.external_id for p in EXPECTED]
