"""Bytes to rows: the encoding and the delimiter of a CSV file found out, rows numbered (pure).

Encodings: UTF-8 with or without a byte order mark, UTF-16 with one (Excel's "Unicode
text"), else Windows-1252 (what Dutch Excel saves as "CSV (gescheiden door
lijstscheidingsteken)"). A file is first decoded as strict UTF-8; only when that fails is it
read as Windows-1252, and bytes that are not text there either refuse the file with a clear
reason. The delimiter (``,`` ``;`` or a tab) is the one that occurs most often in the header
line outside quotes. A cell longer than `CELL_MAX` makes its row a bad row, never a crash
(the `csv` module's own, global, field size limit raises `csv.Error`, caught per row).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from dialogs.text import N_, Text
from services.accounts.roster.model import BadRow

#: The longest cell accepted; the longest real value (an e-mail address) is 254.
CELL_MAX = 1000
DELIMITERS = (",", ";", "\t")


class Undecodable(Exception):  # noqa: N818 - reads as the outcome, like the kernel's errors
    """The file is not text in a supported encoding; ``problem`` says why, translated."""

    def __init__(self, problem: BadRow) -> None:
        super().__init__(problem.reason.msgid)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its first line in the file and its cells by lower-case column name."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        """The cell of ``column`` with spaces trimmed ("" when absent or empty)."""
        return self.cells.get(column, "").strip()


@dataclass(frozen=True, slots=True)
class Table:
    """A CSV file read: the header's column names (trimmed, lower case), rows, bad rows."""

    file: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    bad_rows: tuple[BadRow, ...]
    encoding: str
    delimiter: str


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read in; `Undecodable` when neither fits."""
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data[len(codecs.BOM_UTF8) :], "utf-8", file), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _strict(data, "utf-16", file), "utf-16"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _strict(data, "cp1252", file), "cp1252"
    if "\x00" in text:
        # A spreadsheet (.xlsx), a zip or another binary file: no CSV.
        raise Undecodable(
            BadRow(
                file,
                text.count("\n", 0, text.index("\x00")) + 1,
                Text.of(
                    N_("The file {file} is not a CSV file: save it as CSV in UTF-8."),
                    file=Text.raw(file),
                ),
            )
        )
    return text, encoding


def _strict(data: bytes, encoding: str, file: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise Undecodable(
            BadRow(
                file,
                data.count(b"\n", 0, error.start) + 1,
                Text.of(
                    N_(
                        "The file {file} is not readable text (byte {position}): save it "
                        "as CSV in UTF-8."
                    ),
                    file=Text.raw(file),
                    position=error.start + 1,
                ),
            )
        ) from error
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter that occurs most often in the first line outside quotes (``,`` if none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes, file: str) -> Table:
    """Decode and parse ``data``; `Undecodable` when it is not text."""
    text, encoding = decode(data, file)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns: tuple[str, ...] | None = None
    rows: list[Row] = []
    bad: list[BadRow] = []
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:
            bad.append(BadRow(file, line, _cell_too_long(line)))
            continue
        if not any(value.strip() for value in values):
            continue  # blank lines (Excel leaves ";;;;" lines at the end)
        if columns is None:
            columns = tuple(value.strip().lower() for value in values)
            continue
        if any(len(value) > CELL_MAX for value in values):
            bad.append(BadRow(file, line, _cell_too_long(line)))
            continue
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            bad.append(
                BadRow(file, line, Text.of(N_("Line {line}: more values than columns."), line=line))
            )
            continue
        rows.append(Row(line, dict(zip(columns, values, strict=False))))
    return Table(file, columns or (), tuple(rows), tuple(bad), encoding, delimiter)


def _cell_too_long(line: int) -> Text:
    return Text.plural_of(
        "Line {line}: a value is longer than {count} character.",
        "Line {line}: a value is longer than {count} characters.",
        CELL_MAX,
        line=line,
    )
