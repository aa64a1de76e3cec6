"""Which report a usage figure comes from: master reports over standard views, never both.

A title master report (TR) and its standard views (TR_J1, TR_B1, …) count the same
requests, and so do R4 reports (JR1, BR2, …), counted as TR usage. For one member,
platform, month and metric a figure uses the master report when there is one; without
one, each *slot* of views (journals, books, databases, …) gives its best view, and the
slots add up (journals and books are different titles). Within a slot the views overlap
(TR_J1 is part of TR_J3), so only the first present in `VIEW_ORDER` counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from costshare.counter import MASTER_REPORTS, R5_METRICS
from costshare.counter.model import R4_FAMILY

#: The views of each slot, best first: the most inclusive view of a slot wins.
VIEW_ORDER: dict[str, tuple[str, ...]] = {
    "journals": ("TR_J3", "TR_J1", "TR_J4", "TR_J2", "JR1", "JR1_GOA", "JR2"),
    "books": ("TR_B3", "TR_B1", "TR_B2", "BR2", "BR1"),
    "databases": ("DR_D1", "DR_D2", "DB1", "DB2"),
    "platforms": ("PR_P1", "PR1"),
    "articles": ("IR_A1",),
    "multimedia": ("IR_M1",),
}
_SLOT = {report: slot for slot, reports in VIEW_ORDER.items() for report in reports}
_RANK = {report: rank for reports in VIEW_ORDER.values() for rank, report in enumerate(reports)}

#: Metrics in the order pages offer them; the first one a resource has is its default.
PREFERRED_METRICS = (
    "Total_Item_Requests",
    "Unique_Item_Requests",
    "Unique_Title_Requests",
    "Searches_Regular",
    "Searches_Platform",
    "Total_Item_Investigations",
    "Unique_Item_Investigations",
    "Unique_Title_Investigations",
    "Searches_Automated",
    "Searches_Federated",
    "No_License",
    "Limit_Exceeded",
)
METRICS = tuple(dict.fromkeys((*PREFERRED_METRICS, *R5_METRICS)))
#: What a resource of each kind is first judged by (COUNTER's own advice: searches for
#: databases, title requests for books, item requests for journals).
KIND_METRICS = {
    "database": ("Searches_Regular", "Total_Item_Investigations"),
    "ebooks": ("Unique_Title_Requests",),
    "platform": ("Searches_Platform",),
}


def preferred_metrics(kind: str | None) -> tuple[str, ...]:
    """Return the metrics in the order a resource of `kind` is judged by."""
    return tuple(dict.fromkeys((*KIND_METRICS.get(kind or "", ()), *PREFERRED_METRICS)))


def family(report_id: str) -> str:
    """Return the master report a report's usage belongs to (TR for TR_J1 and for JR1)."""
    if report_id in R4_FAMILY:
        return R4_FAMILY[report_id]
    return report_id.split("_", 1)[0]


def is_master(report_id: str) -> bool:
    return report_id in MASTER_REPORTS


def slot(report_id: str) -> str:
    """Return the slot of a standard view (journals, books, …); a master covers them all."""
    return _SLOT.get(report_id, report_id)


def rank(report_id: str) -> int:
    return _RANK.get(report_id, len(_RANK))


def chosen_reports(present: Iterable[str]) -> frozenset[str]:
    """Return which of the reports present for one member/platform/month/metric count.

    The master report alone when present; otherwise the best view of each slot.
    """
    reports = set(present)
    masters = {r for r in reports if is_master(r)}
    if masters:
        return frozenset(masters)
    best: dict[str, str] = {}
    for report in sorted(reports, key=lambda r: (rank(r), r)):
        best.setdefault(slot(report), report)
    return frozenset(best.values())


def metric_label(metric: str) -> str:
    """Return a metric's name for people: Total_Item_Requests → Total item requests."""
    words = metric.replace("_", " ")
    return words[:1] + words[1:].lower()
