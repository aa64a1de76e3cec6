"""Split what a set of members owes: raw shares, bounds, the exact λ, rounding (sections 2–4)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

import numpy as np

from costshare.engine.errors import InfeasibleError, ScenarioError, name_members
from costshare.engine.facts import Facts, missing_attribute
from costshare.engine.model import BoundRule, Component, Formula
from costshare.engine.numbers import (
    NINE_PLACES,
    ZERO,
    round_ratio_half_even,
    round_ratio_to_unit,
    units_of,
)

#: Shares are turned into exact binary fractions with this many bits: far
#: finer than a float share's own precision, so nothing is lost that mattered.
SHARE_BITS = 96
# Below this size (in units) and this far from a half, a float part rounds
# exactly as its exact value would; everything else takes the exact path.
_FAST_LIMIT = 2.0**30
_FAST_MARGIN = 1e-4


@dataclass(slots=True)
class Raw:
    """Raw shares as exact rationals: member i's raw share is ``r[i] / q`` units."""

    r: list[int]
    q: int
    parts: dict[str, list[int]]


@dataclass(slots=True)
class Bounds:
    """Each member's bounds in whole units (``None``: no upper bound) and their sources."""

    low: list[int]
    high: list[int | None]
    low_source: list[str | None]
    high_source: list[str | None]


@dataclass(slots=True)
class Split:
    """A finished split of one set of members, amounts and explanation parts in whole units.

    ``parts`` maps each explanation key, in order, to one value per member;
    the last two keys are always ``bound_adjustment`` and ``rounding``.
    """

    amounts: list[int]
    raw: list[int]
    parts: dict[str, list[int]]
    bound: list[str | None]
    lam: Fraction


def scaled_ints(values: Sequence[Decimal], unit: Decimal) -> tuple[list[int], int]:
    """Return (ints, scale) with ``values[i] / unit == ints[i] / scale`` exactly."""
    exponent = min([unit.as_tuple().exponent, *(v.as_tuple().exponent for v in values)])
    assert isinstance(exponent, int)
    return [int(v.scaleb(-exponent)) for v in values], int(unit.scaleb(-exponent))


# -- raw shares -----------------------------------------------------------------


