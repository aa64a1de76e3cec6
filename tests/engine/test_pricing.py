"""Section 6, pricing: price lists (EOLSS), the four pricing kinds (eHLbc), solo prices, tiers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from costshare.engine import (
    MissingAttributeError,
    ScenarioError,
    allocate,
    participation_tier,
    price_of,
)
from tests.engine.scenarios import amounts, field, member, run, scenario

#: The EOLSS 12-month university licence in US$ (eolss.net/eolss_subuniv.aspx):
#: up to 2000 FTE $600, 2001–4000 $900, 4001–6000 $1250, 6001–10,000 $1800, then $50 for each
#: block of 5000 FTE above 10,000, FTE rounded to the nearest 5000.
EOLSS: dict[str, Any] = {
    "attribute": "fte",
    "tiers": [
        {"min": 0, "price": "600"},
        {"min": 2001, "price": "900"},
        {"min": 4001, "price": "1250"},
        {"min": 6001, "price": "1800"},
    ],
    "block": {"above": 10000, "size": 5000, "price": "50", "round": "nearest"},
}


def eolss_solo(*ftes: int, how: str = "nearest") -> dict[str, str]:
    price_list = {**EOLSS, "block": {**EOLSS["block"], "round": how}}
    members = [member(f"U{i}", fte=fte) for i, fte in enumerate(ftes)]
    data = scenario(members, total="1.00", currency="USD", price_list=price_list)
    return field(run(data), "solo_price")


def test_eolss_price_list_published_cases() -> None:
    # 26,735 → nearest 5000 is 25,000 → 3 blocks above 10,000 → 1800 + 3 × 50 = 1950.
    # 28,650 → 30,000 → 4 blocks → 1800 + 4 × 50 = 2000.
    assert eolss_solo(26735, 28650) == {"U0": "1950.00", "U1": "2000.00"}


def test_eolss_price_list_tiers_and_block_edges() -> None:
    # 1500 → 600; 2001 → 900; 10,000 → 1800 (not above 10,000); 12,400 → 10,000 → 1800;
    # 12,500 is an exact half → up to 15,000 → 1850.
    assert eolss_solo(1500, 2001, 10000, 12400, 12500) == {
        "U0": "600.00",
        "U1": "900.00",
        "U2": "1800.00",
        "U3": "1800.00",
        "U4": "1850.00",
    }


def test_block_rounding_up_and_down() -> None:
    # up: 10,001 → 15,000 → one block → 1850; down: 14,999 → 10,000 → 1800.
    assert eolss_solo(10001, how="up") == {"U0": "1850.00"}
    assert eolss_solo(14999, how="down") == {"U0": "1800.00"}


def test_block_rounding_must_be_known() -> None:
    with pytest.raises(
        ScenarioError, match=r"block\.round must be one of nearest, up, down, not 'half'"
    ):
        eolss_solo(20000, how="half")


def test_below_the_first_price_tier_is_an_error() -> None:
    price_list = {"attribute": "fte", "tiers": [{"min": 100, "price": "10"}]}
    data = scenario([member("A", fte=50)], price_list=price_list)
    with pytest.raises(
        ScenarioError, match="Member A's 'fte' of 50 is below the first tier of the price list"
    ):
        allocate(data)


def test_given_solo_price_wins_over_the_price_list() -> None:
    members = [member("A", fte=26735, solo_price="1700.00"), member("B", fte=26735)]
    data = scenario(members, total="1.00", price_list=EOLSS)
    assert field(run(data), "solo_price") == {"A": "1700.00", "B": "1950.00"}


def list_discount_scenario(count: int) -> dict[str, Any]:
    members = [member(f"M{i}", solo_price=f"{100 * i}.00") for i in range(1, count + 1)]
    tiers = [{"min_members": 5, "discount": "0.10"}, {"min_members": 10, "discount": "0.20"}]
    return scenario(members, total=None, pricing={"kind": "list_discount", "tiers": tiers})


def test_list_discount_price_depends_on_who_joins() -> None:
    data = list_discount_scenario(5)
    # 5 members reach the 10 % tier: 0.9 × (100 + 200 + 300 + 400 + 500) = 1350.00.
    assert run(data)["price"] == "1350.00"
    # Without M5 only 4 remain: no tier, 100 + 200 + 300 + 400 = 1000.00.
    assert price_of(data, ["M1", "M2", "M3", "M4"]) == Decimal("1000.00")
    assert price_of(data) == Decimal("1350.00")


def test_list_discount_needs_every_solo_price() -> None:
    data = list_discount_scenario(5)
    del data["members"][2]["attributes"]["solo_price"]
    with pytest.raises(MissingAttributeError, match="Member M3 has no attribute 'solo_price'"):
        allocate(data)


def test_participation_tier_reached() -> None:
    pricing = list_discount_scenario(1)["pricing"]
    assert participation_tier(pricing, 4) is None
    assert participation_tier(pricing, 7) == {"min_members": 5, "discount": Decimal("0.10")}
    assert participation_tier(pricing, 10) == {"min_members": 10, "discount": Decimal("0.20")}


def test_per_member_price_table_and_computed_solo_prices() -> None:
    # 3 members reach the 15 % tier: 0.85 × (9000 + 6000 + 2500) = 14875.00.
    # Solo price = p × (1 − d(1)), with a 5 % tier from 1 member: 8550, 5700, 2375.
    members = [member("U1", band="A"), member("U2", band="B"), member("U3", band="C")]
    pricing = {
        "kind": "per_member",
        "attribute": "band",
        "price_table": {"A": "9000.00", "B": "6000.00", "C": "2500.00"},
        "tiers": [{"min_members": 1, "discount": "0.05"}, {"min_members": 3, "discount": "0.15"}],
    }
    result = run(scenario(members, total=None, pricing=pricing))
    assert result["price"] == "14875.00"
    assert field(result, "solo_price") == {"U1": "8550.00", "U2": "5700.00", "U3": "2375.00"}


def test_per_member_price_table_must_list_every_category() -> None:
    pricing = {"kind": "per_member", "attribute": "band", "price_table": {"A": "1"}}
    data = scenario([member("U1", band="A"), member("U2", band="Z")], total=None, pricing=pricing)
    with pytest.raises(
        ScenarioError, match="Member U2's 'band' is 'Z', which the price table does not list"
    ):
        allocate(data)


def test_per_member_price_list() -> None:
    # EOLSS list: 1950 + 600 = 2550.00 (no tiers).
    pricing = {"kind": "per_member", "price_list": EOLSS}
    data = scenario([member("A", fte=26735), member("B", fte=1000)], total=None, pricing=pricing)
    result = run(data)
    assert result["price"] == "2550.00"
    assert field(result, "solo_price") == {"A": "1950.00", "B": "600.00"}


def test_per_member_needs_exactly_one_price_source() -> None:
    for pricing in (
        {"kind": "per_member", "attribute": "band"},
        {"kind": "per_member", "attribute": "band", "price_table": {"A": 1}, "price_list": EOLSS},
    ):
        with pytest.raises(ScenarioError, match="exactly one of 'price_table' and 'price_list'"):
            allocate(scenario([member("A", band="A")], total=None, pricing=pricing))


EHLBC = {"kind": "per_unit", "attribute": "fte", "rate": "0.34", "floor": "700", "cap": "11000"}


def test_ehlbc_per_unit_pricing_each_member_pays_its_own_price() -> None:
    # clip(0.34 × FTE, 700, 11000): 1000 → 340 → 700; 10,000 → 3400; 40,000 → 13,600 → 11,000.
    # price(S) = 700 + 3400 + 11000 = 15100.00; Shapley of a per-unit game: each its own price.
    members = [member("A", fte=1000), member("B", fte=10000), member("C", fte=40000)]
    data = scenario(
        members, total=None, currency="CAD", pricing=EHLBC, formula={"method": "shapley"}
    )
    result = run(data)
    assert result["price"] == "15100.00"
    assert amounts(result) == {"A": "700.00", "B": "3400.00", "C": "11000.00"}
    assert field(result, "solo_price") == amounts(result)
    assert field(result, "savings") == {"A": "0.00", "B": "0.00", "C": "0.00"}


def test_ehlbc_as_an_fte_split_with_floor_and_cap() -> None:
    # The same 15100.00 split by FTE (raw 296.08, 2960.78, 11843.14) with floor 700, cap 11000:
    # A held up at 700, C held down at 11000, B pays 15100 − 11700 = 3400 = 0.34 × 10,000.
    members = [member("A", fte=1000), member("B", fte=10000), member("C", fte=40000)]
    data = scenario(
        members,
        total="15100.00",
        currency="CAD",
        formula={
            "components": [{"kind": "attribute", "attribute": "fte"}],
            "floor": "700",
            "cap": "11000",
        },
    )
    result = run(data)
    assert amounts(result) == {"A": "700.00", "B": "3400.00", "C": "11000.00"}
    assert field(result, "raw") == {"A": "296.08", "B": "2960.78", "C": "11843.14"}
    assert field(result, "bound") == {"A": "floor", "B": None, "C": "cap"}


def test_per_unit_floor_above_cap_is_an_error() -> None:
    pricing = {**EHLBC, "floor": "12000"}
    with pytest.raises(ScenarioError, match="The pricing floor 12000 is above its cap 11000"):
        allocate(scenario([member("A", fte=1)], total=None, pricing=pricing))


def test_fixed_total_is_rounded_half_even_to_the_grid() -> None:
    # 250000.005 → half-even → 250000.00 (the 0 is even).
    data = scenario(
        [member("A"), member("B")],
        total=None,
        pricing={"kind": "fixed_total", "total": "250000.005"},
    )
    result = run(data)
    assert result["price"] == "250000.00"
    assert amounts(result) == {"A": "125000.00", "B": "125000.00"}


def test_participation_tier_rules() -> None:
    def pricing(tiers: list) -> dict:
        return {"kind": "list_discount", "tiers": tiers}

    members = [member("A", solo_price="1")]
    with pytest.raises(ScenarioError, match=r"cannot exceed 1, not 1\.5"):
        allocate(
            scenario(members, total=None, pricing=pricing([{"min_members": 1, "discount": "1.5"}]))
        )
    with pytest.raises(ScenarioError, match="must be a whole number of at least 1, not 0"):
        allocate(
            scenario(members, total=None, pricing=pricing([{"min_members": 0, "discount": "0.1"}]))
        )
    with pytest.raises(ScenarioError, match="Two participation tiers have min_members 2"):
        allocate(
            scenario(
                members,
                total=None,
                pricing=pricing(
                    [{"min_members": 2, "discount": "0.1"}, {"min_members": 2, "discount": "0.2"}]
                ),
            )
        )
    with pytest.raises(ScenarioError, match="Unknown pricing kind 'bundle'"):
        allocate(scenario(members, total=None, pricing={"kind": "bundle"}))
