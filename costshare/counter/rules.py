"""COUNTER's own rules the reader applies: report names, standard views, R4 metric mapping."""

from __future__ import annotations

import re

from .model import R5_METRICS
from .values import norm_key

#: Report_Name → Report_ID, for R5.0 and R5.1 files whose Report_ID is missing.
R5_REPORT_NAMES = {
    norm_key(name): report_id
    for report_id, names in {
        "PR": ("Platform Master Report", "Platform Report"),
        "PR_P1": ("Platform Usage",),
        "DR": ("Database Master Report", "Database Report"),
        "DR_D1": ("Database Search and Item Usage",),
        "DR_D2": ("Database Access Denied",),
        "TR": ("Title Master Report", "Title Report"),
        "TR_B1": ("Book Requests (Excluding OA_Gold)", "Book Requests (Controlled)"),
        "TR_B2": ("Book Access Denied",),
        "TR_B3": ("Book Usage by Access Type",),
        "TR_J1": ("Journal Requests (Excluding OA_Gold)", "Journal Requests (Controlled)"),
        "TR_J2": ("Journal Access Denied",),
        "TR_J3": ("Journal Usage by Access Type",),
        "TR_J4": (
            "Journal Requests by YOP (Excluding OA_Gold)",
            "Journal Requests by YOP (Controlled)",
        ),
        "IR": ("Item Master Report", "Item Report"),
        "IR_A1": ("Journal Article Requests",),
        "IR_M1": ("Multimedia Item Requests",),
    }.items()
    for name in names
}

_REGULAR = {"access_method": "Regular"}
_CONTROLLED = {"access_type": "Controlled", "access_method": "Regular"}

#: Attributes a standard view fixes by definition (Code of Practice, section 4), so its
#: records carry them although the view has no column for them.
VIEW_ATTRIBUTES: dict[str, dict[str, str]] = {
    "TR_B1": {"data_type": "Book", **_CONTROLLED},
    "TR_B2": {"data_type": "Book", **_REGULAR},
    "TR_B3": {"data_type": "Book", **_REGULAR},
    "TR_J1": {"data_type": "Journal", **_CONTROLLED},
    "TR_J2": {"data_type": "Journal", **_REGULAR},
    "TR_J3": {"data_type": "Journal", **_REGULAR},
    "TR_J4": {"data_type": "Journal", **_CONTROLLED},
    "DR_D1": dict(_REGULAR),
    "DR_D2": dict(_REGULAR),
    "PR_P1": dict(_REGULAR),
    "IR_A1": {"data_type": "Article", **_REGULAR},
    "IR_M1": {"data_type": "Multimedia", **_REGULAR},
    "JR1": {"data_type": "Journal"},
    "JR1_GOA": {"data_type": "Journal", "access_type": "OA_Gold"},
    "JR2": {"data_type": "Journal"},
    "BR1": {"data_type": "Book"},
    "BR2": {"data_type": "Book"},
    "DB1": {"data_type": "Database"},
    "DB2": {"data_type": "Database"},
    "PR1": {"data_type": "Platform"},
}

#: Report_Filters names whose single value is an attribute of every record.
FILTER_ATTRIBUTES = {
    "datatype": "data_type",
    "sectiontype": "section_type",
    "accesstype": "access_type",
    "accessmethod": "access_method",
    "yop": "yop",
}

#: R4 reports counted under one metric, as COUNTER maps them to R5.
R4_FIXED_METRIC = {
    "JR1": "Total_Item_Requests",
    "JR1_GOA": "Total_Item_Requests",
    "BR1": "Unique_Title_Requests",
    "BR2": "Total_Item_Requests",
}

#: R4 "User Activity" of DB1 and PR1 → R5 metric. PR1's regular searches are searches of
#: the whole platform, which R5 calls Searches_Platform.
_R4_ACTIVITY = {
    "regularsearches": "Searches_Regular",
    "searchesregular": "Searches_Regular",
    "searchesfederatedandautomated": "Searches_Federated",
    "searchesfederated": "Searches_Federated",
    "searchesautomated": "Searches_Automated",
    "resultclicks": "Total_Item_Investigations",
    "recordviews": "Total_Item_Investigations",
}

_R4_TITLE = re.compile(
    r"(journal|book|database|platform|multimedia|title|consortium)\s*report\s*(\d+)\s*([a-z]*)",
)


def r4_report_id(title: str) -> str | None:
    """Return the report id an R4 report title names (JR1, JR1_GOA, BR2 …), or None."""
    match = _R4_TITLE.search(title.lower())
    if match is None:
        return None
    kind, number, suffix = match.groups()
    report_id = {"journal": "JR", "book": "BR", "database": "DB", "platform": "PR"}.get(
        kind, kind.upper()
    ) + number
    if suffix == "goa":
        return report_id + "_GOA"
    if suffix:
        return report_id + suffix
    return report_id


def r4_metric(report_id: str, activity: str) -> str | None:
    """Return the R5 metric of an R4 user activity or access-denied category, or None."""
    key = norm_key(activity)
    if report_id in ("JR2", "DB2"):
        if "limit" in key or "concurrent" in key or "simultaneous" in key:
            return "Limit_Exceeded"
        if "notlicen" in key:
            return "No_License"
        return None
    metric = _R4_ACTIVITY.get(key)
    if metric == "Searches_Regular" and report_id == "PR1":
        return "Searches_Platform"
    return metric


_R5_METRIC_KEYS = {norm_key(metric): metric for metric in R5_METRICS}

#: More distinct metric names than this that COUNTER does not know, and the file is not
#: usage at all (and a map of them would grow with the file).
UNKNOWN_METRICS = 30


def r5_metric(text: str) -> str | None:
    """Return the R5 metric a Metric_Type text names, forgiving case and spacing."""
    return _R5_METRIC_KEYS.get(norm_key(text))


def release_of(text: str) -> str | None:
    """Return "5" or "5.1" for a Release value (5, 5.0, 5.0.2, 5.1 …), None if not R5."""
    text = text.strip()
    if text in ("5", "5.0") or text.startswith("5.0."):
        return "5"
    if text == "5.1" or text.startswith("5.1."):
        return "5.1"
    return None
