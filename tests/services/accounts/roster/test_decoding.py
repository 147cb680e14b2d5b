"""Bytes to rows: encodings, delimiters, cell limits; bad input is a reason, never a crash."""

from __future__ import annotations

import codecs

import pytest

from services.accounts.roster.decoding import CELL_MAX, Undecodable, read_table

HEADER = "external_id;roles;given_name;family_name\r\n"


def test_dutch_excel_cp1252_with_semicolons() -> None:
    data = (HEADER + "L1;student;René;Dijkhuis\r\nL2;student;Zoë;Eemsteden\r\n;;;\r\n").encode(
        "cp1252"
    )
    table = read_table(data, "leerlingen.csv")
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.columns == ("external_id", "roles", "given_name", "family_name")
    assert [(row.line, row.get("given_name")) for row in table.rows] == [
        (2, "René"),
        (3, "Zoë"),
    ]
    assert table.bad_rows == ()


def test_utf8_with_and_without_bom() -> None:
    text = "External_ID , Roles,given_name,family_name\nL1,student,René,Dijkhuis\n"
    for data, encoding in (
        (codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig"),
        (text.encode("utf-8"), "utf-8"),
    ):
        table = read_table(data, "people.csv")
        assert (table.encoding, table.delimiter) == (encoding, ",")
        # Column names in any case, spaces trimmed; the BOM is not part of the first name.
        assert table.columns[:2] == ("external_id", "roles")
        assert table.rows[0].get("given_name") == "René"


def test_tabs_and_utf16_from_excel_unicode_text() -> None:
    text = "external_id\troles\tgiven_name\tfamily_name\r\nL1\tstudent\tAyşe\tYıldıztepe\r\n"
    table = read_table(text.encode("utf-16"), "unicode.txt")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows[0].get("family_name") == "Yıldıztepe"


def test_a_quoted_delimiter_in_the_header_does_not_fool_the_sniffer() -> None:
    table = read_table(b'"a;b",c,d\n1,2,3\n', "x.csv")
    assert table.delimiter == ","
    assert table.columns == ("a;b", "c", "d")


def test_bytes_that_are_no_text_are_refused_with_a_reason() -> None:
    data = HEADER.encode() + b"L1;student;Ren\x81;Dijkhuis\r\n"  # 0x81: nothing in cp1252
    with pytest.raises(Undecodable) as refused:
        read_table(data, "kapot.csv")
    assert refused.value.problem.line == 2
    assert refused.value.problem.reason.msgid.startswith("The file {file} is not readable text")
    with pytest.raises(Undecodable):
        read_table(b"PK\x03\x04\x00\x00binary", "bundle.csv")


def test_too_long_cells_and_extra_values_are_bad_rows_by_line() -> None:
    huge = "x" * 200_000  # beyond the csv module's own (global) field size limit
    data = (
        "external_id,roles,given_name,family_name\n"
        f'L1,student,"{huge}",Dijkhuis\n'
        f"L2,student,{'y' * (CELL_MAX + 1)},Dijkhuis\n"
        "L3,student,Sem,Coldewey,extra\n"
        "L4,student,Noor,Bremhorst\n"
    ).encode()
    table = read_table(data, "people.csv")
    assert [(bad.line, bad.reason.msgid) for bad in table.bad_rows] == [
        (2, "Line {line}: a value is longer than {count} character."),
        (3, "Line {line}: a value is longer than {count} character."),
        (4, "Line {line}: more values than columns."),
    ]
    assert [row.get("external_id") for row in table.rows] == ["L4"]
    assert table.rows[0].line == 5
