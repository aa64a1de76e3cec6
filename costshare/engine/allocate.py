"""The allocation pipeline (section 0): price, owed, groups, split, savings, years, what-if."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import repeat
from typing import Any

from costshare.engine.errors import AllocationError, ScenarioError, name_members
from costshare.engine.facts import Facts, add_derived
from costshare.engine.model import Member, Scenario, parse_scenario
from costshare.engine.numbers import (
    CONTEXT,
    ONE,
    ZERO,
    fraction_places,
    half_even,
)
from costshare.engine.pricing import (
    member_prices,
    shapley_numerators,
    solo_prices,
    unrounded_price,
    vendor_price,
)
from costshare.engine.runtime import collector_paused
from costshare.engine.split import (
    Raw,
    Split,
    equal_raw,
    finish,
    formula_raw,
    largest_remainder,
    member_bounds,
    proportional_raw,
    savings_raw,
    scaled_ints,
)

_PCT = Decimal("0.0001")
#: The most units of the rounding grid one split may hand out (10^15 cents is 10^13 EUR).
MAX_OWED_UNITS = 10**15

Result = dict[str, Any]


@contextmanager
def _engine_context() -> Iterator[None]:
    """Run with the engine's Decimal context and the cycle collector paused."""
    with collector_paused(), localcontext(CONTEXT):
        yield


def allocate(scenario: dict) -> Result:
    """Split the scenario's price among its members (the section-9 result, Decimals inside).

    With a ``term`` the result is ``{"years": [RESULT, …]}``.
    """
    with _engine_context():
        parsed = parse_scenario(scenario)
        return _run(parsed, parsed.members)


def what_if(scenario: dict, drop: Iterable[str]) -> Result:
    """Run the scenario as given and without the ``drop`` members; compare the amounts."""
    with _engine_context():
        parsed = parse_scenario(scenario)
        dropped = _dropped(parsed, drop)
        remaining = [m for m in parsed.members if m.code not in dropped]
        before = _run(parsed, parsed.members)
        after = _run(parsed, remaining)
        was = {line["code"]: line["amount"] for line in before["lines"]}
        changes = [
            {
                "code": line["code"],
                "before": was[line["code"]],
                "after": line["amount"],
                "change": line["amount"] - was[line["code"]],
            }
            for line in after["lines"]
        ]
        return {"before": before, "after": after, "changes": changes}


def _codes(codes: Iterable[str]) -> set[str]:
    """Return member codes as a set; a string is read as codes separated by commas."""
    if isinstance(codes, str):
        return {code.strip() for code in codes.split(",") if code.strip()}
    return set(codes)


def _dropped(parsed: Scenario, drop: Iterable[str]) -> set[str]:
    if parsed.term is not None:
        raise ScenarioError(
            "A what-if (dropping members) cannot be combined with a multi-year term.", field="term"
        )
    dropped = _codes(drop)
    if not dropped:
        raise ScenarioError("Name at least one member to drop.", field="drop")
    codes = {m.code for m in parsed.members}
    unknown = sorted(dropped - codes)
    if unknown:
        raise ScenarioError(
            f"Cannot drop {name_members(unknown)}: no such member in the scenario.",
            field="drop",
            members=unknown,
        )
    if dropped == codes:
        raise ScenarioError("Cannot drop every member: nobody would be left to pay.", field="drop")
    return dropped


def prepare(parsed: Scenario, members: Sequence[Member]) -> Facts:
    """Return the members' facts with derived attributes and solo prices filled in."""
    facts = add_derived(Facts(members), parsed.derived)
    return facts.with_column("solo_price", solo_prices(parsed, facts))


def price_of(scenario: dict, codes: Iterable[str] | None = None) -> Decimal:
    """Return the vendor's price (year 1) for the listed members, or for all of them."""
    with localcontext(CONTEXT):
        parsed = parse_scenario(scenario)
        members = _subset(parsed, codes)
        facts = prepare(parsed, members)
        if parsed.term is not None and parsed.term.totals is not None:
            return parsed.term.totals[0]
        return vendor_price(parsed, facts)


