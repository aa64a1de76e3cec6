"""A small hand-checkable consortium for the allocation tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.factories import create_member, create_offer

HALF_FTE_HALF_EQUAL = {
    "formula": {
        "components": [
            {"kind": "equal", "weight": 1},
            {"kind": "attribute", "attribute": "fte", "weight": 1},
        ]
    }
}
CAPPED = {
    "formula": {
        **HALF_FTE_HALF_EQUAL["formula"],
        "cap": "solo_price",
    }
}


@dataclass
class Small:
    offer: Any
    members: dict[str, Any]


def small_consortium(session: Any, solo_c: str = "2500.00") -> Small:
    """Three members A, B, C; FTE 6000, 3000, 1000 in 2026 (A had 5000 in 2025).

    The offer bills 2027 (so the 2026 facts are used), total 10,000.00 + 5 %
    surcharge: the members owe 10,500.00. Solo prices 6,000 / 4,000 / `solo_c`.
    """
    a = create_member(
        session, code="A", name="Alpha University", facts={(2025, "fte"): 5000, (2026, "fte"): 6000}
    )
    b = create_member(session, code="B", name="Beta College", facts={(2026, "fte"): 3000})
    c = create_member(session, code="C", name="Gamma Institute", facts={(2026, "fte"): 1000})
    offer = create_offer(
        session,
        pricing={"total": "10000.00", "surcharge": "0.05"},
        joined=[a, b, c],
        solo={a: "6000.00", b: "4000.00", c: solo_c},
        title="Small offer",
    )
    return Small(offer, {"A": a, "B": b, "C": c})


def rows(html: str, table: str = "split-table") -> dict[str, dict[str, Any]]:
    """Return each member row of a split table: its amount and its parts, as Decimals."""
    found = {}
    for code, body in re.findall(rf'<tr id="{table}-([^"]+)"[^>]*>(.*?)</tr>', html, re.S):
        amount = re.search(r'class="num amount" data-value="([^"]+)"', body).group(1)
        parts = re.findall(r'class="num part" data-value="([^"]+)"', body)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        found[code] = {
            "amount": Decimal(amount),
            "parts": [Decimal(p) for p in parts],
            "cells": [re.sub(r"<[^>]+>", "", c).strip() for c in cells],
        }
    return found
