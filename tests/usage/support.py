"""COUNTER files written by hand for the usage tests: every count is visible in the test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from costshare.usage.demo import TITLE_COLUMNS, TOTALS

TR_COLUMNS = [
    *TITLE_COLUMNS,
    "Data_Type",
    "Section_Type",
    "YOP",
    "Access_Type",
    "Access_Method",
    *TOTALS,
]
DR_COLUMNS = [
    "Database",
    "Publisher",
    "Publisher_ID",
    "Platform",
    "Proprietary_ID",
    "Data_Type",
    "Access_Method",
    "Metric_Type",
    "Reporting_Period_Total",
]
REPORT_NAMES = {
    "TR": "Title Master Report",
    "TR_J1": "Journal Requests (Excluding OA_Gold)",
    "TR_J3": "Journal Usage by Access Type",
    "TR_B1": "Book Requests (Excluding OA_Gold)",
    "DR": "Database Master Report",
}


@dataclass
class Line:
    """One title (or database) row: its metric and a count per month (month → count)."""

    title: str
    metric: str
    counts: dict[str, int]
    platform: str = "Meridian Online"
    issn: str = ""
    data_type: str = "Journal"


@dataclass
class Report:
    report_id: str = "TR"
    begin: str = "2026-01"
    end: str = "2026-03"
    lines: Sequence[Line] = field(default_factory=list)
    institution: str = "Own University Library"
    institution_id: str = "ISNI:0000000112345678"
    release: str = "5"

    def months(self) -> list[dt.date]:
        first = dt.date(int(self.begin[:4]), int(self.begin[5:]), 1)
        last = dt.date(int(self.end[:4]), int(self.end[5:]), 1)
        result = []
        while first <= last:
            result.append(first)
            first = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return result

    def tsv(self, bad_row: int | None = None) -> bytes:
        """Return the report as R5 TSV; `bad_row` (1-based data row) gets the count "12x"."""
        months = self.months()
        last_day = dt.date(
            months[-1].year + months[-1].month // 12, months[-1].month % 12 + 1, 1
        ) - dt.timedelta(days=1)
        database = self.report_id.startswith("DR")
        header = [
            ("Report_Name", REPORT_NAMES.get(self.report_id, self.report_id)),
            ("Report_ID", self.report_id),
            ("Release", self.release),
            ("Institution_Name", self.institution),
            ("Institution_ID", self.institution_id),
            ("Metric_Types", ""),
            ("Report_Filters", ""),
            ("Report_Attributes", ""),
            ("Exceptions", ""),
            ("Reporting_Period", f"Begin_Date={months[0]}; End_Date={last_day}"),
            ("Created", "2026-11-01T10:00:00Z"),
            ("Created_By", "Test Platform"),
        ]
        columns = (DR_COLUMNS if database else TR_COLUMNS) + [f"{m:%b-%Y}" for m in months]
        out = ["\t".join(pair) for pair in header]
        out += ["", "\t".join(columns)]
        for number, line in enumerate(self.lines, start=1):
            cells = [str(line.counts.get(f"{m:%Y-%m}", 0)) for m in months]
            if number == bad_row:
                cells[0] = "12x"
            total = str(sum(line.counts.values()))
            if database:
                item = [line.title, "Pub", "", line.platform, "", "Database", "Regular"]
            else:
                item = [
                    line.title,
                    "Pub",
                    "",
                    line.platform,
                    "",
                    "",
                    "",
                    "",
                    line.issn,
                    "",
                    line.data_type,
                    "Article",
                    "2020",
                    "Controlled",
                    "Regular",
                ]
            out.append("\t".join([*item, line.metric, total, *cells]))
        return ("\n".join(out) + "\n").encode()


def journal_report(
    counts: dict[str, int],
    report_id: str = "TR",
    *,
    title: str = "Journal of Tests",
    issn: str = "1234-5678",
    metric: str = "Total_Item_Requests",
    platform: str = "Meridian Online",
    begin: str | None = None,
    end: str | None = None,
    **kwargs,
) -> Report:
    """Return a one-title report with these monthly counts (its period: their months)."""
    months = sorted(counts)
    return Report(
        report_id,
        begin or months[0],
        end or months[-1],
        [Line(title, metric, counts, platform=platform, issn=issn)],
        **kwargs,
    )


def usage_spec(**changes):
    """Return a formula's usage settings: Total_Item_Requests of the 12 months before the term."""
    spec = {
        "attribute": "usage",
        "metric": "Total_Item_Requests",
        "window": {"months": 12, "before_term": True},
        "resource_id": None,
        "missing": "zero",
    }
    spec.update(changes)
    return spec
