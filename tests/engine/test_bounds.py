"""Section 3: floors, caps, max_change, inward snapping, exact λ, bound labels, infeasibility."""

from __future__ import annotations

import pytest

from costshare.engine import InfeasibleError, MissingAttributeError, ScenarioError, allocate
from tests.engine.scenarios import amounts, field, member, run, scenario

FTE = {"kind": "attribute", "attribute": "fte"}
EQUAL = {"kind": "equal"}


def test_floor_holds_members_up_and_others_share_the_rest() -> None:
    # 1000.00 by fte 1 : 1 : 8 → raw 100, 100, 800; floor 150 holds A and B up;
    # C pays 1000 − 300 = 700, so λ = 700/800 = 0.875 (and 0.875 × 100 < 150, so A, B stay held).
    data = scenario(
        [member("A", fte=1), member("B", fte=1), member("C", fte=8)],
        total="1000.00",
        formula={"components": [FTE], "floor": "150.00"},
    )
    result = run(data)
    assert amounts(result) == {"A": "150.00", "B": "150.00", "C": "700.00"}
    assert field(result, "bound") == {"A": "floor", "B": "floor", "C": None}
    assert result["lambda"] == "0.875000"
    assert result["lines"][0]["explanation"] == {
        "attribute:fte": "100.00",
        "bound_adjustment": "50.00",
        "rounding": "0.00",
    }
    assert result["lines"][2]["explanation"]["bound_adjustment"] == "-100.00"


def test_cap_from_an_attribute_such_as_solo_price() -> None:
    # 1000.00 equally → 333.33…; A's solo price 200 caps it; B and C share 800 → 400 each,
    # λ = 400 / (1000/3) = 1.2.
    data = scenario(
        [
            member("A", solo_price="200.00"),
            member("B", solo_price="1000.00"),
            member("C", solo_price="1000.00"),
        ],
        total="1000.00",
        formula={"components": [EQUAL], "cap": "solo_price"},
    )
    result = run(data)
    assert amounts(result) == {"A": "200.00", "B": "400.00", "C": "400.00"}
    assert field(result, "bound") == {"A": "cap", "B": None, "C": None}
    assert result["lambda"] == "1.200000"


def test_max_change_binds_both_ways_and_not_without_previous_share() -> None:
    # 300.00 equally → raw 100 each; max_change 10 %:
    #   A previous 50 → [45, 55]; B previous 150 → [135, 165]; C has none (no bound).
    #   55 + 135 + 100λ = 300 → λ = 1.1: A at 55 (110 ≥ 55), B at 135 (110 ≤ 135), C 110.
    data = scenario(
        [member("A", previous_share="50.00"), member("B", previous_share="150.00"), member("C")],
        total="300.00",
        formula={"components": [EQUAL], "max_change": "0.1"},
    )
    result = run(data)
    assert amounts(result) == {"A": "55.00", "B": "135.00", "C": "110.00"}
    assert field(result, "bound") == {"A": "max_change_up", "B": "max_change_down", "C": None}
    assert result["lambda"] == "1.100000"


def test_bounds_are_snapped_inward_to_the_grid() -> None:
    # raw 1, 1, 98 (fte) of 100.00; floor 10.001 snaps up to 10.01 → A, B = 10.01,
    # C = 100 − 20.02 = 79.98.
    data = scenario(
        [member("A", fte=1), member("B", fte=1), member("C", fte=98)],
        total="100.00",
        formula={"components": [FTE], "floor": "10.001"},
    )
    assert amounts(run(data)) == {"A": "10.01", "B": "10.01", "C": "79.98"}
    # cap 120.005 (an attribute) snaps down to 120.00; the other member takes the rest.
    data = scenario(
        [member("A", cap_amount="120.005"), member("B", cap_amount="1000")],
        total="300.00",
        formula={"components": [EQUAL], "cap": "cap_amount"},
    )
    result = run(data)
    assert amounts(result) == {"A": "120.00", "B": "180.00"}
    assert field(result, "bound")["A"] == "cap"


