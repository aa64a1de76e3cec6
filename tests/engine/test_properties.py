"""Invariants over generated scenarios (hypothesis), and Shapley against brute force."""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costshare.engine import InfeasibleError, allocate, shapley_of, shapley_values

SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
UNITS = ["0.01", "1", "0.05", "0.001"]
CODES = st.text(alphabet="ABCDEFGHJKÉß", min_size=1, max_size=3)


def money(draw: Any, unit: Decimal, low: int, high: int) -> Decimal:
    return Decimal(draw(st.integers(low, high))) * unit


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 9))
    codes = draw(st.lists(CODES, min_size=n, max_size=n, unique=True))
    unit = Decimal(draw(st.sampled_from(UNITS)))
    total = money(draw, unit, 0, 5_000_000)
    per_member = total / n
    members = []
    for code in codes:
        attributes: dict[str, Any] = {
            "fte": draw(st.integers(1, 90_000)),
            "usage": draw(st.integers(0, 90_000)),
            "band": draw(st.sampled_from("ABC")),
        }
        if draw(st.booleans()):
            # Solo prices: usually above a fair share, sometimes below (pays more than alone).
            factor = Decimal(draw(st.integers(30, 400))) / 100
            attributes["solo_price"] = str((per_member * factor).quantize(Decimal("0.001")))
        if draw(st.booleans()):
            factor = Decimal(draw(st.integers(50, 150))) / 100
            attributes["previous_share"] = str((per_member * factor).quantize(Decimal("0.01")))
        members.append({"code": code, "name": f"Library {code}", "attributes": attributes})
    weights = draw(st.lists(st.integers(0, 3), min_size=4, max_size=4).filter(any))
    components = [
        {"kind": "equal", "weight": weights[0]},
        {"kind": "attribute", "attribute": "fte", "weight": weights[1]},
        {
            "kind": "attribute",
            "attribute": "fte",
            "weight": weights[2],
            "transform": "sqrt",
            "name": "root",
        },
        {
            "kind": "table",
            "attribute": "band",
            "weights": {"A": 3, "B": 2, "C": 1},
            "weight": weights[3],
        },
    ]
    formula: dict[str, Any] = {"components": components, "rounding": {"unit": str(unit)}}
    if draw(st.booleans()):
        formula["floor"] = str(
            (per_member * Decimal(draw(st.integers(0, 60))) / 100).quantize(Decimal("0.001"))
        )
    if draw(st.booleans()):
        if all("solo_price" in m["attributes"] for m in members) and draw(st.booleans()):
            formula["cap"] = "solo_price"
        else:
            formula["cap"] = str(
                (per_member * Decimal(draw(st.integers(100, 300))) / 100).quantize(Decimal("0.01"))
            )
    if draw(st.booleans()):
        formula["max_change"] = draw(st.sampled_from(["0", "0.05", "0.25", "1.5"]))
    if draw(st.booleans()):
        fee = per_member * Decimal(draw(st.integers(0, 40))) / 100
        formula["fixed_fee"] = str(fee.quantize(Decimal("0.001"), rounding=ROUND_FLOOR))
    data: dict[str, Any] = {
        "currency": "EUR",
        "total": str(total),
        "members": members,
        "formula": formula,
    }
    if draw(st.booleans()):
        data["surcharge"] = draw(st.sampled_from(["0.05", "0.125", "0"]))
    if draw(st.booleans()):
        # At most half the price, so that fixed fees (at most 40 % of it) stay payable.
        data["subsidy"] = str(money(draw, unit, 0, int(total / unit) // 2))
    return data


def allocate_or_skip(data: dict[str, Any]) -> dict[str, Any]:
    try:
        return allocate(data)
    except InfeasibleError:
        assume(False)
        raise


def snap(value: Decimal, unit: Decimal, rounding: str) -> Decimal:
    return (value / unit).to_integral_value(rounding=rounding) * unit


def expected_bounds(
    data: dict[str, Any], unit: Decimal
) -> dict[str, tuple[Decimal, Decimal | None]]:
    """Each member's bounds computed from the spec's section 3, independently of the engine."""
    formula = data["formula"]
    bounds = {}
    for m in data["members"]:
        attrs = m["attributes"]
        low = Decimal(0)
        high: Decimal | None = None
        if "floor" in formula:
            low = max(low, snap(Decimal(formula["floor"]), unit, ROUND_CEILING))
        if "cap" in formula:
            cap = attrs["solo_price"] if formula["cap"] == "solo_price" else formula["cap"]
            high = snap(Decimal(cap), unit, ROUND_FLOOR)
        if "max_change" in formula and "previous_share" in attrs:
            d = Decimal(formula["max_change"])
            p = Decimal(attrs["previous_share"])
            low = max(low, snap(max(Decimal(0), p * (1 - d)), unit, ROUND_CEILING))
            up = snap(p * (1 + d), unit, ROUND_FLOOR)
            high = up if high is None else min(high, up)
        bounds[m["code"]] = (low, high)
    return bounds


@SETTINGS
@given(scenarios())
def test_amounts_add_up_on_the_grid_within_bounds_and_explained(data: dict[str, Any]) -> None:
    result = allocate_or_skip(data)
    unit = Decimal(data["formula"]["rounding"]["unit"])
    lines = result["lines"]
    assert sum(line["amount"] for line in lines) == result["total"]
    assert result["price"] + result["surcharge_amount"] - result["subsidy"] == result["total"]
    assert sum(line["surcharge"] for line in lines) == (
        result["surcharge_amount"] if result["total"] else 0
    )
    bounds = expected_bounds(data, unit)
    for line in lines:
        amount = line["amount"]
        assert amount % unit == 0
        assert sum(line["explanation"].values(), Decimal(0)) == amount
        low, high = bounds[line["code"]]
        assert low <= amount
        assert high is None or amount <= high
        for part in line["explanation"].values():
            assert part % unit == 0


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_input_order_changes_nothing(data: dict[str, Any], rnd: Any) -> None:
    result = allocate_or_skip(data)
    shuffled = dict(data, members=list(data["members"]))
    rnd.shuffle(shuffled["members"])
    assert allocate(shuffled) == result


@SETTINGS
@given(scenarios())
def test_identical_members_pay_within_one_unit(data: dict[str, Any]) -> None:
    twin = dict(data["members"][0], code=data["members"][0]["code"] + "-twin")
    # One more member would also pay the fixed fee, which may then exceed what is owed.
    formula = {k: v for k, v in data["formula"].items() if k != "fixed_fee"}
    data = dict(data, members=[*data["members"], twin], formula=formula)
    result = allocate_or_skip(data)
    unit = Decimal(data["formula"]["rounding"]["unit"])
    paid = {line["code"]: line["amount"] for line in result["lines"]}
    assert abs(paid[twin["code"]] - paid[data["members"][0]["code"]]) <= unit


def coalition_value(prices: list[Fraction], coalition: tuple[int, ...], g: Any) -> Fraction:
    return g(len(coalition)) * sum((prices[i] for i in coalition), Fraction(0))


def brute_force_shapley(prices: list[Fraction], g: Any) -> list[Fraction]:
    """φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)), over every coalition."""
    n = len(prices)
    values = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = Fraction(0)
        for size in range(n):
            weight = Fraction(
                math.factorial(size) * math.factorial(n - size - 1), math.factorial(n)
            )
            for coalition in itertools.combinations(others, size):
                gain = coalition_value(prices, (*coalition, i), g) - coalition_value(
                    prices, coalition, g
                )
                total += weight * gain
        values.append(total)
    return values


def by_orders(prices: list[Fraction], g: Any) -> list[Fraction]:
    """The marginal cost of each member averaged over every order of joining."""
    n = len(prices)
    totals = [Fraction(0)] * n
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        joined: tuple[int, ...] = ()
        for i in order:
            totals[i] += coalition_value(prices, (*joined, i), g) - coalition_value(
                prices, joined, g
            )
            joined = (*joined, i)
    return [t / len(orders) for t in totals]


TIER_LISTS = st.lists(
    st.tuples(st.integers(1, 9), st.integers(0, 60)), max_size=4, unique_by=lambda t: t[0]
)


def discount_game(tiers: list[tuple[int, int]]) -> Any:
    def g(k: int) -> Fraction:
        if k == 0:
            return Fraction(0)
        reached = [d for low, d in sorted(tiers) if low <= k]
        return 1 - Fraction(reached[-1], 100) if reached else Fraction(1)

    return g


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=8), TIER_LISTS)
def test_shapley_closed_form_equals_enumeration_over_coalitions(
    cents: list[int], tiers: list
) -> None:
    prices = [Fraction(c, 100) for c in cents]
    g = discount_game(tiers)
    closed = shapley_values(
        [Decimal(c) / 100 for c in cents], [(low, Decimal(d) / 100) for low, d in tiers]
    )
    assert closed == brute_force_shapley(prices, g)
    # Σφ is the unrounded price of the whole set, g(n)·P.
    assert sum(closed, Fraction(0)) == g(len(prices)) * sum(prices, Fraction(0))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=5), TIER_LISTS)
