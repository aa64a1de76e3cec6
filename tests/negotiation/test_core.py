"""The core check against brute force over every group of members."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from costshare.negotiation.core import core_check, group_price


def alone_price(prices, tiers, unit):
    """The vendor's price for a group, written independently of the code under test."""
    with localcontext() as ctx:
        ctx.prec = 80
        discount = Decimal(0)
        for low, rate in sorted(tiers):
            if low <= len(prices):
                discount = rate
        value = (1 - discount) * sum(prices, Decimal(0))
        return (value / unit).to_integral_value(ROUND_HALF_EVEN) * unit


def brute_force(codes, paid, prices, tiers, unit):
    """Largest excess (Σ paid − price alone) per group size, over all 2^n − 1 groups."""
    best = {}
    for k in range(1, len(codes) + 1):
        for chosen in combinations(range(len(codes)), k):
            excess = sum((paid[i] for i in chosen), Decimal(0)) - alone_price(
                [prices[i] for i in chosen], tiers, unit
            )
            best[k] = max(best.get(k, excess), excess)
    return best


def assert_agrees(codes, paid, prices, tiers, unit):
    check = core_check(codes, paid, prices, tiers, unit)
    best = brute_force(codes, paid, prices, tiers, unit)
    blocked = {k for k, excess in best.items() if excess > 0}
    assert {g.size for g in check.groups} == blocked
    assert check.in_core == (not blocked)
    for group in check.groups:
        index = [codes.index(c) for c in group.codes]
        assert group.paid == sum((paid[i] for i in index), Decimal(0))
        assert group.alone == alone_price([prices[i] for i in index], tiers, unit)
        assert group.excess > 0
        # The named group gains most before rounding: within one unit of the best after it.
        assert best[group.size] - unit <= group.excess <= best[group.size]
    return check


def test_a_member_paying_more_than_its_list_price_is_a_group_of_one() -> None:
    # Tiers: 2+ members 10 % off. Prices 100, 100, 100; joint price 270.
    # A pays 150, B 60, C 60: A alone would pay 100 → excess 50.
    # Pairs: {A,B} pay 210 vs 0.9·200 = 180 → excess 30; {A,C} the same.
    tiers = [(2, Decimal("0.10"))]
    check = assert_agrees(
        ["A", "B", "C"],
        [Decimal(150), Decimal(60), Decimal(60)],
        [Decimal(100)] * 3,
        tiers,
        Decimal(1),
    )
    assert [(g.codes, g.excess) for g in check.groups] == [(("A",), 50), (("A", "B"), 30)]
    assert check.worst.codes == ("A",)


def test_a_split_of_the_discount_in_proportion_is_in_the_core() -> None:
    # Each pays 90 % of its list price: any group alone pays at least that much.
    prices = [Decimal("1000.00"), Decimal("2500.00"), Decimal("400.00"), Decimal("800.00")]
    paid = [p * Decimal("0.9") for p in prices]
    tiers = [(3, Decimal("0.05")), (4, Decimal("0.10"))]
    assert assert_agrees(["A", "B", "C", "D"], paid, prices, tiers, Decimal("0.01")).in_core


def test_a_gain_of_exactly_half_a_unit_leaves_only_when_the_price_rounds_down() -> None:
    # One member, price 3 at 50 % off = 1.5, rounded half-even to 2: paying 2 is fine.
    half_off = [(1, Decimal("0.5"))]
    assert core_check(["A"], [Decimal(2)], [Decimal(3)], half_off, Decimal(1)).in_core
    # Price 5 at 50 % off = 2.5 → 2: paying 3 is one more than alone.
    check = core_check(["A"], [Decimal(3)], [Decimal(5)], half_off, Decimal(1))
    assert [(g.codes, g.alone, g.excess) for g in check.groups] == [(("A",), 2, 1)]


def test_ties_pick_a_group_whose_price_rounds_down() -> None:
    # 50 % off from one member on. Every member gains paid − ½·price = ½ exactly:
    # A, B pay 2 for price 3 (½·3 = 1.5 → 2: no excess); C, D pay 3 for 5 (2.5 → 2: excess 1).
    # Pairs gain 1 > ½: A+B pay 4 for ½·6 = 3 → excess 1. Triples: A+B+C pay 7 for
    # ½·11 = 5.5 → 6 → excess 1. All four pay 10 for ½·16 = 8 → excess 2.
    codes = ["A", "B", "C", "D"]
    paid = [Decimal(2), Decimal(2), Decimal(3), Decimal(3)]
    prices = [Decimal(3), Decimal(3), Decimal(5), Decimal(5)]
    check = assert_agrees(codes, paid, prices, [(1, Decimal("0.5"))], Decimal(1))
    assert [(g.codes, g.excess) for g in check.groups] == [
        (("C",), 1),
        (("A", "B"), 1),
        (("A", "B", "C"), 1),
        (("A", "B", "C", "D"), 2),
    ]
    assert check.worst.codes == ("A", "B", "C", "D")


def test_group_price_rounds_half_even_on_the_grid() -> None:
    # 0.9 × (10.05 + 0.00) = 9.045 → 9.04 on a 0.01 grid; on a 0.05 grid 9.045/0.05 = 180.9 → 9.05.
    tiers = [(1, Decimal("0.10"))]
    assert group_price([Decimal("10.05")], tiers, Decimal("0.01")) == Decimal("9.04")
    assert group_price([Decimal("10.05")], tiers, Decimal("0.05")) == Decimal("9.05")


UNITS = [Decimal(1), Decimal("0.01"), Decimal("0.05"), Decimal("0.5")]
DISCOUNTS = [Decimal(0), Decimal("0.1"), Decimal("0.25"), Decimal("0.5"), Decimal("0.3333")]


@st.composite
def cases(draw):
    n = draw(st.integers(1, 7))
    unit = draw(st.sampled_from(UNITS))
    # Small whole numbers of units make exact half-unit ties likely.
    prices = [unit * draw(st.integers(0, 40)) for _ in range(n)]
    if draw(st.booleans()):
        prices = [p + Decimal(draw(st.integers(0, 99))) / 1000 for p in prices]
    paid = [unit * draw(st.integers(0, 60)) for _ in range(n)]
    tiers = draw(
        st.lists(
            st.tuples(st.integers(1, 8), st.sampled_from(DISCOUNTS)),
            max_size=3,
            unique_by=lambda t: t[0],
        )
    )
    return [f"M{i}" for i in range(n)], paid, prices, tiers, unit


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_check_agrees_with_brute_force_on_random_cases(case) -> None:
    assert_agrees(*case)
