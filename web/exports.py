"""The indicator tables as CSV (one table per file) and XLSX (one sheet per table).

Headings are in the reader's language. Figures stay numbers where a spreadsheet can use them:
in the XLSX as numeric cells (shares as fractions with a percent format), in the CSV written
the way the reader's spreadsheet reads them (decimal comma and ``;`` between fields where the
locale writes a decimal comma, as Excel expects; shares as percentages). A hidden figure is
the text "< 5", a figure without data an empty cell. Months are written ``2026-03`` so they
sort. Text that a spreadsheet would take for a formula is kept as text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from babel.numbers import get_decimal_symbol
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from dialogs.i18n import Catalog
from services.indicators.periods import Month
from web.charts import NumberKind
from web.indicator_tables import Cell, Column, Table, hidden_label

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31
_XLSX_FORMATS = {NumberKind.COUNT: "0", NumberKind.DECIMAL: "0.0#", NumberKind.PERCENT: "0.0%"}


def _safe_text(value: str) -> str:
    """Text that cannot start a formula in a spreadsheet (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_number(value: float, kind: NumberKind, decimal: str) -> str:
    if kind is NumberKind.COUNT:
        return str(round(value))
    shown = round(value * 100, 1) if kind is NumberKind.PERCENT else round(value, 2)
    return f"{shown:g}".replace(".", decimal)


def _csv_cell(cell: Cell, column: Column, catalog: Catalog, decimal: str) -> str:
    if cell.hidden:
        return hidden_label(catalog)
    if cell.value is None:
        return ""
    if isinstance(cell.value, Month):
        return str(cell.value)
    if isinstance(cell.value, str):
        return _safe_text(cell.value)
    return _csv_number(cell.value, cell.number or column.number or NumberKind.DECIMAL, decimal)


def to_csv(table: Table, catalog: Catalog) -> bytes:
    """One table as CSV, UTF-8 with a byte order mark (so Excel reads the accents)."""
    decimal = get_decimal_symbol(catalog.locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if decimal == "," else ",", lineterminator="\r\n")
    writer.writerow([_safe_text(column.header) for column in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                _csv_cell(cell, column, catalog, decimal)
                for cell, column in zip(row, table.columns, strict=True)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip().strip("'")[:_SHEET_MAX] or "Sheet"
    candidate, number = base, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = base[: _SHEET_MAX - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def to_xlsx(tables: Sequence[Table], catalog: Catalog, *, title: str) -> bytes:
    """The tables as one workbook, a sheet per table, headings bold and frozen."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    workbook.properties.title = title
    workbook.properties.creator = "trajectbot"  # i18n: not wording
    hidden = hidden_label(catalog)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        for index, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            width = 12 if column.number is not None else 14
            longest = max(
                (len(str(c.value)) for c in (r[index - 1] for r in table.rows)), default=0
            )
            if column.number is None:
                width = max(width, min(longest + 2, 60))
            sheet.column_dimensions[get_column_letter(index)].width = width
        for row_index, row in enumerate(table.rows, start=2):
            for col_index, (value, column) in enumerate(zip(row, table.columns, strict=True), 1):
                target = sheet.cell(row=row_index, column=col_index)
                if value.hidden:
                    target.value = hidden
                    target.data_type = "s"
                    target.alignment = Alignment(horizontal="right")
                elif isinstance(value.value, Month):
                    target.value = str(value.value)
                    target.data_type = "s"
                elif isinstance(value.value, str):
                    target.value = value.value
                    target.data_type = "s"  # never a formula, whatever the text
                    target.alignment = Alignment(wrap_text=True, vertical="top")
                elif value.value is not None:
                    target.value = value.value
                    target.number_format = _XLSX_FORMATS[
                        value.number or column.number or NumberKind.DECIMAL
                    ]
        sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
