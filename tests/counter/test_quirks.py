"""The messy real-world forms of COUNTER files, one quirk at a time."""

from __future__ import annotations

from datetime import date

import pytest

from costshare.counter import SushiException, inspect, read_report
from tests.counter.corpus import FIXTURES, corpus_file

#: SUSHI responses that carry exceptions only: (file, exception codes, report id).
EXCEPTION_ONLY = [
    ("celus/counter5/5_DR_ProQuestEbookCentral_exception.json", [1001], None),
    ("celus/counter5/naked_errors.json", [1011, 3060], None),
    ("celus/counter5/no_data_3050.json", [3050], "TR"),
    ("celus/counter5/stringified_error.json", [2090], "TR"),
    ("folio-mod-erm-usage-counter/TR_r51_with_exception.json", [3031], "TR"),
    ("folio-mod-erm-usage-harvester/SampleReportExceptionError.json", [1030], "TR_J1"),
]


@pytest.mark.parametrize(("relative", "codes", "report_id"), EXCEPTION_ONLY)
def test_an_exception_only_response_gives_no_records_and_its_exception(
    relative: str, codes: list[int], report_id: str | None
) -> None:
    report = read_report(corpus_file(relative))
    assert list(report.records()) == []
    assert [e.code for e in report.summary.exceptions] == codes
    assert report.summary.report_id == report_id
    assert report.summary.totals == {}


def test_exception_fields_are_read_whatever_their_case_or_type() -> None:
    proquest = inspect(corpus_file("celus/counter5/5_DR_ProQuestEbookCentral_exception.json"))
    assert proquest.exceptions == [SushiException(1001, "Error", "executeSushiAnalysis", "")]
    # Code as the string "3062", with data beside it.
    warning = inspect(corpus_file("celus/counter5/some_data_3062.json"))
    assert warning.exceptions[0].code == 3062
    assert warning.exceptions[0].severity == "Warning"
    assert warning.records == 20
    # R5.1 dropped Severity.
    r51 = inspect(corpus_file("folio-mod-erm-usage-counter/TR_r51_with_exception.json"))
    assert r51.exceptions[0] == SushiException(
        3031, "", "Usage Not Ready for Requested Dates", "string"
    )


def test_pseudo_total_rows_are_never_counted_and_are_reported() -> None:
    summary = inspect(corpus_file("celus-nibbler/counter5/PR-g.tsv"))
    assert summary.items == 1
    assert any("Total, All Platforms, Total searches" in w for w in summary.warnings)
    records = read_report(corpus_file("pycounter/counter4/C4JR1.csv")).records()
    # "Total for all journals" is left out; Abstracts of Working Papers has only zeros.
    assert {item.name for item, *_ in records} == {"Acta Numerica"}


def test_r4_reports_map_to_r5_metrics_and_keep_their_release() -> None:
    expected = {
        "pycounter/counter4/issue_14.tsv": {"Total_Item_Requests"},  # JR1
        "celus/counter4/4_JR2_denials.tsv": {"No_License"},  # JR2
        "celus-nibbler/counter4/BR1-empty_values.csv": {"Unique_Title_Requests"},  # BR1
        "celus/counter4/counter4_br2.tsv": {"Total_Item_Requests"},  # BR2
        "pycounter/counter4/C4DB1.tsv": {
            "Searches_Regular",
            "Searches_Federated",
            "Total_Item_Investigations",
        },
        "celus-nibbler/counter4/DB2-a.tsv": {"Limit_Exceeded", "No_License"},
    }
    for relative, metrics in expected.items():
        records = list(read_report(corpus_file(relative)))
        assert {metric for _, metric, _, _ in records} == metrics, relative
        assert {item.release for item, *_ in records} == {"4"}


def test_result_clicks_and_record_views_become_one_investigation_count() -> None:
    records = list(read_report(corpus_file("pycounter/counter4/C4DB1.tsv")))
    investigations = [
        (m, c) for _, metric, m, c in records if metric == "Total_Item_Investigations"
    ]
    # February: 11 clicks + 2 views; May: 6 clicks + 1 view; one record per month.
    assert investigations == [(date(2012, 2, 1), 13), (date(2012, 5, 1), 7)]


