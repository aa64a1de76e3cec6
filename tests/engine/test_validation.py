"""Section 1 (and the input rules of 6 and 7): what a scenario may contain, and each error."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from costshare.engine import (
    AllocationError,
    MissingAttributeError,
    ScenarioError,
    allocate,
    load_scenario,
)
from tests.engine.scenarios import amounts, member, run, scenario


def base() -> dict[str, Any]:
    return scenario(
        [member("A", "Alpha", fte=10, band="x"), member("B", fte=30, band="y")],
        total="100.00",
        formula={"components": [{"kind": "attribute", "attribute": "fte", "weight": 1}]},
    )


def mutate(path: str, value: Any) -> dict[str, Any]:
    """Return the base scenario with the dotted ``path`` set (``...``: deleted)."""
    data = base()
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is ...:
        del target[last]
    else:
        target[last] = value
    return data


def fails(data: Any, fragment: str, kind: type[AllocationError] = ScenarioError) -> AllocationError:
    with pytest.raises(kind) as caught:
        allocate(data)
    assert fragment in str(caught.value), str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_base_is_valid() -> None:
    # 100.00 in proportion to fte 10 : 30 → 25.00 and 75.00.
    assert amounts(run(base())) == {"A": "25.00", "B": "75.00"}


@pytest.mark.parametrize(
    ("path", "value", "fragment", "field"),
    [
        ("totl", "1", "Unknown key 'totl' in the scenario", "totl"),
        ("members.0.atributes", {}, "Unknown key 'atributes' in member A", "members[0].atributes"),
        ("formula.flor", "1", "Unknown key 'flor' in the formula", "formula.flor"),
        ("formula.rounding", {"unt": "1"}, "Unknown key 'unt'", "formula.rounding.unt"),
        (
            "formula.components.0",
            {"kind": "equal", "attribute": "fte"},
            "Unknown key 'attribute' in component 1 (equal)",
            "formula.components[0].attribute",
        ),
        ("groups", {"attribute": "band", "share": {}}, "Unknown key 'share'", "groups.share"),
        ("term", {"years": 2, "uplfit": "0.1"}, "Unknown key 'uplfit'", "term.uplfit"),
    ],
)
def test_unknown_keys_anywhere_are_errors(path: str, value: Any, fragment: str, field: str) -> None:
    err = fails(mutate(path, value), fragment)
    assert err.field == field


def test_unknown_keys_in_pricing_price_list_block_and_tiers() -> None:
    data = base()
    del data["total"]
    data["pricing"] = {"kind": "fixed_total", "total": "100", "tiers": []}
    fails(data, "Unknown key 'tiers' in the pricing (fixed_total)")
    data["pricing"] = {"kind": "list_discount", "tiers": [{"min_members": 2, "discont": "0.1"}]}
    fails(data, "Unknown key 'discont' in participation tier 1")
    data = base()
    data["price_list"] = {"attribute": "fte", "tiers": [{"min": 0, "prise": "1"}]}
    fails(data, "Unknown key 'prise' in tier 1 of the price list")
    data["price_list"] = {
        "attribute": "fte",
        "tiers": [{"min": 0, "price": "1"}],
        "block": {"above": 1, "size": 1, "price": 1, "round": "up", "cap": 3},
    }
    fails(data, "Unknown key 'cap' in the price-list block")
    data = base()
    data["formula"]["components"] = [
        {"kind": "tiers", "attribute": "fte", "tiers": [{"min": 0, "wieght": 1}]}
    ]
    fails(data, "Unknown key 'wieght' in tier 1 of component 'tiers:fte'")


def test_required_parts() -> None:
    fails(mutate("currency", ...), "The scenario needs 'currency'")
    fails(mutate("members", ...), "The scenario needs 'members'")
    fails(mutate("formula", ...), "The scenario needs 'formula'")
    fails(mutate("total", ...), "The scenario needs the price")
    fails(mutate("formula.components", ...), "The formula needs 'components'")
    fails(mutate("formula.components", []), "formula.components must not be empty")
    fails(mutate("members", []), "The members must not be empty")
    fails(mutate("formula.components.0.kind", ...), "Component 1 needs 'kind'")
    fails(
        mutate("formula.components.0.attribute", ...), "Component 1 (attribute) needs 'attribute'"
    )


def test_total_and_pricing_exclude_each_other() -> None:
    data = base()
    data["pricing"] = {"kind": "fixed_total", "total": "100.00"}
    fails(data, "Give either 'total' or 'pricing', not both")


@pytest.mark.parametrize("bad", [True, False, None, [1], {"a": 1}, "1,5", "NaN", " 1", "1_0", "e5"])
def test_numbers_must_be_numbers(bad: Any) -> None:
    err = fails(mutate("total", bad), "The total must be a number")
    assert err.field == "total"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("formula.components.0.weight", "The weight of component 1 must be a number, not true"),
        ("formula.floor", "The floor must be a number, not true"),
        ("formula.max_change", "max_change must be a number, not true"),
        ("surcharge", "The surcharge must be a number, not true"),
        ("subsidy", "The subsidy must be a number, not true"),
    ],
)
def test_true_is_not_a_number_anywhere(path: str, fragment: str) -> None:
    fails(mutate(path, True), fragment)


def test_numbers_may_be_json_numbers_or_decimal_strings() -> None:
    # The same split whether weights and attributes come as numbers or strings.
    data = base()
    data["total"] = Decimal("100.00")
    data["members"][0]["attributes"]["fte"] = "10"
    data["members"][1]["attributes"]["fte"] = Decimal("30.0")
    data["formula"]["components"][0]["weight"] = "2.5"
    assert amounts(run(data)) == {"A": "25.00", "B": "75.00"}
    data["members"][0]["attributes"]["fte"] = 1e1  # a float is read by its shortest repr, 10
    assert amounts(run(data)) == {"A": "25.00", "B": "75.00"}


def test_null_attribute_values_are_errors() -> None:
    fails(
        mutate("members.1.attributes.fte", None),
        "Member B's attribute 'fte' must be a number or a text, not null",
    )
    fails(mutate("members.1.attributes.fte", False), "not false")
    fails(mutate("members.1.attributes.fte", [3]), "not a list")


def test_member_rules() -> None:
    fails(mutate("members.1", "B"), "Each member must be an object; members[1] is 'B'")
    fails(mutate("members.1.code", ""), "Each member needs a non-empty text 'code'")
    fails(
        mutate("members.1.code", 7), "Each member needs a non-empty text 'code'; members[1] has 7"
    )
    err = fails(mutate("members.1.code", "A"), "Member code A appears twice")
    assert err.members == ("A",)
    fails(mutate("members.1.name", 5), "The name of member B must be text, not 5")
    fails(mutate("members.1.attributes", []), "The attributes of member B must be an object")
    fails(mutate("members", {"A": {}}), "The members must be a list, not an object")


def test_codes_are_compared_by_code_point_and_input_order_changes_nothing() -> None:
    # Code points: "B" (66) < "a" (97) < "É" (201); lines come out in that order.
    data = scenario([member("É"), member("a"), member("B")], total="3.00")
    result = run(data)
    assert [line["code"] for line in result["lines"]] == ["B", "a", "É"]
    assert amounts(result) == {"B": "1.00", "a": "1.00", "É": "1.00"}


def test_name_is_optional_and_reported_as_null() -> None:
    result = run(base())
    assert [line["name"] for line in result["lines"]] == ["Alpha", None]


@pytest.mark.parametrize(
    "name",
    [
        "fixed_fee",
        "bound_adjustment",
        "rounding",
        "surcharge",
        "formula",
        "shapley",
        "equal_savings",
        "proportional_savings",
    ],
)
def test_reserved_names_cannot_name_a_component(name: str) -> None:
    err = fails(mutate("formula.components.0.name", name), f"A component cannot be named '{name}'")
    assert err.field == "formula.components[0].name"


def test_two_components_with_the_same_key_are_an_error() -> None:
    data = base()
    data["formula"]["components"].append({"kind": "attribute", "attribute": "fte", "weight": 2})
    fails(data, "Two components share the key 'attribute:fte'")
    data["formula"]["components"][1]["name"] = "fte twice"
    assert amounts(run(data)) == {"A": "25.00", "B": "75.00"}


def test_weights() -> None:
    fails(
        mutate("formula.components.0.weight", "-1"),
        "The weight of component 1 must not be negative",
    )
    fails(mutate("formula.components.0.weight", 0), "At least one component needs a weight above 0")


def test_kinds_methods_and_transforms() -> None:
    fails(mutate("formula.method", "banzhaf"), "Unknown method 'banzhaf'")
    fails(mutate("formula.components.0.kind", "ratio"), "unknown kind 'ratio'")
    fails(mutate("formula.components.0.transform", "log"), "unknown transform 'log'")
    data = mutate("formula.method", "shapley")
    fails(data, "'components' applies only to the method 'formula'")


def test_rounding_unit_defaults_to_the_currency_minor_unit() -> None:
    # EUR: 0.01; JPY: 1; BHD: 0.001 (ISO 4217, as Babel knows it). 10 split 3 ways.
    for currency, expected in (("EUR", "3.34"), ("JPY", "4"), ("BHD", "3.334")):
        data = scenario([member("A"), member("B"), member("C")], total="10", currency=currency)
        assert amounts(run(data))["A"] == expected


def test_rounding_unit_must_be_positive_and_total_on_the_grid() -> None:
    fails(mutate("formula.rounding", {"unit": "0"}), "The rounding unit must be positive")
    fails(
        mutate("total", "100.005"), "The total 100.005 is not a multiple of the rounding unit 0.01"
    )
    fails(mutate("subsidy", "0.005"), "The subsidy 0.005 is not a multiple of the rounding unit")
    fails(mutate("total", "-100"), "The total must not be negative")


def test_unknown_currency() -> None:
    fails(mutate("currency", "EURO"), "Unknown currency 'EURO'")


def test_out_of_range_numbers_are_refused() -> None:
    fails(mutate("total", "1e40"), "is out of range")


def test_derived_definitions() -> None:
    fails(
        mutate("derived", {"w": {"sum": {"fte": 1}, "mean": ["fte"]}}),
        "needs exactly one of 'sum' and 'mean'",
    )
    fails(mutate("derived", {"w": {}}), "needs exactly one of 'sum' and 'mean' (it has nothing)")
    fails(
        mutate("derived", {"w": {"mean": []}}),
        "The mean of derived attribute 'w' must not be empty",
    )
    err = fails(
        mutate("derived", {"fte": {"mean": ["band"]}}), "would hide the attribute of the same name"
    )
    assert err.members == ("A", "B")
    err = fails(
        mutate("derived", {"w": {"sum": {"fte": 1, "staff": 2}}}),
        "Members A and B have no attribute 'staff' (needed by derived attribute 'w')",
        MissingAttributeError,
    )
    assert err.attribute == "staff"


def test_groups_rules() -> None:
    data = mutate("groups", {"attribute": "band", "shares": {"x": 1, "y": 1}})
    data["formula"] = {"method": "shapley"}
    fails(data, "Groups cannot be used with the Shapley method")
    fails(
        mutate("groups", {"attribute": "band", "shares": {}}),
        "'groups.shares' must name at least one group",
    )
    fails(
        mutate("groups", {"attribute": "band", "shares": {"x": 0, "y": 0}}),
        "At least one group needs a share above 0",
    )
    fails(
        mutate("groups", {"attribute": "band", "shares": {"x": -1, "y": 1}}),
        "The share of group 'x' must not be negative",
    )


def test_term_rules() -> None:
    fails(
        mutate("term", {"years": 2, "uplift": "0.1", "totals": ["1"]}),
        "Give either 'term.uplift' or 'term.totals'",
    )
    fails(
        mutate("term", {"years": 3, "totals": ["100.00", "100.00"]}),
        "term.years is 3 but term.totals gives 2 prices",
    )
    fails(mutate("term", {"uplift": "0.1"}), "'term' needs 'years'")
    fails(mutate("term", {"years": "1.5"}), "term.years must be a whole number")
    fails(
        mutate("term", {"totals": ["100.001"]}),
        "The price of year 1, 100.001, is not a multiple of the rounding unit",
    )


def test_load_scenario_refuses_bad_json() -> None:
    with pytest.raises(ScenarioError, match="not valid JSON: Expecting"):
        load_scenario('{"currency": "EUR",}')
    with pytest.raises(ScenarioError, match="The key 'total' appears twice"):
        load_scenario('{"total": "1", "total": "2"}')
    with pytest.raises(ScenarioError, match="NaN is not a number JSON allows"):
        load_scenario('{"total": NaN}')
    with pytest.raises(ScenarioError, match="must be a JSON object"):
        load_scenario("[1, 2]")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(b"\xff\xfe\x00")
    assert load_scenario(b'{"total": 1.50}') == {"total": Decimal("1.50")}


def test_the_scenario_itself_must_be_an_object() -> None:
    fails([], "The scenario must be an object, not a list")


def test_errors_carry_field_members_and_attribute() -> None:
    data = base()
    del data["members"][1]["attributes"]["fte"]
    err = fails(
        data,
        "Member B has no attribute 'fte' (needed by component 'attribute:fte').",
        MissingAttributeError,
    )
    assert (err.field, err.member, err.members, err.attribute) == (
        "formula.components[0].attribute",
        "B",
        ("B",),
        "fte",
    )


def test_validation_does_not_change_the_input() -> None:
    data = base()
    before = copy.deepcopy(data)
    allocate(data)
    assert data == before
