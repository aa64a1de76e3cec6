"""The pricing editor ⇄ a round's `pricing` in the engine's shape (spec sections 1, 6, 7).

`pricing_from_form` writes exactly the engine's keys — `total` or
`pricing{kind, …}`, optionally `price_list`, `term{years, uplift}|{totals}`,
`surcharge`, `subsidy` — with money as strings; `form_data` reads them back
into the editor; `field_for` turns an engine error's dotted field path
(`pricing.tiers[1].discount`) into the editor input it belongs beside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from costshare.members.fields import money_text, plain_number, whole_number
from costshare.offers.forms import PRICING_KINDS, RoundForm

#: Blank rows the editor offers after the filled ones.
SPARE_ROWS = 2


def _fraction(value: Decimal) -> str:
    return plain_number(value)


@dataclass
class Written:
    """The pricing written from the editor, and which editor row each list item came from."""

    pricing: dict[str, Any]
    currency: str = "EUR"
    rows: dict[str, list[int]] = field(default_factory=dict)

    def money(self, value: Decimal | None) -> str:
        """Money as text with the currency's decimals (248000.00 EUR, 700 JPY)."""
        return money_text(value if value is not None else Decimal(0), self.currency)


def _discount_tiers(form: RoundForm, written: Written) -> list[dict[str, str]] | None:
    tiers, rows = [], []
    for index, entry in enumerate(form.tiers.entries):
        row = entry.form
        if row.min_members.data is None and row.discount.data is None:
            continue
        tiers.append(
            {
                "min_members": row.min_members.data,
                "discount": _fraction(
                    row.discount.data if row.discount.data is not None else Decimal(0)
                ),
            }
        )
        rows.append(index)
    written.rows["pricing.tiers"] = rows
    return tiers or None


def _price_list(form: RoundForm, written: Written, path: str) -> dict[str, Any] | None:
    tiers, rows = [], []
    for index, entry in enumerate(form.list_tiers.entries):
        row = entry.form
        if row.min.data is None and row.price.data is None:
            continue
        tiers.append(
            {
                "min": plain_number(row.min.data if row.min.data is not None else Decimal(0)),
                "price": written.money(row.price.data),
            }
        )
        rows.append(index)
    written.rows[f"{path}.tiers"] = rows
    if not tiers:
        return None
    result: dict[str, Any] = {"attribute": form.list_attribute.data or "fte", "tiers": tiers}
    if any(f.data is not None for f in (form.block_above, form.block_size, form.block_price)):
        result["block"] = {
            "above": plain_number(form.block_above.data or Decimal(0)),
            "size": plain_number(form.block_size.data or Decimal(0)),
            "price": written.money(form.block_price.data),
            "round": form.block_round.data or "nearest",
        }
    return result


def pricing_from_form(form: RoundForm, term_years: int, currency: str) -> Written:
    """Return the round's pricing in the engine's shape from a validated editor."""
    written = Written({}, currency)
    price: dict[str, Any] = written.pricing
    kind = form.kind.data
    tiers = _discount_tiers(form, written)
    if kind == "total":
        price["total"] = written.money(form.total.data)
    elif kind == "list_discount":
        price["pricing"] = {"kind": "list_discount", "tiers": tiers or []}
    elif kind == "per_member_table":
        table, rows = {}, []
        for index, entry in enumerate(form.table_rows.entries):
            row = entry.form
            if not row.category.data and row.price.data is None:
                continue
            table[row.category.data or ""] = written.money(row.price.data)
            rows.append(index)
        written.rows["pricing.price_table"] = rows
        price["pricing"] = {
            "kind": "per_member",
            "attribute": form.table_attribute.data or "sector",
            "price_table": table,
        }
        if tiers:
            price["pricing"]["tiers"] = tiers
    elif kind == "per_member_list":
        price["pricing"] = {
            "kind": "per_member",
            "price_list": _price_list(form, written, "pricing.price_list")
            or {"attribute": form.list_attribute.data or "fte", "tiers": []},
        }
        if tiers:
            price["pricing"]["tiers"] = tiers
    elif kind == "per_unit":
        unit: dict[str, Any] = {
            "kind": "per_unit",
            "attribute": form.unit_attribute.data or "fte",
            "rate": plain_number(form.rate.data if form.rate.data is not None else Decimal(0)),
        }
        if form.unit_floor.data is not None:
            unit["floor"] = written.money(form.unit_floor.data)
        if form.unit_cap.data is not None:
            unit["cap"] = written.money(form.unit_cap.data)
        price["pricing"] = unit
    if kind != "per_member_list":
        solo_list = _price_list(form, written, "price_list")
        if solo_list is not None:
            price["price_list"] = solo_list
    if kind == "totals":
        totals = [written.money(entry.data) for entry in form.year_totals.entries[:term_years]]
        price["term"] = {"totals": totals}
    elif term_years > 1 and form.uplift.data is not None:
        price["term"] = {"years": term_years, "uplift": _fraction(form.uplift.data)}
    if form.surcharge.data:
        price["surcharge"] = _fraction(form.surcharge.data)
    if form.subsidy.data:
        price["subsidy"] = written.money(form.subsidy.data)
    return written