def shapley_of(scenario: dict, codes: Iterable[str] | None = None) -> dict[str, Fraction]:
    """Return each listed member's exact Shapley value of the unrounded price game."""
    with localcontext(CONTEXT):
        parsed = parse_scenario(scenario)
        facts = prepare(parsed, _subset(parsed, codes))
        price = _unrounded_game_total(parsed, facts)
        raw = _shapley_raw(parsed, facts, 1)
        values = [price * Fraction(ri, raw.q) for ri in raw.r]
        return dict(zip(facts.codes, values, strict=True))


def _unrounded_game_total(parsed: Scenario, facts: Facts) -> Fraction:
    if parsed.pricing is None and parsed.total is None:
        # Only term.totals give the price: the game is year 1's fixed price.
        assert parsed.term is not None and parsed.term.totals is not None
        return Fraction(parsed.term.totals[0])
    return Fraction(unrounded_price(parsed, facts))


def _subset(parsed: Scenario, codes: Iterable[str] | None) -> list[Member]:
    if codes is None:
        return list(parsed.members)
    wanted = _codes(codes)
    known = {m.code for m in parsed.members}
    unknown = sorted(wanted - known)
    if unknown:
        raise ScenarioError(f"No such member: {name_members(unknown)}.", members=unknown)
    if not wanted:
        raise ScenarioError("Name at least one member.")
    return [m for m in parsed.members if m.code in wanted]


def _run(parsed: Scenario, members: Sequence[Member]) -> Result:
    facts = prepare(parsed, members)
    term = parsed.term
    if term is None:
        return _year(parsed, facts, vendor_price(parsed, facts))
    return {"years": _years(parsed, facts)}


def _years(parsed: Scenario, facts: Facts) -> list[Result]:
    term = parsed.term
    assert term is not None
    unit = parsed.unit
    results: list[Result] = []
    first_solo = facts.raw("solo_price")
    first_price: Decimal | None = None
    for year in range(1, term.years + 1):
        try:
            if term.totals is not None:
                price = term.totals[year - 1]
                solo = first_solo
            else:
                assert term.uplift is not None
                if first_price is None:
                    first_price = vendor_price(parsed, facts)
                factor = (ONE + term.uplift) ** (year - 1)
                price = half_even(first_price * factor, unit)
                solo = (
                    first_solo
                    if year == 1
                    else [None if s is None else half_even(s * factor, unit) for s in first_solo]
                )
            year_facts = facts.with_column("solo_price", solo)
            if results:
                previous = [line["amount"] for line in results[-1]["lines"]]
                year_facts = year_facts.with_column("previous_share", previous)
            results.append(_year(parsed, year_facts, price))
        except AllocationError as err:
            raise err.in_year(year) from None
    return results


def _year(parsed: Scenario, facts: Facts, price: Decimal) -> Result:
    unit = parsed.unit
    gross = price * (ONE + parsed.surcharge)
    if parsed.subsidy > gross:
        raise ScenarioError(
            f"The subsidy {parsed.subsidy} {parsed.currency} is larger than the price with the "
            f"surcharge, {gross} {parsed.currency}.",
            field="subsidy",
        )
    owed_money = half_even(gross - parsed.subsidy, unit)
    owed = int(owed_money / unit)
    if owed > MAX_OWED_UNITS:
        # Shares are located with floats: beyond 2^53 units they could not tell members apart.
        raise ScenarioError(
            f"The amount to split, {owed_money} {parsed.currency}, is too large: costshare "
            f"splits at most {MAX_OWED_UNITS:,} units of {unit} {parsed.currency}.",
            field="total",
        )
    groups_out = None
    if parsed.groups is None:
        split = _split(parsed, facts, owed)
        lam: Decimal | None = fraction_places(split.lam, 6)
    else:
        split, groups_out = _group_split(parsed, facts, owed)
        lam = None
    surcharge_amount = owed_money + parsed.subsidy - price
    return _result(parsed, facts, price, owed_money, surcharge_amount, lam, groups_out, split)


def _split(parsed: Scenario, facts: Facts, owed: int) -> Split:
    formula = parsed.formula
    unit = parsed.unit
    method = formula.method
    raw: Raw
    if method == "formula":
        raw = formula_raw(facts, formula, owed, unit, parsed.currency)
    elif method == "shapley":
        raw = _shapley_raw(parsed, facts, owed)
    else:
        solo = facts.optional_numbers("solo_price", f"the method '{method}'", "formula.method")
        raw = savings_raw(method, solo, owed, unit, facts.codes)
    bounds = member_bounds(facts, formula, unit)
    return finish(
        facts, raw, bounds, owed, unit, parsed.currency, None if method == "formula" else method
    )


