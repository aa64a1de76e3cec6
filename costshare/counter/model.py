"""What the COUNTER reader gives out: items, records, exceptions and the report summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

#: Master reports of Release 5; every other R5 report id is a standard view of one of them.
MASTER_REPORTS = ("TR", "DR", "PR", "IR")

R5_REPORTS = frozenset(
    {
        "TR",
        "TR_B1",
        "TR_B2",
        "TR_B3",
        "TR_J1",
        "TR_J2",
        "TR_J3",
        "TR_J4",
        "DR",
        "DR_D1",
        "DR_D2",
        "PR",
        "PR_P1",
        "IR",
        "IR_A1",
        "IR_M1",
    }
)

R4_REPORTS = frozenset({"JR1", "JR1_GOA", "JR2", "BR1", "BR2", "DB1", "DB2", "PR1"})

#: The master report whose usage an R4 report corresponds to.
R4_FAMILY = {
    "JR1": "TR",
    "JR1_GOA": "TR",
    "JR2": "TR",
    "BR1": "TR",
    "BR2": "TR",
    "DB1": "DR",
    "DB2": "DR",
    "PR1": "PR",
}

R5_METRICS = (
    "Searches_Automated",
    "Searches_Federated",
    "Searches_Regular",
    "Searches_Platform",
    "Total_Item_Investigations",
    "Unique_Item_Investigations",
    "Unique_Title_Investigations",
    "Total_Item_Requests",
    "Unique_Item_Requests",
    "Unique_Title_Requests",
    "No_License",
    "Limit_Exceeded",
)


class Item(NamedTuple):
    """A report item (title, database or platform) with the attributes its counts share.

    Missing values are empty strings. ``release`` and ``report_id`` say which report
    the item was read from.
    """

    platform: str
    name: str
    publisher: str
    print_issn: str
    online_issn: str
    isbn: str
    doi: str
    proprietary_id: str
    uri: str
    data_type: str
    section_type: str
    yop: str
    access_type: str
    access_method: str
    release: str
    report_id: str


#: One count: ``(item, metric, month, count)`` — an Item, an R5 metric name, the first day of
#: the month, and a count above zero. A plain tuple, because a report may hold millions of
#: them: unpack it (``for item, metric, month, count in report.records()``) or index it
#: with ITEM, METRIC, MONTH, COUNT. Consecutive records of one item share the Item object.
Record = tuple[Item, str, date, int]
ITEM, METRIC, MONTH, COUNT = range(4)

#: Field order of :func:`record_row`, the flat form a database insert wants.
RECORD_ROW_FIELDS = (*Item._fields, "metric", "month", "count")


def record_row(record: Record) -> tuple:
    """Return the record as one flat tuple in ``RECORD_ROW_FIELDS`` order."""
    return (*record[0], record[1], record[2], record[3])


class SushiException(NamedTuple):
    """A COUNTER/SUSHI exception carried by a report or a SUSHI response."""

    code: int | str | None
    severity: str
    message: str
    data: str

    def as_dict(self) -> dict[str, object]:
        """Return the exception as a plain dict."""
        return self._asdict()


@dataclass
class Summary:
    """What a report holds; complete once its records have all been read (``complete``)."""

    file: str
    format: str
    release: str | None = None
    report_id: str | None = None
    report_name: str | None = None
    institution_name: str | None = None
    institution_ids: list[str] = field(default_factory=list)
    customer_id: str | None = None
    platforms: list[str] = field(default_factory=list)
    begin: date | None = None
    end: date | None = None
    months: list[date] = field(default_factory=list)
    items: int = 0
    records: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    totals_by_month: dict[str, dict[date, int]] = field(default_factory=dict)
    exceptions: list[SushiException] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    created: datetime | date | None = None
    created_by: str | None = None
    #: False when counts cover the whole period rather than months (Exclude_Monthly_Details).
    monthly: bool = True
    complete: bool = False

    @property
    def is_master(self) -> bool:
        """Tell whether this is an R5 master report (TR, DR, PR, IR) rather than a view."""
        return self.report_id in MASTER_REPORTS

    @property
    def master_report(self) -> str | None:
        """Return the master report this report's usage belongs to (TR for TR_J1 or JR1)."""
        if self.report_id is None:
            return None
        if self.report_id in R4_FAMILY:
            return R4_FAMILY[self.report_id]
        return self.report_id.split("_", 1)[0]

    @property
    def platform(self) -> str | None:
        """Return the single platform of the report, or None when it has none or several."""
        return self.platforms[0] if len(self.platforms) == 1 else None

    def as_dict(self) -> dict[str, object]:
        """Return the summary as JSON-ready data (dates as ISO text, months as YYYY-MM)."""
        return {
            "file": self.file,
            "format": self.format,
            "release": self.release,
            "report_id": self.report_id,
            "report_name": self.report_name,
            "master_report": self.master_report,
            "is_master": self.is_master,
            "institution_name": self.institution_name,
            "institution_ids": list(self.institution_ids),
            "customer_id": self.customer_id,
            "platforms": list(self.platforms),
            "begin": _iso(self.begin),
            "end": _iso(self.end),
            "months": [f"{m:%Y-%m}" for m in self.months],
            "monthly": self.monthly,
            "items": self.items,
            "records": self.records,
            "totals": dict(self.totals),
            "totals_by_month": {
                metric: {f"{m:%Y-%m}": n for m, n in sorted(by_month.items())}
                for metric, by_month in self.totals_by_month.items()
            },
            "exceptions": [e.as_dict() for e in self.exceptions],
            "warnings": list(self.warnings),
            "created": _iso(self.created),
            "created_by": self.created_by,
            "complete": self.complete,
        }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
