"""Section 4 and the explanation of section 9: largest remainder on the grid, nine places first."""

from __future__ import annotations

from decimal import Decimal

from costshare.engine import allocate
from tests.engine.scenarios import amounts, field, member, run, scenario


def test_remainders_are_compared_at_nine_places_then_by_code() -> None:
    # JPY (unit 1), proportional savings: raw_i = solo_i × 10 / 10^10 = solo_i / 10^9:
    #   A 1.5, B 2.5000000001, C 5.9999999999 → floors 1 + 2 + 5 = 8, two yen left.
    #   Remainders at nine places: A .500000000, B .500000000 (tie), C 1.000000000.
    #   C first, then the A/B tie goes to A by code — B's extra 1e-10 does not count.
    data = scenario(
        [
            member("A", solo_price="1500000000"),
            member("B", solo_price="2500000000.1"),
            member("C", solo_price="5999999999.9"),
        ],
        total="10",
        currency="JPY",
        formula={"method": "proportional_savings"},
    )
    assert amounts(run(data)) == {"A": "2", "B": "2", "C": "6"}


def test_every_amount_is_on_the_grid_of_the_unit() -> None:
    # unit 0.05 (cash rounding): 1.00 / 3 = 0.3333… = 6.666… units → floors 6 each
    # (0.30), two units left → A and B: 0.35, 0.35, 0.30.
    data = scenario(
        [member("A"), member("B"), member("C")],
        total="1.00",
        formula={"components": [{"kind": "equal"}], "rounding": {"unit": "0.05"}},
    )
    result = run(data)
    assert amounts(result) == {"A": "0.35", "B": "0.35", "C": "0.30"}
    # raw 0.3333… is 6.67 units → half-even to 7 units = 0.35.
    assert field(result, "raw") == {"A": "0.35", "B": "0.35", "C": "0.35"}


def test_explanation_parts_round_to_nine_places_before_the_unit() -> None:
    # 0.09 EUR, weights equal 1 : fte 2 (→ 1/3, 2/3), two members with fte 1 and 1:
    #   equal part = 0.09 × 1/3 × 1/2 = 0.015 exactly, which floats give as 0.01499999…;
    #   at nine places it is 0.015000000 → half-even → 0.02 (not 0.01).
    #   fte part = 0.09 × 2/3 × 1/2 = 0.03. raw 0.045 → 0.04 (half-even).
    #   Amounts: 0.045 each → 0.04 + 0.04, one cent left → A: 0.05, B: 0.04.
    data = scenario(
        [member("A", fte=1), member("B", fte=1)],
        total="0.09",
        formula={
            "components": [
                {"kind": "equal", "weight": 1},
                {"kind": "attribute", "attribute": "fte", "weight": 2},
            ]
        },
    )
    result = run(data)
    assert amounts(result) == {"A": "0.05", "B": "0.04"}
    assert field(result, "raw") == {"A": "0.04", "B": "0.04"}
    assert field(result, "explanation") == {
        "A": {
            "equal": "0.02",
            "attribute:fte": "0.03",
            "bound_adjustment": "0.00",
            "rounding": "0.00",
        },
        "B": {
            "equal": "0.02",
            "attribute:fte": "0.03",
            "bound_adjustment": "0.00",
            "rounding": "-0.01",
        },
    }


def test_explanation_parts_add_up_to_each_amount() -> None:
    data = scenario(
        [member(code, fte=fte) for code, fte in (("A", 7), ("B", 11), ("C", 13), ("D", 17))],
        total="1234.57",
        formula={
            "components": [
                {"kind": "equal"},
                {"kind": "attribute", "attribute": "fte", "transform": "sqrt"},
            ],
            "fixed_fee": "10.005",
            "floor": "250",
        },
    )
    result = allocate(data)
    for line in result["lines"]:
        assert sum(line["explanation"].values(), Decimal(0)) == line["amount"]
    assert sum(line["amount"] for line in result["lines"]) == Decimal("1234.57")


def test_a_unit_of_a_hundred_written_with_an_exponent() -> None:
    # 1000 JPY in units of 100 among 3: 333.33… = 3.33 units → floors 300 × 3, one unit left → A.
    data = scenario(
        [member("A"), member("B"), member("C")],
        total="1000",
        currency="JPY",
        formula={"components": [{"kind": "equal"}], "rounding": {"unit": "1E+2"}},
    )
    result = allocate(data)
    assert [str(line["amount"]) for line in result["lines"]] == ["400", "300", "300"]
