"""Every negotiation table as a spreadsheet sheet (the same rows and totals as the pages)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costshare.negotiation.charts import part_label
from costshare.negotiation.overview import YearOverview
from costshare.negotiation.services import Workspace
from costshare.xlsx import Column, Sheet

ZERO = Decimal(0)


def _yes(flag: bool | None) -> str:
    return "yes" if flag else ""


def workspace_sheets(ws: Workspace) -> list[Sheet]:
    """Return the offer page's tables: solo vs joint, what-if, fairness, years, rounds, usage."""
    if ws.result is None:
        return [Sheet("Negotiation", [Column("Problem")], [[ws.error or "Nothing to show."]])]
    currency = ws.currency
    title = f"{ws.offer.title} · {ws.choice.label}"
    sheets = [_solo_joint(ws, title, currency)]
    if ws.changes:
        sheets.append(_what_if(ws, title, currency))
    if ws.fairness is not None:
        sheets.extend(_fairness(ws, title, currency))
    if ws.projection is not None:
        sheets.append(_projection(ws, title, currency))
    if ws.rounds:
        sheets.append(_rounds(ws, title, currency))
    if ws.usage:
        months = sorted({m for counts in ws.usage.values() for m in counts})
        metrics = list(ws.usage)
        sheets.append(
            Sheet(
                "Usage",
                [Column("Month"), *(Column(m, "integer") for m in metrics)],
                [[month, *(ws.usage[m].get(month, 0) for m in metrics)] for month in months],
                notes=[f"{ws.offer.resource.name}: monthly usage, all members"],
            )
        )
    return sheets


def _solo_joint(ws: Workspace, title: str, currency: str) -> Sheet:
    result = ws.result
    assert result is not None
    parts: list[str] = []
    for line in result["lines"]:
        parts.extend(k for k in line["explanation"] if k not in parts)
    columns = [
        Column("Code"),
        Column("Member"),
        Column("Solo price", "money", currency),
        Column("Joint share", "money", currency),
        Column("Saving", "money", currency),
        Column("Saving %", "percent"),
        Column("Pays more than alone"),
        Column("Bound"),
        Column("Surcharge part", "money", currency),
        *(Column(part_label(p), "money", currency) for p in parts),
    ]
    rows = [
        [
            line["code"],
            line["name"],
            line["solo_price"],
            line["amount"],
            line["savings"],
            line["savings_pct"],
            _yes(line["pays_more_than_alone"]),
            line["bound"] or "",
            line["surcharge"],
            *(line["explanation"].get(p, ZERO) for p in parts),
        ]
        for line in result["lines"]
    ]
    totals = result["totals"]
    pct = totals["savings"] / totals["solo_price"] if totals["solo_price"] else None
    total_row = [
        "Total",
        f"Vendor price {result['price']}, surcharge {result['surcharge_amount']}, "
        f"subsidy {result['subsidy']}",
        totals["solo_price"],
        totals["amount"],
        totals["savings"],
        pct,
        "",
        "",
        sum((line["surcharge"] for line in result["lines"]), ZERO),
        *(sum((line["explanation"].get(p, ZERO) for line in result["lines"]), ZERO) for p in parts),
    ]
    return Sheet("Solo vs joint", columns, rows, total_row, notes=[title])


def _what_if(ws: Workspace, title: str, currency: str) -> Sheet:
    columns = [
        Column("Code"),
        Column("Member"),
        Column("In the deal"),
        Column("Share as joined", "money", currency),
        Column("Share in the what-if", "money", currency),
        Column("Difference", "money", currency),
    ]
    status = {"in": "stays", "out": "dropped", "new": "added"}
    rows = [[c.code, c.name, status[c.status], c.before, c.after, c.difference] for c in ws.changes]
    before = ws.baseline["total"] if ws.baseline else None
    after = ws.result["total"] if ws.result else None
    total = ["Total", "", "", before, after, after - before if before is not None else None]
    notes = [title]
    if ws.baseline is not None and ws.result is not None:
        notes.append(f"Vendor price {ws.baseline['price']} → {ws.result['price']} {currency}")
    return Sheet("What-if", columns, rows, total, notes=notes)


