"""The negotiation charts (server-rendered SVG): the same markup in the page and in a PDF."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from costshare.charts import Series, bar_chart, line_chart, stacked_bars
from costshare.negotiation.overview import YearOverview
from costshare.negotiation.services import Workspace

Money = Callable[[Any, str], str]
#: Beyond this many members a per-member line per year would be a tangle: totals only.
MAX_MEMBER_LINES = 12
ZERO = Decimal(0)


def part_label(key: str) -> str:
    """Name an explanation part for people: 'attribute:fte' → 'fte', 'bound_adjustment' → …"""
    if ":" in key:
        return key.split(":", 1)[1]
    return key.replace("_", " ")


def workspace_charts(ws: Workspace, fmt: Callable[[Any], str]) -> dict[str, Markup]:
    """Return the offer page's charts, by name; `fmt` writes an amount in the offer's currency."""
    charts: dict[str, Markup] = {}
    if ws.usage:
        charts["usage"] = usage_chart(ws.usage)
    if ws.result is None:
        return charts

    lines = ws.result["lines"]
    codes = [line["code"] for line in lines]
    if any(line["solo_price"] is not None for line in lines):
        charts["solo_joint"] = bar_chart(
            codes,
            [
                Series("Solo price", [line["solo_price"] or ZERO for line in lines]),
                Series("Joint share", [line["amount"] for line in lines]),
            ],
            "Solo price and joint share per member",
            fmt=fmt,
        )
    keys: list[str] = []
    for line in lines:
        keys.extend(k for k in line["explanation"] if k not in keys)
    charts["parts"] = stacked_bars(
        codes,
        [
            Series(part_label(key), [line["explanation"].get(key, ZERO) for line in lines])
            for key in keys
        ],
        "How each joint share adds up",
        fmt=fmt,
    )
    if ws.projection is not None:
        charts.update(projection_charts(ws, fmt))
    priced = [c for c in ws.rounds if c.result is not None]
    if len(priced) > 1:
        charts["rounds"] = bar_chart(
            [c.short for c in priced],
            [
                Series("Vendor price", [c.result["price"] for c in priced]),
                Series("Members pay", [c.result["total"] for c in priced]),
                Series("Solo prices", [c.result["totals"]["solo_price"] or ZERO for c in priced]),
            ],
            "What each round would cost",
            fmt=fmt,
        )
    return charts


def projection_charts(ws: Workspace, fmt: Callable[[Any], str]) -> dict[str, Markup]:
    """Return the year-by-year totals chart and, for a readable number of members, each share."""
    projection = ws.projection
    assert projection is not None
    labels = [str(y) for y in projection.years]
    series = [Series("Members pay", [r["total"] for r in projection.results])]
    if projection.solo_total is not None:
        series.append(
            Series("Solo prices", [r["totals"]["solo_price"] for r in projection.results])
        )
    charts = {"years": line_chart(labels, series, "Year by year: what the members pay", fmt=fmt)}
    amounts = projection.amounts()
    if len(amounts) <= MAX_MEMBER_LINES:
        charts["years_members"] = line_chart(
            labels,
            [Series(code, values) for code, values in amounts.items()],
            "Year by year: each member's share",
            fmt=fmt,
        )
    return charts


def usage_chart(usage: dict[str, dict[str, int]]) -> Markup:
    months = sorted({month for counts in usage.values() for month in counts})
    return line_chart(
        months,
        [Series(metric, [counts.get(m, 0) for m in months]) for metric, counts in usage.items()],
        "Monthly usage of this resource, all members",
    )


def overview_charts(view: YearOverview, money: Money) -> dict[str, Markup]:
    """Return one solo-vs-joint chart per currency of the year."""
    charts = {}
    for currency, rows in view.members.items():
        charts[currency] = bar_chart(
            [row.member.code for row in rows],
            [
                Series("Solo prices", [row.solo for row in rows]),
                Series("Joint shares", [row.joint_compared for row in rows]),
            ],
            f"Solo vs joint per member, {view.year} ({currency})",
            fmt=lambda value, currency=currency: money(value, currency),
        )
    return charts
