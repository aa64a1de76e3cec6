"""Section 2: the formula share — components, transforms, tiers, tables, fixed fee, derived."""

from __future__ import annotations

import pytest

from costshare.engine import MissingAttributeError, ScenarioError, allocate
from tests.engine.scenarios import amounts, field, member, run, scenario


def formula(*components: dict, **rest: object) -> dict:
    return {"components": list(components), **rest}


def test_equal_split_gives_the_left_over_cent_to_the_first_code() -> None:
    # 100.00 / 3 = 33.333…: floors 33.33 × 3 = 99.99; one cent left, remainders tie → A.
    result = run(scenario([member("C"), member("A"), member("B")], total="100.00"))
    assert amounts(result) == {"A": "33.34", "B": "33.33", "C": "33.33"}
    assert field(result, "raw") == {"A": "33.33", "B": "33.33", "C": "33.33"}
    assert result["lines"][0]["explanation"] == {
        "equal": "33.33",
        "bound_adjustment": "0.00",
        "rounding": "0.01",
    }
    assert result["lambda"] == "1.000000"


def test_attribute_component_is_proportional() -> None:
    # fte 1000 : 3000 : 6000 of 10000 → 1200.00 × 0.1, 0.3, 0.6 = 120, 360, 720.
    data = scenario(
        [member("A", fte=1000), member("B", fte=3000), member("C", fte=6000)],
        total="1200.00",
        formula=formula({"kind": "attribute", "attribute": "fte"}),
    )
    assert amounts(run(data)) == {"A": "120.00", "B": "360.00", "C": "720.00"}


def test_weights_are_normalised() -> None:
    # weights 3 (equal) and 1 (fte) → 3/4 and 1/4 of 400.00:
    #   equal: 300/2 = 150 each; fte 1:3 → 25 and 75; totals 175.00 and 225.00.
    data = scenario(
        [member("A", fte=1), member("B", fte=3)],
        total="400.00",
        formula=formula(
            {"kind": "equal", "weight": 3}, {"kind": "attribute", "attribute": "fte", "weight": 1}
        ),
    )
    result = run(data)
    assert amounts(result) == {"A": "175.00", "B": "225.00"}
    assert result["lines"][1]["explanation"] == {
        "equal": "150.00",
        "attribute:fte": "75.00",
        "bound_adjustment": "0.00",
        "rounding": "0.00",
    }


def test_sqrt_transform() -> None:
    # usage 1, 4, 9 → √ = 1, 2, 3 of 6 → 60.00 × 1/6, 2/6, 3/6 = 10, 20, 30.
    data = scenario(
        [member("A", usage=1), member("B", usage=4), member("C", usage=9)],
        total="60.00",
        formula=formula({"kind": "attribute", "attribute": "usage", "transform": "sqrt"}),
    )
    assert amounts(run(data)) == {"A": "10.00", "B": "20.00", "C": "30.00"}


def test_log1p_transform() -> None:
    # log1p(3) = ln 4 and log1p(15) = ln 16 = 2·ln 4 → 1 : 2 of 90.00 → 30 and 60.
    data = scenario(
        [member("A", usage=3), member("B", usage=15)],
        total="90.00",
        formula=formula({"kind": "attribute", "attribute": "usage", "transform": "log1p"}),
    )
    assert amounts(run(data)) == {"A": "30.00", "B": "60.00"}


def test_tiers_component_takes_the_last_tier_reached() -> None:
    # tiers min 0 → 1, min 1000 → 2, min 5000 → 5; fte 500, 1000, 7000 → 1, 2, 5 of 8.
    # 80.00 → 10, 20, 50. Tiers may be given in any order.
    tiers = [{"min": 5000, "weight": 5}, {"min": 0, "weight": 1}, {"min": 1000, "weight": 2}]
    data = scenario(
        [member("A", fte=500), member("B", fte=1000), member("C", fte=7000)],
        total="80.00",
        formula=formula({"kind": "tiers", "attribute": "fte", "tiers": tiers}),
    )
    assert amounts(run(data)) == {"A": "10.00", "B": "20.00", "C": "50.00"}


