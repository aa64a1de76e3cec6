"""What every format reader shares: the summary it fills and how it reports the end."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .errors import CounterError
from .model import Record, Summary
from .notes import Notes


class FormatReader:
    """A reader of one file format: reads the header, then yields records row by row."""

    def __init__(self, summary: Summary, notes: Notes) -> None:
        self.summary = summary
        self.notes = notes
        #: Set by the Report: called when the records are all read, to turn a failure into
        #: the CounterError to raise, and when reading stops for any reason (to close the
        #: file). The reader's own generator calls them: a wrapping generator would cost a
        #: frame per row.
        self.finished: Callable[[], None] = _nothing
        self.failed: Callable[[Exception], Exception] = _same
        self.released: Callable[[], None] = _nothing

    def read_header(self) -> None:
        """Read the report header, up to the first record."""
        raise NotImplementedError

    def row_records(self) -> Iterator[Iterable[Record]]:
        """Yield the records, an iterable of them per row or report item."""
        raise NotImplementedError

    def convert(self, exc: Exception) -> CounterError | None:
        """Return the CounterError a failure of the format's parser amounts to, if known."""
        return None

    def close(self) -> None:
        """Release what this reader opened itself."""


def _nothing() -> None:
    """Do nothing: the default when no Report listens."""


def _same(exc: Exception) -> Exception:
    """Return the failure unchanged: the default when no Report listens."""
    return exc