def _number(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except ArithmeticError:
        return None


def _percent(value: Any) -> Decimal | None:
    number = _number(value)
    return None if number is None else number


def form_data(pricing: dict[str, Any], term_years: int) -> dict[str, Any]:
    """Return the editor's data for a stored pricing (the inverse of `pricing_from_form`)."""
    data: dict[str, Any] = {"kind": "total", "tiers": [], "table_rows": [], "list_tiers": []}
    inner = pricing.get("pricing") if isinstance(pricing.get("pricing"), dict) else None
    term = pricing.get("term") if isinstance(pricing.get("term"), dict) else {}
    price_list = None
    if inner is None:
        data["total"] = _number(pricing.get("total"))
    else:
        kind = inner.get("kind")
        data["tiers"] = [
            {"min_members": t.get("min_members"), "discount": _percent(t.get("discount"))}
            for t in inner.get("tiers") or []
            if isinstance(t, dict)
        ]
        if kind == "fixed_total":
            data["total"] = _number(inner.get("total"))
        elif kind == "list_discount":
            data["kind"] = "list_discount"
        elif kind == "per_member" and isinstance(inner.get("price_list"), dict):
            data["kind"] = "per_member_list"
            price_list = inner["price_list"]
        elif kind == "per_member":
            data["kind"] = "per_member_table"
            data["table_attribute"] = inner.get("attribute")
            table = inner.get("price_table") if isinstance(inner.get("price_table"), dict) else {}
            data["table_rows"] = [{"category": k, "price": _number(v)} for k, v in table.items()]
        elif kind == "per_unit":
            data["kind"] = "per_unit"
            data["unit_attribute"] = inner.get("attribute")
            data["rate"] = _number(inner.get("rate"))
            data["unit_floor"] = _number(inner.get("floor"))
            data["unit_cap"] = _number(inner.get("cap"))
    if price_list is None and isinstance(pricing.get("price_list"), dict):
        price_list = pricing["price_list"]
    if price_list is not None:
        data["list_attribute"] = price_list.get("attribute")
        data["list_tiers"] = [
            {"min": _number(t.get("min")), "price": _number(t.get("price"))}
            for t in price_list.get("tiers") or []
            if isinstance(t, dict)
        ]
        block = price_list.get("block") if isinstance(price_list.get("block"), dict) else None
        if block:
            data["block_above"] = _number(block.get("above"))
            data["block_size"] = _number(block.get("size"))
            data["block_price"] = _number(block.get("price"))
            data["block_round"] = block.get("round")
    if isinstance(term.get("totals"), list):
        data["kind"] = "totals"
        data["year_totals"] = [_number(t) for t in term["totals"]]
    elif "uplift" in term:
        data["uplift"] = _percent(term.get("uplift"))
    data["year_totals"] = (data.get("year_totals") or [])[:term_years]
    data["year_totals"] += [None] * (term_years - len(data["year_totals"]))
    data["surcharge"] = _percent(pricing.get("surcharge"))
    data["subsidy"] = _number(pricing.get("subsidy"))
    for key in ("tiers", "table_rows", "list_tiers"):
        data[key] = data[key] + [{}] * SPARE_ROWS
    return {k: v for k, v in data.items() if v is not None}


def pad_rows(form: RoundForm, term_years: int) -> None:
    """Give a posted editor its spare blank rows and one total per term year again."""
    for name in ("tiers", "table_rows", "list_tiers"):
        entries = getattr(form, name)
        blanks = 0
        for entry in reversed(entries.entries):
            if any(f.data not in (None, "") for f in entry.form):
                break
            blanks += 1
        for _ in range(max(0, SPARE_ROWS - blanks)):
            entries.append_entry()
    while len(form.year_totals.entries) < term_years:
        form.year_totals.append_entry()


_SIMPLE = {
    "total": "total",
    "pricing.total": "total",
    "pricing.kind": "kind",
    "pricing.rate": "rate",
    "pricing.floor": "unit_floor",
    "pricing.cap": "unit_cap",
    "surcharge": "surcharge",
    "subsidy": "subsidy",
    "term.uplift": "uplift",
    "term.years": "uplift",
    "term.totals": "year_totals",
    "pricing.tiers": "tiers",
    "pricing.price_table": "table_rows",
}
_ROW = re.compile(r"^(?P<list>[\w.]+?)\[(?P<index>\d+)\](?:\.(?P<part>\w+))?$")


def field_for(path: str | None, written: Written, kind: str) -> str | None:
    """Return the editor input (`tiers-0-discount`) an engine error's field names, or None."""
    if not path:
        return None
    if path == "pricing.attribute":
        return {"per_unit": "unit_attribute", "per_member_table": "table_attribute"}.get(kind)
    if path.startswith("pricing.price_table."):
        category = path.removeprefix("pricing.price_table.")
        table = written.pricing.get("pricing", {}).get("price_table", {})
        keys = list(table)
        rows = written.rows.get("pricing.price_table", [])
        if category in keys and keys.index(category) < len(rows):
            return f"table_rows-{rows[keys.index(category)]}-price"
        return "table_rows"
    for prefix in ("pricing.price_list", "price_list"):
        if path == f"{prefix}.attribute":
            return "list_attribute"
        if path.startswith(f"{prefix}.block."):
            return "block_" + path.rsplit(".", 1)[1]
        if path in (prefix, f"{prefix}.tiers"):
            return "list_tiers"
    match = _ROW.match(path)
    if match:
        name = match["list"]
        index = int(match["index"])
        rows = written.rows.get(name)
        editor = {
            "pricing.tiers": "tiers",
            "pricing.price_list.tiers": "list_tiers",
            "price_list.tiers": "list_tiers",
            "term.totals": "year_totals",
        }.get(name)
        if editor is None:
            return None
        row = rows[index] if rows is not None and index < len(rows) else index
        return f"{editor}-{row}" + (f"-{match['part']}" if match["part"] else "")
    return _SIMPLE.get(path)


def attach(form: RoundForm, name: str | None, message: str) -> None:
    """Show `message` beside the editor input `name` (or above the editor)."""
    target = None
    if name:
        parts = name.split("-")
        target = form._fields.get(parts[0])
        if target is not None and len(parts) > 1:
            index = whole_number(parts[1], 4)
            index = -1 if index is None else index
            entries = target.entries
            target = entries[index] if 0 <= index < len(entries) else target
            if len(parts) > 2 and hasattr(target, "form"):
                target = target.form._fields.get(parts[2], target)
    if target is None or hasattr(target, "entries") or isinstance(target.errors, dict):
        # A whole list or row: said above the editor.
        form.form_errors.append(message)
    else:
        target.errors = [*target.errors, message]


def describe(pricing: dict[str, Any]) -> dict[str, Any]:
    """Return what a template needs to show a pricing in words."""
    inner = pricing.get("pricing") if isinstance(pricing.get("pricing"), dict) else {}
    term = pricing.get("term") if isinstance(pricing.get("term"), dict) else {}
    kind = form_data(pricing, 1).get("kind", "total")
    if "totals" in term:
        kind = "totals"
    price_list = inner.get("price_list") or pricing.get("price_list")
    return {
        "kind": kind,
        "label": PRICING_KINDS.get(kind, kind),
        "total": pricing.get("total") or inner.get("total"),
        "tiers": inner.get("tiers") or [],
        "attribute": inner.get("attribute") or (price_list or {}).get("attribute"),
        "price_table": inner.get("price_table") or {},
        "price_list": price_list,
        "solo_from_list": bool(pricing.get("price_list")),
        "rate": inner.get("rate"),
        "floor": inner.get("floor"),
        "cap": inner.get("cap"),
        "uplift": term.get("uplift"),
        "totals": term.get("totals") or [],
        "surcharge": pricing.get("surcharge"),
        "subsidy": pricing.get("subsidy"),
    }
