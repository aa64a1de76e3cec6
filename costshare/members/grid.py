"""Editable grids of facts: rows × years, each cell a number or empty.

Two pages use one grid: a member's facts (a row per fact name) and one fact
for every member (a row per member). The page posts `row-<i>` (the row's key),
`col-<j>` (the year) and `cell-<i>-<j>` (the value); `read_grid` checks every
input and returns the cells to save, or a sentence per input at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from costshare.members.fields import (
    MAX_AMOUNT,
    check_number,
    parse_number,
    plain_number,
    whole_number,
)
from costshare.members.forms import FACT_PLACES, MAX_YEAR, MIN_YEAR

MAX_ROWS = 1000
MAX_COLS = 60


@dataclass
class Grid:
    """What a grid shows: row keys and labels, years, values, and errors by input name."""

    rows: list[tuple[str, str]]
    years: list[str]
    values: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Blank rows (a new fact name) and columns (a new year) offered for typing.
    new_rows: int = 0
    new_cols: int = 1

    def value(self, i: int, j: int) -> str:
        return self.values.get((i, j), "")

    @property
    def row_count(self) -> int:
        return len(self.rows) + self.new_rows

    @property
    def col_count(self) -> int:
        return len(self.years) + self.new_cols

    def row_key(self, i: int) -> str:
        return self.rows[i][0] if i < len(self.rows) else ""

    def row_label(self, i: int) -> str:
        return self.rows[i][1] if i < len(self.rows) else ""

    def year(self, j: int) -> str:
        return self.years[j] if j < len(self.years) else ""


def build_grid(
    rows: list[tuple[str, str]],
    years: list[int],
    stored: dict[tuple[str, int], Decimal],
    new_rows: int = 0,
) -> Grid:
    """Return the grid showing `stored` values (keyed by row key and year)."""
    grid = Grid(rows, [str(y) for y in years], new_rows=new_rows)
    for i, (key, _) in enumerate(rows):
        for j, year in enumerate(years):
            if (key, year) in stored:
                grid.values[(i, j)] = plain_number(stored[(key, year)])
    return grid


@dataclass
class Posted:
    """The cells a grid posted: (row key, year) → value or None (empty: remove)."""

    cells: dict[tuple[str, int], Decimal | None]
    grid: Grid


def read_grid(
    form: MultiDict,
    labels: dict[str, str],
    check_row: Callable[[str], str | None],
    typed_rows: bool,
) -> Posted:
    """Read and check a posted grid.

    `labels` gives the label of each row key the page may post (others are
    refused); with `typed_rows`, blank rows may be given a new key, checked by
    `check_row` (e.g. a new fact name).
    """
    rows: list[tuple[str, str]] = []
    years: list[str] = []
    i = 0
    while f"row-{i}" in form and i < MAX_ROWS:
        key = form.get(f"row-{i}", "").replace("\x00", "").strip()[:100]
        rows.append((key, labels.get(key, key)))
        i += 1
    j = 0
    while f"col-{j}" in form and j < MAX_COLS:
        years.append(form.get(f"col-{j}", "").strip()[:12])
        j += 1
    grid = Grid(rows, years, new_rows=0, new_cols=0)
    for i in range(len(rows)):
        for j in range(len(years)):
            text = form.get(f"cell-{i}-{j}", "").strip()[:60]
            if text:
                grid.values[(i, j)] = text

    used_rows = {i for i, _ in grid.values}
    used_cols = {j for _, j in grid.values}
    keys: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, (key, _) in enumerate(rows):
        if not key:
            if i in used_rows:
                grid.errors[f"row-{i}"] = "Name this row, or empty its cells."
            continue
        if key not in labels:
            problem = check_row(key) if typed_rows else "This row is not part of the grid."
            if problem:
                grid.errors[f"row-{i}"] = problem
                continue
        if key in seen:
            grid.errors[f"row-{i}"] = "This row appears twice."
            continue
        seen[key] = i
        keys[i] = key

    year_of: dict[int, int] = {}
    seen_years: set[int] = set()
    for j, text in enumerate(years):
        if not text:
            if j in used_cols:
                grid.errors[f"col-{j}"] = "Give the year of this column, or empty its cells."
            continue
        year = whole_number(text, 4)
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            grid.errors[f"col-{j}"] = f"A year between {MIN_YEAR} and {MAX_YEAR}."
            continue
        if year in seen_years:
            grid.errors[f"col-{j}"] = "This year appears twice."
            continue
        seen_years.add(year)
        year_of[j] = year

    cells: dict[tuple[str, int], Decimal | None] = {}
    for i, key in keys.items():
        for j, year in year_of.items():
            text = grid.values.get((i, j))
            if text is None:
                cells[(key, year)] = None
                continue
            try:
                value = parse_number(text)
            except ValueError as error:
                grid.errors[f"cell-{i}-{j}"] = str(error)
                continue
            problem = check_number(value, Decimal(0), MAX_AMOUNT - 1, FACT_PLACES)
            if problem:
                grid.errors[f"cell-{i}-{j}"] = problem
                continue
            cells[(key, year)] = value
    return Posted(cells, grid)
