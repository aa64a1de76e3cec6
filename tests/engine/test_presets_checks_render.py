"""Presets and their example scenarios, formula checks for the web form, and the renderers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from costshare.engine import (
    MissingAttributeError,
    ScenarioError,
    allocate,
    apply_preset,
    check_formula,
    load_scenario,
    needed_attributes,
    preset,
    presets,
    to_csv,
    to_json,
    to_jsonable,
    to_table,
    what_if,
)
from tests.engine.scenarios import SPEC_COLUMNS, member, scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FACT_NAMES = {
    "fte",
    "budget",
    "income",
    "research_income",
    "articles",
    "student_fte",
    "fte_research",
    "fte_postgrad",
    "fte_undergrad",
    "materials_budget",
}
KEYS = [item["key"] for item in presets()]


def test_presets_are_complete_and_unique() -> None:
    items = presets()
    assert len(KEYS) == len(set(KEYS)) == 7
    for item in items:
        assert {
            "key",
            "name",
            "description",
            "source",
            "url",
            "attributes",
            "formula",
        } <= item.keys()
        assert item["name"] and item["description"] and item["source"]
        assert set(item["attributes"]) <= FACT_NAMES
        assert item["url"] is None or item["url"].startswith("http")


def test_preset_weights_are_the_published_ones() -> None:
    def weights(key: str) -> dict[str, Decimal]:
        return {
            c.get("name") or f"{c['kind']}:{c.get('attribute', '')}".rstrip(":"): Decimal(
                c["weight"]
            )
            for c in preset(key)["formula"]["components"]
        }

    assert weights("csu-fte-equal") == {"attribute:fte": 90, "equal": 10}
    assert weights("orbis-cascade-ebooks") == {
        "equal": 30,
        "attribute:fte": 35,
        "attribute:materials_budget": 35,
    }
    assert weights("jisc-subscription") == {
        "attribute:income": 80,
        "attribute:research_income": 10,
        "attribute:student_fte": 10,
    }
    assert weights("netherlands-thirds") == {
        "funding": 1,
        "attribute:student_fte": 1,
        "attribute:articles": 1,
    }
    assert preset("caul-weighted-fte")["derived"] == {
        "weighted_fte": {"sum": {"fte_research": 10, "fte_postgrad": 3, "fte_undergrad": 1}}
    }
    assert preset("ehlbc-per-fte")["pricing"] == {
        "kind": "per_unit",
        "attribute": "fte",
        "rate": "0.34",
        "floor": "700",
        "cap": "11000",
    }


@pytest.mark.parametrize("key", KEYS)
def test_each_preset_has_a_working_example(key: str) -> None:
    item = preset(key)
    data = load_scenario((EXAMPLES / f"{key}.json").read_bytes())
    assert data["formula"] == item["formula"]
    assert data.get("derived") == item.get("derived")
    assert data.get("pricing") == item.get("pricing")
    needed = needed_attributes(item["formula"], item.get("derived"), item.get("pricing"))
    assert needed == item["attributes"]
    assert (
        check_formula(item["formula"], data["members"], item.get("derived"), data["currency"]) == []
    )
    result = allocate(data)
    assert sum(line["amount"] for line in result["lines"]) == result["total"]
    assert len(result["lines"]) >= 4


def test_apply_preset_keeps_members_and_rounding() -> None:
    data = scenario(
        [
            member("A", fte=1000, materials_budget="1000"),
            member("B", fte=3000, materials_budget="3000"),
        ],
        total="1000.00",
        formula={"components": [{"kind": "equal"}], "rounding": {"unit": "1"}},
    )
    applied = apply_preset(data, "orbis-cascade-ebooks")
    assert applied["members"] == data["members"]
    assert applied["formula"]["rounding"] == {"unit": "1"}
    # 30 % equal (150 each) + 70 % by 1 : 3 (175, 525) → 325 and 675.
    assert [line["amount"] for line in allocate(applied)["lines"]] == [Decimal(325), Decimal(675)]
    with pytest.raises(ScenarioError, match="No formula preset 'nope'"):
        apply_preset(data, "nope")


def test_apply_preset_with_pricing_replaces_the_total() -> None:
    data = scenario([member("A", fte=1000), member("B", fte=10000)], total="1.00")
    applied = apply_preset(data, "ehlbc-per-fte")
    assert "total" not in applied
    # 1000 FTE → 340 → 700 floor; 10,000 → 3400.
    assert [line["amount"] for line in allocate(applied)["lines"]] == [
        Decimal("700.00"),
        Decimal("3400.00"),
    ]


def test_check_formula_names_every_missing_fact() -> None:
    formula = preset("jisc-subscription")["formula"]
    members = [
        {"code": "BATH", "attributes": {"income": "1", "research_income": "1", "student_fte": 1}},
        {"code": "HULL", "attributes": {"income": "2"}},
        {"code": "YSJ", "attributes": {"income": "3", "research_income": "3", "student_fte": 3}},
    ]
    problems = check_formula(formula, members)
    assert [str(p) for p in problems] == [
        "Member HULL has no attribute 'research_income' "
        "(needed by component 'attribute:research_income').",
        "Member HULL has no attribute 'student_fte' (needed by component 'attribute:student_fte').",
    ]
    assert isinstance(problems[0], MissingAttributeError)
    assert problems[0].members == ("HULL",)
    assert problems[1].field == "formula.components[2].attribute"
    members[1]["attributes"].update(research_income="2", student_fte=2)
    members[2]["attributes"]["research_income"] = "x"
    problems = check_formula(formula, members)
    assert [str(p) for p in problems] == [
        "Member YSJ's attribute 'research_income' must be a number, not 'x' "
        "(needed by component 'attribute:research_income')."
    ]


def test_check_formula_covers_bounds_and_reports_a_malformed_formula() -> None:
    formula = {
        "components": [{"kind": "equal"}],
        "cap": "solo_price",
        "floor": "least",
        "max_change": "0.1",
    }
    members = [
        {"code": "A", "attributes": {"solo_price": "10", "least": "1", "previous_share": "-3"}},
        {"code": "B", "attributes": {}},
    ]
    assert [str(p) for p in check_formula(formula, members)] == [
        "Member B has no attribute 'least' (needed by the floor).",
        "Member B has no attribute 'solo_price' (needed by the cap).",
        "The previous_share of A is negative.",
    ]
    assert [str(p) for p in check_formula({"components": []}, members)] == [
        "formula.components must not be empty."
    ]
    assert needed_attributes(formula) == ["least", "solo_price", "previous_share"]


def test_needed_attributes_of_the_spec_formula() -> None:
    formula = load_scenario((EXAMPLES / "spec-section-1.json").read_bytes())["formula"]
    assert needed_attributes(formula) == ["fte", "usage", "solo_price", "previous_share"]


def test_csv_leaves_missing_values_empty() -> None:
    data = scenario([member("A", solo_price="80.00"), member("B")], total="100.00")
    rows = list(csv.reader(io.StringIO(to_csv(allocate(data)))))
    assert rows[0][:9] == SPEC_COLUMNS
    assert rows[1][:9] == ["A", "", "50.00", "50.00", "", "0.00", "80.00", "30.00", "0.3750"]
    assert rows[2][:9] == ["B", "", "50.00", "50.00", "", "0.00", "", "", ""]


def test_csv_keeps_formula_like_names_inert() -> None:
    data = scenario(
        [member("A", '=HYPERLINK("http://x.example","y")', solo_price="40.00"), member("B")],
        total="100.00",
    )
    rows = list(csv.reader(io.StringIO(to_csv(allocate(data)))))
    assert rows[1][:3] == ["A", '\'=HYPERLINK("http://x.example","y")', "50.00"]
    # Negative savings are numbers, not formulas: they stay as they are.
    assert rows[1][7] == "-10.00"


def test_json_never_writes_exponents() -> None:
    # A unit of 1e-7 makes str(Decimal) write 3E-7; the JSON must say 0.0000003.
    data = scenario(
        [member("A"), member("B"), member("C")],
        total="0.000001",
        formula={"components": [{"kind": "equal"}], "rounding": {"unit": "0.0000001"}},
    )
    text = to_json(allocate(data))
    assert "E-" not in text
    assert [line["amount"] for line in json.loads(text)["lines"]] == [
        "0.0000004",
        "0.0000003",
        "0.0000003",
    ]


def test_renderers_handle_groups_years_and_what_if() -> None:
    data = scenario(
        [member("A", g="x"), member("B", g="y")],
        total="10.00",
        groups={"attribute": "g", "shares": {"x": 3, "y": 1}},
    )
    result = allocate(data)
    assert json.loads(to_json(result))["groups"] == [
        {"name": "x", "share": "3", "total": "7.50", "lambda": "1.000000"},
        {"name": "y", "share": "1", "total": "2.50", "lambda": "1.000000"},
    ]
    assert "group x: share 3  total 7.50  lambda 1.000000" in to_table(result)
    comparison = what_if(scenario([member("A"), member("B")], total="10.00"), ["B"])
    assert json.loads(to_json(comparison)) == to_jsonable(comparison)
    table = to_table(comparison)
    assert table.startswith("Before\n") and "\nAfter\n" in table and "\nChanges\n" in table
    years = allocate(scenario([member("A")], total="10.00", term={"years": 2}))
    assert to_table(years).startswith("Year 1\n")
    assert json.loads(to_json(years)) == to_jsonable(years)