def _shapley_raw(parsed: Scenario, facts: Facts, owed: int) -> Raw:
    """Return the Shapley shares of the unrounded price game, scaled to ``owed`` (section 6)."""
    n = len(facts)
    pricing = parsed.pricing
    if n == 1:
        return Raw([owed], 1, {})
    if pricing is None or pricing.kind == "fixed_total":
        return equal_raw(n, owed)
    if pricing.kind == "per_unit":
        return proportional_raw(
            member_prices(pricing, facts), owed, facts.codes, "the members' own prices"
        )
    if pricing.kind == "list_discount":
        prices = facts.numbers(
            "solo_price", "the Shapley split of list-discount pricing", "pricing"
        )
    else:
        prices = member_prices(pricing, facts)
    numerators, _ = shapley_numerators(prices, pricing.tiers)
    return proportional_raw(numerators, owed, facts.codes, "the Shapley values")


def _group_split(parsed: Scenario, facts: Facts, owed: int) -> tuple[Split, list[dict[str, Any]]]:
    """Split ``owed`` among the groups, then each group's part among its members."""
    groups = parsed.groups
    assert groups is not None
    unit = parsed.unit
    names = sorted(groups.shares)
    labels = facts.labels_in(
        groups.attribute,
        groups.shares,
        "the groups",
        "groups.attribute",
        lister="'groups.shares'",
        known_field="groups.shares",
    )
    members_of: dict[str, list[int]] = {name: [] for name in names}
    for index, label in enumerate(labels):
        members_of[label].append(index)
    empty = [name for name in names if not members_of[name]]
    if empty:
        raise ScenarioError(
            f"Group '{empty[0]}' has no members (no member's '{groups.attribute}' names it).",
            field=f"groups.shares.{empty[0]}",
            group=empty[0],
        )
    shares, _ = scaled_ints([groups.shares[name] for name in names], Decimal(1))
    totals = largest_remainder([owed * s for s in shares], sum(shares), owed)
    n = len(facts)
    whole = Split([0] * n, [0] * n, {}, [None] * n, Fraction(0))
    out = []
    for name, total in zip(names, totals, strict=True):
        indices = members_of[name]
        try:
            split = _split(parsed, facts.subset(indices), total)
        except AllocationError as err:
            raise err.in_group(name) from None
        for key, column in split.parts.items():
            target = whole.parts.setdefault(key, [0] * n)
            for j, i in enumerate(indices):
                target[i] = column[j]
        for j, i in enumerate(indices):
            whole.amounts[i] = split.amounts[j]
            whole.raw[i] = split.raw[j]
            whole.bound[i] = split.bound[j]
        given = groups.given[name]
        out.append(
            {
                "name": name,
                "share": given if isinstance(given, Decimal) else Decimal(str(given)),
                "total": total * unit,
                "lambda": fraction_places(split.lam, 6),
            }
        )
    # Parts come out in the formula's order whichever group was split first.
    order = [k for k in whole.parts if k not in ("bound_adjustment", "rounding")]
    whole.parts = {k: whole.parts[k] for k in [*order, "bound_adjustment", "rounding"]}
    return whole, out