def test_shapley_closed_form_equals_enumeration_over_orders(cents: list[int], tiers: list) -> None:
    prices = [Fraction(c, 100) for c in cents]
    closed = shapley_values(
        [Decimal(c) / 100 for c in cents], [(low, Decimal(d) / 100) for low, d in tiers]
    )
    assert closed == by_orders(prices, discount_game(tiers))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=7), TIER_LISTS)
def test_shapley_of_a_per_member_scenario_matches_enumeration(
    bands: list[str], tiers: list
) -> None:
    table = {"A": Fraction(9000), "B": Fraction(6000), "C": Fraction(2500)}
    data = {
        "currency": "EUR",
        "members": [{"code": f"M{i}", "attributes": {"band": b}} for i, b in enumerate(bands)],
        "pricing": {
            "kind": "per_member",
            "attribute": "band",
            "price_table": {k: str(v) for k, v in table.items()},
            "tiers": [{"min_members": low, "discount": str(Decimal(d) / 100)} for low, d in tiers],
        },
        "formula": {"method": "shapley"},
    }
    expected = brute_force_shapley([table[b] for b in bands], discount_game(tiers))
    got = shapley_of(data)
    assert [got[f"M{i}"] for i in range(len(bands))] == expected
    result = allocate(data)
    assert sum(line["amount"] for line in result["lines"]) == result["total"]


