"""The reader's interface: inputs it takes, records in batches, the summary's life."""

from __future__ import annotations

import gc
import io
import weakref
from datetime import date

import pytest

from costshare.counter import (
    COUNT,
    ITEM,
    METRIC,
    MONTH,
    RECORD_ROW_FIELDS,
    inspect,
    read_report,
    record_row,
)
from tests.counter.corpus import corpus_file

SAMPLE = "cop5/r50/Sample-TR_J1.tsv"


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like an upload read straight off a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_path_bytes_file_and_unseekable_stream_read_alike() -> None:
    path = corpus_file(SAMPLE)
    data = path.read_bytes()
    expected = {"Total_Item_Requests": 40, "Unique_Item_Requests": 37}  # EXPECTED.md
    assert inspect(path).totals == expected
    assert inspect(str(path)).totals == expected
    assert inspect(data, "upload.tsv").totals == expected
    with path.open("rb") as handle:
        assert inspect(handle).totals == expected
        assert not handle.closed  # a caller's file stays the caller's
    assert inspect(io.BufferedReader(_Pipe(data)), "pipe.tsv").totals == expected


def test_the_header_is_there_at_once_and_the_rest_once_the_records_are_read() -> None:
    report = read_report(corpus_file(SAMPLE))
    summary = report.summary
    assert (summary.release, summary.report_id, summary.institution_name) == (
        "5",
        "TR_J1",
        "Client Demo Site",
    )
    assert (summary.begin, summary.end) == (date(2016, 1, 1), date(2016, 3, 31))
    assert not summary.complete and summary.totals == {}
    list(report.records())
    assert summary.complete
    assert summary.totals_by_month["Total_Item_Requests"] == {
        date(2016, 1, 1): 9,
        date(2016, 2, 1): 15,
        date(2016, 3, 1): 16,
    }  # EXPECTED.md


def test_batches_hold_every_record_once() -> None:
    report = read_report(corpus_file("cop5/r51/TR_sample_r51.tsv"))
    batches = list(report.batches(500))
    assert [len(b) for b in batches] == [500, 500, 500, 372]
    assert report.summary.records == 1872


def test_records_are_tuples_of_item_metric_month_count() -> None:
    record = next(iter(read_report(corpus_file(SAMPLE))))
    item, metric, month, count = record
    assert (record[ITEM], record[METRIC], record[MONTH], record[COUNT]) == (
        item,
        metric,
        month,
        count,
    )
    # Journal 10, January 2016, as the TSV's first data row says.
    assert (item.name, item.platform, item.proprietary_id, item.print_issn) == (
        "Journal 10",
        "PPDelta",
        "ppdelta:10",
        "2042-5813",
    )
    assert (metric, month, count) == ("Total_Item_Requests", date(2016, 1, 1), 6)
    row = record_row(record)
    assert len(row) == len(RECORD_ROW_FIELDS)
    assert dict(zip(RECORD_ROW_FIELDS, row, strict=True))["name"] == "Journal 10"


def test_records_of_one_item_share_its_item() -> None:
    records = list(read_report(corpus_file(SAMPLE)))
    items = {id(item) for item, *_ in records}
    assert len(items) == 2  # Journal 10 and Journal 11


def test_a_report_read_in_part_leaves_the_callers_file_open() -> None:
    with corpus_file(SAMPLE).open("rb") as handle:
        with read_report(handle) as report:
            next(iter(report))
        assert not handle.closed


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1", "cp1252"])
def test_other_text_encodings_read_the_same(encoding: str) -> None:
    text = corpus_file("pycounter/counter4/C4BR2.tsv").read_text(encoding="utf-8")
    summary = inspect(text.encode(encoding), "C4BR2.tsv")
    assert summary.totals == {"Total_Item_Requests": 25}
    names = {item.name for item, *_ in read_report(text.encode(encoding), "C4BR2.tsv")}
    assert names == {"Hitchhikers Guide to the Galaxy"}
    if encoding.startswith(("latin", "cp")):
        assert any("not UTF-8" in w for w in summary.warnings)


def test_json_in_utf16_and_with_a_byte_order_mark() -> None:
    text = corpus_file("folio-mod-erm-usage-counter/tr_j1.json").read_text(encoding="utf-8")
    expected = {"Total_Item_Requests": 587, "Unique_Item_Requests": 430}  # EXPECTED.md
    assert inspect(text.encode("utf-16"), "tr_j1.json").totals == expected
    assert inspect("\ufeff".encode() + text.encode(), "tr_j1.json").totals == expected


def test_a_report_dropped_unread_is_freed_and_closes_its_file() -> None:
    report = read_report(corpus_file(SAMPLE).read_bytes(), "Sample-TR_J1.tsv")
    next(iter(report))
    stream = report._src.stream
    alive = weakref.ref(report)
    del report
    gc.collect()
    assert alive() is None
    assert stream.closed