def _result(
    parsed: Scenario,
    facts: Facts,
    price: Decimal,
    owed_money: Decimal,
    surcharge_amount: Decimal,
    lam: Decimal | None,
    groups_out: list[dict[str, Any]] | None,
    split: Split,
) -> Result:
    unit = parsed.unit
    # Adding a zero with the unit's places shows given amounts at least to those
    # places (31000 → 31000.00) and leaves finer ones as they are.
    zero = ZERO * unit

    def money(value: Decimal) -> Decimal:
        return zero + value

    def column(values: list[int]) -> list[Decimal]:
        # A part with few distinct values (the equal part, rounding, surcharge 0) is
        # converted once per value; a sample tells which parts those are.
        if len(set(values[:64])) <= 4:
            distinct = set(values)
            if len(distinct) * 8 < len(values):
                table = {units: unit * units for units in distinct}
                return list(map(table.__getitem__, values))
        return list(map(unit.__mul__, values))

    amounts = split.amounts
    owed = sum(amounts)
    surcharge_units = int(surcharge_amount / unit)
    if owed > 0 and surcharge_units:
        surcharges = largest_remainder(
            [surcharge_units * a for a in amounts], owed, surcharge_units
        )
    else:
        # With nothing owed there is nothing to carry the fee: it was paid by the subsidy.
        surcharges = [0] * len(amounts)
    amount_col = column(amounts)
    solo = facts.optional_numbers("solo_price", "the savings")
    own_col, savings_col, pct_col, more_col = _savings(solo, amount_col, zero)
    keys = list(split.parts)
    rows = zip(*(column(values) for values in split.parts.values()), strict=True)
    explanations = list(map(dict, map(zip, repeat(keys), rows)))
    lines = [
        {
            "code": code,
            "name": name,
            "amount": amount,
            "raw": raw,
            "explanation": explanation,
            "bound": bound,
            "surcharge": surcharge,
            "solo_price": own,
            "savings": savings,
            "savings_pct": pct,
            "pays_more_than_alone": more,
        }
        for code, name, amount, raw, explanation, bound, surcharge, own, savings, pct, more in zip(
            facts.codes,
            facts.names,
            amount_col,
            column(split.raw),
            explanations,
            split.bound,
            column(surcharges),
            own_col,
            savings_col,
            pct_col,
            more_col,
            strict=True,
        )
    ]
    with_solo = [own for own in own_col if own is not None]
    any_solo = bool(with_solo)
    solo_total = sum(with_solo, zero)
    savings_total = sum((v for v in savings_col if v is not None), zero)
    result: Result = {
        "currency": parsed.currency,
        "price": money(price),
        "surcharge_amount": money(surcharge_amount),
        "subsidy": money(parsed.subsidy),
        "total": money(owed_money),
        "lambda": lam,
    }
    if groups_out is not None:
        result["groups"] = groups_out
    result["lines"] = lines
    result["totals"] = {
        "amount": money(owed * unit),
        "solo_price": money(solo_total) if any_solo else None,
        "savings": money(savings_total) if any_solo else None,
    }
    return result


def _savings(
    solo: list[Decimal | None], amounts: list[Decimal], zero: Decimal
) -> tuple[list[Decimal | None], list[Decimal | None], list[Decimal | None], list[bool | None]]:
    """Return each member's solo price, savings, savings_pct and pays_more_than_alone."""
    n = len(amounts)
    if all(v is not None and v for v in solo):
        # Every member has a non-zero solo price: whole columns at once.
        own = list(map(zero.__add__, solo))  # type: ignore[arg-type]
        savings = list(map(Decimal.__sub__, own, amounts))
        # Exact enough: input numbers have at most ~60 digits, so a 120-digit
        # quotient cannot land on the wrong side of a half at the fourth place.
        ratios = map(Decimal.__truediv__, savings, own)
        pct = list(map(Decimal.quantize, ratios, repeat(_PCT, n)))
        more = list(map(Decimal.__gt__, amounts, own))
        return own, savings, pct, more  # type: ignore[return-value]
    own_col: list[Decimal | None] = [None] * n
    savings_col: list[Decimal | None] = [None] * n
    pct_col: list[Decimal | None] = [None] * n
    more_col: list[bool | None] = [None] * n
    for i, value in enumerate(solo):
        if value is None:
            continue
        own = own_col[i] = zero + value
        amount = amounts[i]
        savings = savings_col[i] = own - amount
        pct_col[i] = (savings / own).quantize(_PCT) if own else None
        more_col[i] = amount > own
    return own_col, savings_col, pct_col, more_col


def participation_tier(pricing: dict[str, Any], count: int) -> dict[str, Any] | None:
    """Return the participation tier {min_members, discount} that ``count`` members reach."""
    from costshare.engine.model import parse_pricing
    from costshare.engine.pricing import tier_reached

    with localcontext(CONTEXT):
        reached = tier_reached(parse_pricing(pricing).tiers, count)
    if reached is None:
        return None
    return {"min_members": reached[0], "discount": reached[1]}
