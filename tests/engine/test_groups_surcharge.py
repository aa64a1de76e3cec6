"""Sections 1 and 6: subsidy and surcharge (with each line's part), and two-level group splits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costshare.engine import InfeasibleError, MissingAttributeError, ScenarioError, allocate
from tests.engine.scenarios import amounts, field, member, run, scenario

FTE = {"components": [{"kind": "attribute", "attribute": "fte"}]}


def viva() -> dict:
    """A VIVA-style deal: 599,000 with 80,000 of central funds, three sectors 400 : 84 : 35."""
    members = [
        member("DOC-1", sector="doctoral", fte=31000),
        member("DOC-2", sector="doctoral", fte=24500),
        member("DOC-3", sector="doctoral", fte=18250),
        member("COMP-1", sector="comprehensive", fte=9100),
        member("COMP-2", sector="comprehensive", fte=6400),
        member("COMP-3", sector="comprehensive", fte=4350),
        member("CC-1", sector="community", fte=5200),
        member("CC-2", sector="community", fte=3300),
        member("CC-3", sector="community", fte=2900),
        member("CC-4", sector="community", fte=1150),
    ]
    return scenario(
        members,
        total="599000.00",
        currency="USD",
        subsidy="80000.00",
        groups={
            "attribute": "sector",
            "shares": {"doctoral": 400, "comprehensive": 84, "community": 35},
        },
        formula={**FTE, "floor": "1000"},
    )


def test_viva_groups_get_exactly_their_parts() -> None:
    # owed = 599,000 − 80,000 = 519,000; 519,000 × 400/519 = 400,000, × 84/519 = 84,000,
    # × 35/519 = 35,000 — and each group's members' amounts add up to exactly that.
    result = allocate(viva())
    assert result["total"] == Decimal("519000.00")
    assert result["subsidy"] == Decimal("80000.00")
    by_group: dict[str, Decimal] = {}
    sectors = {m["code"]: m["attributes"]["sector"] for m in viva()["members"]}
    for line in result["lines"]:
        by_group[sectors[line["code"]]] = (
            by_group.get(sectors[line["code"]], Decimal(0)) + line["amount"]
        )
    assert by_group == {
        "doctoral": Decimal("400000.00"),
        "comprehensive": Decimal("84000.00"),
        "community": Decimal("35000.00"),
    }
    assert result["lambda"] is None
    assert [(g["name"], g["share"], g["total"]) for g in result["groups"]] == [
        ("community", Decimal("35"), Decimal("35000.00")),
        ("comprehensive", Decimal("84"), Decimal("84000.00")),
        ("doctoral", Decimal("400"), Decimal("400000.00")),
    ]


def test_each_group_is_split_by_the_formula() -> None:
    # community: 35,000 by fte 5200 : 3300 : 2900 : 1150 (Σ 12,550):
    #   14501.99…, 9203.18…, 8087.64…, 3207.17… → floors sum 34999.98 → two cents by remainder:
    #   35000 × 5200/12550 = 14501.992…, × 3300 = 9203.187…, × 2900 = 8087.649…, × 1150 = 3207.171…
    #   remainders .2, .7, .9, .1 (cents) → CC-3 (.9) and CC-2 (.7) get a cent.
    result = run(viva())
    got = amounts(result)
    assert {k: got[k] for k in ("CC-1", "CC-2", "CC-3", "CC-4")} == {
        "CC-1": "14501.99",
        "CC-2": "9203.19",
        "CC-3": "8087.65",
        "CC-4": "3207.17",
    }
    assert [g["lambda"] for g in result["groups"]] == ["1.000000"] * 3


def test_group_parts_tie_by_name() -> None:
    # 100.00 by shares 1 : 1 : 1 → 33.33 each + one cent to the first name, "a".
    members = [member("X", g="c"), member("Y", g="a"), member("Z", g="b")]
    data = scenario(
        members, total="100.00", groups={"attribute": "g", "shares": {"c": 1, "b": 1, "a": 1}}
    )
    assert amounts(run(data)) == {"X": "33.33", "Y": "33.34", "Z": "33.33"}


def test_group_errors() -> None:
    data = viva()
    data["members"][0]["attributes"]["sector"] = "private"
    with pytest.raises(
        ScenarioError,
        match=r"Member DOC-1's 'sector' is 'private', which 'groups\.shares' does not list",
    ):
        allocate(data)
    data = viva()
    data["groups"]["shares"]["private"] = 10
    with pytest.raises(ScenarioError, match="Group 'private' has no members"):
        allocate(data)
    data = viva()
    del data["members"][4]["attributes"]["sector"]
    with pytest.raises(
        MissingAttributeError,
        match="Member COMP-2 has no attribute 'sector' \\(needed by the groups\\)",
    ):
        allocate(data)


def test_a_group_error_names_the_group() -> None:
    data = viva()
    data["formula"]["floor"] = "9000"  # community: 4 × 9000 = 36,000 > 35,000
    with pytest.raises(InfeasibleError) as caught:
        allocate(data)
    assert str(caught.value).startswith(
        "Group 'community': The members' lower bounds (floor) add up to 36000.00 USD"
    )
    assert caught.value.group == "community"


def test_surcharge_and_subsidy() -> None:
    # price 10,000; surcharge 5 % → 10,500; subsidy 2,000 → owed 8,500.00;
    # surcharge_amount = 8,500 + 2,000 − 10,000 = 500.00.
    # Amounts 2833.34, 2833.33, 2833.33; the 500.00 fee split in proportion:
    #   500 × 2833.34/8500 = 166.6670… , 500 × 2833.33/8500 = 166.6664… (twice)
    #   floors 166.66 × 3 = 499.98 → two cents: A (.70) then B (.64, tie with C by code).
    data = scenario(
        [member("A"), member("B"), member("C")],
        total="10000.00",
        surcharge="0.05",
        subsidy="2000.00",
    )
    result = run(data)
    assert (result["price"], result["surcharge_amount"], result["subsidy"], result["total"]) == (
        "10000.00",
        "500.00",
        "2000.00",
        "8500.00",
    )
    assert amounts(result) == {"A": "2833.34", "B": "2833.33", "C": "2833.33"}
    assert field(result, "surcharge") == {"A": "166.67", "B": "166.67", "C": "166.66"}


def test_owed_is_rounded_half_even() -> None:
    # 100.10 × 1.05 = 105.105 → half-even → 105.10 (0 is even); surcharge_amount = 5.00.
    result = run(scenario([member("A")], total="100.10", surcharge="0.05"))
    assert (result["total"], result["surcharge_amount"]) == ("105.10", "5.00")
    # price + surcharge_amount − subsidy = owed, exactly.
    assert Decimal(result["price"]) + Decimal(result["surcharge_amount"]) == Decimal(
        result["total"]
    )


def test_subsidy_larger_than_price_with_surcharge_is_an_error() -> None:
    data = scenario([member("A")], total="100.00", surcharge="0.05", subsidy="105.01")
    with pytest.raises(
        ScenarioError, match=r"The subsidy 105\.01 EUR is larger than the price with the surcharge"
    ):
        allocate(data)


def test_subsidy_covering_everything_leaves_nothing_owed() -> None:
    result = run(scenario([member("A"), member("B")], total="100.00", subsidy="100.00"))
    assert amounts(result) == {"A": "0.00", "B": "0.00"}
    assert result["total"] == "0.00"
