"""Section 6 what-if (dropping members) and section 7 (several years)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costshare.engine import InfeasibleError, ScenarioError, to_jsonable, what_if
from tests.engine.scenarios import amounts, field, member, run, scenario


def test_what_if_with_a_plain_total_keeps_the_price() -> None:
    # 90.00 among A, B, C = 30 each; without C the same 90.00 among A, B = 45 each.
    data = scenario([member("A"), member("B"), member("C")], total="90.00")
    comparison = to_jsonable(what_if(data, ["C"]))
    assert list(comparison) == ["before", "after", "changes"]
    assert amounts(comparison["before"]) == {"A": "30.00", "B": "30.00", "C": "30.00"}
    assert amounts(comparison["after"]) == {"A": "45.00", "B": "45.00"}
    assert comparison["after"]["price"] == "90.00"
    assert comparison["changes"] == [
        {"code": "A", "before": "30.00", "after": "45.00", "change": "15.00"},
        {"code": "B", "before": "30.00", "after": "45.00", "change": "15.00"},
    ]


def test_what_if_with_pricing_recomputes_the_price_and_shows_the_lost_tier() -> None:
    # 5 members, solo 100…500, 10 % from 5 members: 0.9 × 1500 = 1350 → 270 each.
    # Without M5: 4 members, no tier: 100 + 200 + 300 + 400 = 1000 → 250 each (−20).
    members = [member(f"M{i}", solo_price=f"{100 * i}") for i in range(1, 6)]
    data = scenario(
        members,
        total=None,
        pricing={"kind": "list_discount", "tiers": [{"min_members": 5, "discount": "0.1"}]},
    )
    comparison = to_jsonable(what_if(data, ["M5"]))
    assert (comparison["before"]["price"], comparison["after"]["price"]) == ("1350.00", "1000.00")
    assert {c["code"]: c["change"] for c in comparison["changes"]} == {
        "M1": "-20.00",
        "M2": "-20.00",
        "M3": "-20.00",
        "M4": "-20.00",
    }


def test_what_if_errors() -> None:
    data = scenario([member("A"), member("B")])
    with pytest.raises(ScenarioError, match="Cannot drop X and Y: no such member"):
        what_if(data, ["X", "Y", "A"])
    with pytest.raises(ScenarioError, match="Cannot drop every member"):
        what_if(data, ["A", "B"])
    with pytest.raises(ScenarioError, match="Name at least one member to drop"):
        what_if(data, [])
    data["term"] = {"years": 2}
    with pytest.raises(ScenarioError, match="cannot be combined with a multi-year term"):
        what_if(data, ["A"])


def test_uplift_term_prices_and_solo_prices() -> None:
    # 250,000 × 1.03^(k−1): 250000.00, 257500.00, 265225.00 (exact).
    # A's solo price 150,000 gets the same uplift: 150000.00, 154500.00, 159135.00.
    data = scenario(
        [member("A", solo_price="150000.00"), member("B")],
        total="250000.00",
        term={"years": 3, "uplift": "0.03"},
    )
    years = run(data)["years"]
    assert [y["price"] for y in years] == ["250000.00", "257500.00", "265225.00"]
    assert [field(y, "solo_price")["A"] for y in years] == ["150000.00", "154500.00", "159135.00"]
    assert [amounts(y)["A"] for y in years] == ["125000.00", "128750.00", "132612.50"]


def test_uplift_rounds_each_year_half_even() -> None:
    # 100.10 × 1.015 = 101.6015 → 101.60; 100.10 × 1.015² = 103.1255… → 103.13.
    data = scenario([member("A")], total="100.10", term={"years": 3, "uplift": "0.015"})
    assert [y["price"] for y in run(data)["years"]] == ["100.10", "101.60", "103.13"]


def test_uplift_applies_to_pricing_and_keeps_surcharge_and_subsidy() -> None:
    # price(S) = 1000 (two members, no tier); 10 % uplift → 1100; subsidy 100 each year.
    data = scenario(
        [member("A", solo_price="400"), member("B", solo_price="600")],
        total=None,
        pricing={"kind": "list_discount"},
        subsidy="100.00",
        term={"years": 2, "uplift": "0.1"},
    )
    years = run(data)["years"]
    assert [(y["price"], y["subsidy"], y["total"]) for y in years] == [
        ("1000.00", "100.00", "900.00"),
        ("1100.00", "100.00", "1000.00"),
    ]


def test_previous_shares_chain_so_max_change_phases_in() -> None:
    # 200.00 a year, fte 1 : 3 → raw 50, 150; max_change 20 %; both paid 100 last year.
    #   Year 1: A ∈ [80, 120] → 80 (down), B ∈ [80, 120] → 120 (up).
    #   Year 2: A ∈ [64, 96] → 64 (down); B ∈ [96, 144] takes 136.
    #   Year 3: A ∈ [51.2, 76.8] → 51.20 (down); B ∈ [108.8, 163.2] takes 148.80.
    data = scenario(
        [member("A", fte=1, previous_share="100"), member("B", fte=3, previous_share="100")],
        total=None,
        formula={"components": [{"kind": "attribute", "attribute": "fte"}], "max_change": "0.2"},
        term={"totals": ["200.00", "200.00", "200.00"]},
    )
    years = run(data)["years"]
    assert [amounts(y) for y in years] == [
        {"A": "80.00", "B": "120.00"},
        {"A": "64.00", "B": "136.00"},
        {"A": "51.20", "B": "148.80"},
    ]
    assert [field(y, "bound") for y in years] == [
        {"A": "max_change_down", "B": "max_change_up"},
        {"A": "max_change_down", "B": None},
        {"A": "max_change_down", "B": None},
    ]


def test_totals_keep_solo_prices_as_given() -> None:
    data = scenario(
        [member("A", solo_price="500.00")], total=None, term={"totals": ["100.00", "120.00"]}
    )
    years = run(data)["years"]
    assert [field(y, "solo_price")["A"] for y in years] == ["500.00", "500.00"]
    assert [y["total"] for y in years] == ["100.00", "120.00"]


def test_an_error_names_the_year() -> None:
    # Year 3 asks 1000.00 but max_change caps A at 76.80 and B at 163.20.
    data = scenario(
        [member("A", fte=1, previous_share="100"), member("B", fte=3, previous_share="100")],
        total=None,
        formula={"components": [{"kind": "attribute", "attribute": "fte"}], "max_change": "0.2"},
        term={"totals": ["200.00", "200.00", "1000.00"]},
    )
    with pytest.raises(InfeasibleError) as caught:
        run(data)
    assert str(caught.value).startswith("Year 3: The most the members can pay")
    assert "is 240.00 EUR, less than the 1000.00 EUR they owe" in str(caught.value)
    assert caught.value.year == 3


def test_term_result_is_a_list_of_results() -> None:
    data = scenario([member("A"), member("B")], total="10.00", term={"years": 2})
    result = run(data)
    assert list(result) == ["years"]
    assert [amounts(y) for y in result["years"]] == [{"A": "5.00", "B": "5.00"}] * 2
    assert Decimal(result["years"][1]["total"]) == Decimal("10.00")


def test_codes_may_be_given_as_text() -> None:
    data = scenario([member("A"), member("B"), member("C")], total="90.00")
    assert to_jsonable(what_if(data, "B, C")) == to_jsonable(what_if(data, ["C", "B"]))


def test_shapley_of_a_term_with_only_yearly_totals_is_the_equal_split() -> None:
    from fractions import Fraction

    from costshare.engine import price_of, shapley_of

    data = scenario(
        [member("A"), member("B")],
        total=None,
        formula={"method": "shapley"},
        term={"totals": ["90.00", "99.00"]},
    )
    assert shapley_of(data) == {"A": Fraction(45), "B": Fraction(45)}
    assert price_of(data) == Decimal("90.00")
