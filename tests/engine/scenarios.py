"""Small scenario builders for the engine tests (numbers in tests are worked by hand)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from costshare.engine import allocate, to_jsonable

#: The first columns of `--format csv`, as section 9 of the spec lists them.
SPEC_COLUMNS = [
    "code",
    "name",
    "amount",
    "raw",
    "bound",
    "surcharge",
    "solo_price",
    "savings",
    "savings_pct",
]


def member(code: str, name: str | None = None, **attributes: Any) -> dict[str, Any]:
    """Return a member dict; attribute values as given."""
    item: dict[str, Any] = {"code": code, "attributes": attributes}
    if name is not None:
        item["name"] = name
    return item


def scenario(members: list[dict[str, Any]], total: str | None = "100.00", **parts: Any) -> dict:
    """Return a EUR scenario with an equal split unless ``formula`` is given."""
    data: dict[str, Any] = {"currency": "EUR", "members": members}
    if total is not None:
        data["total"] = total
    data["formula"] = parts.pop("formula", {"components": [{"kind": "equal", "weight": 1}]})
    data.update(parts)
    return copy.deepcopy(data)


def run(data: dict) -> dict[str, Any]:
    """Return the allocation result with every Decimal as its exact string."""
    return to_jsonable(allocate(data))


def amounts(result: dict[str, Any]) -> dict[str, str]:
    """Return code → amount (strings) of a jsonable result."""
    return {line["code"]: line["amount"] for line in result["lines"]}


def field(result: dict[str, Any], name: str) -> dict[str, Any]:
    """Return code → one line field of a jsonable result."""
    return {line["code"]: line[name] for line in result["lines"]}


def dec(value: str) -> Decimal:
    """Return a Decimal (shorthand)."""
    return Decimal(value)
