"""Spreadsheets in and out: CSV and XLSX rows, read streaming, written for Excel.

`read_rows` yields `(row number, [cell text, …])` as a person sees them in the
spreadsheet (the header is row 1), whatever the file format; numbers come as
their exact decimal text. A file that cannot be read raises `FileRefused`
with a sentence.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from costshare.members.fields import plain_number
from costshare.xlsx import safe_cell, unguard_cell, xlsx_value

XLSX_MAGIC = b"PK\x03\x04"
MAX_CELL = 10_000
#: The most rows with data a member list or a price list may have (header included): far
#: more than any consortium's members, few enough that a preview stays quick and small.
MAX_ROWS = 100_000


class FileRefused(ValueError):
    """The file cannot be read at all (not a CSV or XLSX, broken, empty)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shown_name(filename: str | None) -> str:
    """Return an uploaded file's name as a sentence may show it (no folders, no control bytes)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:120] or "The file"


def file_kind(filename: str, head: bytes) -> str:
    """Return "xlsx" or "csv" from the name and the first bytes of a file."""
    name = (filename or "").lower()
    if head.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith(".xls"):
        raise FileRefused("Old .xls files cannot be read: save the sheet as .xlsx or CSV.")
    return "csv"


def cell_text(value: Any) -> str:
    """Return a spreadsheet cell as text: numbers exactly, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return "not a number"
        return plain_number(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\x00", "").strip()[:MAX_CELL]


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    number = 0
    try:
        try:
            first = text.readline()
        except UnicodeDecodeError as error:
            raise FileRefused(
                "The file is not UTF-8 text: save it as “CSV UTF-8” or as an XLSX workbook."
            ) from error
        delimiter = max((",", ";", "\t"), key=first.count)
        # Strict: a quote left open is refused, not read on to the end of the file as one cell.
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter, strict=True)
        for number, row in enumerate(reader, start=1):
            yield number, [unguard_cell(cell_text(c)) for c in row]
    except UnicodeDecodeError as error:
        raise FileRefused(
            f"Row {number + 1} is not UTF-8 text: save the file as “CSV UTF-8” or as XLSX."
        ) from error
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise FileRefused(
                f'Row {number + 1}: a cell opens a quote (") that is never closed, so the rest '
                "of the file would be read as that one cell."
            ) from error
        raise FileRefused(f"Row {number + 1} cannot be read as CSV: {error}.") from error
    finally:
        # The caller owns the file: let go of it without closing it.
        if not stream.closed:
            text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileRefused("The file cannot be read as an XLSX workbook.") from error
    number, header = 0, []
    try:
        sheet = workbook.worksheets[0]
        # Read the cells there are, not the size the sheet claims: one stray cell at XFD1048576
        # would otherwise pad every row to 16,384 cells, down to row 1,048,576.
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [unguard_cell(cell_text(c)) for c in row]
            if number == 1:
                header = cells
            yield number, cells
    except FileRefused:
        raise
    except Exception as error:
        bad = _unreadable_cell(workbook, number + 1)
        if bad is None:
            raise FileRefused("The workbook is damaged and cannot be read to the end.") from error
        row, column, reason = bad
        name = header[column - 1] if column <= len(header) and header[column - 1] else None
        raise FileRefused(
            f"Row {row}, column {get_column_letter(column)}"
            f"{f' ({name})' if name else ''} cannot be read: {reason}. Type the value again "
            "in a spreadsheet program and save the file."
        ) from error
    finally:
        workbook.close()


#: What a cell of each XLSX type must hold, for the sentence naming a cell that does not.
_CELL_TYPES = {"n": "a number", "b": "a yes/no value", "d": "a date", "s": "a shared text"}


def _unreadable_cell(workbook: Any, first_row: int) -> tuple[int, int, str] | None:
    """Find the first cell from `first_row` on that openpyxl cannot read: (row, column, why).

    Only when reading the sheet failed: the sheet's XML is read again and each cell from
    that row on is parsed alone, the way openpyxl parses them. None if none fails.
    """
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, VALUE_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse  # the parser openpyxl read the sheet with

    try:
        sheet = workbook.worksheets[0]
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            current = 0
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start" and element.tag == ROW_TAG:
                    current = int(element.get("r") or current + 1)
                    parser.row_counter, parser.col_counter = current, 0
                elif event == "end" and element.tag == CELL_TAG:
                    # Where the cell stands, before parse_cell moves the column counter on.
                    reference = element.get("r")
                    column = (
                        coordinate_to_tuple(reference)[1] if reference else parser.col_counter + 1
                    )
                    if current >= first_row and not _parses(parser, element):
                        kind = _CELL_TYPES.get(element.get("t", "n"), "its own type")
                        held = (element.findtext(VALUE_TAG) or "")[:40]
                        return (
                            current,
                            column,
                            f"the file marks the cell as {kind} but it holds “{held}”",
                        )
                    parser.col_counter = column
                    element.clear()
    except Exception:  # a file damaged some other way: the general sentence will do
        return None
    return None


def _parses(parser: Any, element: Any) -> bool:
    """Whether openpyxl's sheet parser reads this cell element."""
    try:
        parser.parse_cell(element)
    except Exception:
        return False
    return True


def read_rows(stream: IO[bytes], filename: str) -> Iterator[tuple[int, list[str]]]:
    """Yield each row of a CSV or XLSX file with its row number (header = 1)."""
    head = stream.read(4)
    stream.seek(0)
    if not head:
        raise FileRefused("The file is empty.")
    rows = _xlsx_rows(stream) if file_kind(filename, head) == "xlsx" else _csv_rows(stream)
    return _at_most(rows, MAX_ROWS)


def _at_most(rows: Iterator[tuple[int, list[str]]], limit: int) -> Iterator[tuple[int, list[str]]]:
    """Pass the rows on, refusing the file once more than `limit` of them hold anything."""
    filled = 0
    for number, cells in rows:
        if any(cells):  # cells come stripped
            filled += 1
            if filled > limit:
                raise FileRefused(
                    f"The file has more than {limit:,} rows with data (the last read is row "
                    f"{number:,}): a member or price list is far shorter. Split it."
                )
        yield number, cells


def header_key(text: str) -> str:
    """Normalise a header cell: "Billing Currency" → "billing_currency"."""
    return "_".join(text.strip().lower().split())


def write_csv(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    """Return a UTF-8 CSV (with the BOM Excel needs to read CJK names right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_number(value)
    return safe_cell(str(value))


def write_xlsx(sheet_name: str, headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    """Return an XLSX workbook of one sheet, numbers as numbers, header in bold."""
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name[:31])
    bold = Font(bold=True)
    head = []
    for title in headers:
        cell = xlsx_value(sheet, title)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(sheet, value=cell)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        # Excel keeps 15 significant digits: larger exact values stay text.
        digits = len(value.normalize().as_tuple().digits)
        value = value if digits <= 15 else plain_number(value)
    return xlsx_value(sheet, value)