def test_bound_label_ties_go_to_floor_and_cap() -> None:
    # A: previous 200 with max_change 0.5 → [100, 300]; floor 100 ties the lower bound.
    # fte 1 : 99 of 1000 → raw A 10, held up at 100 → "floor" (not max_change_down).
    data = scenario(
        [member("A", fte=1, previous_share="200"), member("B", fte=99)],
        total="1000.00",
        formula={"components": [FTE], "floor": "100", "max_change": "0.5"},
    )
    assert field(run(data), "bound") == {"A": "floor", "B": None}
    # A: cap attribute 300 ties max_change_up 200 × 1.5 = 300; raw 990 held down → "cap".
    data = scenario(
        [member("A", fte=99, previous_share="200", most="300"), member("B", fte=1, most="1000")],
        total="1000.00",
        formula={"components": [FTE], "cap": "most", "max_change": "0.5"},
    )
    result = run(data)
    assert amounts(result) == {"A": "300.00", "B": "700.00"}
    assert field(result, "bound") == {"A": "cap", "B": None}


def test_a_member_at_a_zero_lower_bound_is_not_labelled() -> None:
    data = scenario(
        [member("A", fte=0), member("B", fte=1)],
        total="10.00",
        formula={"components": [FTE], "cap": "20"},
    )
    result = run(data)
    assert amounts(result) == {"A": "0.00", "B": "10.00"}
    assert field(result, "bound") == {"A": None, "B": None}


def test_units_left_after_lambda_go_by_remainder_then_code() -> None:
    # A capped at 0.02; B, C, D share 99.98 → 33.3266… each: floors 33.32 × 3 = 99.96,
    # two cents left, remainders tie → B and C.
    data = scenario(
        [member(code, most="0.02" if code == "A" else "100") for code in "ABCD"],
        total="100.00",
        formula={"components": [EQUAL], "cap": "most"},
    )
    assert amounts(run(data)) == {"A": "0.02", "B": "33.33", "C": "33.33", "D": "33.32"}


def test_smallest_lambda_when_every_member_ends_at_a_bound() -> None:
    # raw 50 and 50; caps 60 and 40: min(50λ, 60) + min(50λ, 40) = 100 first at λ = 1.2.
    data = scenario(
        [member("A", most="60"), member("B", most="40")],
        total="100.00",
        formula={"components": [EQUAL], "cap": "most"},
    )
    result = run(data)
    assert amounts(result) == {"A": "60.00", "B": "40.00"}
    assert field(result, "bound") == {"A": "cap", "B": "cap"}
    assert result["lambda"] == "1.200000"


def test_lambda_is_zero_when_the_floors_already_add_up() -> None:
    # Floors 50 + 50 = 100.00 = owed: at λ = 0 every member sits at its floor.
    data = scenario(
        [member("A"), member("B")], total="100.00", formula={"components": [EQUAL], "floor": "50"}
    )
    result = run(data)
    assert amounts(result) == {"A": "50.00", "B": "50.00"}
    assert result["lambda"] == "0.000000"


def test_member_without_formula_share_pays_its_floor() -> None:
    # A has fte 0 (raw 0) but a floor of 10; B (capped at 90) pays the other 90.
    data = scenario(
        [member("A", fte=0), member("B", fte=1)],
        total="100.00",
        formula={"components": [FTE], "floor": "10", "cap": "90"},
    )
    result = run(data)
    assert amounts(result) == {"A": "10.00", "B": "90.00"}
    assert field(result, "bound") == {"A": "floor", "B": "cap"}


def test_crossed_bounds_are_infeasible() -> None:
    data = scenario(
        [member("A", solo_price="400"), member("B", solo_price="900")],
        total="1000.00",
        formula={"components": [EQUAL], "floor": "500", "cap": "solo_price"},
    )
    with pytest.raises(InfeasibleError) as caught:
        allocate(data)
    assert str(caught.value) == (
        "Member A must pay at least 500.00 EUR (floor) but at most 400.00 EUR (cap)."
    )
    assert caught.value.members == ("A",)
    assert caught.value.field == "formula.cap"


