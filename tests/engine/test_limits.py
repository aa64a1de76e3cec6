"""Inputs at the edges: huge amounts and deeply nested JSON are refused with a sentence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costshare.engine import ScenarioError, allocate, load_scenario


def test_a_price_beyond_what_can_be_split_is_refused() -> None:
    scenario = {
        "currency": "EUR",
        "total": "1E+30",
        "members": [{"code": "A"}, {"code": "B"}],
        "formula": {"components": [{"kind": "equal", "weight": 1}]},
    }
    with pytest.raises(ScenarioError, match="too large"):
        allocate(scenario)
    # 10^13 EUR is 10^15 cents: the largest amount that still splits.
    scenario["total"] = "10000000000000.00"
    amounts = [line["amount"] for line in allocate(scenario)["lines"]]
    assert amounts == [Decimal("5000000000000.00"), Decimal("5000000000000.00")]


def test_deeply_nested_json_is_refused_in_one_sentence() -> None:
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario("[" * 100000 + "]" * 100000)