def test_below_the_first_tier_is_an_error() -> None:
    tiers = [{"min": 100, "weight": 1}]
    data = scenario(
        [member("A", fte=500), member("B", fte=50)],
        formula=formula({"kind": "tiers", "attribute": "fte", "tiers": tiers}),
    )
    with pytest.raises(ScenarioError, match="Member B's 'fte' of 50 is below the first tier"):
        allocate(data)


def test_two_tiers_with_the_same_min_are_an_error() -> None:
    tiers = [{"min": 0, "weight": 1}, {"min": 0, "weight": 2}]
    data = scenario(
        [member("A", fte=1)], formula=formula({"kind": "tiers", "attribute": "fte", "tiers": tiers})
    )
    with pytest.raises(ScenarioError, match="Two tiers of component 'tiers:fte' have min 0"):
        allocate(data)


def test_table_component_looks_up_a_category() -> None:
    # band A → 3, C → 1 (twice): 3 + 1 + 1 = 5 → 50.00 × 3/5, 1/5, 1/5 = 30, 10, 10.
    data = scenario(
        [member("U1", band="A"), member("U2", band="C"), member("U3", band="C")],
        total="50.00",
        formula=formula(
            {"kind": "table", "attribute": "band", "weights": {"A": 3, "B": 2, "C": 1}}
        ),
    )
    assert amounts(run(data)) == {"U1": "30.00", "U2": "10.00", "U3": "10.00"}


def test_table_missing_key_is_an_error() -> None:
    data = scenario(
        [member("U1", band="A"), member("U2", band="D")],
        formula=formula({"kind": "table", "attribute": "band", "weights": {"A": 3}}),
    )
    with pytest.raises(
        ScenarioError, match="Member U2's 'band' is 'D', which component 'table:band'"
    ):
        allocate(data)


def test_numeric_category_matches_the_key_as_written() -> None:
    data = scenario(
        [member("U1", band=1), member("U2", band=2)],
        total="30.00",
        formula=formula({"kind": "table", "attribute": "band", "weights": {"1": 1, "2": 2}}),
    )
    assert amounts(run(data)) == {"U1": "10.00", "U2": "20.00"}


def test_fixed_fee_comes_first() -> None:
    # 1000.00, fixed fee 100 × 3 = 300, R = 700 split 1 : 1 : 5 by fte:
    #   100 + 100 = 200, 100 + 100 = 200, 100 + 500 = 600.
    data = scenario(
        [member("A", fte=1), member("B", fte=1), member("C", fte=5)],
        total="1000.00",
        formula=formula({"kind": "attribute", "attribute": "fte"}, fixed_fee="100.00"),
    )
    result = run(data)
    assert amounts(result) == {"A": "200.00", "B": "200.00", "C": "600.00"}
    assert result["lines"][2]["explanation"] == {
        "fixed_fee": "100.00",
        "attribute:fte": "500.00",
        "bound_adjustment": "0.00",
        "rounding": "0.00",
    }


def test_fixed_fee_larger_than_owed_is_an_error() -> None:
    data = scenario(
        [member("A"), member("B")],
        total="100.00",
        formula=formula({"kind": "equal"}, fixed_fee="60"),
    )
    with pytest.raises(
        ScenarioError, match=r"The fixed fee 60 × 2 members = 120 EUR is more than the 100.00 EUR"
    ):
        allocate(data)


def test_component_with_weight_zero_is_not_evaluated() -> None:
    # Nobody has 'articles'; with weight 0 the component is skipped (its part is 0.00).
    data = scenario(
        [member("A"), member("B")],
        total="10.00",
        formula=formula(
            {"kind": "equal"}, {"kind": "attribute", "attribute": "articles", "weight": 0}
        ),
    )
    result = run(data)
    assert amounts(result) == {"A": "5.00", "B": "5.00"}
    assert result["lines"][0]["explanation"]["attribute:articles"] == "0.00"


