"""What the allocation pages show: split tables that add up, side-by-side comparisons, charts.

Built from an engine result (a preview, Decimals) or a stored one (strings):
every figure is a Decimal here and every sum is added in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from costshare.charts import Series, stacked_bars
from costshare.xlsx import Column, Sheet

#: Explanation parts the engine names itself, as the table heads them.
PART_LABELS = {
    "fixed_fee": "Fixed fee",
    "equal": "Equal",
    "bound_adjustment": "Bound adj.",
    "rounding": "Rounding",
    "shapley": "Shapley value",
    "equal_savings": "Equal savings share",
    "proportional_savings": "Proportional savings share",
}
BOUND_LABELS = {
    "cap": "cap",
    "floor": "floor",
    "max_change_up": "phase-in ↑",
    "max_change_down": "phase-in ↓",
}
BOUND_TITLES = {
    "cap": "Held at its cap (e.g. its solo price): it pays no more than this.",
    "floor": "Held at its floor: it pays at least this.",
    "max_change_up": "Held by the phase-in: its share may rise only so much from last year.",
    "max_change_down": "Held by the phase-in: its share may fall only so much from last year.",
}


def dec(value: Any) -> Decimal | None:
    """Return a stored or computed figure as a Decimal (None stays None)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def part_label(key: str) -> str:
    if key in PART_LABELS:
        return PART_LABELS[key]
    kind, _, attribute = key.partition(":")
    if attribute:
        return attribute.replace("_", " ") + ("" if kind == "attribute" else f" ({kind})")
    return key.replace("_", " ")


@dataclass
class Row:
    code: str
    name: str
    amount: Decimal
    parts: list[Decimal]
    bound: str | None
    surcharge: Decimal
    solo_price: Decimal | None
    savings: Decimal | None
    savings_pct: Decimal | None
    pays_more: bool
    raw: Decimal | None = None

    @property
    def parts_sum(self) -> Decimal:
        return sum(self.parts, Decimal(0))


