"""The entry points: read a COUNTER file into a Report (summary + streamed records)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from functools import partial
from itertools import chain, islice
from os import PathLike
from typing import IO

from .base import FormatReader
from .errors import CounterError, CounterInternalError
from .model import Record, Summary
from .notes import Notes
from .source import Source, open_source

Input = str | PathLike | bytes | IO[bytes]


class Report:
    """A COUNTER report being read: its summary and a single pass over its records.

    The summary holds the header at once; totals, months, items and warnings are complete
    once the records have been read to the end (``summary.complete``). A CounterError may
    still come while reading the records: a caller that stores them must do so in one
    transaction and roll it back on error.
    """

    def __init__(self, src: Source, reader: FormatReader, summary: Summary, notes: Notes) -> None:
        self._src = src
        self._reader = reader
        self.summary = summary
        self._started = False
        # The reader's own generator calls these (a wrapping generator would cost a frame per
        # row). None holds the report: records being read keep only the reader and the file
        # alive, and a file dropped unread is closed by its Source.
        reader.finished = partial(_finished, summary, src, notes)
        reader.failed = partial(_as_counter_error, reader=reader, name=src.name)
        reader.released = partial(_close, reader, src)

    def records(self) -> Iterator[Record]:
        """Return an iterator over the records (one pass only)."""
        if self._started:
            raise CounterError("the records of a report can be read only once", file=self._src.name)
        self._started = True
        # chain runs in C: per record no Python frame is entered, only per row.
        return chain.from_iterable(self._reader.row_records())

    __iter__ = records

    def batches(self, size: int = 10_000) -> Iterator[list[Record]]:
        """Yield the records in lists of at most ``size``, for inserting in bulk."""
        records = self.records()
        while batch := list(islice(records, size)):
            yield batch

    def read_all(self) -> Summary:
        """Read every record (discarding them) and return the completed summary."""
        deque(self.records(), maxlen=0)
        return self.summary

    def close(self) -> None:
        """Release the file (done by itself once the records are read)."""
        _close(self._reader, self._src)

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _finished(summary: Summary, src: Source, notes: Notes) -> None:
    summary.warnings = src.warnings + notes.render()
    summary.complete = True


def _close(reader: FormatReader, src: Source) -> None:
    reader.close()
    src.close()


def read_report(source: Input, filename: str | None = None) -> Report:
    """Open a COUNTER report (path, bytes or binary file) and read its header.

    The format (CSV, TSV, XLSX, JSON) and release (R4, R5, R5.1) come from the content;
    ``filename`` only names the file in messages. Raises CounterError when unreadable.
    """
    src = open_source(source, filename)
    summary = Summary(file=src.name, format=src.kind)
    notes = Notes()
    reader: FormatReader | None = None
    try:
        reader = _reader_for(src, summary, notes)
        summary.format = _format_name(src)
        reader.read_header()
        summary.warnings = src.warnings + notes.render()
    except Exception as exc:  # every failure must surface as a CounterError
        error = _as_counter_error(exc, reader=reader, name=src.name)
        if reader is not None:
            reader.close()
        src.close()
        raise error from None
    return Report(src, reader, summary, notes)


def inspect(source: Input, filename: str | None = None) -> Summary:
    """Read a whole COUNTER report and return its summary."""
    return read_report(source, filename).read_all()


def _reader_for(src: Source, summary: Summary, notes: Notes) -> FormatReader:
    if src.kind == "json":
        from .sushi import SushiReader  # keeps ijson off the tabular path

        return SushiReader(src, summary, notes)
    from .rows import CsvRows, XlsxRows  # keeps openpyxl off the CSV path
    from .tabular import TableReader

    rows = XlsxRows(src) if src.kind == "xlsx" else CsvRows(src)
    return TableReader(rows, summary, notes)


def _format_name(src: Source) -> str:
    if src.kind == "tabular":
        return {"\t": "tsv", ",": "csv", ";": "csv"}[src.delimiter]
    return src.kind


def _as_counter_error(exc: Exception, *, reader: FormatReader | None, name: str) -> CounterError:
    if isinstance(exc, CounterError):
        error = exc
    else:
        error = reader.convert(exc) if reader is not None else None
        if error is None:
            error = CounterInternalError(
                f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"
            )
    if error.file is None:
        error.file = name
    return error