def _fairness(ws: Workspace, title: str, currency: str) -> list[Sheet]:
    fairness = ws.fairness
    result = ws.result
    assert fairness is not None and result is not None
    columns = [
        Column("Code"),
        Column("Member"),
        Column("Formula share", "money", currency),
        Column("Shapley split", "money", currency),
        Column("Formula − Shapley", "money", currency),
    ]
    rows = [
        [
            line["code"],
            line["name"],
            line["amount"],
            fairness.shapley[line["code"]],
            line["amount"] - fairness.shapley[line["code"]],
        ]
        for line in result["lines"]
    ]
    shapley_total = sum(fairness.shapley.values(), ZERO)
    total = ["Total", "", result["total"], shapley_total, result["total"] - shapley_total]
    sheets = [Sheet("Fairness", columns, rows, total, notes=[title])]
    group_columns = [
        Column("Split"),
        Column("Group size", "integer"),
        Column("Members"),
        Column("Pays toward the vendor's price", "money", currency),
        Column("Vendor's price for the group alone", "money", currency),
        Column("Excess", "money", currency),
    ]
    group_rows: list[list[Any]] = []
    for label, check in (("Formula", fairness.formula_core), ("Shapley", fairness.shapley_core)):
        if check is None:
            continue
        for group in check.groups:
            group_rows.append(
                [label, group.size, " ".join(group.codes), group.paid, group.alone, group.excess]
            )
    notes = [
        title,
        fairness.reason or "Groups that would pay less on their own (none: in the core)",
    ]
    sheets.append(Sheet("Core check", group_columns, group_rows, notes=notes))
    return sheets


def _projection(ws: Workspace, title: str, currency: str) -> Sheet:
    projection = ws.projection
    assert projection is not None
    names = {line["code"]: line["name"] for line in projection.results[0]["lines"]}
    columns = [
        Column("Code"),
        Column("Member"),
        *(Column(str(year), "money", currency) for year in projection.years),
        Column("Whole term", "money", currency),
    ]
    rows = [
        [code, names[code], *values, sum(values, ZERO)]
        for code, values in projection.amounts().items()
    ]
    totals = [r["total"] for r in projection.results]
    total = ["Total", "", *totals, projection.total]
    return Sheet("Year by year", columns, rows, total, notes=[title])


def _rounds(ws: Workspace, title: str, currency: str) -> Sheet:
    columns = [
        Column("Code"),
        *(Column(c.label, "money", currency) for c in ws.rounds),
    ]
    codes = [line["code"] for line in ws.result["lines"]] if ws.result else []
    rows: list[list[Any]] = [[code, *(c.amount(code) for c in ws.rounds)] for code in codes]

    def figure(column: Any, key: str) -> Decimal | None:
        if column.result is None:
            return None
        if key in ("price", "total"):
            return column.result[key]
        return column.result["totals"].get(key)

    rows.append(["Vendor price", *(figure(c, "price") for c in ws.rounds)])
    rows.append(["Solo prices", *(figure(c, "solo_price") for c in ws.rounds)])
    rows.append(["Savings", *(figure(c, "savings") for c in ws.rounds)])
    if any(c.term_total is not None for c in ws.rounds):
        rows.append(["Whole term", *(c.term_total for c in ws.rounds)])
    total = ["Members pay", *(figure(c, "total") for c in ws.rounds)]
    return Sheet("Quote rounds", columns, rows, total, notes=[title])


def overview_sheets(view: YearOverview) -> list[Sheet]:
    """Return the year overview's tables: offers, and members per currency."""
    offer_columns = [
        Column("Offer"),
        Column("Vendor"),
        Column("Status"),
        Column("Currency"),
        Column("Formula"),
        Column("Members", "integer"),
        Column("Vendor price", "money"),
        Column("Members pay", "money"),
        Column("Solo prices", "money"),
        Column("Cost avoidance", "money"),
        Column("Saving %", "percent"),
        Column("Problem"),
    ]
    offer_rows = []
    for row in view.offers:
        result = row.result or {}
        totals = result.get("totals", {})
        offer_rows.append(
            [
                row.offer.title,
                row.offer.resource.vendor.name,
                row.offer.status,
                row.offer.currency,
                row.formula,
                len(result.get("lines", [])),
                result.get("price"),
                result.get("total"),
                totals.get("solo_price"),
                totals.get("savings"),
                row.savings_pct,
                row.error or "",
            ]
        )
    sheets = [
        Sheet(f"Offers {view.year}", offer_columns, offer_rows, currency_column=3),
    ]
    for currency, members in view.members.items():
        total = view.totals[currency]
        columns = [
            Column("Code"),
            Column("Member"),
            Column("Offers", "integer"),
            Column("Solo prices", "money", currency),
            Column("Joint shares", "money", currency),
            Column("Saving", "money", currency),
            Column("Saving %", "percent"),
            Column("Pays more than alone in"),
        ]
        rows = [
            [
                m.member.code,
                m.member.name,
                m.offers,
                m.solo,
                m.joint,
                m.savings,
                m.savings_pct,
                "; ".join(m.pays_more),
            ]
            for m in members
        ]
        total_row = [
            "Total",
            "",
            None,
            total.solo,
            total.joint,
            total.savings,
            total.savings_pct,
            "",
        ]
        sheets.append(Sheet(f"Members {currency}", columns, rows, total_row))
    return sheets
