"""Prices that depend on who joins: price lists, pricing kinds, solo prices, Shapley."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

from costshare.engine.errors import ScenarioError, name_members
from costshare.engine.facts import Facts
from costshare.engine.model import PriceList, Pricing, Scenario
from costshare.engine.numbers import ONE, ZERO, half_even

_BLOCK_ROUNDING = {"nearest": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}

Tiers = Sequence[tuple[int, Decimal]]


def discount(tiers: Tiers, count: int) -> Decimal:
    """Return d(count): the discount of the last participation tier reached."""
    reached = tier_reached(tiers, count)
    return ZERO if reached is None else reached[1]


def tier_reached(tiers: Tiers, count: int) -> tuple[int, Decimal] | None:
    """Return the last participation tier (min_members, discount) with min_members ≤ count."""
    found = None
    for tier in sorted(tiers):
        if tier[0] <= count:
            found = tier
    return found


def price_list_price(price_list: PriceList, value: Decimal, code: str = "") -> Decimal:
    """Return the exact list price for attribute ``value`` (tiers, then whole blocks)."""
    mins = [low for low, _ in price_list.tiers]
    index = bisect_right(mins, value) - 1
    if index < 0:
        who = f"Member {code}'s" if code else "The"
        raise ScenarioError(
            f"{who} '{price_list.attribute}' of {value} is below the first tier of the price list "
            f"(which starts at {mins[0]}).",
            field=f"{price_list.field}.tiers",
            members=[code] if code else (),
            attribute=price_list.attribute,
        )
    price = price_list.tiers[index][1]
    block = price_list.block
    if block is not None and value > block.above:
        steps = (value / block.size).to_integral_value(rounding=_BLOCK_ROUNDING[block.round])
        rounded = steps * block.size
        if rounded > block.above:
            whole = ((rounded - block.above) / block.size).to_integral_value(rounding=ROUND_FLOOR)
            price += whole * block.price
    return price


def price_list_prices(price_list: PriceList, facts: Facts, needed_by: str) -> list[Decimal]:
    """Return every member's exact list price from ``price_list``."""
    values = facts.numbers(price_list.attribute, needed_by, price_list.field)
    return [
        price_list_price(price_list, value, code)
        for code, value in zip(facts.codes, values, strict=True)
    ]


def member_prices(pricing: Pricing, facts: Facts) -> list[Decimal]:
    """Return the exact per-member price p_i of per-member or per-unit pricing."""
    if pricing.kind == "per_member":
        if pricing.price_list is not None:
            return price_list_prices(pricing.price_list, facts, "the per-member pricing")
        assert pricing.attribute is not None and pricing.price_table is not None
        table = pricing.price_table
        labels = facts.labels_in(pricing.attribute, table, "the price table", "pricing.price_table")
        return [table[label] for label in labels]
    if pricing.kind == "per_unit":
        assert pricing.attribute is not None and pricing.rate is not None
        values = facts.non_negative(pricing.attribute, "the per-unit pricing", "pricing.attribute")
        rate, low, high = pricing.rate, pricing.floor, pricing.cap
        prices = []
        for value in values:
            price = rate * value
            if low is not None and price < low:
                price = low
            if high is not None and price > high:
                price = high
            prices.append(price)
        return prices
    raise AssertionError(pricing.kind)


def solo_prices(scenario: Scenario, facts: Facts) -> list[Decimal | None]:
    """Return each member's solo price: as given, else from a price list or the pricing."""
    given = facts.optional_numbers("solo_price", "the solo prices", "members.attributes.solo_price")
    negative = [code for code, v in zip(facts.codes, given, strict=True) if v is not None and v < 0]
    if negative:
        raise ScenarioError(
            f"The solo price of {name_members(negative)} is negative.",
            field="members.attributes.solo_price",
            members=negative,
            attribute="solo_price",
        )
    lacking = [i for i, v in enumerate(given) if v is None]
    if not lacking:
        return given
    unit = scenario.unit
    pricing = scenario.pricing
    computed: list[Decimal] | None = None
    sub = facts.subset(lacking)
    if scenario.price_list is not None:
        computed = price_list_prices(
            scenario.price_list, sub, "the price list (for the solo price)"
        )
    elif pricing is not None and pricing.kind == "per_member":
        keep = ONE - discount(pricing.tiers, 1)
        computed = [p * keep for p in member_prices(pricing, sub)]
    elif pricing is not None and pricing.kind == "per_unit":
        computed = member_prices(pricing, sub)
    if computed is None:
        return given
    filled = list(given)
    for index, price in zip(lacking, computed, strict=True):
        filled[index] = half_even(price, unit)
    return filled


def unrounded_price(scenario: Scenario, facts: Facts) -> Decimal:
    """Return price(S) for the members of ``facts`` before rounding (section 6)."""
    pricing = scenario.pricing
    if pricing is None:
        assert scenario.total is not None
        return scenario.total
    if pricing.kind == "fixed_total":
        assert pricing.total is not None
        return pricing.total
    if pricing.kind == "list_discount":
        prices = facts.numbers("solo_price", "the list-discount pricing", "pricing")
        return (ONE - discount(pricing.tiers, len(facts))) * sum(prices, ZERO)
    prices = member_prices(pricing, facts)
    if pricing.kind == "per_member":
        return (ONE - discount(pricing.tiers, len(facts))) * sum(prices, ZERO)
    return sum(prices, ZERO)


def vendor_price(scenario: Scenario, facts: Facts) -> Decimal:
    """Return price(S) rounded half-even to the grid."""
    return half_even(unrounded_price(scenario, facts), scenario.unit)


def shapley_numerators(prices: Sequence[Decimal], tiers: Tiers) -> tuple[list[Decimal], int]:
    """Return (numerators, denominator) of the exact Shapley values of the discount game.

    The game is ``g(|S|) · Σ_{i∈S} p_i`` with ``g(k) = 1 − d(k)``, ``g(0) = 0``;
    ``φ_i = p_i·A + (P − p_i)·B`` (section 6), written over the common
    denominator ``n(n−1)`` so that it stays exact and O(n).
    """
    n = len(prices)
    if n == 0:
        return [], 1
    if n == 1:
        return [(ONE - discount(tiers, 1)) * prices[0]], 1
    ordered = sorted(tiers)
    # Σ_{k=1..n} d(k) by tier segments; g steps only where a tier starts.
    discount_sum = ZERO
    step_sum = ZERO
    previous = ZERO
    for index, (low, rate) in enumerate(ordered):
        if low > n:
            break
        high = ordered[index + 1][0] - 1 if index + 1 < len(ordered) else n
        discount_sum += rate * (min(high, n) - low + 1)
        if low >= 2:
            # g(low) − g(low−1) = d(low−1) − d(low), weighted by s = low − 1.
            step_sum += (previous - rate) * (low - 1)
        previous = rate
    a_sum = n - discount_sum
    total = sum(prices, ZERO)
    own = a_sum * (n - 1) - step_sum
    shared = total * step_sum
    return [p * own + shared for p in prices], n * (n - 1)


def shapley_values(prices: Sequence[Decimal], tiers: Tiers = ()) -> list[Fraction]:
    """Return each member's exact Shapley value of the participation-discount game."""
    numerators, denominator = shapley_numerators(prices, tiers)
    return [Fraction(num) / denominator for num in numerators]