def reference_solve(
    raw: list[Fraction], low: list[int], high: list[int | None], owed: int
) -> tuple[list[Fraction], Fraction]:
    """The smallest λ ≥ 0 with Σ clip(λ·raw_i, L_i, U_i) = owed, by scanning exact breakpoints."""

    def total(lam: Fraction) -> Fraction:
        return sum(
            (clip(lam * r, lo, hi) for r, lo, hi in zip(raw, low, high, strict=True)), Fraction(0)
        )

    points = sorted(
        {Fraction(0)}
        | {Fraction(lo) / r for r, lo in zip(raw, low, strict=True) if r > 0}
        | {Fraction(hi) / r for r, hi in zip(raw, high, strict=True) if r > 0 and hi is not None}
    )
    previous = Fraction(0)
    for point in points:
        if total(point) >= owed:
            break
        previous = point
    else:
        point = previous + 1
        while total(point) < owed:
            point *= 2
    # Σx is linear on [previous, point]: interpolate, then step back over any flat stretch.
    a, b = total(previous), total(point)
    lam = point if b == a else previous + (owed - a) * (point - previous) / (b - a)
    candidates = [p for p in points if p <= lam and total(p) == owed]
    lam = min([lam, *candidates])
    return [clip(lam * r, lo, hi) for r, lo, hi in zip(raw, low, high, strict=True)], lam


def clip(value: Fraction, low: int, high: int | None) -> Fraction:
    value = max(value, Fraction(low))
    return value if high is None else min(value, Fraction(high))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-3, 40),  # raw, in units, before a tiny per-member nudge
            st.integers(0, 10**6),  # nudge: breakpoints a float cannot tell apart
            st.integers(0, 30),  # floor
            st.one_of(st.none(), st.integers(0, 60)),  # cap
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 200),
)
def test_exact_lambda_matches_a_reference_scan(rows: list, owed: int) -> None:
    from costshare.engine.split import solve

    q = 10**30
    r = [base * q + nudge for base, nudge, _, _ in rows]
    low = [lo for _, _, lo, _ in rows]
    high = [None if hi is None else max(hi, lo) for _, _, lo, hi in rows]
    raw = [Fraction(ri, q) for ri in r]
    reach = sum(
        hi if ri > 0 else lo
        for ri, lo, hi in zip(r, low, high, strict=True)
        if hi is not None or ri <= 0
    )
    assume(sum(low) <= owed)
    assume(any(ri > 0 and hi is None for ri, hi in zip(r, high, strict=True)) or reach >= owed)
    numerators, den, lam = solve(r, q, low, high, owed)
    expected, expected_lam = reference_solve(raw, low, high, owed)
    assert [Fraction(num, den) for num in numerators] == expected
    assert sum(numerators) == owed * den
    assert lam == expected_lam


@st.composite
def method_scenarios(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 8))
    codes = draw(st.lists(CODES, min_size=n, max_size=n, unique=True))
    method = draw(st.sampled_from(["shapley", "equal_savings", "proportional_savings"]))
    members = [
        {
            "code": code,
            "attributes": {
                "solo_price": str(Decimal(draw(st.integers(1, 10**7))) / 100),
                "sector": draw(st.sampled_from(["x", "y"])),
            },
        }
        for code in codes
    ]
    data: dict[str, Any] = {"currency": "EUR", "members": members, "formula": {"method": method}}
    if method == "shapley" and draw(st.booleans()):
        tiers = draw(TIER_LISTS)
        data["pricing"] = {
            "kind": "list_discount",
            "tiers": [{"min_members": low, "discount": str(Decimal(d) / 100)} for low, d in tiers],
        }
    else:
        data["total"] = str(Decimal(draw(st.integers(0, 10**8))) / 100)
    sectors = {m["attributes"]["sector"] for m in members}
    if method != "shapley" and draw(st.booleans()):
        data["groups"] = {
            "attribute": "sector",
            "shares": {s: draw(st.integers(1, 500)) for s in sectors},
        }
    return data


@SETTINGS
@given(method_scenarios())
def test_every_method_adds_up_exactly(data: dict[str, Any]) -> None:
    result = allocate_or_skip(data)
    lines = result["lines"]
    assert sum(line["amount"] for line in lines) == result["total"]
    for line in lines:
        assert line["amount"] % Decimal("0.01") == 0
        assert line["amount"] >= 0
        assert sum(line["explanation"].values(), Decimal(0)) == line["amount"]
    if "groups" in data:
        sector = {m["code"]: m["attributes"]["sector"] for m in data["members"]}
        for group in result["groups"]:
            paid = sum(line["amount"] for line in lines if sector[line["code"]] == group["name"])
            assert paid == group["total"]
        assert sum(g["total"] for g in result["groups"]) == result["total"]
