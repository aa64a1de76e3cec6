"""Formula presets: the cost-sharing models consortia publish, shipped as data."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from costshare.engine.errors import ScenarioError

_PATH = Path(__file__).with_name("presets.json")


@cache
def _text() -> str:
    return _PATH.read_text(encoding="utf-8")


def presets() -> list[dict[str, Any]]:
    """Return every preset: key, name, description, source, url, attributes, formula, and
    ``derived`` or ``pricing`` where the model needs them."""
    return json.loads(_text(), parse_float=Decimal)


def preset(key: str) -> dict[str, Any]:
    """Return the preset named ``key``."""
    for item in presets():
        if item["key"] == key:
            return item
    raise ScenarioError(f"No formula preset '{key}'.", field="preset")


def apply_preset(scenario: dict[str, Any], key: str) -> dict[str, Any]:
    """Return a copy of ``scenario`` using the preset's formula (and its derived/pricing parts)."""
    chosen = preset(key)
    result = dict(scenario)
    rounding = scenario.get("formula", {}).get("rounding")
    result["formula"] = dict(chosen["formula"])
    if rounding is not None:
        result["formula"]["rounding"] = rounding
    if "derived" in chosen:
        result["derived"] = {**scenario.get("derived", {}), **chosen["derived"]}
    if "pricing" in chosen:
        result.pop("total", None)
        result["pricing"] = chosen["pricing"]
    return result
