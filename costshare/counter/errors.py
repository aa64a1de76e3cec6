"""The one error family of the COUNTER reader."""

from __future__ import annotations


class CounterError(ValueError):
    """A COUNTER file that cannot be read: names the file, row, column and what was expected."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        #: 1-based line or sheet row for tabular files; "item N" style text for JSON.
        self.row = row
        self.column = column

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(self.row if isinstance(self.row, str) else f"row {self.row}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        # One line, always: the CLI prints it as its only line on stderr.
        return " ".join(text.splitlines())


class NotCounterError(CounterError):
    """The content is not a COUNTER report or SUSHI response at all."""


class UnsupportedReportError(CounterError):
    """A COUNTER report this reader does not handle (release 3, JR5, legacy .xls …)."""


class CounterInternalError(CounterError):
    """An unexpected failure while reading, reported as a CounterError rather than a traceback."""
