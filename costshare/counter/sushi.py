"""Reading COUNTER R5.0 and R5.1 JSON (SUSHI responses), streamed with ijson.

The header is read in a first pass that stops where Report_Items begin; the items are then
streamed one at a time by ijson's C backend, so memory stays flat however long the file.
Responses that wrap the report (``{"body": …}``), encode it twice (a JSON string holding
JSON), put header fields at the top level, or are bare arrays of exceptions are all read.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import operator
import re
from collections.abc import Iterable, Iterator
from datetime import date
from functools import partial
from typing import Any

import ijson

from .base import FormatReader
from .errors import CounterError, NotCounterError, UnsupportedReportError
from .model import R5_METRICS, R5_REPORTS, Item, Record, Summary, SushiException
from .notes import Notes
from .rules import (
    FILTER_ATTRIBUTES,
    R5_REPORT_NAMES,
    UNKNOWN_METRICS,
    VIEW_ATTRIBUTES,
    r5_metric,
    release_of,
)
from .source import Source
from .values import clean_count, norm_key, parse_date, parse_day, shown

#: A JSON text encoded twice cannot be streamed; it is read whole up to this size.
MAX_IN_MEMORY = 512 * 1024 * 1024
#: COUNTER JSON nests about 10 levels deep. ijson's memory grows with the square of the
#: depth (each event carries its path), so a few kilobytes of "[[[[…" would take gigabytes.
MAX_DEPTH = 64

_HEADER_KEYS = (
    "Created",
    "Created_By",
    "Customer_ID",
    "Report_ID",
    "Release",
    "Report_Name",
    "Institution_Name",
    "Institution_ID",
    "Report_Filters",
    "Report_Attributes",
)

_ID_FIELDS = {
    "printissn": "print_issn",
    "onlineissn": "online_issn",
    "isbn": "isbn",
    "doi": "doi",
    "proprietary": "proprietary_id",
    "proprietaryid": "proprietary_id",
    "uri": "uri",
}
_ATTRIBUTES = {
    "Data_Type": "data_type",
    "Section_Type": "section_type",
    "YOP": "yop",
    "Access_Type": "access_type",
    "Access_Method": "access_method",
}
_NAME_KEYS = {"TR": "Title", "DR": "Database", "IR": "Item", "PR": "Platform"}
_FIELD_INDEX = {name: index for index, name in enumerate(Item._fields)}
_new_item = partial(tuple.__new__, Item)


class SushiReader(FormatReader):
    """Reads one COUNTER JSON report or SUSHI response into records."""

    def __init__(self, src: Source, summary: Summary, notes: Notes) -> None:
        super().__init__(summary, notes)
        self.src = src
        self.document: Any = None
        self.items_prefix: str | None = None
        self.item_index = 0
        self._month_cache: dict[str, date] = {}
        self._periods: dict[tuple[str, str], tuple[date, bool]] = {}
        self._metrics: dict[str, str] = {m: m for m in R5_METRICS}
        self.report: dict[str, Any] = {}
        self.fixed: dict[str, str] = {}
        self.name_key: str | None = None

    # -- reading the stream -------------------------------------------------------------

    def _json_bytes(self) -> io.RawIOBase:
        stream = self.src.stream
        stream.seek(0)
        if self.src.encoding == "utf-8":
            return _DepthGuard(stream)
        if self.src.encoding == "utf-8-sig":
            stream.seek(len(codecs.BOM_UTF8))
            return _DepthGuard(stream)
        # ijson's C parser takes UTF-8 only: re-encode other encodings on the way in.
        return _DepthGuard(_Utf8(self.src.text()))

    def read_header(self) -> None:
        """Read everything but the report items: header, exceptions, where the items are."""
        text = self.src.text()
        start = text.read(4096).lstrip("\ufeff \t\r\n")[:1]
        text.detach()
        if start == '"':
            self.document = self._double_encoded()
        elif start == "[":
            self.document = self._bare_array()
        else:
            self.document = self._scan_object()
        self._header(self.document)

    def _double_encoded(self) -> Any:
        text = self.src.text().read(MAX_IN_MEMORY + 1)
        if len(text) > MAX_IN_MEMORY:
            raise CounterError("a JSON text encoded twice is too large to read")
        value: Any = text
        depth = 0
        while isinstance(value, str) and depth < 3:
            try:
                value = json.loads(value)
            except (ValueError, RecursionError) as exc:
                raise CounterError(f"not valid JSON ({_first_line(exc)})") from None
            depth += 1
        self.notes.add("double-encoded", "the JSON was encoded twice (a JSON string of JSON)")
        if isinstance(value, list):
            return self._from_list(value)
        return value

    def _bare_array(self) -> Any:
        elements = list(ijson.items(self._json_bytes(), "item"))
        return self._from_list(elements)

    def _from_list(self, elements: list) -> Any:
        reports = [e for e in elements if isinstance(e, dict) and "Report_Header" in e]
        if len(reports) > 1:
            raise CounterError("the JSON array holds several reports; expected one")
        if reports:
            return reports[0]
        if elements and all(isinstance(e, dict) and _is_exception(e) for e in elements):
            return {"Exceptions": elements}
        raise NotCounterError(
            "not a COUNTER report: a JSON array of neither exceptions nor a report"
        )

    def _scan_object(self) -> Any:
        builder = ijson.ObjectBuilder()
        for prefix, event, value in ijson.parse(self._json_bytes()):
            if self.items_prefix is None:
                if event == "start_array" and prefix in ("Report_Items", "body.Report_Items"):
                    self.items_prefix = prefix + ".item"
                    builder.event(event, value)
                    if _has_header(builder.value):
                        # The header is read: the items are streamed in the second pass.
                        return builder.value
                    continue
            elif prefix.startswith(self.items_prefix):
                continue
            builder.event(event, value)
        return builder.value

    # -- header -------------------------------------------------------------------------

    def _header(self, document: Any) -> None:
        if not isinstance(document, dict):
            raise NotCounterError("not a COUNTER report: expected a JSON object")
        report = document
        body = document.get("body", document)
        if isinstance(body, dict):
            report = body
        header = report.get("Report_Header")
        header = dict(header) if isinstance(header, dict) else {}
        for key in _HEADER_KEYS:
            if key not in header and key in report:
                header[key] = report[key]
        exceptions = _exceptions(header) + _exceptions(report)
        response = document.get("response")
        if document.get("body", "") is None and isinstance(response, dict):
            exceptions += _exceptions({"Exception": response})
        self.report = report
        s = self.summary
        s.exceptions = exceptions
        has_items = bool(report.get("Report_Items")) or self.items_prefix is not None
        if not any(
            header.get(k) not in (None, "") for k in ("Report_ID", "Release", "Report_Name")
        ):
            if exceptions:
                return
            raise NotCounterError(
                "not a COUNTER report: expected a Report_Header with Report_ID and Release"
            )
        release = header.get("Release")
        s.release = release_of(_text(release)) if release is not None else None
        if release is not None and s.release is None:
            raise UnsupportedReportError(
                f"expected Release 5 or 5.1, found {shown(_text(release))}"
            )
        s.report_name = _text(header.get("Report_Name")) or None
        report_id = _text(header.get("Report_ID")).upper()
        if not report_id:
            report_id = R5_REPORT_NAMES.get(norm_key(s.report_name or ""), "")
        if report_id not in R5_REPORTS:
            if has_items or report_id:
                raise UnsupportedReportError(
                    "expected a COUNTER R5 report id (TR, TR_J1, DR, PR, IR …),"
                    f" found {shown(report_id)}"
                )
            report_id = ""
        s.report_id = report_id or None
        s.institution_name = _text(header.get("Institution_Name")) or None
        s.institution_ids = _identifiers_list(header.get("Institution_ID"))
        s.customer_id = _text(header.get("Customer_ID")) or None
        s.created_by = _text(header.get("Created_By")) or None
        created = _text(header.get("Created"))
        if created:
            s.created = parse_date(created)
            if s.created is None:
                self.notes.add("created", f'the creation date "{created}" is not a date; ignored')
        filters = _filters(header.get("Report_Filters"))
        s.begin = parse_day(filters.get("begindate", ""))
        s.end = parse_day(filters.get("enddate", ""), end=True)
        self.fixed = dict(VIEW_ATTRIBUTES.get(report_id, {}))
        for name, value in filters.items():
            attribute = FILTER_ATTRIBUTES.get(name)
            if attribute and value and "|" not in value:
                self.fixed[attribute] = value
        self.name_key = _NAME_KEYS.get(report_id.split("_")[0])

    # -- items --------------------------------------------------------------------------

    def row_records(self) -> Iterator[Iterable[Record]]:
        """Yield the records of each report item in turn."""
        s = self.summary
        self.totals: dict[str, dict[date, int]] = {}
        self.items = 0
        self.records = 0
        self.platforms: dict[str, None] = {}
        self._identity: object = None
        if self.items_prefix is not None:
            items: Iterable[Any] = ijson.items(self._json_bytes(), self.items_prefix)
        else:
            items = self.report.get("Report_Items") or []
            if not isinstance(items, list):
                raise CounterError("expected Report_Items to be a list")
        if s.release is None and s.report_id:
            items = self._guess_release(iter(items))
        try:
            for self.item_index, element in enumerate(items, 1):
                records = self._item(element)
                if records:
                    self.records += len(records)
                    yield records
            self._finish()
        except Exception as exc:  # every failure must surface as a CounterError
            raise self.failed(exc) from None
        else:
            self.finished()
        finally:
            self.released()

    def _guess_release(self, items: Iterator[Any]) -> Iterator[Any]:
        first = next(items, None)
        if first is None:
            return
        r51 = isinstance(first, dict) and "Attribute_Performance" in first
        self.summary.release = "5.1" if r51 else "5"
        self.notes.add(
            "release", f"the report does not say its Release; read as {self.summary.release}"
        )
        yield first
        yield from items

    def _item(self, element: Any) -> list[Record]:
        if not isinstance(element, dict):
            raise self._error("expected a report item (a JSON object)")
        children = element.get("Items")
        if (
            isinstance(children, list)
            and "Performance" not in element
            and ("Attribute_Performance" not in element)
        ):
            # R5.1 item reports nest items under their parent.
            records: list[Record] = []
            for child in children:
                records += self._item(child) if isinstance(child, dict) else []
            return records
        fields = [""] * 14 + [self.summary.release or "", self.summary.report_id or ""]
        for attribute, value in self.fixed.items():
            fields[_FIELD_INDEX[attribute]] = value
        fields[0] = _text(element.get("Platform"))
        name = element.get(self.name_key) if self.name_key else None
        if name is None:
            name = next((element[k] for k in ("Title", "Database", "Item") if k in element), None)
        fields[1] = _text(name if name is not None else element.get("Platform"))
        fields[2] = _text(element.get("Publisher"))
        for field, value in _identifiers(element.get("Item_ID")).items():
            fields[_FIELD_INDEX[field]] = value
        self._count_item(fields)
        for key, field in _ATTRIBUTES.items():
            if (value := element.get(key)) is not None and (value := _text(value)):
                fields[_FIELD_INDEX[field]] = value
        records: list[Record] = []
        if "Attribute_Performance" in element:
            groups = element["Attribute_Performance"]
            if not isinstance(groups, list):
                raise self._error("expected Attribute_Performance to be a list")
            for group in groups:
                if not isinstance(group, dict):
                    raise self._error("expected an Attribute_Performance entry (an object)")
                attributes = list(fields)
                for key, field in _ATTRIBUTES.items():
                    if (value := group.get(key)) is not None and (value := _text(value)):
                        attributes[_FIELD_INDEX[field]] = value
                self._r51_performance(_new_item(attributes), group.get("Performance"), records)
        else:
            self._r50_performance(_new_item(fields), element.get("Performance"), records)
        return records

    def _count_item(self, fields: list[str]) -> None:
        identity = tuple(fields[:2] + fields[3:9])
        if identity != self._identity:
            self._identity = identity
            self.items += 1
            if fields[0]:
                self.platforms[fields[0]] = None

    def _r50_performance(self, item: Item, performance: Any, records: list[Record]) -> None:
        if performance is None:
            return
        if not isinstance(performance, list):
            raise self._error("expected Performance to be a list of periods")
        periods = []
        for period in performance:
            if not isinstance(period, dict):
                raise self._error("expected a Performance period (an object)")
            window = period.get("Period")
            if not isinstance(window, dict):
                raise self._error("expected a Period with Begin_Date and End_Date")
            month, whole = self._period_month(window.get("Begin_Date"), window.get("End_Date"))
            periods.append((month, whole, period.get("Instance") or []))
        monthly = any(not whole for _, whole, _ in periods)
        for month, whole, instances in periods:
            if whole:
                if monthly:
                    # Some platforms add the whole period beside its months: never count it.
                    self.notes.add(
                        "period-repeat",
                        "{n} Performance entries covering several months were skipped:"
                        " they repeat the monthly counts",
                    )
                    continue
                self._period_totals(month)
            if not isinstance(instances, list):
                raise self._error("expected Instance to be a list")
            for instance in instances:
                if not isinstance(instance, dict):
                    raise self._error("expected an Instance (an object)")
                self._add(item, instance.get("Metric_Type"), month, instance.get("Count"), records)

    def _r51_performance(self, item: Item, performance: Any, records: list[Record]) -> None:
        if performance is None:
            return
        if not isinstance(performance, dict):
            raise self._error("expected Performance to be an object of metrics")
        for metric, by_month in performance.items():
            if not isinstance(by_month, dict):
                raise self._error(f"expected {metric} to map months to counts")
            for key, count in by_month.items():
                self._add(item, metric, self._key_month(key), count, records)

    def _add(self, item: Item, metric: Any, month: date, count: Any, records: list[Record]) -> None:
        if type(count) is not int or count < 0:
            try:
                count = clean_count(count)
            except ValueError as exc:
                text = _text(count) if not isinstance(count, (dict, list)) else type(count).__name__
                raise self._error(f"{exc}, found {shown(text)}", "Count") from None
        if not count:
            return
        name = self._metrics.get(metric) if type(metric) is str else None
        if name is None:
            name = self._metric(metric)
        records.append((item, name, month, count))
        by_month = self.totals.get(name)
        if by_month is None:
            by_month = self.totals[name] = {}
        by_month[month] = by_month.get(month, 0) + count

    def _metric(self, metric: Any) -> str:
        text = _text(metric) if isinstance(metric, (str, int)) else ""
        if not text:
            raise self._error("expected a Metric_Type", "Metric_Type")
        name = r5_metric(text)
        if name is None:
            name = text
            self.notes.add(f"metric-{text}", f'"{text}" is not a COUNTER R5 metric; kept as given')
        if len(self._metrics) > len(R5_METRICS) + UNKNOWN_METRICS:
            raise self._error(
                f"expected COUNTER metrics, found more than {UNKNOWN_METRICS} other names",
                "Metric_Type",
            )
        self._metrics[text] = name
        return name

    def _period_month(self, begin: Any, end: Any) -> tuple[date, bool]:
        """Return the month a Period starts in and whether it spans more than that month."""
        key = (begin, end)
        known = self._periods.get(key)  # type: ignore[arg-type]
        if known is not None:
            return known
        first = parse_day(begin) if isinstance(begin, str) else None
        if first is None:
            raise self._error(
                f"expected a Begin_Date such as 2022-01-01, found {shown(_text(begin))}",
                "Begin_Date",
            )
        last = parse_day(end, end=True) if isinstance(end, str) else None
        whole = last is not None and (last.year, last.month) != (first.year, first.month)
        self._periods[key] = (first, whole)  # type: ignore[index]
        return first, whole

    def _period_totals(self, first: date) -> None:
        s = self.summary
        s.monthly = False
        self.notes.add(
            "period-totals",
            "counts cover the whole reporting period rather than months;"
            f" they are dated {first:%Y-%m}",
        )

    def _key_month(self, key: str) -> date:
        month = self._month_cache.get(key)
        if month is None:
            month = parse_day(key) if len(key) in (7, 10) else None
            if month is None and norm_key(key) == "totals" and self.summary.begin is not None:
                # Granularity=Totals: one count for the whole reporting period.
                month = self.summary.begin
                self._period_totals(month)
            if month is None:
                raise self._error(f"expected a month such as 2022-01, found {shown(key)}")
            self._month_cache[key] = month
        return month

    def _error(self, reason: str, column: str | None = None) -> CounterError:
        return CounterError(reason, row=f"item {self.item_index}", column=column)

    def _finish(self) -> None:
        s = self.summary
        s.items = self.items
        s.records = self.records
        s.platforms = list(self.platforms)
        months: set[date] = set()
        for metric, by_month in self.totals.items():
            s.totals_by_month[metric] = dict(sorted(by_month.items()))
            s.totals[metric] = sum(by_month.values())
            months.update(by_month)
        s.months = sorted(months)
        if s.begin is None and s.months:
            s.begin = s.months[0]
        if s.end is None and s.months:
            s.end = parse_day(f"{s.months[-1]:%Y-%m}", end=True)

    def convert(self, exc: Exception) -> CounterError | None:
        """Turn a JSON parser failure into a CounterError naming where it happened."""
        if isinstance(exc, (ijson.JSONError, UnicodeDecodeError)):
            if self.document is None:
                return NotCounterError(
                    "not a COUNTER report: expected JSON, found a syntax error"
                    f" ({_first_line(exc)})"
                )
            where = f"after item {self.item_index}" if self.item_index else None
            return CounterError(f"the JSON is broken ({_first_line(exc)})", row=where)
        return None


class _Utf8(io.RawIOBase):
    """Text re-encoded as UTF-8 bytes, for a parser that reads only UTF-8."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer):
            chunk = self._text.read(64 * 1024)
            if not chunk:
                break
            self._pending += chunk.encode("utf-8", "surrogatepass")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


