"""The literal result of spec section 9, for the scenario of section 1, field by field."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from costshare.engine import allocate, load_scenario, to_json, to_jsonable

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spec-section-1.json"

#: Section 1 of the spec, verbatim.
SPEC_SCENARIO = """
{
  "currency": "EUR",
  "total": "40000.00",
  "members": [
    {"code": "UNI-A", "name": "University A",
     "attributes": {"fte": 21000, "usage": 48211, "band": "A",
                    "solo_price": "31000.00", "previous_share": "27500.00"}},
    {"code": "UNI-B", "name": "University B",
     "attributes": {"fte": 4300, "usage": 9120, "band": "C", "solo_price": "12000.00"}},
    {"code": "UNI-C", "name": "College C",
     "attributes": {"fte": 1200, "usage": 610, "band": "C",
                    "solo_price": "4000.00", "previous_share": "2600.00"}}
  ],
  "formula": {
    "components": [
      {"kind": "equal", "weight": 1},
      {"kind": "attribute", "attribute": "fte", "weight": 2},
      {"kind": "attribute", "attribute": "usage", "weight": 1, "transform": "sqrt"}
    ],
    "floor": "1000.00",
    "cap": "solo_price",
    "max_change": "0.05",
    "rounding": {"unit": "0.01"}
  }
}
"""

#: Section 9 of the spec, verbatim.
SPEC_RESULT = """
{
  "currency": "EUR",
  "price": "40000.00", "surcharge_amount": "0.00", "subsidy": "0.00",
  "total": "40000.00",
  "lambda": "1.063821",
  "lines": [
    {"code": "UNI-A", "name": "University A", "amount": "27281.44", "raw": "25644.76",
     "explanation": {"equal": "3333.33", "attribute:fte": "15849.06", "attribute:usage": "6462.37",
                     "bound_adjustment": "1636.67", "rounding": "0.01"},
     "bound": null, "surcharge": "0.00", "solo_price": "31000.00", "savings": "3718.56",
     "savings_pct": "0.1200", "pays_more_than_alone": false},
    {"code": "UNI-B", "name": "University B", "amount": "9988.56", "raw": "9389.33",
     "explanation": {"equal": "3333.33", "attribute:fte": "3245.28", "attribute:usage": "2810.71",
                     "bound_adjustment": "599.24", "rounding": "0.00"},
     "bound": null, "surcharge": "0.00", "solo_price": "12000.00", "savings": "2011.44",
     "savings_pct": "0.1676", "pays_more_than_alone": false},
    {"code": "UNI-C", "name": "College C", "amount": "2730.00", "raw": "4965.91",
     "explanation": {"equal": "3333.33", "attribute:fte": "905.66", "attribute:usage": "726.92",
                     "bound_adjustment": "-2235.91", "rounding": "0.00"},
     "bound": "max_change_up", "surcharge": "0.00", "solo_price": "4000.00", "savings": "1270.00",
     "savings_pct": "0.3175", "pays_more_than_alone": false}
  ],
  "totals": {"amount": "40000.00", "solo_price": "47000.00", "savings": "7000.00"}
}
"""

# Worked by hand (weights 1:2:1 normalise to 1/4, 1/2, 1/4; R = 40000):
#   equal:  10000 / 3                               = 3333.33 each
#   fte:    20000 × 21000/26500 = 15849.06, × 4300/26500 = 3245.28, × 1200/26500 = 905.66
#   usage:  √48211 = 219.570, √9120 = 95.499, √610 = 24.698, Σ = 339.767
#           10000 × 219.570/339.767 = 6462.37, 2810.71, 726.92
#   raw:    25644.76, 9389.33, 4965.91
# Bounds: floor 1000 for all; cap = solo price; max_change 5 % of previous_share:
#   UNI-A: L = max(1000, 26125) = 26125, U = min(31000, 28875) = 28875
#   UNI-B: L = 1000, U = 12000 (no previous_share, so max_change does not bind)
#   UNI-C: L = max(1000, 2470) = 2470, U = min(4000, 2730) = 2730  ← binds: x_C = 2730
# The others share 40000 − 2730 = 37270 in proportion to raw:
#   λ = 37270 / (25644.76 + 9389.33) = 1.063821…
#   x_A = 27281.436…, x_B = 9988.563…: floors 27281.43 + 9988.56 + 2730.00 = 39999.99,
#   one cent left: remainders .6… (A) > .3… (B) → A gets it.


def test_section_9_result_is_the_literal_one() -> None:
    result = to_jsonable(allocate(load_scenario(SPEC_SCENARIO)))
    assert result == json.loads(SPEC_RESULT)


def test_result_keys_are_in_the_spec_order() -> None:
    result = allocate(load_scenario(SPEC_SCENARIO))
    expected = json.loads(SPEC_RESULT)
    assert list(result) == list(expected)
    for line, literal in zip(result["lines"], expected["lines"], strict=True):
        assert list(line) == list(literal)
        assert list(line["explanation"]) == list(literal["explanation"])


def test_money_is_decimal_in_the_result() -> None:
    result = allocate(load_scenario(SPEC_SCENARIO))
    line = result["lines"][0]
    assert line["amount"] == Decimal("27281.44")
    assert isinstance(line["amount"], Decimal)
    assert all(isinstance(v, Decimal) for v in line["explanation"].values())
    assert result["lambda"] == Decimal("1.063821")


def test_json_text_carries_the_literal_strings() -> None:
    text = to_json(allocate(load_scenario(SPEC_SCENARIO)))
    assert json.loads(text) == json.loads(SPEC_RESULT)
    assert '"amount": "27281.44"' in text
    assert '"bound": "max_change_up"' in text


def test_lambda_is_exact_on_its_segment() -> None:
    # λ solves 2730 + λ·(raw_A + raw_B) = 40000 exactly; to 9 places it is 1.063821…
    raw_a_b = Fraction("25644.76") + Fraction("9389.33")
    assert abs(Fraction(37270) / raw_a_b - Fraction("1.063821")) < Fraction(1, 10**6)


def test_example_file_is_the_spec_scenario() -> None:
    assert load_scenario(EXAMPLE.read_bytes()) == load_scenario(SPEC_SCENARIO)
