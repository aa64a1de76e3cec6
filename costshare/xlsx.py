"""Tables to XLSX: numeric cells, money in its currency's number format, a bold frozen header.

Any feature that shows a table can offer it as a spreadsheet: describe the
columns (`Column`), give the rows as plain values (`Decimal`, `int`, `str`,
dates, `None`), and call `workbook(sheets)` for the bytes or `send(sheets,
filename)` for the download. Money stays a number (never text), so the
spreadsheet adds up as the page does.

Text that a spreadsheet would run as a formula is guarded differently per
format. In CSV every cell is retyped when the file is opened, so `safe_cell`
puts a leading apostrophe before it. In XLSX a cell keeps the type it is stored
with and a string cell never runs, so `xlsx_value` writes the text as it was
typed (an apostrophe there would be a real character: "'-Dept") in a cell
forced to be a string.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision

KINDS = ("text", "money", "number", "integer", "percent", "date")
MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMATS = {"integer": "#,##0", "number": "General", "percent": "0.00%", "date": "yyyy-mm-dd"}
_HEADER_FILL = "EEF2F6"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
#: A text cell starting with one of these runs as a formula in a spreadsheet (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text that is a plain number ("-5", "+1.25", "-1.5e3") is no formula and stays as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
#: Text openpyxl stores as an error value, not as text (openpyxl.cell.cell.ERROR_CODES).
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


def formula_like(value: Any) -> bool:
    """Tell whether `value` is text a spreadsheet would run as a formula if typed in."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    )


def safe_cell(value: Any) -> Any:
    """Return `value` fit for a CSV cell: formula-like text gets a leading `'`.

    Text starting with = + - @ TAB or CR would run as a formula when the file is
    opened in a spreadsheet, so it is written as `'` + the text (as OWASP
    recommends); numbers, dates and None, and text that is just a number, stay.
    """
    if formula_like(value):
        return "'" + value
    return value


def xlsx_value(ws: Any, value: Any) -> Any:
    """Return what to put in a row given to `ws.append` for `value` (any openpyxl worksheet).

    Formula-like text (and text such as "#N/A" that openpyxl would store as an
    error value) becomes a cell stored as a string, holding the text exactly as
    typed and marked as quote-prefixed, as Excel stores text typed after an
    apostrophe: it is shown as typed and stays text when edited. Everything
    else is returned as it is, so plain rows stay as fast to write as before.
    """
    if not isinstance(value, str) or not (formula_like(value) or value in _ERROR_CODES):
        return value
    from openpyxl.cell import WriteOnlyCell  # a plain Cell: fits write-only and normal sheets

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # openpyxl types a str starting with "=" as a formula ("f")
    cell.quotePrefix = True
    return cell


def unguard_cell(text: str) -> str:
    """Undo `safe_cell` on text read back from a file this application wrote.

    XLSX files written before `xlsx_value` carried the apostrophe too.
    """
    if text[:1] == "'" and safe_cell(text[1:]) == text:
        return text[1:]
    return text


@dataclass(frozen=True)
class Column:
    """One column: its header, what its cells hold, and (for money) the currency."""

    header: str
    kind: str = "text"
    #: For money: the ISO currency; None takes it from the row's `Sheet.currency_column`.
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Sheet:
    """One table: a title (the sheet's name), columns, rows and an optional totals row."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    totals: Sequence[Any] | None = None
    #: Index of the column that names each row's currency, for money columns without one.
    currency_column: int | None = None
    #: Lines written above the table (what it shows, for whom); the header follows them.
    notes: Sequence[str] = field(default_factory=tuple)


def money_format(currency: str) -> str:
    """Return the number format for amounts in `currency` (its own decimals, its code)."""
    places = get_currency_precision(currency)
    decimals = "." + "0" * places if places else ""
    return f'#,##0{decimals} "{currency}";-#,##0{decimals} "{currency}"'


def _cell_value(ws: Any, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | int | float | dt.date):
        return value
    return xlsx_value(ws, str(value))


def _title(text: str, taken: set[str]) -> str:
    base = _BAD_TITLE.sub(" ", text).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _write(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for note in sheet.notes:
        ws.append([_cell_value(ws, note)])
    header_row = len(sheet.notes) + 1
    ws.append([_cell_value(ws, c.header) for c in sheet.columns])
    for cell in ws[header_row]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    body = [*sheet.rows, *([sheet.totals] if sheet.totals is not None else [])]
    widths = [len(c.header) for c in sheet.columns]
    for offset, row in enumerate(body):
        if len(row) != len(sheet.columns):
            raise ValueError(
                f"sheet {sheet.title!r}: a row has {len(row)} cells, not {len(sheet.columns)}"
            )
        ws.append([_cell_value(ws, v) for v in row])
        number = header_row + 1 + offset
        row_currency = row[sheet.currency_column] if sheet.currency_column is not None else None
        for index, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
            cell = ws.cell(row=number, column=index + 1)
            if column.kind == "money":
                currency = column.currency or row_currency
                if currency:
                    cell.number_format = money_format(str(currency))
            elif column.kind in _FORMATS:
                cell.number_format = _FORMATS[column.kind]
            shown = (
                len(f"{value:,}") + 5 if isinstance(value, Decimal | int) else len(str(value or ""))
            )
            widths[index] = max(widths[index], shown)
    if sheet.totals is not None:
        for cell in ws[ws.max_row]:
            cell.font = bold
    for index, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(index + 1)].width = min(60, max(8, width + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Return an XLSX file with one worksheet per table."""
    from openpyxl import Workbook  # imported when a workbook is made: it is slow to import

    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for sheet in sheets:
        _write(book.create_sheet(_title(sheet.title, taken)), sheet)
    if not sheets:
        book.create_sheet("Empty")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send(sheets: Sequence[Sheet], filename: str) -> Any:
    """Return the Flask response that downloads `sheets` as `filename` (.xlsx)."""
    from flask import send_file

    return send_file(
        io.BytesIO(workbook(sheets)),
        mimetype=MIMETYPE,
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
