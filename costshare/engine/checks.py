"""Check a formula against members before computing, naming every missing fact."""

from __future__ import annotations

from dataclasses import replace
from decimal import localcontext
from typing import Any

from costshare.engine.errors import AllocationError
from costshare.engine.facts import Facts, add_derived
from costshare.engine.model import (
    parse_derived,
    parse_formula,
    parse_members,
    parse_pricing,
    parse_unit,
)
from costshare.engine.numbers import CONTEXT
from costshare.engine.split import component_basis, member_bounds


def needed_attributes(
    formula: dict[str, Any],
    derived: dict[str, Any] | None = None,
    pricing: dict[str, Any] | None = None,
) -> list[str]:
    """Return the member facts a formula (and pricing) reads, derived ones resolved to sources."""
    with localcontext(CONTEXT):
        parsed = parse_formula(formula, parse_unit(formula, "EUR"))
        sources = {d.name: [s for s, _ in d.sources] for d in parse_derived(derived or {})}
        offer = parse_pricing(pricing) if pricing is not None else None
    names: list[str] = []
    if offer is not None:
        names.append("solo_price" if offer.kind == "list_discount" else offer.attribute or "")
    for comp in parsed.components:
        if comp.attribute is not None and comp.weight > 0:
            names.append(comp.attribute)
    for rule in (parsed.floor, parsed.cap):
        if rule is not None and rule.attribute is not None:
            names.append(rule.attribute)
    if parsed.max_change is not None:
        names.append("previous_share")
    if parsed.method in ("equal_savings", "proportional_savings"):
        names.append("solo_price")
    result: dict[str, None] = {}

    def add(name: str) -> None:
        if name in sources:
            for source in sources[name]:
                add(source)
        else:
            result.setdefault(name, None)

    for name in names:
        if name:
            add(name)
    return list(result)


def check_formula(
    formula: dict[str, Any],
    members: list[dict[str, Any]],
    derived: dict[str, Any] | None = None,
    currency: str = "EUR",
) -> list[AllocationError]:
    """Return every problem a formula has with these members (empty when it can run).

    A malformed formula or member list gives its one error; otherwise each
    component and bound is checked on its own, so the form can show all of
    them at once. ``previous_share`` is optional for ``max_change``; solo
    prices are not checked here because pricing may compute them.
    """
    problems: list[AllocationError] = []
    with localcontext(CONTEXT):
        try:
            parsed = parse_formula(formula, parse_unit(formula, currency))
            facts = add_derived(Facts(parse_members(members)), parse_derived(derived or {}))
        except AllocationError as err:
            return [err]
        for comp in parsed.components:
            if comp.weight == 0:
                continue
            try:
                component_basis(comp, facts)
            except AllocationError as err:
                problems.append(err)
        for rule in (parsed.floor, parsed.cap):
            if rule is None or rule.attribute is None:
                continue
            try:
                facts.non_negative(rule.attribute, f"the {rule.name}", f"formula.{rule.name}")
            except AllocationError as err:
                problems.append(err)
        if parsed.max_change is not None:
            try:
                member_bounds(facts, replace(parsed, floor=None, cap=None), parsed.unit)
            except AllocationError as err:
                problems.append(err)
    return problems