def test_nothing_to_be_proportional_to_is_an_error() -> None:
    data = scenario(
        [member("A", fte=0), member("B", fte=0)],
        formula=formula({"kind": "attribute", "attribute": "fte"}),
    )
    with pytest.raises(
        ScenarioError, match="Component 'attribute:fte' has nothing to be proportional to"
    ):
        allocate(data)


def test_negative_or_non_numeric_attribute_is_an_error() -> None:
    data = scenario(
        [member("A", fte=5), member("B", fte=-1)],
        formula=formula({"kind": "attribute", "attribute": "fte"}),
    )
    with pytest.raises(ScenarioError, match=r"Member B has a negative 'fte' \(-1\)"):
        allocate(data)
    data["members"][1]["attributes"]["fte"] = "many"
    with pytest.raises(
        ScenarioError, match="Member B's attribute 'fte' must be a number, not 'many'"
    ):
        allocate(data)


def test_missing_attribute_names_member_and_component() -> None:
    data = scenario(
        [member("UNI-A", fte=5), member("UNI-C")],
        formula=formula({"kind": "attribute", "attribute": "fte"}),
    )
    with pytest.raises(MissingAttributeError) as caught:
        allocate(data)
    assert (
        str(caught.value)
        == "Member UNI-C has no attribute 'fte' (needed by component 'attribute:fte')."
    )


def test_component_name_is_its_explanation_key() -> None:
    data = scenario(
        [member("A", fte=1)],
        total="5.00",
        formula=formula({"kind": "attribute", "attribute": "fte", "name": "students"}),
    )
    assert list(run(data)["lines"][0]["explanation"]) == [
        "students",
        "bound_adjustment",
        "rounding",
    ]


def test_derived_weighted_sum_is_caul_weighted_fte() -> None:
    # 10:3:1 → A: 10·10 + 3·0 + 1·100 = 200; B: 10·0 + 3·100 + 1·500 = 800 → 1 : 4 of 50.00.
    data = scenario(
        [
            member("A", fte_research=10, fte_postgrad=0, fte_undergrad=100),
            member("B", fte_research=0, fte_postgrad=100, fte_undergrad=500),
        ],
        total="50.00",
        derived={
            "weighted_fte": {"sum": {"fte_research": 10, "fte_postgrad": 3, "fte_undergrad": 1}}
        },
        formula=formula({"kind": "attribute", "attribute": "weighted_fte"}),
    )
    assert amounts(run(data)) == {"A": "10.00", "B": "40.00"}


def test_derived_mean_is_exact() -> None:
    # mean(1, 2, 2) = 5/3 and mean(0, 0, 5) = 5/3: equal shares → 1.00 each.
    data = scenario(
        [member("A", y1=1, y2=2, y3=2), member("B", y1=0, y2=0, y3=5)],
        total="2.00",
        derived={"avg": {"mean": ["y1", "y2", "y3"]}},
        formula=formula({"kind": "attribute", "attribute": "avg"}),
    )
    assert amounts(run(data)) == {"A": "1.00", "B": "1.00"}


def test_derived_may_use_an_earlier_derived_attribute() -> None:
    # s = a + b: A 1 + 1 = 2, B 3 + 3 = 6; t = 2·s → 4 and 12 → 1 : 3 of 8.00.
    data = scenario(
        [member("A", a=1, b=1), member("B", a=3, b=3)],
        total="8.00",
        derived={"s": {"sum": {"a": 1, "b": 1}}, "t": {"sum": {"s": 2}}},
        formula=formula({"kind": "attribute", "attribute": "t"}),
    )
    assert amounts(run(data)) == {"A": "2.00", "B": "6.00"}