def test_br2_takes_its_section_type_from_the_header() -> None:
    item = next(iter(read_report(corpus_file("pycounter/counter4/C4BR2.tsv"))))[0]
    assert (item.data_type, item.section_type, item.isbn) == ("Book", "Chapter", "9787490833809")


def test_empty_cells_count_zero() -> None:
    summary = inspect(corpus_file("celus-nibbler/counter5/DR-e.csv"))
    # Database2's Searches_Federated cells, most of them empty: 3+1+6+13+10+5+14+41+2+15+4+1.
    records = read_report(corpus_file("celus-nibbler/counter5/DR-e.csv")).records()
    federated = [
        c for item, m, _, c in records if item.name == "Database2" and m == "Searches_Federated"
    ]
    assert sum(federated) == 115
    assert len(summary.months) == 29


def test_all_metric_cells_empty_reads_as_no_usage() -> None:
    summary = inspect(corpus_file("pycounter/counter5/tr_j1.tsv"))
    assert (summary.records, summary.items, summary.totals) == (0, 2, {})


def test_a_header_only_report_reads_with_no_records() -> None:
    summary = inspect(corpus_file("celus/counter4/counter4_jr1_empty.tsv"))
    assert (summary.report_id, summary.records, summary.months) == ("JR1", 0, [date(2020, 1, 1)])


def test_wrapped_and_double_encoded_json() -> None:
    wrapped = inspect(corpus_file("celus/counter5/5_TR_ProQuestEbookCentral.json"))
    assert (wrapped.report_id, wrapped.institution_name, wrapped.items) == ("TR", "Hidden", 7)
    twice = inspect(corpus_file("celus/counter5/stringified_error.json"))
    # Release 5 and Created sit outside Report_Header, Report_ID is lower case.
    assert (twice.release, twice.report_id) == ("5", "TR")
    assert twice.created is not None and twice.created.utcoffset() is not None
    assert any("encoded twice" in w for w in twice.warnings)


def test_header_fields_at_the_top_level_of_the_response() -> None:
    summary = inspect(corpus_file("celus/counter5/no_data_3050.json"))
    assert (summary.release, summary.institution_name, summary.customer_id) == (
        "5",
        "My Library",
        "CCCCCCCCCC",
    )
    assert (summary.begin, summary.end) == (date(2019, 4, 1), date(2019, 4, 30))


def test_master_reports_and_standard_views_are_told_apart() -> None:
    cases = {
        "cop5/r51/TR_sample_r51.tsv": ("TR", True, "TR"),
        "cop5/r51/TRJ1_sample_r51.tsv": ("TR_J1", False, "TR"),
        "cop5/r50/Sample-DR_D1.tsv": ("DR_D1", False, "DR"),
        "cop5/r51/PRP1_sample_r51.tsv": ("PR_P1", False, "PR"),
        "celus-nibbler/counter5/DR-e.csv": ("DR", True, "DR"),  # its Report_Name is non-standard
        "pycounter/counter4/issue_14.tsv": ("JR1", False, "TR"),
    }
    for relative, expected in cases.items():
        summary = inspect(corpus_file(relative))
        assert (summary.report_id, summary.is_master, summary.master_report) == expected


def test_a_standard_view_fixes_the_attributes_its_definition_filters_on() -> None:
    item = next(iter(read_report(corpus_file("cop5/r50/Sample-TR_J1.tsv"))))[0]
    assert (item.data_type, item.access_type, item.access_method) == (
        "Journal",
        "Controlled",
        "Regular",
    )
    master = next(iter(read_report(corpus_file("cop5/r51/TR_sample_r51.tsv"))))[0]
    assert (master.data_type, master.yop, master.access_method) == ("Book", "2022", "Regular")


def test_r51_header_and_identifiers() -> None:
    summary = inspect(corpus_file("cop5/r51/TRJ1_sample_r51.json"))
    assert summary.release == "5.1"
    assert summary.institution_ids == ["ISNI:1234123412341234"]
    item = next(iter(read_report(corpus_file("cop5/r51/TRJ1_sample_r51.json"))))[0]
    assert (item.doi, item.proprietary_id, item.online_issn) == (
        "10.9999/xxxxt03",
        "P1:T03",
        "1234-4321",
    )


