"""Row sources for tables: CSV/TSV text through the csv module, XLSX through openpyxl."""

from __future__ import annotations

import codecs
import contextlib
import csv
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time

from .errors import CounterError
from .source import Source
from .tabular import RowSource
from .values import norm_key

#: XLSX rows are pulled in blocks, so that openpyxl's warnings can be silenced per block.
XLSX_BLOCK = 2000


class CsvRows(RowSource):
    """Rows of CSV or TSV text (TSV is read without quote handling, as COUNTER writes it)."""

    def __init__(self, src: Source) -> None:
        self._src = src
        self._text = src.text()
        # COUNTER TSV is not quoted: quote characters are part of titles ("Alles ist Front!").
        quoting = csv.QUOTE_NONE if src.delimiter == "\t" else csv.QUOTE_MINIMAL
        self._reader = csv.reader(self._text, delimiter=src.delimiter, quoting=quoting)
        self.rows = self._reader

    def line(self) -> int:
        """Return the line number the csv module has reached."""
        return self._reader.line_num

    def convert(self, exc: Exception) -> CounterError | None:
        """Turn decoding and csv failures into a CounterError at the current line."""
        if isinstance(exc, UnicodeDecodeError):
            return CounterError(
                f"expected {exc.encoding} text, found the byte 0x{exc.object[exc.start]:02x}"
                " (save the file as UTF-8)",
                row=_undecodable_line(self._src),
            )
        if isinstance(exc, csv.Error):
            return CounterError(f"the CSV structure is broken ({exc})", row=self.line() + 1)
        return None

    def close(self) -> None:
        """Release the text wrapper."""
        self._text.close()


class XlsxRows(RowSource):
    """Rows of the first worksheet of an XLSX workbook that holds a COUNTER report."""

    def __init__(self, src: Source) -> None:
        import openpyxl  # only XLSX files need it; it is slow to import

        self._line = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                src.stream.seek(0)
                self._book = openpyxl.load_workbook(
                    src.stream, read_only=True, data_only=True, keep_links=False
                )
                sheet = self._choose_sheet()
                # Sheets often claim a wrong size (1000 rows of padding, or too few columns).
                sheet.reset_dimensions()
        except CounterError:
            raise
        except Exception as exc:
            raise CounterError(f"not a readable XLSX workbook ({_describe(exc)})") from None
        self._sheet = sheet
        self.rows = self._iterate()

    def _choose_sheet(self):
        sheets = self._book.worksheets
        if not sheets:
            raise CounterError("the workbook has no worksheet")
        for sheet in sheets:
            for row in sheet.iter_rows(max_row=3, values_only=True):
                first = next((c for c in row if c not in (None, "")), None)
                if first is not None and _looks_like_report(str(first)):
                    return sheet
        return sheets[0]

    def _iterate(self) -> Iterator[list[str]]:
        cells = self._sheet.iter_rows(values_only=True)
        text = _text
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                block = []
                try:
                    for row in cells:
                        block.append(row)
                        if len(block) >= XLSX_BLOCK:
                            break
                except Exception as exc:
                    raise CounterError(
                        f"the worksheet cannot be read ({_describe(exc)})",
                        row=self._line + len(block) + 1,
                    ) from None
            if not block:
                return
            for row in block:
                self._line += 1
                yield [c if type(c) is str else text(c) for c in row]

    def line(self) -> int:
        """Return the worksheet row number last read."""
        return self._line

    def close(self) -> None:
        """Close the workbook's archive."""
        with contextlib.suppress(OSError, zipfile.BadZipFile):
            self._book.close()


def _undecodable_line(src: Source) -> int | None:
    """Return the line holding the first byte the file's encoding cannot decode."""
    # The text layer decodes ahead of the csv module, so its line number is not the one.
    decoder = codecs.getincrementaldecoder(src.encoding)()
    src.stream.seek(0)
    lines = 1
    while chunk := src.stream.read(64 * 1024):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return lines + chunk.count(b"\n", 0, max(exc.start, 0))
        lines += chunk.count(b"\n")
    return None


def _looks_like_report(text: str) -> bool:
    key = norm_key(text)
    return key == "reportname" or "report" in key


def _text(value: object) -> str:
    """Return the text of a worksheet cell value as a CSV file would show it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _describe(exc: Exception) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}"[:200] if message else type(exc).__name__
