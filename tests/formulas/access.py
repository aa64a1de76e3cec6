"""Access entries of the formula pages and API."""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry


def build(session: Any, world: Any) -> None:
    from costshare.formulas.services import create_formula

    formula = create_formula(
        session,
        name="Half FTE, half equal (access test)",
        definition={
            "formula": {
                "components": [
                    {"kind": "equal", "weight": 1},
                    {"kind": "attribute", "attribute": "fte", "weight": 1},
                ]
            }
        },
    )
    world.objects["formula_id"] = formula.id


def _formula(w: Any) -> dict[str, Any]:
    return {"formula_id": w.objects["formula_id"]}


FORM = {"name": "Access test formula", "components-0-kind": "equal", "action": "save"}

ENTRIES = {
    "formulas.index": Entry(),
    "formulas.preset": Entry(lambda w: {"key": "equal"}),
    "formulas.new": Entry(data=lambda w: FORM),
    "formulas.detail": Entry(_formula),
    "formulas.edit": Entry(_formula, data=lambda w: FORM),
    "formulas.check": Entry(),
    "api.formula_list": Entry(),
    "api.formula_presets": Entry(),
    "api.formula_read": Entry(_formula),
    "api.formula_create": Entry(
        data=lambda w: {
            "name": "API access test",
            "definition": {"formula": {"components": [{"kind": "equal"}]}},
        }
    ),
}