def test_the_same_report_in_tsv_json_and_xlsx_gives_the_same_records() -> None:
    def records(relative: str) -> list[tuple]:
        return sorted(
            (item.name, item.doi, item.yop, item.access_method, metric, month, count)
            for item, metric, month, count in read_report(corpus_file(relative))
        )

    tsv = records("cop5/r51/TR_sample_r51.tsv")
    assert tsv == records("cop5/r51/TR_sample_r51.json")
    assert tsv == records("cop5/r51/TR_sample_r51.xlsx")  # counts stored as text cells


def test_period_totals_are_dated_at_the_period_start_and_flagged() -> None:
    summary = inspect(corpus_file("celus-nibbler/counter5/TR-exclude_monthly_details.csv"))
    assert not summary.monthly
    assert summary.months == [date(2020, 1, 1)]
    assert any("Exclude_Monthly_Details" in w for w in summary.warnings)


def test_months_absent_from_json_are_zero_and_not_invented() -> None:
    summary = inspect(corpus_file("folio-mod-erm-usage-harvester/dr_with_empty_months.json"))
    assert summary.months == [date(2021, 2, 1)]
    assert (summary.begin, summary.end) == (date(2021, 1, 1), date(2021, 3, 31))


def test_unparseable_dates_are_warnings_not_errors() -> None:
    placeholder = inspect(corpus_file("folio-mod-erm-usage/counterreport.csv"))
    assert placeholder.created is None
    assert any("$$$date_run$$$" in w for w in placeholder.warnings)
    us_date = inspect(corpus_file("pycounter/counter4/C4JR1_bad.csv"))
    assert us_date.created == date(2012, 2, 21)


def test_a_row_institution_differing_from_the_header_is_noted() -> None:
    summary = inspect(corpus_file("celus-nibbler/counter5/TR-with-organization.tsv"))
    assert summary.institution_name == "Client Demo Site"
    assert any('"MyLib"' in w for w in summary.warnings)


def test_r51_item_report_reads_nested_items() -> None:
    report = read_report(FIXTURES / "ir_r51.json")
    records = list(report)
    # Article One: 7 + 5 regular and 20 TDM; Article Two: 1 (its February 0 is no record).
    assert sum(c for _, m, _, c in records if m == "Total_Item_Requests") == 33
    assert report.summary.items == 2
    assert {item.name for item, *_ in records} == {"Article One", "Article Two"}
    assert {item.access_method for item, *_ in records} == {"Regular", "TDM"}
    assert report.summary.end == date(2022, 2, 28)


def test_items_before_the_header_are_read_after_it() -> None:
    report = read_report(FIXTURES / "items_before_header.json")
    assert report.summary.report_id == "TR_J1"
    records = list(report)
    assert sum(c for _, m, _, c in records if m == "Total_Item_Requests") == 15  # 11 + "4"
    assert {item.report_id for item, *_ in records} == {"TR_J1"}


def test_semicolon_separated_values_with_spaced_thousands() -> None:
    summary = inspect(FIXTURES / "tr_j1_semicolon.csv")
    assert summary.format == "csv"
    assert summary.totals == {"Total_Item_Requests": 1_234, "Unique_Item_Requests": 30}


def test_jr1_goa_counts_gold_open_access_requests() -> None:
    records = list(read_report(FIXTURES / "jr1_goa.csv"))
    # Open Journal A 5 + 2, B 1 + 1; the total row's 9 is not counted.
    assert sum(count for *_, count in records) == 9
    assert {(item.report_id, item.access_type, metric) for item, metric, _, _ in records} == {
        ("JR1_GOA", "OA_Gold", "Total_Item_Requests")
    }


def test_r51_whole_period_counts_are_dated_at_the_period_start() -> None:
    data = (
        b'{"Report_Header": {"Release": "5.1", "Report_ID": "PR", "Report_Filters":'
        b' {"Begin_Date": "2023-01-01", "End_Date": "2023-06-30"}}, "Report_Items": [{'
        b'"Platform": "P", "Attribute_Performance": [{"Performance":'
        b' {"Searches_Platform": {"Totals": 42}}}]}]}'
    )
    report = read_report(data, "pr.json")
    [(item, metric, month, count)] = list(report)
    assert (item.name, metric, month, count) == ("P", "Searches_Platform", date(2023, 1, 1), 42)
    assert not report.summary.monthly
