"""The demo's usage: COUNTER reports generated for the running deals, imported like uploads.

Nothing is written past the import service: each member gets real-looking files —
R5 TR_J1 views for 2025 and TR master reports for 2026 on Meridian Online, DR as CSV
for Atlas, TR for Lotus e-books (plus an overlapping TR_B1 view for SYSU, which the
figures leave out), DR for Helix as SUSHI JSON — so the pages show master reports
over views, matching by title ids, database and platform, and a few journals that
match no resource. Numbers are seeded: the demo is the same on every machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from typing import Any

from costshare.usage.figures import Window, add_months
from costshare.usage.importing import import_usage
from costshare.usage.models import SushiCredential

SEED = 20260101
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2026, 10, 1)
SUBJECTS = (
    "Applied Chemistry",
    "Cell Biology",
    "Civil Engineering",
    "Clinical Medicine",
    "Computational Physics",
    "Ecology",
    "Economics",
    "Education Research",
    "Electrical Systems",
    "Environmental Science",
    "Genetics",
    "Geosciences",
    "Linguistics",
    "Materials Science",
    "Mathematics",
    "Neuroscience",
    "Oceanography",
    "Pharmacology",
    "Public Health",
    "Robotics",
    "Sociology",
    "Statistics",
)
#: Meridian journals (title, ISSN, collection): Journals Complete, the Nursing & Health
#: Collection, and archive titles no resource lists (their usage is kept, unmatched).
MERIDIAN = [
    *((f"Meridian Journal of {s}", "complete") for s in SUBJECTS),
    *(
        (f"Meridian {t}", "nursing")
        for t in ("Nursing Practice", "Midwifery Today", "Health Informatics", "Rehabilitation")
    ),
    *((f"Meridian Archive of {t}", "archive") for t in ("Botany", "Mechanics")),
]
ISSNS = {title: f"2{n:03d}-{(n * 37) % 1000:03d}X" for n, (title, _) in enumerate(MERIDIAN, 1)}
BOOKS = [
    f"Lotus Handbook of {s}"
    for s in (
        "Asian History",
        "Chinese Law",
        "Ceramics",
        "Finance",
        "Hydrology",
        "Logistics",
        "Philosophy",
        "Urban Design",
        "Virology",
    )
]


#: The item columns every TR-family report starts with (COUNTER R5 tabular reports).
TITLE_COLUMNS = (
    "Title",
    "Publisher",
    "Publisher_ID",
    "Platform",
    "DOI",
    "Proprietary_ID",
    "ISBN",
    "Print_ISSN",
    "Online_ISSN",
    "URI",
)
#: The attributes the demo's master reports show, and the columns before the months.
MASTER_ATTRIBUTES = ("Data_Type", "Access_Type", "Access_Method")
TOTALS = ("Metric_Type", "Reporting_Period_Total")


def _months() -> list[dt.date]:
    return Window(FIRST, LAST).months()


def _isni(code: str) -> str:
    digits = sum(ord(c) * 7919**i for i, c in enumerate(code)) % 10**8
    return f"00000004{digits:08d}"


def _header(report_id: str, name: str, member: Any, months: list[dt.date]) -> list[list[str]]:
    last_day = add_months(months[-1], 1) - dt.timedelta(days=1)
    return [
        ["Report_Name", name],
        ["Report_ID", report_id],
        ["Release", "5"],
        ["Institution_Name", member.name],
        ["Institution_ID", f"ISNI:{_isni(member.code)}"],
        ["Metric_Types", ""],
        ["Report_Filters", ""],
        ["Report_Attributes", ""],
        ["Exceptions", ""],
        ["Reporting_Period", f"Begin_Date={months[0]}; End_Date={last_day}"],
        ["Created", f"{add_months(months[-1], 1)}T06:00:00Z"],
        ["Created_By", "Demo platforms"],
        [],
    ]


def _table(rows: list[list[str]], delimiter: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def _season(month: dt.date) -> float:
    return {1: 0.65, 2: 0.55, 7: 0.5, 8: 0.45}.get(month.month, 1.0)


def _counts(rng: random.Random, base: float, months: list[dt.date]) -> list[int]:
    return [max(0, int(base * _season(m) * rng.uniform(0.7, 1.3))) for m in months]


def _title_report(
    rng: random.Random,
    report_id: str,
    member: Any,
    months: list[dt.date],
    platform: str,
    titles: list[tuple[str, str, str]],
    scale: float,
) -> bytes:
    """A TR-family TSV: (title, issn or isbn, data type) rows with requests per month."""
    name = {
        "TR": "Title Master Report",
        "TR_J1": "Journal Requests (Excluding OA_Gold)",
        "TR_B1": "Book Requests (Excluding OA_Gold)",
    }[report_id]
    metrics = (
        ("Total_Item_Requests", "Unique_Item_Requests")
        if report_id != "TR_B1"
        else ("Total_Item_Requests", "Unique_Title_Requests")
    )
    columns = [*TITLE_COLUMNS, *(MASTER_ATTRIBUTES if report_id == "TR" else ()), *TOTALS]
    if report_id == "TR" and titles[0][2] == "Book":
        metrics = (*metrics, "Unique_Title_Requests")
    rows = _header(report_id, name, member, months)
    rows.append(columns + [f"{m:%b-%Y}" for m in months])
    for title, ident, data_type in titles:
        popularity = scale * rng.uniform(0.3, 1.8)
        requests = _counts(rng, popularity, months)
        for metric in metrics:
            share = {
                "Total_Item_Requests": 1.0,
                "Unique_Item_Requests": 0.78,
                "Unique_Title_Requests": 0.42,
            }[metric]
            counts = [int(n * share) for n in requests]
            isbn, issn = (ident, "") if data_type == "Book" else ("", ident)
            item = [title, "Demo Publisher", "", platform, "", "", isbn, "", issn, ""]
            if report_id == "TR":
                item += [data_type, "Controlled", "Regular"]
            rows.append([*item, metric, str(sum(counts)), *map(str, counts)])
    return _table(rows, "\t")


def _database_csv(
    rng: random.Random,
    member: Any,
    months: list[dt.date],
    platform: str,
    database: str,
    scale: float,
) -> bytes:
    rows = _header("DR", "Database Master Report", member, months)
    rows.append(
        [
            "Database",
            "Publisher",
            "Publisher_ID",
            "Platform",
            "Proprietary_ID",
            "Data_Type",
            "Access_Method",
            "Metric_Type",
            "Reporting_Period_Total",
            *[f"{m:%b-%Y}" for m in months],
        ]
    )
    searches = _counts(rng, scale, months)
    for metric, share in (
        ("Searches_Regular", 1.0),
        ("Total_Item_Investigations", 2.3),
        ("Total_Item_Requests", 0.6),
    ):
        counts = [int(n * share) for n in searches]
        rows.append(
            [
                database,
                "Demo Publisher",
                "",
                platform,
                "",
                "Database",
                "Regular",
                metric,
                str(sum(counts)),
                *map(str, counts),
            ]
        )
    return _table(rows, ",")


def _database_json(
    rng: random.Random,
    member: Any,
    months: list[dt.date],
    platform: str,
    database: str,
    scale: float,
) -> bytes:
    """A SUSHI (COUNTER API 5.0) DR response, as a harvest would bring it."""
    last_day = add_months(months[-1], 1) - dt.timedelta(days=1)
    performance = []
    for month, searches in zip(months, _counts(rng, scale, months), strict=True):
        end = add_months(month, 1) - dt.timedelta(days=1)
        instances = [
            {"Metric_Type": metric, "Count": int(searches * share)}
            for metric, share in (("Searches_Regular", 1.0), ("Total_Item_Investigations", 1.7))
            if int(searches * share)
        ]
        if instances:
            performance.append(
                {"Period": {"Begin_Date": f"{month}", "End_Date": f"{end}"}, "Instance": instances}
            )
    report = {
        "Report_Header": {
            "Created": f"{add_months(months[-1], 1)}T06:00:00Z",
            "Created_By": "HelixNav SUSHI",
            "Customer_ID": f"helix-{member.code.lower()}",
            "Report_ID": "DR",
            "Release": "5",
            "Report_Name": "Database Master Report",
            "Institution_Name": member.name,
            "Institution_ID": [{"Type": "ISNI", "Value": _isni(member.code)}],
            "Report_Filters": [
                {"Name": "Begin_Date", "Value": f"{months[0]}"},
                {"Name": "End_Date", "Value": f"{last_day}"},
            ],
        },
        "Report_Items": [
            {
                "Database": database,
                "Platform": platform,
                "Publisher": "Helix Data Services",
                "Data_Type": "Database",
                "Access_Method": "Regular",
                "Performance": performance,
            }
        ],
    }
    return json.dumps(report, ensure_ascii=False, indent=1).encode()


def _joined(offer: Any) -> list[Any]:
    return sorted(
        (p.member for p in offer.participations if p.status in ("joined", "invited")),
        key=lambda m: m.code,
    )


def seed(demo: Any) -> None:
    """Import the demo consortium's usage (see the module docstring)."""
    rng = random.Random(SEED)
    session = demo.session
    for member in demo.members.values():
        member.counter_ids = f"isni:{_isni(member.code)}\nhelix-{member.code.lower()}"
    complete = demo.resources["Meridian Journals Complete"]
    nursing = demo.resources["Meridian Nursing & Health Collection"]
    complete.counter_title_ids = [ISSNS[t] for t, kind in MERIDIAN if kind == "complete"]
    nursing.counter_title_ids = [ISSNS[t] for t, kind in MERIDIAN if kind == "nursing"]
    session.flush()
    months = _months()
    years = {
        2025: [m for m in months if m.year == 2025],
        2026: [m for m in months if m.year == 2026],
    }
    files = records = 0

    def load(member: Any, data: bytes, filename: str) -> None:
        nonlocal files, records
        result = import_usage(session, data, filename=filename, member=member, source_kind="demo")
        files += 1
        records += result.records

    for member in _joined(demo.offers["meridian"]):
        scale = member_scale(demo, member.code) * 9
        health = member.sector == "health"
        titles = [(t, ISSNS[t], "Journal") for t, kind in MERIDIAN if health or kind != "nursing"]
        for year, report_id in ((2025, "TR_J1"), (2026, "TR")):
            data = _title_report(
                rng, report_id, member, years[year], "Meridian Online", titles, scale
            )
            load(member, data, f"{member.code}_Meridian_{report_id}_{year}.tsv")
    books = [(b, f"97870000{i:05d}", "Book") for i, b in enumerate(BOOKS, start=1)]
    for member in _joined(demo.offers["lotus"]):
        scale = member_scale(demo, member.code) * 6
        for year in (2025, 2026):
            data = _title_report(rng, "TR", member, years[year], "Lotus Books Online", books, scale)
            load(member, data, f"{member.code}_Lotus_TR_{year}.tsv")
        if member.code == "SYSU":
            view = _title_report(
                rng, "TR_B1", member, years[2026][:3], "Lotus Books Online", books, scale
            )
            load(member, view, "SYSU_Lotus_TR_B1_2026-Q1.tsv")
    atlas = demo.resources["Atlas Science Citation Index"]
    for member in _joined(demo.offers["atlas"]):
        scale = member_scale(demo, member.code) * 210
        for year in (2025, 2026):
            data = _database_csv(
                rng, member, years[year], atlas.counter_platform, atlas.counter_database, scale
            )
            load(member, data, f"{member.code}_Atlas_DR_{year}.csv")
    helix = demo.resources["Helix Research Data Navigator"]
    for member in _joined(demo.offers["helix"]):
        scale = member_scale(demo, member.code) * 70
        for year in (2025, 2026):
            data = _database_json(
                rng, member, years[year], helix.counter_platform, helix.counter_database, scale
            )
            load(member, data, f"{member.code}_Helix_DR_{year}.json")
    session.add(
        SushiCredential(
            member=demo.members["SYSU"],
            vendor=demo.vendors["Helix Data Services"],
            base_url="https://sushi.helix.example.com/counter/r5",
            customer_id="helix-sysu",
            requestor_id="prlc-consortium",
            api_key="demo-key-7f3a91c2",
        )
    )
    session.flush()
    demo.notes.append(f"{files} COUNTER files imported ({records:,} usage records)")


def member_scale(demo: Any, code: str) -> float:
    """Uses grow with the member's size: its 2026 FTE in thousands."""
    fte = next(
        (f.value for f in demo.members[code].facts if f.name == "fte" and f.year == 2026), 1000
    )
    return float(fte) / 1000