def formula_raw(facts: Facts, formula: Formula, owed: int, unit: Decimal, money: str) -> Raw:
    """Return the formula shares ``f + R · Σ_c w_c s_{c,i}`` (section 2)."""
    n = len(facts)
    fee = formula.fixed_fee
    owed_money = owed * unit
    rest = owed_money - n * fee
    if rest < 0:
        raise ScenarioError(
            f"The fixed fee {fee} × {n} members = {n * fee} {money} is more than the "
            f"{owed_money} {money} the members owe.",
            field="formula.fixed_fee",
        )
    weight_sum = sum((c.weight for c in formula.components), ZERO)
    sigma = np.zeros(n)
    weighted: dict[str, np.ndarray | None] = {}
    for comp in formula.components:
        if comp.weight == 0:
            weighted[comp.key] = None
            continue
        basis = component_basis(comp, facts)
        total = float(basis.sum())
        if not math.isfinite(total):
            raise ScenarioError(
                f"Component '{comp.key}' has values too large to compare.", field=comp.field
            )
        if total <= 0:
            raise ScenarioError(
                f"Component '{comp.key}' has nothing to be proportional to: "
                "every member's basis is 0.",
                field=comp.field,
            )
        share = basis / total
        part = float(comp.weight / weight_sum) * share
        sigma += part
        weighted[comp.key] = part
    fee_u = Fraction(fee) / Fraction(unit)
    rest_u = Fraction(rest) / Fraction(unit)
    q = math.lcm(fee_u.denominator, rest_u.denominator) << SHARE_BITS
    base = fee_u.numerator * (q // fee_u.denominator)
    scale = rest_u.numerator * (q // (rest_u.denominator << SHARE_BITS))
    bits = 2.0**SHARE_BITS
    r = [base + scale * int(a) for a in (sigma * bits).tolist()]
    parts: dict[str, list[int]] = {}
    if fee:
        parts["fixed_fee"] = [round_ratio_to_unit(fee_u.numerator, fee_u.denominator)] * n
    for key, part in weighted.items():
        parts[key] = [0] * n if part is None else _part_units(rest_u, part)
    return Raw(r, q, parts)


def _part_units(rest_u: Fraction, part: np.ndarray) -> list[int]:
    """Return R·w_c·s_{c,i} in whole units: nine places first, then half-even."""
    values = float(rest_u) * part
    frac = values - np.floor(values)
    risky = (values >= _FAST_LIMIT) | (np.abs(frac - 0.5) < _FAST_MARGIN)
    result = np.rint(values).astype(np.int64).tolist()
    for i in np.flatnonzero(risky).tolist():
        exact = rest_u * Fraction(float(part[i]))
        result[i] = round_ratio_to_unit(exact.numerator, exact.denominator)
    return result


def component_basis(comp: Component, facts: Facts) -> np.ndarray:
    """Return every member's basis ``b_{c,i}`` for one component, as floats."""
    n = len(facts)
    if comp.kind == "equal":
        return np.ones(n)
    assert comp.attribute is not None
    needed_by = f"component '{comp.key}'"
    field = f"{comp.field}.attribute"
    if comp.kind == "table":
        table = comp.weights
        labels = facts.labels_in(comp.attribute, table, needed_by, f"{comp.field}.weights")
        return np.array([float(table[label]) for label in labels])
    if comp.kind == "tiers":
        values = facts.non_negative(comp.attribute, needed_by, field)
        mins = [low for low, _ in comp.tiers]
        weights = [float(w) for _, w in comp.tiers]
        found = []
        for code, value in zip(facts.codes, values, strict=True):
            index = bisect_right(mins, value) - 1
            if index < 0:
                raise ScenarioError(
                    f"Member {code}'s '{comp.attribute}' of {value} is below the first tier of "
                    f"component '{comp.key}' (which starts at {mins[0]}).",
                    field=f"{comp.field}.tiers",
                    members=[code],
                    attribute=comp.attribute,
                )
            found.append(weights[index])
        return np.array(found)
    numbers = facts.floats(comp.attribute, needed_by, field)
    if comp.transform == "sqrt":
        numbers = np.sqrt(numbers)
    elif comp.transform == "log1p":
        numbers = np.log1p(numbers)
    bad = ~np.isfinite(numbers)
    if bad.any():
        codes = [facts.codes[i] for i in np.flatnonzero(bad).tolist()]
        raise ScenarioError(
            f"The '{comp.attribute}' of {name_members(codes)} "
            f"is too large for component '{comp.key}'.",
            field=field,
            members=codes,
            attribute=comp.attribute,
        )
    return numbers


def equal_raw(n: int, owed: int) -> Raw:
    """Return the equal split of ``owed`` units."""
    return Raw([owed] * n, n, {})


def proportional_raw(weights: Sequence[Decimal], owed: int, codes: Sequence[str], what: str) -> Raw:
    """Return ``owed`` split in proportion to exact non-negative ``weights``."""
    ints, _ = scaled_ints(weights, Decimal(1))
    total = sum(ints)
    if total <= 0:
        if owed == 0:
            return Raw([0] * len(ints), 1, {})
        raise ScenarioError(f"Cannot split in proportion to {what}: they add up to 0.")
    return Raw([owed * v for v in ints], total, {})


def savings_raw(
    method: str, solo: Sequence[Decimal | None], owed: int, unit: Decimal, codes: Sequence[str]
) -> Raw:
    """Return the raw shares of ``equal_savings`` or ``proportional_savings`` (section 6)."""
    missing = [code for code, v in zip(codes, solo, strict=True) if v is None]
    if missing:
        raise missing_attribute(missing, "solo_price", f"the method '{method}'", "formula.method")
    prices = [v for v in solo if v is not None]
    ints, scale = scaled_ints(prices, unit)
    total = sum(ints)
    if total == 0:
        raise ScenarioError(
            f"The method '{method}' needs solo prices, but they add up to 0.",
            field="formula.method",
        )
    if method == "proportional_savings":
        return Raw([v * owed for v in ints], total, {})
    n = len(ints)
    shift = owed * scale - total
    return Raw([n * v + shift for v in ints], n * scale, {})


# -- bounds -----------------------------------------------------------------------


def member_bounds(facts: Facts, formula: Formula, unit: Decimal) -> Bounds:
    """Return every member's bounds, snapped inward to the grid, with their sources."""
    n = len(facts)
    low = [0] * n
    low_source: list[str | None] = [None] * n
    high: list[int | None] = [None] * n
    high_source: list[str | None] = [None] * n
    if formula.max_change is not None:
        change = formula.max_change
        previous = facts.optional_numbers("previous_share", "max_change", "formula.max_change")
        held = [i for i, prev in enumerate(previous) if prev is not None]
        values: list[Decimal] = [previous[i] for i in held]  # type: ignore[misc]
        negative = [facts.codes[i] for i, v in zip(held, values, strict=True) if v < 0]
        if negative:
            raise ScenarioError(
                f"The previous_share of {name_members(negative)} is negative.",
                field="formula.max_change",
                members=negative,
                attribute="previous_share",
            )
        ups = units_of(values, unit, ROUND_FLOOR, 1 + change)
        downs = units_of(values, unit, ROUND_CEILING, 1 - change) if change < 1 else [0] * len(held)
        for i, up, down in zip(held, ups, downs, strict=True):
            high[i] = up
            high_source[i] = "max_change_up"
            if down > 0:
                low[i] = down
                low_source[i] = "max_change_down"
    if formula.floor is not None:
        for i, snapped in enumerate(_rule_units(facts, formula.floor, unit, ROUND_CEILING)):
            # On a tie the floor is named: it is the rule the coordinator set for everyone.
            if snapped > 0 and snapped >= low[i]:
                low[i] = snapped
                low_source[i] = "floor"
    if formula.cap is not None:
        for i, snapped in enumerate(_rule_units(facts, formula.cap, unit, ROUND_FLOOR)):
            current = high[i]
            if current is None or snapped <= current:
                high[i] = snapped
                high_source[i] = "cap"
    return Bounds(low, high, low_source, high_source)


def _rule_units(facts: Facts, rule: BoundRule, unit: Decimal, rounding: str) -> list[int]:
    """Return a floor's or cap's value for every member, in whole units rounded inward."""
    if rule.money is not None:
        return units_of([rule.money], unit, rounding) * len(facts)
    assert rule.attribute is not None
    values = facts.non_negative(rule.attribute, f"the {rule.name}", f"formula.{rule.name}")
    return units_of(values, unit, rounding)


def check_feasible(
    facts: Facts, raw: Raw, bounds: Bounds, owed: int, unit: Decimal, money: str
) -> None:
    """Fail, naming the sums and members, when no split can respect every bound."""
    codes = facts.codes

    def show(units: int) -> str:
        return f"{units * unit} {money}"

    crossed = [
        i
        for i, (lo, hi) in enumerate(zip(bounds.low, bounds.high, strict=True))
        if hi is not None and lo > hi
    ]
    if crossed:
        i = crossed[0]
        hi = bounds.high[i]
        assert hi is not None
        others = [codes[j] for j in crossed[1:]]
        raise InfeasibleError(
            f"Member {codes[i]} must pay at least {show(bounds.low[i])} "
            f"({_rule(bounds.low_source[i])}) but at most {show(hi)} "
            f"({_rule(bounds.high_source[i])})"
            + (f"; the bounds of {name_members(others)} cross too." if others else "."),
            field=f"formula.{_rule(bounds.high_source[i])}",
            members=[codes[j] for j in crossed],
        )
    low_total = sum(bounds.low)
    if low_total > owed:
        held = [codes[i] for i, lo in enumerate(bounds.low) if lo > 0]
        sources = sorted({_rule(s) for s in bounds.low_source if s})
        raise InfeasibleError(
            f"The members' lower bounds ({', '.join(sources)}) add up to {show(low_total)}, "
            f"more than the {show(owed)} they owe (held up: {name_members(held)}).",
            field=f"formula.{_rule(sources[0])}",
            members=held,
        )
    reach = 0
    for ri, lo, hi in zip(raw.r, bounds.low, bounds.high, strict=True):
        if ri <= 0:
            reach += lo
        elif hi is None:
            return
        else:
            reach += hi
    if reach < owed:
        shareless = [code for code, ri in zip(codes, raw.r, strict=True) if ri <= 0]
        limited = [code for code, ri in zip(codes, raw.r, strict=True) if ri > 0]
        detail = []
        if limited:
            detail.append(f"held down: {name_members(limited)}")
        if shareless:
            detail.append(
                f"no formula share, so no more than their floor: {name_members(shareless)}"
            )
        sources = sorted({_rule(s) for s in bounds.high_source if s}) or ["cap"]
        raise InfeasibleError(
            f"The most the members can pay under their upper bounds ({', '.join(sources)}) is "
            f"{show(reach)}, less than the {show(owed)} they owe ({'; '.join(detail)}).",
            field=f"formula.{_rule(sources[0])}",
            members=limited + shareless,
        )


def _rule(source: str | None) -> str:
    """Return the formula field a bound comes from: floor, cap or max_change."""
    return "max_change" if source and source.startswith("max_change") else (source or "floor")


# -- λ -----------------------------------------------------------------------------


_LOW, _FREE, _HIGH = 0, 1, 2


def solve(
    r: list[int],
    q: int,
    low: list[int],
    high: list[int | None],
    owed: int,
    raw_float: np.ndarray | None = None,
) -> tuple[list[int], int, Fraction]:
    """Return (numerators, denominator, λ) of ``x_i = clip(λ·raw_i, L_i, U_i)`` with Σx = owed.

    ``raw_i = r[i]/q``; ``x_i = numerators[i]/denominator`` exactly, in units,
    for the smallest λ ≥ 0. Floats only locate the segment of the piecewise
    linear Σx(λ); λ on it is then solved and checked in integers.
    """
    if sum(low) == owed:
        return list(low), 1, Fraction(0)
    if raw_float is None:
        raw_float = np.array(r, dtype=float) / float(q)
    states = _float_segment(raw_float, low, high, owed)
    found = _exact_on_segment(r, low, high, owed, states)
    if found is None:
        states = _exact_states(r, low, high, owed)
        found = _exact_on_segment(r, low, high, owed, states)
        assert found is not None, "the exact sweep always lands on a consistent segment"
    numerators, denominator, mu = found
    return numerators, denominator, mu * q


def _float_segment(raw: np.ndarray, low: list[int], high: list[int | None], owed: int) -> list[int]:
    n = len(raw)
    positive = raw > 0
    index = np.flatnonzero(positive)
    lo = np.array(low, dtype=float)[index]
    hi = np.array([np.inf if h is None else h for h in high], dtype=float)[index]
    rp = raw[index]
    finite = np.isfinite(hi)
    times = np.concatenate((lo / rp, hi[finite] / rp[finite]))
    slopes = np.concatenate((rp, -rp[finite]))
    members = np.concatenate((index, index[finite]))
    kinds = np.concatenate(
        (np.zeros(len(index), dtype=np.int8), np.ones(int(finite.sum()), dtype=np.int8))
    )
    order = np.argsort(times, kind="stable")
    times = times[order]
    slope = np.maximum(np.cumsum(slopes[order]), 0.0)
    gains = slope[:-1] * np.diff(times)
    reached = float(sum(low)) + np.concatenate(([0.0], np.cumsum(gains)))
    k = int(np.searchsorted(reached, float(owed), side="left"))
    passed_members = members[order[:k]]
    passed_kinds = kinds[order[:k]]
    states = np.full(n, _LOW, dtype=np.int8)
    states[passed_members[passed_kinds == 0]] = _FREE
    states[passed_members[passed_kinds == 1]] = _HIGH
    return states.tolist()


def _exact_states(r: list[int], low: list[int], high: list[int | None], owed: int) -> list[int]:
    """Find the solution's segment with exact breakpoints (used when floats were too coarse)."""
    events: list[tuple[Fraction, int]] = []
    for ri, lo, hi in zip(r, low, high, strict=True):
        if ri > 0:
            events.append((Fraction(lo, ri), ri))
            if hi is not None:
                events.append((Fraction(hi, ri), -ri))
    events.sort(key=lambda e: e[0])
    reached = Fraction(sum(low))
    slope = 0
    before = Fraction(0)
    mu = None
    for time, change in events:
        at = reached + slope * (time - before)
        if at >= owed:
            mu = before + (owed - reached) / slope
            break
        reached, before = at, time
        slope += change
    if mu is None:
        mu = before + (owed - reached) / slope
    states = []
    for ri, lo, hi in zip(r, low, high, strict=True):
        value = mu * ri
        if ri <= 0 or value <= lo:
            states.append(_LOW)
        elif hi is not None and value >= hi:
            states.append(_HIGH)
        else:
            states.append(_FREE)
    return states


def _exact_on_segment(
    r: list[int], low: list[int], high: list[int | None], owed: int, states: list[int]
) -> tuple[list[int], int, Fraction] | None:
    """Solve λ exactly for these member states; ``None`` if they are not consistent."""
    rest = owed
    weight = 0
    for ri, lo, hi, state in zip(r, low, high, states, strict=True):
        if state == _FREE:
            weight += ri
        elif state == _HIGH:
            assert hi is not None
            rest -= hi
        else:
            rest -= lo
    if weight == 0:
        return _flat_segment(r, low, high, states, rest)
    if rest < 0:
        return None
    numerators = []
    append = numerators.append
    interior = False
    for ri, lo, hi, state in zip(r, low, high, states, strict=True):
        if state == _FREE:
            value = rest * ri
            lo_w = lo * weight
            if value < lo_w:
                return None
            if hi is not None:
                hi_w = hi * weight
                if value > hi_w:
                    return None
                interior = interior or lo_w < value < hi_w
            else:
                interior = interior or lo_w < value
            append(value)
        elif state == _HIGH:
            assert hi is not None
            if ri <= 0 or rest * ri < hi * weight:
                return None
            append(hi * weight)
        else:
            if ri > 0 and rest * ri > lo * weight:
                return None
            append(lo * weight)
    if interior:
        return numerators, weight, Fraction(rest, weight)
    return numerators, weight, _smallest_mu(r, low, high, numerators, weight)


def _flat_segment(
    r: list[int], low: list[int], high: list[int | None], states: list[int], rest: int
) -> tuple[list[int], int, Fraction] | None:
    if rest != 0:
        return None
    values = [hi if s == _HIGH else lo for lo, hi, s in zip(low, high, states, strict=True)]
    mu = _smallest_mu(r, low, high, values, 1)
    for ri, lo, state in zip(r, low, states, strict=True):
        if state == _LOW and ri > 0 and mu * ri > lo:
            return None
    return values, 1, mu  # type: ignore[return-value]


def _smallest_mu(
    r: list[int], low: list[int], high: list[int | None], numerators: list[int], den: int
) -> Fraction:
    """Return the smallest multiplier giving these amounts, none strictly inside its bounds."""
    mu = Fraction(0)
    for ri, lo, hi, num in zip(r, low, high, numerators, strict=True):
        if ri > 0 and hi is not None and hi > lo and num == hi * den:
            mu = max(mu, Fraction(hi, ri))
    return mu


# -- rounding ----------------------------------------------------------------------


def largest_remainder(numerators: Sequence[int], denominator: int, total: int) -> list[int]:
    """Round ``numerators[i]/denominator`` to whole units summing to ``total``.

    Everything is rounded down; the units left over go one each to the
    largest remainders, each first rounded half-even to nine places; ties go
    to the earlier position (callers order by member code or group name).
    """
    floors = []
    ticks = []
    for num in numerators:
        whole, rem = divmod(num, denominator)
        floors.append(whole)
        ticks.append(round_ratio_half_even(rem * NINE_PLACES, denominator) if rem else 0)
    left = total - sum(floors)
    # The values sum exactly to total, so fewer units are left over than there are values.
    assert 0 <= left <= len(floors), "the values must add up to the total before rounding"
    if left:
        order = np.argsort(-np.array(ticks, dtype=np.int64), kind="stable")[:left]
        for i in order.tolist():
            floors[i] += 1
    return floors


# -- the whole split ---------------------------------------------------------------


def finish(
    facts: Facts,
    raw: Raw,
    bounds: Bounds,
    owed: int,
    unit: Decimal,
    money: str,
    method_part: str | None,
) -> Split:
    """Apply bounds, λ and rounding to raw shares, and explain every amount."""
    check_feasible(facts, raw, bounds, owed, unit, money)
    r, q = raw.r, raw.q
    # Floats only guide the exact work below (segment, safe roundings): C-level is enough.
    raw_float = np.array(r, dtype=float) / float(q)
    numerators, den, lam = solve(r, q, bounds.low, bounds.high, owed, raw_float)
    amounts = largest_remainder(numerators, den, owed)
    reported = _to_unit(raw_float, lambda i: (r[i], q))
    x_float = np.array(numerators, dtype=float) / float(den)
    both = den * q
    adjustment = _to_unit(
        x_float - raw_float,
        lambda i: (numerators[i] * q - r[i] * den, both),
        risky=np.maximum(np.abs(x_float), np.abs(raw_float)) >= _FAST_LIMIT,
    )
    parts = dict(raw.parts)
    if method_part is not None:
        parts[method_part] = reported
    parts["bound_adjustment"] = adjustment
    shown = np.zeros(len(amounts), dtype=object)
    for column in parts.values():
        shown += np.array(column, dtype=object)
    parts["rounding"] = (np.array(amounts, dtype=object) - shown).tolist()
    bound: list[str | None] = []
    append = bound.append
    for num, lo, hi, lo_source, hi_source in zip(
        numerators, bounds.low, bounds.high, bounds.low_source, bounds.high_source, strict=True
    ):
        if hi is not None and num == hi * den:
            append(hi_source)
        elif lo > 0 and num == lo * den:
            append(lo_source)
        else:
            append(None)
    return Split(amounts, reported, parts, bound, lam)


def _to_unit(
    values: np.ndarray, exact: Callable[[int], tuple[int, int]], risky: np.ndarray | None = None
) -> list[int]:
    """Round float values to whole units (nine places, then half-even) where floats are safe.

    ``exact(i)`` gives the exact (numerator, denominator) of value ``i``; it
    is used where the float is large or lies near a half, where float
    error could decide the rounding.
    """
    frac = values - np.floor(values)
    unsafe = (np.abs(values) >= _FAST_LIMIT) | (np.abs(frac - 0.5) < _FAST_MARGIN)
    if risky is not None:
        unsafe |= risky
    result = np.rint(np.where(unsafe, 0.0, values)).astype(np.int64).tolist()
    for i in np.flatnonzero(unsafe).tolist():
        result[i] = round_ratio_to_unit(*exact(i))
    return result