@dataclass
class SplitTable:
    """One split: a row per member, a column per explanation part, totals that reconcile."""

    currency: str
    keys: list[str]
    rows: list[Row]
    price: Decimal
    surcharge_amount: Decimal
    subsidy: Decimal
    total: Decimal
    lam: Decimal | None
    groups: list[dict[str, Any]] = field(default_factory=list)
    #: Parts left out of the table because they are zero for every member.
    omitted: list[str] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: dict[str, Any], codes: Iterable[str] | None = None) -> SplitTable:
        """Build the table of `result`; `codes` limits the rows (a member user sees its own)."""
        wanted = set(codes) if codes is not None else None
        keys: dict[str, None] = {}
        for line in result["lines"]:
            for key in line["explanation"]:
                keys.setdefault(key, None)
        rows = [
            Row(
                code=line["code"],
                name=line.get("name") or line["code"],
                amount=dec(line["amount"]),
                parts=[dec(line["explanation"].get(key, 0)) for key in keys],
                bound=line.get("bound"),
                surcharge=dec(line.get("surcharge")) or Decimal(0),
                solo_price=dec(line.get("solo_price")),
                savings=dec(line.get("savings")),
                savings_pct=dec(line.get("savings_pct")),
                pays_more=bool(line.get("pays_more_than_alone")),
                raw=dec(line.get("raw")),
            )
            for line in result["lines"]
            if wanted is None or line["code"] in wanted
        ]
        return cls(
            currency=result["currency"],
            keys=list(keys),
            rows=rows,
            price=dec(result["price"]),
            surcharge_amount=dec(result["surcharge_amount"]),
            subsidy=dec(result["subsidy"]),
            total=dec(result["total"]),
            lam=dec(result.get("lambda")),
            groups=list(result.get("groups") or []),
        )

    @classmethod
    def from_allocation(cls, allocation: Any, lines: Iterable[Any] | None = None) -> SplitTable:
        """Build the table of a stored allocation from its lines (a member user: its own)."""
        lines = list(allocation.lines if lines is None else lines)
        result = {
            "currency": allocation.currency,
            "price": allocation.price,
            "surcharge_amount": allocation.surcharge_amount,
            "subsidy": allocation.subsidy,
            "total": allocation.total,
            "lambda": (allocation.result or {}).get("lambda"),
            "groups": (allocation.result or {}).get("groups"),
            "lines": [
                {
                    "code": line.code,
                    "name": line.name,
                    "amount": line.amount,
                    "raw": line.raw,
                    "explanation": line.explanation or {},
                    "bound": line.bound,
                    "surcharge": line.surcharge,
                    "solo_price": line.solo_price,
                    "savings": line.savings,
                    "savings_pct": line.savings_pct,
                    "pays_more_than_alone": line.solo_price is not None
                    and line.amount > line.solo_price,
                }
                for line in sorted(lines, key=lambda line: line.code)
            ],
        }
        return cls.from_result(result)

    def drop_empty_parts(self) -> SplitTable:
        """Leave out the explanation parts that are zero for every member (e.g. no bound held).

        The parts shown still add up to each amount; `omitted` names what was left out.
        """
        keep = [i for i in range(len(self.keys)) if any(row.parts[i] for row in self.rows)]
        self.omitted = [
            self.keys[i].replace("_", " ")
            if self.keys[i] in PART_LABELS
            else part_label(self.keys[i])
            for i in range(len(self.keys))
            if i not in keep
        ]
        self.keys = [self.keys[i] for i in keep]
        for row in self.rows:
            row.parts = [row.parts[i] for i in keep]
        return self

    @property
    def labels(self) -> list[str]:
        return [part_label(key) for key in self.keys]

    @property
    def amount_sum(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    @property
    def part_sums(self) -> list[Decimal]:
        return [sum((row.parts[i] for row in self.rows), Decimal(0)) for i in range(len(self.keys))]

    @property
    def surcharge_sum(self) -> Decimal:
        return sum((row.surcharge for row in self.rows), Decimal(0))

    @property
    def solo_sum(self) -> Decimal | None:
        solos = [row.solo_price for row in self.rows if row.solo_price is not None]
        return sum(solos, Decimal(0)) if solos else None

    @property
    def savings_sum(self) -> Decimal | None:
        savings = [row.savings for row in self.rows if row.savings is not None]
        return sum(savings, Decimal(0)) if savings else None

    @property
    def savings_pct(self) -> Decimal | None:
        solo, savings = self.solo_sum, self.savings_sum
        if not solo or savings is None:
            return None
        return savings / solo

    @property
    def reconciles(self) -> bool:
        """price + surcharge − subsidy = total = Σ amounts, exactly."""
        return self.price + self.surcharge_amount - self.subsidy == self.total == self.amount_sum

    @property
    def bound_count(self) -> int:
        return sum(1 for row in self.rows if row.bound)

    def chart(self, fmt: Callable[[Any], str]) -> Markup:
        """Stacked bars: each member's amount made of its explanation parts."""
        parts = [
            Series(label, [row.parts[i] for row in self.rows])
            for i, label in enumerate(self.labels)
            if any(row.parts[i] for row in self.rows)
        ]
        return stacked_bars(
            [row.code for row in self.rows],
            parts,
            "How each member's amount is made up",
            fmt=fmt,
        )


@dataclass
class CompareRow:
    code: str
    name: str
    amounts: list[Decimal | None]
    bounds: list[str | None]
    solo_price: Decimal | None

    def cell_class(self, index: int) -> str:
        """Colour a cell that differs from the first formula: `diff`, and worse or better."""
        first, value = self.amounts[0], self.amounts[index]
        if index == 0 or first is None or value is None or value == first:
            return ""
        return "diff worse" if value > first else "diff better"

    def change(self, index: int) -> Decimal | None:
        first, value = self.amounts[0], self.amounts[index]
        if index == 0 or first is None or value is None:
            return None
        return value - first


@dataclass
class Comparison:
    """Two or three splits of the same offer side by side."""

    names: list[str]
    tables: list[SplitTable | None]
    errors: list[str | None]
    rows: list[CompareRow]

    @classmethod
    def build(cls, names: list[str], outcomes: list[SplitTable | str]) -> Comparison:
        tables = [o if isinstance(o, SplitTable) else None for o in outcomes]
        errors = [o if isinstance(o, str) else None for o in outcomes]
        members: dict[str, str] = {}
        for table in tables:
            for row in table.rows if table else []:
                members.setdefault(row.code, row.name)
        by_code = [{row.code: row for row in table.rows} if table else {} for table in tables]
        rows = []
        for code in sorted(members):
            found = [lines.get(code) for lines in by_code]
            solo = next((r.solo_price for r in found if r is not None), None)
            rows.append(
                CompareRow(
                    code,
                    members[code],
                    [r.amount if r else None for r in found],
                    [r.bound if r else None for r in found],
                    solo,
                )
            )
        return cls(names, tables, errors, rows)

    @property
    def currency(self) -> str:
        return next(t.currency for t in self.tables if t is not None)

    @property
    def differing(self) -> int:
        """How many members pay differently under some formula than under the first."""
        return sum(
            1 for row in self.rows if any(row.cell_class(i) for i in range(1, len(self.names)))
        )


def facts_table(
    members: list[dict[str, Any]], facts_year: dict[str, dict[str, Any]], names: list[str]
) -> list[dict[str, Any]]:
    """Return, per member, the value and year of each fact in `names` that it was given."""
    rows = []
    for member in members:
        attributes = member.get("attributes", {})
        years = facts_year.get(member["code"], {}) or {}
        rows.append(
            {
                "code": member["code"],
                "cells": [(_fact(attributes.get(name)), years.get(name)) for name in names],
            }
        )
    return rows


def _fact(value: Any) -> Decimal | str | None:
    """Return a fact as a number when it is one (stored facts are strings), else as text."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return str(value)


def years_used(facts_year: dict[str, dict[str, Any]]) -> list[int]:
    """Return the calendar years the facts were taken from, oldest first."""
    return sorted({int(y) for facts in facts_year.values() for y in (facts or {}).values()})


def allocation_sheets(
    allocation: Any,
    table: SplitTable,
    facts: list[dict[str, Any]],
    names: list[str],
    usage: dict[str, Any] | None = None,
) -> list[Sheet]:
    """Return an allocation as spreadsheet tables: the split (with totals), the facts used,
    and the usage used when the formula read usage (`UsageFigures.as_json`)."""
    cur = table.currency
    columns = [
        Column("Member"),
        Column("Name"),
        Column("Amount", "money", cur),
        *(Column(label, "money", cur) for label in table.labels),
        Column("Bound"),
        Column("Of which surcharge", "money", cur),
        Column("Solo price", "money", cur),
        Column("Savings", "money", cur),
        Column("Savings %", "percent"),
    ]
    rows = [
        [
            row.code,
            row.name,
            row.amount,
            *row.parts,
            row.bound or "",
            row.surcharge,
            row.solo_price,
            row.savings,
            row.savings_pct,
        ]
        for row in table.rows
    ]
    totals = [
        "Total",
        f"{len(table.rows)} members",
        table.amount_sum,
        *table.part_sums,
        "",
        table.surcharge_sum,
        table.solo_sum,
        table.savings_sum,
        table.savings_pct,
    ]
    notes = [
        f"{allocation.offer.title} · {allocation.year} · {allocation.formula_name} · "
        f"{allocation.status}",
        f"Vendor's price {table.price} + surcharge {table.surcharge_amount} − subsidy "
        f"{table.subsidy} = members owe {table.total} {cur}",
    ]
    split = Sheet("Split", columns, rows, totals, notes=notes)
    fact_columns = [Column("Member")]
    for name in names:
        fact_columns += [Column(name, "number"), Column(f"{name}: year", "integer")]
    fact_rows = [
        [row["code"], *[v for value, year in row["cells"] for v in (value, year)]] for row in facts
    ]
    sheets = [split, Sheet("Facts used", fact_columns, fact_rows)]
    if usage:
        codes = {row.code for row in table.rows}
        window = usage.get("window") or {}
        sheets.append(
            Sheet(
                "Usage used",
                [
                    Column("Member"),
                    Column(usage.get("attribute", "usage"), "integer"),
                    Column("Months with usage", "integer"),
                    Column("From"),
                ],
                [
                    [code, m.get("uses"), m.get("months"), m.get("source") or "no usage"]
                    for code, m in (usage.get("members") or {}).items()
                    if code in codes
                ],
                notes=[
                    f"{usage.get('metric')} of {usage.get('resource')},"
                    f" {window.get('begin')} to {window.get('end')}"
                ],
            )
        )
    return sheets
