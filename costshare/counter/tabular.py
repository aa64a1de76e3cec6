"""Reading R4 and R5 reports laid out as a table: CSV, TSV, and XLSX sheets.

The rows after the column headings are read on a fast path built for the common case
(every count a plain whole number); any row the fast path cannot take goes through a
careful path that forgives what can be forgiven and names the cell that cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import partial
from itertools import compress, repeat
from operator import add, itemgetter

from .base import FormatReader
from .errors import CounterError, NotCounterError, UnsupportedReportError
from .model import R4_REPORTS, R5_METRICS, R5_REPORTS, Item, Record, Summary, SushiException
from .notes import Notes
from .rules import (
    FILTER_ATTRIBUTES,
    R4_FIXED_METRIC,
    R5_REPORT_NAMES,
    UNKNOWN_METRICS,
    VIEW_ATTRIBUTES,
    r4_metric,
    r4_report_id,
    r5_metric,
    release_of,
)
from .values import (
    clean_count,
    is_pseudo_total,
    norm_key,
    parse_date,
    parse_day,
    parse_month_header,
    parse_period,
    shown,
)

#: Item fields read from the row, in Item order (release and report_id follow them).
ROW_FIELDS = Item._fields[:14]

#: Column heading (folded by norm_key) → what the column holds; the first such column wins.
COLUMNS = {
    "title": "name",
    "database": "name",
    "item": "name",
    "journal": "name",
    "publisher": "publisher",
    "platform": "platform",
    "doi": "doi",
    "journaldoi": "doi",
    "bookdoi": "doi",
    "proprietaryid": "proprietary_id",
    "proprietaryidentifier": "proprietary_id",
    "isbn": "isbn",
    "printissn": "print_issn",
    "printedissn": "print_issn",
    "issn": "print_issn",
    "onlineissn": "online_issn",
    "uri": "uri",
    "datatype": "data_type",
    "sectiontype": "section_type",
    "yop": "yop",
    "accesstype": "access_type",
    "accessmethod": "access_method",
    "metrictype": "metric",
    "useractivity": "metric",
    "accessdeniedcategory": "metric",
    "reportingperiodtotal": "period_total",
    "institutionname": "institution",
    "customerid": "customer",
}

#: How far down the column headings may be before the file is judged not a report.
HEADER_ROWS = 60

_new_item = partial(tuple.__new__, Item)
_identity = itemgetter(0, 1, 3, 4, 5, 6, 7, 8)
#: Count cells as text → number, for the counts most cells hold; empty cells count 0.
_SMALL_COUNTS = {str(n): n for n in range(10_000)} | {"": 0}
#: First letters of pseudo-total names ("Total for all journals", "All Databases").
_PSEUDO_INITIALS = frozenset("TtAaGg")
_EXCEPTION = re.compile(r"(\d{1,4})\s*:\s*([^;(]*)(?:\(([^)]*)\))?")


class RowSource:
    """Rows of a table as lists of text cells, and where the last one stands in the file."""

    rows: Iterator[list[str]]

    def line(self) -> int:
        """Return the 1-based row number of the row last read."""
        raise NotImplementedError

    def convert(self, exc: Exception) -> CounterError | None:
        """Return the CounterError a format-level failure amounts to, or None if unknown."""
        return None

    def close(self) -> None:
        """Release what the rows are read from."""


class TableReader(FormatReader):
    """Reads one COUNTER table (R4 or R5) from a RowSource into records."""

    def __init__(self, source: RowSource, summary: Summary, notes: Notes) -> None:
        super().__init__(summary, notes)
        self.src = source
        #: Cell values of a quoted TSV come with their quotes; strip them off.
        self.unquote = False

    def convert(self, exc: Exception) -> CounterError | None:
        """Return the CounterError a failure of the underlying file amounts to, if known."""
        return self.src.convert(exc)

    def close(self) -> None:
        """Release the row source."""
        self.src.close()

    # -- header -------------------------------------------------------------------------

    def read_header(self) -> None:
        """Read the report header and the column headings, up to the first data row."""
        before: list[list[str]] = []
        headings: list[str] | None = None
        for row in self.src.rows:
            if any(norm_key(cell) in ("metrictype", "reportingperiodtotal") for cell in row):
                headings = row
                break
            before.append(row)
            if len(before) > HEADER_ROWS:
                break
        title = next((row for row in before if any(c.strip() for c in row)), None)
        first = _unquote(title[0].strip()) if title else ""
        r4_id = r4_report_id(first) if first else None
        if title and norm_key(first) == "reportname":
            self._r5_header(before)
        elif r4_id is not None:
            self._r4_header(before, r4_id)
        else:
            raise NotCounterError(
                "not a COUNTER report: expected Report_Name (Release 5) or an R4 report"
                ' name such as "Journal Report 1 (R4)" in the first row',
                row=1,
            )
        if headings is None:
            raise CounterError(
                "expected a row of column headings with Reporting_Period_Total"
                " or Metric_Type after the report header",
                row=self.src.line(),
            )
        self._columns(headings)

    def _r5_header(self, rows: list[list[str]]) -> None:
        values: dict[str, str] = {}
        for row in rows:
            if row and row[0].strip():
                key = norm_key(_unquote(row[0].strip()))
                values.setdefault(key, _unquote(row[1].strip()) if len(row) > 1 else "")
        s = self.summary
        release = release_of(values.get("release", ""))
        if release is None:
            raise UnsupportedReportError(
                f"expected Release 5 or 5.1, found {shown(values.get('release', ''))}", row=3
            )
        s.release = release
        s.report_name = values.get("reportname") or None
        report_id = values.get("reportid", "").strip().upper()
        if not report_id:
            report_id = R5_REPORT_NAMES.get(norm_key(s.report_name or ""), "")
        if report_id not in R5_REPORTS:
            raise UnsupportedReportError(
                "expected a COUNTER R5 report id (TR, TR_J1, DR, PR, IR …),"
                f" found {shown(report_id)}",
                row=2,
            )
        s.report_id = report_id
        s.institution_name = values.get("institutionname") or None
        s.institution_ids = [v.strip() for v in values.get("institutionid", "").split(";")]
        s.institution_ids = [v for v in s.institution_ids if v]
        s.customer_id = values.get("customerid") or None
        s.created_by = values.get("createdby") or None
        s.begin, s.end = parse_period(values.get("reportingperiod", ""))
        self._created(values.get("created", ""))
        s.exceptions = [
            SushiException(_code(m[1]), "", m[2].strip(), (m[3] or "").strip())
            for m in _EXCEPTION.finditer(values.get("exceptions", ""))
        ]
        self.fixed = dict(VIEW_ATTRIBUTES.get(report_id, {}))
        for part in values.get("reportfilters", "").split(";"):
            name, _, value = part.partition("=")
            attribute = FILTER_ATTRIBUTES.get(norm_key(name))
            if attribute and value.strip() and "|" not in value:
                self.fixed[attribute] = value.strip()

    def _r4_header(self, rows: list[list[str]], report_id: str) -> None:
        s = self.summary
        title = next(row for row in rows if any(c.strip() for c in row))
        name = _unquote(title[0].strip())
        marker = re.search(r"\(r(\d)\)", name.lower())
        if marker and marker[1] != "4":
            raise UnsupportedReportError(
                f"expected a Release 4 or 5 report, found {shown(name)}", row=1
            )
        if marker is None:
            self.notes.add("r4-marker", f'"{name}" does not say "(R4)"; read as Release 4')
        if report_id not in R4_REPORTS:
            raise UnsupportedReportError(
                f'"{name}" is an R4 report this reader does not take (it reads JR1, JR1 GOA,'
                " JR2, BR1, BR2, DB1, DB2 and PR1)",
                row=1,
            )
        s.release = "4"
        s.report_id = report_id
        s.report_name = name
        cells = [[_unquote(c.strip()) for c in row] for row in rows]
        start = cells.index([_unquote(c.strip()) for c in title])
        lines = cells[start:]
        s.institution_name = _cell(lines, 1, 0) or None
        s.customer_id = _cell(lines, 2, 0) or None
        self.fixed = dict(VIEW_ATTRIBUTES.get(report_id, {}))
        if report_id == "BR2":
            section = _cell(lines, 2, 1) or _cell(lines, 1, 1)
            if section and "section" not in section.lower():
                self.fixed["section_type"] = section
        for index, row in enumerate(lines):
            label = norm_key(row[0]) if row else ""
            if label.startswith("periodcoveredbyreport"):
                text = " ".join(row[1:]) + " " + _cell(lines, index + 1, 0)
                s.begin, s.end = parse_period(text)
            elif label.startswith("daterun"):
                self._created(" ".join(row[1:]).strip() or _cell(lines, index + 1, 0))

    def _created(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        self.summary.created = parse_date(text)
        if self.summary.created is None:
            self.notes.add("created", f'the creation date "{text}" is not a date; it was ignored')

    # -- columns ------------------------------------------------------------------------

    def _columns(self, headings: list[str]) -> None:
        s = self.summary
        if sum(1 for h in headings if h.startswith('"') and h.endswith('"') and len(h) > 1) > 1:
            self.unquote = True
        headings = [_unquote(h.strip()) for h in headings]
        self.headings = headings
        roles: dict[str, int] = {}
        months: list[tuple[int, date]] = []
        for index, heading in enumerate(headings):
            role = COLUMNS.get(norm_key(heading))
            if role is not None:
                roles.setdefault(role, index)
            elif (month := parse_month_header(heading)) is not None:
                months.append((index, month))
        if s.release == "4":
            roles["name"] = 0
        elif "name" not in roles:
            if "platform" not in roles:
                raise CounterError(
                    "expected a Title, Database, Item or Platform column", row=self.src.line()
                )
            roles["name"] = roles["platform"]
        if s.report_id in ("PR", "PR_P1", "PR1"):
            roles["name"] = roles.get("platform", roles["name"])
        self.roles = roles
        seen: dict[date, int] = {}
        for index, month in months:
            if month in seen:
                raise CounterError(
                    f"the month {month:%b %Y} has two columns"
                    f' ("{headings[seen[month]]}" and "{headings[index]}")',
                    row=self.src.line(),
                )
            seen[month] = index
        if not months:
            months = self._period_total_only(roles)
        self.month_columns = [index for index, _ in months]
        self.months = [month for _, month in months]
        s.months = sorted(self.months)
        self._metric_rule(roles)

    def _period_total_only(self, roles: dict[str, int]) -> list[tuple[int, date]]:
        s = self.summary
        if "period_total" not in roles:
            raise CounterError(
                "expected month columns (such as Jan-2022) or Reporting_Period_Total",
                row=self.src.line(),
            )
        if s.begin is None:
            raise CounterError(
                "the report has no month columns and no Reporting_Period to date its totals",
                row=self.src.line(),
            )
        if s.end is not None and (s.begin.year, s.begin.month) != (s.end.year, s.end.month):
            s.monthly = False
            self.notes.add(
                "period-totals",
                f"the report has no month columns (Exclude_Monthly_Details): each count covers"
                f" {s.begin.isoformat()} to {s.end.isoformat()} and is dated {s.begin:%Y-%m}",
            )
        return [(roles["period_total"], s.begin)]

    def _metric_rule(self, roles: dict[str, int]) -> None:
        report_id = self.summary.report_id or ""
        self.fixed_metric = R4_FIXED_METRIC.get(report_id)
        if self.fixed_metric is None and "metric" not in roles:
            wanted = "User Activity" if report_id in ("DB1", "PR1") else "Metric_Type"
            if report_id in ("JR2", "DB2"):
                wanted = "Access Denied Category"
            raise CounterError(f"expected a {wanted} column", row=self.src.line())
        self.metric_map: dict[str, str | None] = {}
        if self.summary.release != "4":
            self.metric_map.update({m: m for m in R5_METRICS})

    def _resolve_metric(self, text: str) -> str | None:
        """Return the metric a metric cell names; "" to skip the row, None if it is empty."""
        raw = _unquote(text.strip()) if self.unquote else text.strip()
        if not raw:
            return None
        if self.summary.release == "4":
            metric = r4_metric(self.summary.report_id or "", raw) or ""
            if not metric:
                self.notes.add(
                    f"r4-activity-{raw}",
                    f'{{n}} rows with "{raw}" were skipped: it has no R5 metric',
                )
        else:
            metric = r5_metric(raw)
            if metric is None:
                metric = raw
                self.notes.add(
                    f"metric-{raw}", f'"{raw}" is not a COUNTER R5 metric; it was kept as given'
                )
        if len(self.metric_map) > len(R5_METRICS) + UNKNOWN_METRICS:
            raise CounterError(
                f"expected COUNTER metrics, found more than {UNKNOWN_METRICS} other names",
                row=self.src.line(),
                column=self.headings[self.roles["metric"]],
            )
        self.metric_map[text] = metric
        return metric

    # -- rows ---------------------------------------------------------------------------

    def row_records(self) -> Iterator[Iterable[Record]]:
        """Yield, row by row, the records of each data row (positive counts only)."""
        s = self.summary
        roles = self.roles
        present = [(pos, roles[f]) for pos, f in enumerate(ROW_FIELDS) if f in roles]
        extra = [roles[r] for r in ("institution", "customer") if r in roles]
        key_columns = [index for _, index in present] + extra
        key_of = itemgetter(*key_columns) if len(key_columns) > 1 else _one(key_columns[0])
        make_item = self._item_maker(present, len(key_columns))
        metric_column = roles.get("metric")
        fixed_metric = self.fixed_metric
        metric_map = self.metric_map
        resolve = self._resolve_metric
        columns = self.month_columns
        first, last = columns[0], columns[-1] + 1
        cells_of = (
            itemgetter(slice(first, last))
            if columns == list(range(first, last))
            else lambda row: [row[c] for c in columns]
        )
        months = self.months
        needed = max([*key_columns, *columns, metric_column or 0]) + 1
        merge = s.release == "4" and fixed_metric is None
        totals = self.totals = _Totals(len(months))
        blocks = totals.blocks
        block_rows = 0
        block_size = _Totals.BLOCK
        counts = self._counts
        small = _SMALL_COUNTS.get
        items = 0
        platforms: dict[str, None] = {}
        previous_key: object = None
        previous_identity: object = None
        item: Item | None = None
        item_repeat = repeat(item)
        skip = True
        pending: dict[str, list[int]] = {}
        institution_columns = extra
        # The try sits in this generator (not a wrapper) to keep a frame off every row.
        try:
            for row in self.src.rows:
                if len(row) < needed:
                    row = self._short_row(row, needed, metric_column)
                    if row is None:
                        continue
                key = key_of(row)
                if key != previous_key:
                    previous_key = key
                    if pending:
                        yield self._flush(item, pending)
                    item = make_item(key)
                    # One repeat serves every zip of the item: it never runs out.
                    item_repeat = repeat(item)
                    name = item[1]
                    skip = (not name and not any(map(str.strip, row))) or (
                        name[:1] in _PSEUDO_INITIALS and self._pseudo_total(name)
                    )
                    if not skip:
                        if institution_columns:
                            self._institution(row)
                        identity = _identity(item)
                        if identity != previous_identity:
                            previous_identity = identity
                            items += 1
                            platforms[item.platform] = None
                if skip:
                    continue
                if fixed_metric is None:
                    metric = metric_map.get(row[metric_column])
                    if not metric:
                        metric = resolve(row[metric_column])
                        if not metric:
                            if metric is None:
                                self._no_metric(row, columns)
                            continue
                else:
                    metric = fixed_metric
                # Most counts are small: a dict lookup is three times faster than int(), and
                # anything it does not know (big, negative, messy) takes the careful path.
                values = list(map(small, cells_of(row)))
                if None in values:
                    values = counts(row, columns)
                if merge:
                    held = pending.get(metric)
                    pending[metric] = list(map(add, held, values)) if held else values
                    continue
                # Totals are summed a block at a time: far cheaper than adding up every row.
                block = blocks.get(metric)
                if block is None:
                    block = blocks[metric] = []
                block.append(values)
                block_rows += 1
                if block_rows == block_size:
                    totals.reduce()
                    block_rows = 0
                yield compress(zip(item_repeat, repeat(metric), months, values), values)
            if pending:
                yield self._flush(item, pending)
            totals.reduce()
            self._finish(items, [p for p in platforms if p])
        except Exception as exc:  # every failure must surface as a CounterError
            raise self.failed(exc) from None
        else:
            self.finished()
        finally:
            self.released()

    def _item_maker(
        self, present: list[tuple[int, int]], key_width: int
    ) -> Callable[[tuple[str, ...]], Item]:
        """Return a function building the Item of a row from its key cells, in C where it can."""
        s = self.summary
        defaults = (*(self.fixed.get(f, "") for f in ROW_FIELDS), s.release, s.report_id)
        # Item field i comes from key cell k, or else from the defaults that follow the key.
        source = {position: k for k, (position, _) in enumerate(present)}
        assemble = itemgetter(*[source.get(i, key_width + i) for i in range(len(Item._fields))])
        patch = [i for i, f in enumerate(ROW_FIELDS) if f in self.fixed and i in source]
        unquote = self.unquote
        strip = str.strip

        def make_item(key: tuple[str, ...]) -> Item:
            cells = tuple(map(strip, key))
            if unquote:
                cells = tuple(map(_unquote, cells))
            fields = assemble((*cells, *defaults))
            if patch:
                # A view's fixed attribute stands in for an empty cell of its column.
                fields = tuple(
                    defaults[i] if i in patch and not value else value
                    for i, value in enumerate(fields)
                )
            return _new_item(fields)

        return make_item

    def _pseudo_total(self, name: str) -> bool:
        if is_pseudo_total(name):
            self.notes.add(
                "pseudo-total",
                "{n} summary rows were skipped: they total other rows and are not an item",
                name,
            )
            return True
        return False

    def _institution(self, row: list[str]) -> None:
        institution = self.roles.get("institution")
        customer = self.roles.get("customer")
        name = row[institution].strip() if institution is not None else ""
        code = row[customer].strip() if customer is not None else ""
        seen = getattr(self, "_row_institution", None)
        if seen is None:
            self._row_institution = (name, code)
            s = self.summary
            if s.institution_name and name and name != s.institution_name:
                self.notes.add(
                    "row-institution",
                    f'the rows are for "{name}" ({code}), the header names "{s.institution_name}"',
                )
            s.institution_name = s.institution_name or name or None
            s.customer_id = s.customer_id or code or None
        elif seen != (name, code):
            raise CounterError(
                f'expected the usage of one institution, found rows for "{seen[0]}" and'
                f' "{name}": split the file per member',
                row=self.src.line(),
            )

    def _short_row(
        self, row: list[str], needed: int, metric_column: int | None
    ) -> list[str] | None:
        if not any(cell.strip() for cell in row):
            return None
        essential = max([metric_column or 0, *self.roles.values()])
        if len(row) <= essential:
            raise CounterError(
                f"expected {len(self.headings)} cells as in the column headings, found {len(row)}",
                row=self.src.line(),
            )
        self.notes.add(
            "short-row", "{n} rows end before the last month column; missing counts read as 0"
        )
        return row + [""] * (needed - len(row))

    def _no_metric(self, row: list[str], columns: list[int]) -> None:
        if any(clean_count_or_none(row[c]) for c in columns):
            column = self.headings[self.roles["metric"]]
            raise CounterError(
                "expected a metric, found an empty cell", row=self.src.line(), column=column
            )
        self.notes.add("no-metric", "{n} rows without a metric and without counts were skipped")

    def _counts(self, row: list[str], columns: list[int]) -> list[int]:
        values = []
        for column in columns:
            cell = row[column]
            value = _SMALL_COUNTS.get(cell)
            if value is None:
                try:
                    value = clean_count(cell)
                except ValueError as exc:
                    raise CounterError(
                        f"{exc}, found {shown(cell)}",
                        row=self.src.line(),
                        column=self.headings[column],
                    ) from None
            values.append(value)
        return values

    def _flush(self, item: Item | None, pending: dict[str, list[int]]) -> list[Record]:
        records: list[Record] = []
        for metric, values in pending.items():
            self.totals.add(metric, values)
            records.extend(
                (item, metric, month, value)
                for month, value in zip(self.months, values, strict=True)
                if value
            )
        pending.clear()
        return records

    def _finish(self, items: int, platforms: list[str]) -> None:
        s = self.summary
        s.items = items
        s.platforms = platforms
        s.records = self.totals.records
        for metric, values in self.totals.sums.items():
            by_month = {m: v for m, v in zip(self.months, values, strict=True) if v}
            if by_month:
                s.totals_by_month[metric] = dict(sorted(by_month.items()))
                s.totals[metric] = sum(by_month.values())
        if s.begin is None and s.months:
            s.begin = s.months[0]
        if s.end is None and s.months:
            s.end = parse_day(f"{s.months[-1]:%Y-%m}", end=True)


class _Totals:
    """Monthly totals per metric, and how many records (non-zero counts) they hold."""

    BLOCK = 4096

    def __init__(self, width: int) -> None:
        self.width = width
        self.sums: dict[str, list[int]] = {}
        #: Rows of counts not yet added, per metric.
        self.blocks: dict[str, list[list[int]]] = {}
        self.records = 0

    def add(self, metric: str, values: list[int]) -> None:
        """Add one row of counts at once."""
        self.blocks.setdefault(metric, []).append(values)
        self.reduce()

    def reduce(self) -> None:
        """Add the pending rows of counts into the totals."""
        for metric, rows in self.blocks.items():
            if not rows:
                continue
            sums = list(map(sum, zip(*rows, strict=True)))
            held = self.sums.get(metric)
            self.sums[metric] = list(map(add, held, sums)) if held else sums
            self.records += len(rows) * self.width - sum(map(list.count, rows, repeat(0)))
            rows.clear()


def clean_count_or_none(cell: str) -> int | None:
    """Return the count in a cell, or None when the cell holds no whole number."""
    try:
        return clean_count(cell)
    except ValueError:
        return None


def _one(index: int) -> Callable[[list[str]], tuple[str]]:
    return lambda row: (row[index],)


def _unquote(text: str) -> str:
    if len(text) > 1 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def _cell(rows: list[list[str]], row: int, column: int) -> str:
    try:
        return rows[row][column].strip()
    except IndexError:
        return ""


def _code(text: str) -> int | str:
    return int(text) if text.isdigit() else text