#: A whole JSON string (escapes included), and the rest of one from where the reading is.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: An opening bracket counts 2, a closing one 0: after k brackets the sum less k is the depth.
_STEPS = bytes(2 if b in b"[{" else 0 for b in range(256))


class _DepthGuard(io.RawIOBase):
    """UTF-8 JSON passed on to the parser, refused once it nests deeper than MAX_DEPTH.

    Each chunk is checked before the parser sees it: the strings are cut out (a string may
    run on into the next chunk) and only the brackets left are counted, with bytes methods
    and itertools, so the check costs a fraction of the parsing.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._depth = 0
        self._in_string = False
        self._escaped = False  # the chunk ended on the backslash of an escape in a string

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self._check(data)
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        if not data:
            return
        if b"\\" in data or self._escaped:
            outside = self._outside_strings_with_escapes(data)
        else:
            parts = data.split(b'"')
            outside = b"".join(parts[1::2] if self._in_string else parts[0::2])
            if len(parts) % 2 == 0:  # an odd number of quotes
                self._in_string = not self._in_string
        brackets = outside.translate(None, _NOT_BRACKETS)
        opening = brackets.count(b"[") + brackets.count(b"{")
        if self._depth + opening > MAX_DEPTH:
            steps = itertools.accumulate(brackets.translate(_STEPS))
            deepest = max(map(operator.sub, steps, itertools.count(1)))
            if self._depth + deepest > MAX_DEPTH:
                raise NotCounterError(
                    f"not a COUNTER report: the JSON nests deeper than {MAX_DEPTH} levels"
                )
        self._depth += 2 * opening - len(brackets)

    def _outside_strings_with_escapes(self, data: bytes) -> bytes:
        start = 0
        if self._in_string:
            if self._escaped:
                start, self._escaped = 1, False
            start = _STRING_REST.match(data, start).end()  # type: ignore[union-attr]
            if start >= len(data):
                return b""
            if data[start] == ord("\\"):  # the chunk ends inside an escape
                self._escaped = True
                return b""
            self._in_string = False
            start += 1
        outside = _STRING.sub(b"", data[start:])
        quote = outside.find(b'"')
        if quote >= 0:  # a string runs on into the next chunk
            tail = outside[quote + 1 :]
            self._in_string = True
            self._escaped = (len(tail) - len(tail.rstrip(b"\\"))) % 2 == 1
            outside = outside[:quote]
        return outside


def _has_header(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    body = document.get("body")
    report = body if isinstance(body, dict) else document
    return "Report_Header" in report or "Report_ID" in report or "Release" in report


def _is_exception(value: dict) -> bool:
    keys = {norm_key(k) for k in value}
    return bool(keys & {"code", "number"}) and bool(keys & {"message", "severity"})


def _exceptions(container: dict) -> list[SushiException]:
    found: list[SushiException] = []
    for key in ("Exceptions", "Exception"):
        value = container.get(key)
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            continue
        for entry in value:
            if isinstance(entry, dict) and entry:
                fields = {norm_key(k): v for k, v in entry.items()}
                code = fields.get("code", fields.get("number"))
                if isinstance(code, str) and code.strip().isdigit():
                    code = int(code)
                elif code is not None and not isinstance(code, int):
                    code = _text(code)
                found.append(
                    SushiException(
                        code,
                        _text(fields.get("severity")),
                        _text(fields.get("message")),
                        _text(fields.get("data")),
                    )
                )
    return found


def _filters(value: Any) -> dict[str, str]:
    """Return Report_Filters of R5.0 (Name/Value list) or R5.1 (object) as folded name → text."""
    found: dict[str, str] = {}
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, dict):
                name = norm_key(entry.get("Name", ""))
                text = _text(entry.get("Value"))
                found[name] = f"{found[name]}|{text}" if name in found else text
    elif isinstance(value, dict):
        for name, entry in value.items():
            text = "|".join(_text(v) for v in entry) if isinstance(entry, list) else _text(entry)
            found[norm_key(name)] = text
    return found


def _identifiers(value: Any) -> dict[str, str]:
    """Return Item_ID of R5.0 (Type/Value list) or R5.1 (object) as Item field → value."""
    found: dict[str, str] = {}
    if isinstance(value, list):
        pairs = [(e.get("Type"), e.get("Value")) for e in value if isinstance(e, dict)]
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        return found
    for kind, text in pairs:
        field = _ID_FIELDS.get(norm_key(kind)) if isinstance(kind, str) else None
        if isinstance(text, list):
            text = text[0] if text else ""
        if field and field not in found and (text := _text(text)):
            found[field] = text
    return found


def _identifiers_list(value: Any) -> list[str]:
    if isinstance(value, list):
        pairs = [(e.get("Type"), e.get("Value")) for e in value if isinstance(e, dict)]
    elif isinstance(value, dict):
        pairs = [
            (kind, v)
            for kind, values in value.items()
            for v in (values if isinstance(values, list) else [values])
        ]
    else:
        return [_text(value)] if _text(value) else []
    return [f"{_text(kind)}:{_text(v)}" if _text(kind) else _text(v) for kind, v in pairs]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
