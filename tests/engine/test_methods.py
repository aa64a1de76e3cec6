"""Section 6, methods: Shapley (closed form, hand-checked), equal and proportional savings."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from costshare.engine import (
    MissingAttributeError,
    ScenarioError,
    allocate,
    shapley_of,
    shapley_values,
)
from tests.engine.scenarios import amounts, field, member, run, scenario


def with_solo_prices(*prices: str) -> list[dict]:
    """Return members A, B, C… with these solo prices."""
    return [member(chr(ord("A") + i), solo_price=price) for i, price in enumerate(prices)]


TIERS = [{"min_members": 2, "discount": "0.1"}, {"min_members": 3, "discount": "0.2"}]


def three_with_discounts(**parts: object) -> dict:
    members = with_solo_prices("100", "200", "300")
    return scenario(
        members,
        total=None,
        pricing={"kind": "list_discount", "tiers": TIERS},
        formula={"method": "shapley"},
        **parts,
    )


# Hand-worked: g(1) = 1, g(2) = 0.9, g(3) = 0.8; p = 100, 200, 300; P = 600.
#   A = (1 + 0.9 + 0.8)/3 = 0.9;  B = [(0.9 − 1)·1/2 + (0.8 − 0.9)·2/2]/3 = −0.05
#   φ = 100·0.9 + 500·(−0.05) = 65, 200·0.9 + 400·(−0.05) = 160, 300·0.9 + 300·(−0.05) = 255
#   Σφ = 480 = 0.8 × 600 = price(N).
# Check φ_A by enumeration: marginal costs 100 (first), 0.9·300 − 200 = 70 (after B),
#   0.9·400 − 300 = 60 (after C), 0.8·600 − 0.9·500 = 30 (last);
#   weights 1/3, 1/6, 1/6, 1/3 → 100/3 + 70/6 + 60/6 + 30/3 = 65.


def test_shapley_closed_form_hand_checked() -> None:
    values = shapley_values(
        [Decimal(100), Decimal(200), Decimal(300)], [(2, Decimal("0.1")), (3, Decimal("0.2"))]
    )
    assert values == [Fraction(65), Fraction(160), Fraction(255)]


def test_shapley_split() -> None:
    result = run(three_with_discounts())
    assert result["price"] == "480.00"
    assert amounts(result) == {"A": "65.00", "B": "160.00", "C": "255.00"}
    assert result["lines"][0]["explanation"] == {
        "shapley": "65.00",
        "bound_adjustment": "0.00",
        "rounding": "0.00",
    }
    assert result["lambda"] == "1.000000"


def test_shapley_is_scaled_to_what_is_owed() -> None:
    # surcharge 10 %: owed 528.00 = 1.1 × 480 → 71.50, 176.00, 280.50.
    result = run(three_with_discounts(surcharge="0.1"))
    assert result["total"] == "528.00"
    assert amounts(result) == {"A": "71.50", "B": "176.00", "C": "280.50"}


def test_shapley_of_a_subset_and_in_fractions() -> None:
    # Only A and B: g(1) = 1, g(2) = 0.9 → A = 0.95, B = −0.05 (n = 2):
    #   φ_A = 100·0.95 + 200·(−0.05) = 85, φ_B = 200·0.95 + 100·(−0.05) = 185; Σ = 270 = 0.9 × 300.
    assert shapley_of(three_with_discounts(), ["A", "B"]) == {"A": Fraction(85), "B": Fraction(185)}
    assert shapley_of(three_with_discounts()) == {"A": 65, "B": 160, "C": 255}


def test_shapley_per_member_uses_the_table_price_not_a_typed_solo_price() -> None:
    # Table prices 1000 and 3000, 20 % from 2 members: A = 0.9, B = −0.1 →
    # φ = 1000·0.9 − 3000·0.1 = 600 and 3000·0.9 − 1000·0.1 = 2600 (Σ = 3200 = 0.8 × 4000).
    members = [member("A", band="x", solo_price="5000"), member("B", band="y", solo_price="5000")]
    pricing = {
        "kind": "per_member",
        "attribute": "band",
        "price_table": {"x": "1000", "y": "3000"},
        "tiers": [{"min_members": 2, "discount": "0.2"}],
    }
    data = scenario(members, total=None, pricing=pricing, formula={"method": "shapley"})
    assert amounts(run(data)) == {"A": "600.00", "B": "2600.00"}


def test_shapley_of_a_fixed_price_is_the_equal_split() -> None:
    data = scenario(
        [member("A"), member("B"), member("C")], total="90.00", formula={"method": "shapley"}
    )
    assert amounts(run(data)) == {"A": "30.00", "B": "30.00", "C": "30.00"}
    data = scenario(
        [member("A"), member("B")],
        total=None,
        pricing={"kind": "fixed_total", "total": "10"},
        formula={"method": "shapley"},
    )
    assert amounts(run(data)) == {"A": "5.00", "B": "5.00"}


def test_shapley_of_one_member_is_the_price() -> None:
    data = three_with_discounts()
    data["members"] = data["members"][:1]
    result = run(data)
    assert amounts(result) == {"A": "100.00"}


def test_shapley_goes_through_bounds() -> None:
    # Shapley 65, 160, 255 with a floor of 100: A held up at 100, B and C share 380
    # in proportion 160 : 255 → 146.506…, 233.493… → 146.51, 233.49.
    data = three_with_discounts()
    data["formula"]["floor"] = "100"
    result = run(data)
    assert amounts(result) == {"A": "100.00", "B": "146.51", "C": "233.49"}
    assert field(result, "bound")["A"] == "floor"


def test_equal_savings() -> None:
    # solo 100 + 200 + 300 = 600, owed 450: everyone saves 150/3 = 50 → 50, 150, 250.
    members = with_solo_prices("100", "200", "300")
    result = run(scenario(members, total="450.00", formula={"method": "equal_savings"}))
    assert amounts(result) == {"A": "50.00", "B": "150.00", "C": "250.00"}
    assert field(result, "savings") == {"A": "50.00", "B": "50.00", "C": "50.00"}


def test_equal_savings_with_a_member_below_zero() -> None:
    # solo 10 + 200 + 300 = 510, owed 300: saving (510 − 300)/3 = 70 → raw −60, 130, 230.
    # A sits at 0; B and C share 300 by 130 : 230 → λ = 300/360 → 108.333…, 191.666….
    members = with_solo_prices("10", "200", "300")
    result = run(scenario(members, total="300.00", formula={"method": "equal_savings"}))
    assert amounts(result) == {"A": "0.00", "B": "108.33", "C": "191.67"}
    assert field(result, "raw") == {"A": "-60.00", "B": "130.00", "C": "230.00"}
    assert field(result, "explanation") == {
        "A": {"equal_savings": "-60.00", "bound_adjustment": "60.00", "rounding": "0.00"},
        "B": {"equal_savings": "130.00", "bound_adjustment": "-21.67", "rounding": "0.00"},
        "C": {"equal_savings": "230.00", "bound_adjustment": "-38.33", "rounding": "0.00"},
    }


def test_proportional_savings() -> None:
    # solo 100 and 300, owed 200: everyone pays half its solo price → 50, 150 (savings 50 %).
    members = [member("A", solo_price="100"), member("B", solo_price="300")]
    result = run(scenario(members, total="200.00", formula={"method": "proportional_savings"}))
    assert amounts(result) == {"A": "50.00", "B": "150.00"}
    assert field(result, "savings_pct") == {"A": "0.5000", "B": "0.5000"}


@pytest.mark.parametrize("method", ["equal_savings", "proportional_savings"])
def test_savings_methods_need_every_solo_price(method: str) -> None:
    data = scenario([member("A", solo_price="1"), member("B")], formula={"method": method})
    with pytest.raises(
        MissingAttributeError,
        match=f"Member B has no attribute 'solo_price' \\(needed by the method '{method}'\\)",
    ):
        allocate(data)
    data = scenario(
        [member("A", solo_price="0"), member("B", solo_price="0")], formula={"method": method}
    )
    with pytest.raises(ScenarioError, match="needs solo prices, but they add up to 0"):
        allocate(data)
