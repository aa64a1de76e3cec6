"""Every error of the spec, through the engine and through `costshare calc` (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from costshare.allocations.calc_command import calc
from costshare.engine import AllocationError, allocate, what_if
from tests.engine.scenarios import member, scenario


def base(**parts: Any) -> dict[str, Any]:
    return scenario(
        [
            member("A", fte=10, band="x", solo_price="60", previous_share="40"),
            member("B", fte=30, band="y", solo_price="90", previous_share="60"),
        ],
        total=parts.pop("total", "100.00"),
        formula=parts.pop("formula", {"components": [{"kind": "attribute", "attribute": "fte"}]}),
        **parts,
    )


def with_formula(**formula: Any) -> dict[str, Any]:
    return base(formula={"components": [{"kind": "attribute", "attribute": "fte"}], **formula})


def without(code: str, attribute: str, data: dict[str, Any]) -> dict[str, Any]:
    for item in data["members"]:
        if item["code"] == code:
            del item["attributes"][attribute]
    return data


EQUAL = [{"kind": "equal"}]
ERRORS: list[tuple[str, dict[str, Any], list[str], str]] = [
    # Section 1: inputs.
    ("unknown key", base(totals="1"), [], "Unknown key 'totals' in the scenario"),
    (
        "reserved name",
        with_formula(components=[{"kind": "equal", "name": "rounding"}]),
        [],
        "A component cannot be named 'rounding'",
    ),
    ("true for a number", base(surcharge=True), [], "The surcharge must be a number, not true"),
    ("null for a number", with_formula(floor=None), [], "The floor must be a number, not null"),
    ("no members", scenario([], total="1.00"), [], "The members must not be empty"),
    ("duplicate code", scenario([member("A"), member("A")]), [], "Member code A appears twice"),
    (
        "unit not positive",
        with_formula(rounding={"unit": "-0.01"}),
        [],
        "The rounding unit must be positive",
    ),
    (
        "total off the grid",
        base(total="100.001"),
        [],
        "The total 100.001 is not a multiple of the rounding unit 0.01",
    ),
    (
        "total and pricing",
        base(pricing={"kind": "fixed_total", "total": "1"}),
        [],
        "Give either 'total' or 'pricing'",
    ),
    (
        "derived source missing",
        base(derived={"w": {"mean": ["fte", "staff"]}}),
        [],
        "Members A and B have no attribute 'staff' (needed by derived attribute 'w')",
    ),
    (
        "subsidy too large",
        base(subsidy="100.01"),
        [],
        "The subsidy 100.01 EUR is larger than the price with the surcharge, 100.00 EUR",
    ),
    # Section 2: the formula share.
    (
        "fixed fee too large",
        with_formula(fixed_fee="51"),
        [],
        "The fixed fee 51 × 2 members = 102 EUR is more than the 100.00 EUR the members owe",
    ),
    (
        "no positive weight",
        base(formula={"components": [{"kind": "equal", "weight": 0}]}),
        [],
        "At least one component needs a weight above 0",
    ),
    (
        "below the first tier",
        base(
            formula={
                "components": [
                    {"kind": "tiers", "attribute": "fte", "tiers": [{"min": 20, "weight": 1}]}
                ]
            }
        ),
        [],
        "Member A's 'fte' of 10 is below the first tier of component 'tiers:fte'",
    ),
    (
        "table key missing",
        base(formula={"components": [{"kind": "table", "attribute": "band", "weights": {"x": 1}}]}),
        [],
        "Member B's 'band' is 'y', which component 'table:band' does not list",
    ),
    (
        "negative attribute",
        scenario(
            [member("A", fte=-1), member("B", fte=1)],
            formula={"components": [{"kind": "attribute", "attribute": "fte"}]},
        ),
        [],
        "Member A has a negative 'fte' (-1)",
    ),
    (
        "negative weight",
        with_formula(components=[{"kind": "equal", "weight": "-2"}]),
        [],
        "The weight of component 1 must not be negative",
    ),
    (
        "basis sums to 0",
        scenario(
            [member("A", fte=0)],
            formula={"components": [{"kind": "attribute", "attribute": "fte"}]},
        ),
        [],
        "Component 'attribute:fte' has nothing to be proportional to",
    ),
    (
        "same key twice",
        with_formula(components=[*EQUAL, *EQUAL]),
        [],
        "Two components share the key 'equal'",
    ),
    (
        "missing fact",
        without("B", "fte", base()),
        [],
        "Member B has no attribute 'fte' (needed by component 'attribute:fte').",
    ),
    # Section 3: bounds.
    (
        "bound attribute missing",
        without("A", "solo_price", with_formula(cap="solo_price")),
        [],
        "Member A has no attribute 'solo_price' (needed by the cap)",
    ),
    (
        "crossed bounds",
        with_formula(floor="70", cap="solo_price"),
        [],
        "Member A must pay at least 70.00 EUR (floor) but at most 60.00 EUR (cap).",
    ),
    (
        "floors too high",
        with_formula(floor="55"),
        [],
        "The members' lower bounds (floor) add up to 110.00 EUR, more than the 100.00 EUR they owe",
    ),
    (
        "caps too low",
        with_formula(max_change="0.1") | {"total": "200.00"},
        [],
        "The most the members can pay under their upper bounds (max_change) is 110.00 EUR, "
        "less than the 200.00 EUR they owe",
    ),
    # Section 6: pricing, methods, groups, what-if.
    (
        "price list below first tier",
        without(
            "A",
            "solo_price",
            base(price_list={"attribute": "fte", "tiers": [{"min": 20, "price": "1"}]}),
        ),
        [],
        "Member A's 'fte' of 10 is below the first tier of the price list",
    ),
    (
        "block rounding unknown",
        base(
            price_list={
                "attribute": "fte",
                "tiers": [{"min": 0, "price": "1"}],
                "block": {"above": 1, "size": 1, "price": "1", "round": "even"},
            }
        ),
        [],
        "block.round must be one of nearest, up, down, not 'even'",
    ),
    (
        "list discount without solo",
        without("A", "solo_price", base(total=None, pricing={"kind": "list_discount"})),
        [],
        "Member A has no attribute 'solo_price' (needed by the list-discount pricing)",
    ),
    (
        "savings without solo",
        without("B", "solo_price", base(formula={"method": "equal_savings"})),
        [],
        "Member B has no attribute 'solo_price' (needed by the method 'equal_savings')",
    ),
    (
        "solo prices add up to 0",
        scenario([member("A", solo_price="0")], formula={"method": "proportional_savings"}),
        [],
        "The method 'proportional_savings' needs solo prices, but they add up to 0",
    ),
    (
        "member in no group",
        base(groups={"attribute": "band", "shares": {"x": 1}}),
        [],
        "Member B's 'band' is 'y', which 'groups.shares' does not list",
    ),
    (
        "group without members",
        base(groups={"attribute": "band", "shares": {"x": 1, "y": 1, "z": 1}}),
        [],
        "Group 'z' has no members",
    ),
    (
        "groups with shapley",
        base(
            formula={"method": "shapley"}, groups={"attribute": "band", "shares": {"x": 1, "y": 1}}
        ),
        [],
        "Groups cannot be used with the Shapley method",
    ),
    (
        "drop unknown code",
        base(),
        ["--drop", "Q"],
        "Cannot drop Q: no such member in the scenario.",
    ),
    ("drop every member", base(), ["--drop", "A,B"], "Cannot drop every member"),
    (
        "drop with term",
        base(term={"years": 2}),
        ["--drop", "A"],
        "A what-if (dropping members) cannot be combined with a multi-year term.",
    ),
    # Section 7: several years — the error names the year.
    (
        "year named",
        with_formula(max_change="0.5") | {"total": None, "term": {"totals": ["100.00", "200.00"]}},
        [],
        "Year 2: The most the members can pay under their upper bounds (max_change) is 150.00 EUR",
    ),
]


def prepared(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(("case", "data", "args", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_engine_error(case: str, data: dict[str, Any], args: list[str], message: str) -> None:
    with pytest.raises(AllocationError) as caught:
        if args:
            what_if(prepared(data), args[1].split(","))
        else:
            allocate(prepared(data))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("case", "data", "args", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_cli_error(
    tmp_path: Path, case: str, data: dict[str, Any], args: list[str], message: str
) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(prepared(data)), encoding="utf-8")
    result = CliRunner().invoke(calc, [str(path), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: " + message)
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
