"""Every file of the shared COUNTER corpus reads, or is refused with a precise CounterError.

Totals are checked against numbers computed without this reader: EXPECTED.md (parsed
here, so a row added there is checked too) and sums counted by hand from the files.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from costshare.counter import (
    R5_METRICS,
    CounterError,
    CounterInternalError,
    inspect,
    read_report,
)
from tests.counter import corpus as corpus_module
from tests.counter.corpus import CORPUS, corpus, corpus_file, data_files

#: Corpus files this reader refuses, and a phrase of the reason it must give. None of the
#: 60 is genuinely broken: the odd ones (a header-only JR1, a TR without month columns,
#: a date-run placeholder, exception-only SUSHI responses) are all read, with warnings.
REFUSED: dict[str, str] = {}

FILES = data_files()


@pytest.mark.parametrize("relative", FILES or ["(corpus missing)"])
def test_every_corpus_file_reads_or_is_refused_precisely(relative: str) -> None:
    path = corpus_file(relative)
    if relative in REFUSED:
        with pytest.raises(CounterError) as caught:
            inspect(path)
        assert not isinstance(caught.value, CounterInternalError)
        assert str(caught.value).startswith(path.name)
        assert REFUSED[relative] in str(caught.value)
        return
    report = read_report(path)
    records = list(report.records())
    summary = report.summary
    assert summary.complete
    assert summary.records == len(records)
    for item, metric, month, count in records:
        assert type(count) is int and count > 0
        assert month.day == 1
        assert metric in R5_METRICS
        assert (item.release, item.report_id) == (summary.release, summary.report_id)
    by_metric: Counter[str] = Counter()
    for _, metric, _, count in records:
        by_metric[metric] += count
    assert dict(by_metric) == summary.totals


def test_the_corpus_holds_the_sixty_files_sources_md_lists() -> None:
    corpus()
    assert len(FILES) == 60
    assert set(REFUSED) <= set(FILES)


# -- EXPECTED.md -------------------------------------------------------------------------

_ABBREVIATIONS = {
    "TIR": "Total_Item_Requests",
    "UIR": "Unique_Item_Requests",
    "TII": "Total_Item_Investigations",
    "UII": "Unique_Item_Investigations",
}


def _expected() -> list[tuple[str, str, object]]:
    """Return EXPECTED.md's rows as (file, metric or "months", total or {month: count})."""
    checks = []
    text = (corpus() / "EXPECTED.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        files = [names[0]] + [re.sub(r"\.\w+$", n, names[0]) for n in names[1:]]
        if cells[1] == "months":
            months = re.findall(r"\d{4}-\d{2}", cells[2])
            abbreviation, counts = re.search(r"\((\w+) ([\d /]+)\)", cells[2]).groups()
            value: object = (
                _ABBREVIATIONS[abbreviation],
                dict(zip(months, map(int, counts.split("/")), strict=True)),
            )
            checks += [(f, "months", value) for f in files]
        else:
            checks += [(f, cells[1], int(cells[2].replace(",", ""))) for f in files]
    return checks


def test_expected_md_is_parsed_into_every_check_it_lists() -> None:
    checks = _expected()
    # Sample-TR_J1: 2 metrics × 3 formats + its months; issue_14, counter4_br2; tr_j1.json × 2.
    assert len(checks) == 11


def test_totals_equal_the_independently_computed_expected_md() -> None:
    for relative, metric, expected in _expected():
        records = list(read_report(CORPUS / relative).records())
        if metric == "months":
            metric_name, by_month = expected  # type: ignore[misc]
            found: Counter[str] = Counter()
            for _, m, month, count in records:
                if m == metric_name:
                    found[f"{month:%Y-%m}"] += count
            assert dict(found) == by_month, relative
        else:
            assert sum(c for _, m, _, c in records if m == metric) == expected, relative
            assert inspect(CORPUS / relative).totals[metric] == expected, relative


#: Totals counted by hand from the files (the arithmetic is in the comment beside each).
HAND_COUNTED = [
    # Database1..7 rows: 3 + 43 + 4 + 13 + 198562; the "All Databases" row (9550) is not usage.
    ("celus-nibbler/counter5/DR-e.csv", "Searches_Regular", 198_625),
    # 6 + 50 + 4 + 965858 + 3 + 1, empty cells counting 0.
    ("celus-nibbler/counter5/DR-e.csv", "Total_Item_Investigations", 965_922),
    # R4 PR1: regular searches are platform searches; result clicks 107 + record views 59.
    ("celus-nibbler/counter4/PR1-c.tsv", "Searches_Platform", 210),
    ("celus-nibbler/counter4/PR1-c.tsv", "Searches_Federated", 7),
    ("celus-nibbler/counter4/PR1-c.tsv", "Total_Item_Investigations", 166),
    # R4 DB1: regular searches 20 + 5; result clicks 11 + 6 and record views 2 + 1.
    ("pycounter/counter4/C4DB1.tsv", "Searches_Regular", 25),
    ("pycounter/counter4/C4DB1.tsv", "Total_Item_Investigations", 20),
    # R4 DB2 without its two "Total for all databases" rows.
    ("celus-nibbler/counter4/DB2-a.tsv", "Limit_Exceeded", 5),
    ("celus-nibbler/counter4/DB2-a.tsv", "No_License", 1),
    # R4 JR2, "not licensed": 4 + 1 (the total row's 12 is not trusted).
    ("celus/counter4/4_JR2_denials.tsv", "No_License", 5),
    # R4 BR1 with empty cells and "6 " (trailing space): 32 + 6.
    ("celus-nibbler/counter4/BR1-empty_values.csv", "Unique_Title_Requests", 38),
    # Acta Numerica: 2+1+0+0+0+5+1+1+0+5+1+"1,000" under mixed month headings.
    ("pycounter/counter4/C4JR1_bad.csv", "Total_Item_Requests", 1_016),
    # The 12 months under Excel headings 22-Jan … 22-Dec: 10042 + 15922 + … + 9678.
    ("celus-nibbler/counter4/JR1-d.csv", "Total_Item_Requests", 147_277),
    # Eleven JAMA journals, counts stored as text cells, total row left out.
    ("pycounter/counter4/JR1.xlsx", "Total_Item_Requests", 114_773),
    # October 10114 + November 11460; the Oct–Nov entry beside them repeats them.
    ("folio-mod-erm-usage-counter/hwire_pr.json", "Total_Item_Investigations", 21_574),
    # Counts given as strings: October 7341 + November 8547.
    ("folio-mod-erm-usage-counter/hwire_pr.json", "Total_Item_Requests", 15_888),
    # Fully quoted CSV, empty attribute columns: 5 + 4 (January, March).
    ("folio-mod-erm-usage-counter/TR_withquotes.csv", "Total_Item_Investigations", 9),
    # PR master report: 8 searches in Jan-2022, the Total/All Platforms rows left out.
    ("celus-nibbler/counter5/PR-g.tsv", "Searches_Platform", 8),
    # Whole-period counts only (Exclude_Monthly_Details): 4 + 1.
    ("celus-nibbler/counter5/TR-exclude_monthly_details.csv", "No_License", 5),
    # Two items with data beside a 3032 exception: 6 + 3.
    ("celus-nibbler/counter5/TR-c.json", "Total_Item_Requests", 9),
    # Platform 2's Journal row of the quoted PR, with thousands in it: 1,135,849 as text.
    ("celus/counter5/counter5_table_pr.csv", "Searches_Platform", 139_969),
    # Wrapped in {"body": …}: ten items' Total_Item_Requests of 1 each.
    ("celus/counter5/5_TR_ProQuestEbookCentral.json", "Total_Item_Requests", 10),
    # Only February has data (1): January and March are absent, so zero.
    ("folio-mod-erm-usage-harvester/dr_with_empty_months.json", "Total_Item_Investigations", 1),
]


@pytest.mark.parametrize(("relative", "metric", "expected"), HAND_COUNTED)
def test_totals_equal_hand_counted_sums(relative: str, metric: str, expected: int) -> None:
    records = read_report(corpus_file(relative)).records()
    assert sum(c for _, m, _, c in records if m == metric) == expected


def test_excel_month_headings_become_months() -> None:
    # JR1-d heads its months 22-Jan … 22-Dec; C4JR1_bad mixes Jan-2011, 2011-03 and 4-2011.
    assert inspect(corpus_file("celus-nibbler/counter4/JR1-d.csv")).months == [
        date(2022, m, 1) for m in range(1, 13)
    ]
    assert inspect(corpus_file("pycounter/counter4/C4JR1_bad.csv")).months == [
        date(2011, m, 1) for m in range(1, 13)
    ]


def test_without_the_corpus_tests_skip_but_fail_under_strict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(corpus_module, "CORPUS", tmp_path / "absent")
    monkeypatch.delenv("COSTSHARE_STRICT", raising=False)
    with pytest.raises(pytest.skip.Exception):
        corpus_module.corpus()
    monkeypatch.setenv("COSTSHARE_STRICT", "1")
    with pytest.raises(pytest.fail.Exception):
        corpus_module.corpus()
