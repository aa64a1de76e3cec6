"""Unreadable files give one CounterError naming the file, the row, the column and why."""

from __future__ import annotations

import io
import zipfile

import pytest

from costshare.counter import (
    CounterError,
    CounterInternalError,
    NotCounterError,
    UnsupportedReportError,
    inspect,
    read_report,
)
from tests.counter.corpus import FIXTURES, corpus_file


def _refusal(source: object, filename: str | None = None) -> CounterError:
    with pytest.raises(CounterError) as caught:
        inspect(source, filename)  # type: ignore[arg-type]
    assert not isinstance(caught.value, CounterInternalError), caught.value
    return caught.value


def test_a_bad_count_names_file_row_column_and_value() -> None:
    error = _refusal(FIXTURES / "tr_bad_count.tsv")
    assert str(error) == (
        'tr_bad_count.tsv, row 15, column "Jan-2022": expected a whole number, found "12x"'
    )
    assert (error.file, error.row, error.column) == ("tr_bad_count.tsv", 15, "Jan-2022")


def test_a_negative_count_is_refused() -> None:
    error = _refusal(FIXTURES / "tr_negative.tsv")
    assert str(error) == (
        'tr_negative.tsv, row 16, column "Jan-2022": expected a count of zero or more, found "-3"'
    )


def test_a_file_that_is_no_counter_report() -> None:
    error = _refusal(FIXTURES / "not_counter.csv")
    assert isinstance(error, NotCounterError)
    assert str(error).startswith("not_counter.csv, row 1: not a COUNTER report")


def test_releases_and_reports_it_does_not_read_are_named() -> None:
    r3 = _refusal(FIXTURES / "jr1_r3.csv")
    assert isinstance(r3, UnsupportedReportError)
    assert "Journal Report 1 (R3)" in str(r3)
    jr5 = _refusal(FIXTURES / "jr5_r4.tsv")
    assert isinstance(jr5, UnsupportedReportError)
    assert '"Journal Report 5 (R4)" is an R4 report this reader does not take' in str(jr5)


def test_a_header_without_column_headings() -> None:
    error = _refusal(FIXTURES / "header_only.tsv")
    assert "expected a row of column headings" in str(error)


def test_usage_of_two_institutions_in_one_file_is_refused() -> None:
    error = _refusal(FIXTURES / "two_members.tsv")
    assert str(error) == (
        "two_members.tsv, row 16: expected the usage of one institution, found rows for"
        ' "Library One" and "Library Two": split the file per member'
    )


def test_a_missing_file_and_an_empty_file() -> None:
    assert str(_refusal(FIXTURES / "no-such-file.tsv")).startswith(
        "no-such-file.tsv: cannot open the file"
    )
    assert str(_refusal(b"  \n", "empty.csv")) == "empty.csv: the file is empty"


def test_truncated_json_is_refused_after_the_last_whole_item() -> None:
    data = corpus_file("folio-mod-erm-usage-counter/tr_j1.json").read_bytes()
    error = _refusal(data[: len(data) // 2], "tr_j1.json")
    assert str(error).startswith("tr_j1.json, after item ")
    assert "the JSON is broken (parse error: premature EOF)" in str(error)


def test_json_of_something_else_is_not_a_report() -> None:
    error = _refusal(b'{"members": [1, 2]}', "members.json")
    assert isinstance(error, NotCounterError)
    assert "expected a Report_Header" in str(error)
    array = _refusal(b"[1, 2, 3]", "numbers.json")
    assert isinstance(array, NotCounterError)


def test_a_json_count_that_is_not_a_number() -> None:
    data = (
        b'{"Report_Header": {"Report_ID": "PR", "Release": "5"}, "Report_Items": ['
        b'{"Platform": "P", "Performance": [{"Period": {"Begin_Date": "2022-01-01",'
        b' "End_Date": "2022-01-31"}, "Instance": [{"Metric_Type": "Searches_Platform",'
        b' "Count": "12x"}]}]}]}'
    )
    error = _refusal(data, "pr.json")
    assert str(error) == 'pr.json, item 1, column "Count": expected a whole number, found "12x"'


def test_a_broken_workbook_and_an_old_xls() -> None:
    data = corpus_file("cop5/r50/Sample-TR_J1.xlsx").read_bytes()
    broken = _refusal(data[:4000], "Sample-TR_J1.xlsx")
    assert str(broken).startswith("Sample-TR_J1.xlsx: not a readable XLSX workbook")
    ole = _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.xls")
    assert isinstance(ole, UnsupportedReportError)
    assert "save it as .xlsx" in str(ole)


def test_a_zip_that_is_no_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    error = _refusal(buffer.getvalue(), "notes.zip")
    assert "not a readable XLSX workbook" in str(error)


def test_text_that_is_not_utf8_past_the_sniffed_start_names_its_row() -> None:
    head = (FIXTURES / "tr_bad_count.tsv").read_text(encoding="utf-8").splitlines()[:14]
    rows = [
        f"Journal {n}\tPub\t\tTest Platform\t\ttp:{n}\t\t\t\t\tJournal\tArticle\t2020"
        "\tControlled\tRegular\tTotal_Item_Requests\t2\t1\t1"
        for n in range(4000)
    ]
    text = "\n".join([*head, *rows]) + "\n"
    data = text.encode("utf-8") + "Revue d'\u00e9t\u00e9\tPub\n".encode("latin-1")
    error = _refusal(data, "tr.tsv")
    assert str(error).startswith("tr.tsv, row 4015: expected utf-8 text, found the byte 0xe9")


def test_records_can_be_read_only_once() -> None:
    report = read_report(corpus_file("cop5/r50/Sample-TR_J1.tsv"))
    list(report.records())
    with pytest.raises(CounterError, match="only once"):
        report.records()