def test_floors_above_what_is_owed_are_infeasible() -> None:
    data = scenario(
        [member("A"), member("B")], total="100.00", formula={"components": [EQUAL], "floor": "60"}
    )
    with pytest.raises(InfeasibleError) as caught:
        allocate(data)
    assert str(caught.value) == (
        "The members' lower bounds (floor) add up to 120.00 EUR, "
        "more than the 100.00 EUR they owe (held up: A and B)."
    )


def test_caps_below_what_is_owed_are_infeasible() -> None:
    data = scenario(
        [member("A"), member("B")], total="100.00", formula={"components": [EQUAL], "cap": "40"}
    )
    with pytest.raises(InfeasibleError) as caught:
        allocate(data)
    assert str(caught.value) == (
        "The most the members can pay under their upper bounds (cap) is 80.00 EUR, "
        "less than the 100.00 EUR they owe (held down: A and B)."
    )


def test_members_without_formula_share_count_only_their_floor() -> None:
    # A: raw 0, floor 10 → can take 10; B: cap 50 → 60 < 100.
    data = scenario(
        [member("A", fte=0), member("B", fte=1)],
        total="100.00",
        formula={"components": [FTE], "floor": "10", "cap": "50"},
    )
    with pytest.raises(InfeasibleError) as caught:
        allocate(data)
    assert "is 60.00 EUR, less than the 100.00 EUR they owe" in str(caught.value)
    assert "no formula share, so no more than their floor: A" in str(caught.value)


def test_bound_attributes_must_exist_and_not_be_negative() -> None:
    data = scenario(
        [member("A", solo_price="10"), member("B")],
        formula={"components": [EQUAL], "cap": "solo_price"},
    )
    with pytest.raises(
        MissingAttributeError, match=r"Member B has no attribute 'solo_price' \(needed by the cap\)"
    ):
        allocate(data)
    data = scenario([member("A")], formula={"components": [EQUAL], "floor": "-1"})
    with pytest.raises(ScenarioError, match="The floor must not be negative"):
        allocate(data)
    data = scenario(
        [member("A", previous_share="-5")], formula={"components": [EQUAL], "max_change": "0.1"}
    )
    with pytest.raises(ScenarioError, match="The previous_share of A is negative"):
        allocate(data)
    data = scenario([member("A", least="-5")], formula={"components": [EQUAL], "floor": "least"})
    with pytest.raises(ScenarioError, match=r"Member A has a negative 'least'"):
        allocate(data)


def test_breakpoints_floats_cannot_separate_are_solved_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Proportional savings, 20 JPY; solo prices s = 10^25 and s + 1 give raw shares
    # 20s/(2s+1) = 9.99…95 and 20(s+1)/(2s+1) = 10.00…05, which floats both see as 10.0.
    # A is capped at 10 and B has a floor of 10: the breakpoints 10/raw_B < 1 < 10/raw_A
    # differ by 1e-25, so only an exact sweep can tell that λ = 1 lies between them
    # and that neither bound binds. Then 9.99… + 10.00… round to 10 + 10 (A has the larger rest).
    import costshare.engine.split as split

    sweeps = []
    original = split._exact_states

    def spy(*args: object) -> list[int]:
        sweeps.append(args)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(split, "_exact_states", spy)
    s = 10**25
    data = scenario(
        [
            member("A", solo_price=str(s), most="10", least="0"),
            member("B", solo_price=str(s + 1), most="100", least="10"),
        ],
        total="20",
        currency="JPY",
        formula={"method": "proportional_savings", "cap": "most", "floor": "least"},
    )
    result = run(data)
    assert len(sweeps) == 1
    assert amounts(result) == {"A": "10", "B": "10"}
    assert field(result, "bound") == {"A": None, "B": None}
    assert result["lambda"] == "1.000000"
