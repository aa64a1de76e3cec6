"""Explain a billed amount in words: the formula, its parts, the bound that held, solo price.

Built once, when an invoice line is drafted, from the final allocation line
and its allocation's frozen inputs, and stored with the line as plain JSON
(money as strings) — so an issued invoice explains itself even if the
formula's name or wording changes later.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costshare.allocations.models import Allocation, AllocationLine

METHOD_PARTS = {
    "fixed_fee": "Fixed fee",
    "bound_adjustment": "Bound adjustment",
    "rounding": "Rounding",
    "shapley": "Shapley value (average extra cost you bring to the deal)",
    "equal_savings": "Equal savings",
    "proportional_savings": "Proportional savings",
}
METHODS = {
    "shapley": "Shapley value: each member pays the average extra cost it brings to the deal",
    "equal_savings": "equal savings: every member saves the same amount against its solo price",
    "proportional_savings": (
        "proportional savings: every member saves the same fraction of its solo price"
    ),
}
TRANSFORMS = {"sqrt": "square root of ", "log1p": "log of "}


def fact_label(name: str) -> str:
    """Write a fact's name for people: fte → FTE, materials_budget → materials budget."""
    words = name.replace("_", " ").split()
    return " ".join("FTE" if w.lower() == "fte" else w for w in words)


def _percent(value: Decimal) -> str:
    text = f"{(value * 100).quantize(Decimal('0.1')):f}".removesuffix(".0")
    return f"{text} %"


def _components(formula: dict[str, Any]) -> list[tuple[str, str, Decimal, dict[str, Any]]]:
    """Return (explanation key, label, weight share, component) for each weighted component."""
    components = [c for c in formula.get("components", []) if Decimal(str(c.get("weight", 0)))]
    total = sum((Decimal(str(c.get("weight", 0))) for c in components), Decimal(0))
    result = []
    for component in components:
        kind = component.get("kind", "equal")
        attribute = component.get("attribute")
        key = component.get("name") or (kind if kind == "equal" else f"{kind}:{attribute}")
        share = Decimal(str(component["weight"])) / total if total else Decimal(0)
        if component.get("name"):
            label = str(component["name"]).replace("_", " ")
        elif kind == "equal":
            label = "equal part"
        elif kind == "attribute":
            label = f"by {TRANSFORMS.get(component.get('transform', 'none'), '')}"
            label += fact_label(attribute or "")
        elif kind == "tiers":
            label = f"by tier of {fact_label(attribute or '')}"
        else:
            label = f"by {fact_label(attribute or '')}"
        result.append((key, label, share, component))
    return result


def describe_formula(allocation: Allocation) -> str:
    """Say how the allocation split the price, in one sentence."""
    formula = (allocation.inputs or {}).get("formula", {})
    method = formula.get("method", "formula")
    if method in METHODS:
        text = METHODS[method]
    else:
        parts = [f"{_percent(share)} {label}" for _, label, share, _ in _components(formula)]
        text = " + ".join(parts) if parts else "equal split"
    extras = []
    if formula.get("fixed_fee") not in (None, "0", 0):
        extras.append(f"fixed fee {formula['fixed_fee']} each")
    if formula.get("floor") is not None:
        extras.append(f"floor {_bound_value(formula['floor'])}")
    if formula.get("cap") is not None:
        cap = formula["cap"]
        extras.append(
            "cap: no more than the solo price"
            if cap == "solo_price"
            else f"cap {_bound_value(cap)}"
        )
    if formula.get("max_change") is not None:
        extras.append(
            f"change from last year at most ±{_percent(Decimal(str(formula['max_change'])))}"
        )
    groups = (allocation.inputs or {}).get("groups")
    if groups:
        extras.append(f"split first between groups by {fact_label(groups.get('attribute', ''))}")
    sentence = f"{allocation.formula_name}: {text}"
    if extras:
        sentence += "; " + "; ".join(extras)
    return sentence


def _bound_value(value: Any) -> str:
    """Write a floor or cap: an amount as given, or the name of the fact that holds it."""
    return fact_label(value) if isinstance(value, str) and not _is_number(value) else str(value)


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except ArithmeticError:
        return False
    return True


BOUND_TEXT = {
    "cap": "The cap held: the amount was lowered to the cap.",
    "floor": "The floor held: the amount was raised to the floor.",
    "max_change_up": (
        "The phase-in limit held: the amount rose only as far as allowed over last year."
    ),
    "max_change_down": (
        "The phase-in limit held: the amount fell only as far as allowed from last year."
    ),
}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def share_explanation(allocation: Allocation, line: AllocationLine) -> dict[str, Any]:
    """Return what is printed under a member's share line: formula, parts, bound, solo price."""
    formula = (allocation.inputs or {}).get("formula", {})
    labels = {key: (label, share, comp) for key, label, share, comp in _components(formula)}
    parts = []
    for key, amount in (line.explanation or {}).items():
        basis = None
        basis_label = None
        if key in labels:
            label, share, component = labels[key]
            label = f"{label[0].upper()}{label[1:]} ({_percent(share)})"
            attribute = component.get("attribute")
            if attribute and attribute in (line.attributes or {}):
                basis = str(line.attributes[attribute])
                basis_label = fact_label(attribute)
        else:
            label = METHOD_PARTS.get(key, key.replace("_", " ").capitalize())
        parts.append(
            {
                "key": key,
                "label": label,
                "amount": str(amount),
                "basis": basis,
                "basis_label": basis_label,
            }
        )
    return {
        "kind": "share",
        "allocation_id": allocation.id,
        "offer": allocation.offer.title,
        "term_year": allocation.term_year,
        "currency": allocation.currency,
        "formula": describe_formula(allocation),
        "parts": parts,
        "amount": str(line.amount),
        "surcharge": str(line.surcharge or Decimal(0)),
        "bound": line.bound,
        "bound_text": BOUND_TEXT.get(line.bound or ""),
        "solo_price": _money(line.solo_price),
        "savings": _money(line.savings),
        "savings_pct": _money(line.savings_pct),
    }


def surcharge_explanation(allocation: Allocation, line: AllocationLine) -> dict[str, Any]:
    """Return what is printed under the consortium's surcharge line."""
    rate = (allocation.inputs or {}).get("surcharge")
    text = "The consortium's own fee on this deal"
    if rate is not None:
        text += f", {_percent(Decimal(str(rate)))} of the vendor's price"
    text += ", shared among the members in proportion to their amounts."
    return {
        "kind": "surcharge",
        "allocation_id": allocation.id,
        "currency": allocation.currency,
        "rate": None if rate is None else str(rate),
        "text": text,
        "total": str(allocation.surcharge_amount),
    }
