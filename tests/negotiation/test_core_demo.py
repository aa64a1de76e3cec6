"""The core check on the demo's offers, against brute force over every group of participants.

For each demo offer whose price depends on who joins, every one of the 2^n − 1
groups of its participants (n ≤ 12) is priced by the engine (`price_of`, the
vendor's price for exactly that group) and compared with what the group pays
toward the vendor's price under the split (amounts less surcharge parts).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import pytest
from sqlalchemy import select

from costshare.demo import seed_demo
from costshare.engine import price_of
from costshare.negotiation.services import WhatIf, context, offer_for_negotiation, workspace
from costshare.offers.models import Offer


@pytest.fixture
def demo(app, session):
    with app.app_context():
        seed_demo(session)
        session.flush()
        yield {o.title: o for o in session.scalars(select(Offer))}


def group_prices(scenario, codes):
    """The vendor's price for every group of the members, from the engine."""
    return {
        group: price_of(scenario, group)
        for k in range(1, len(codes) + 1)
        for group in combinations(codes, k)
    }


def brute_force(prices, lines):
    """Largest excess (Σ paid − price alone) per group size, over all groups."""
    paid = {line["code"]: line["amount"] - line["surcharge"] for line in lines}
    best: dict[int, Decimal] = {}
    for group, alone in prices.items():
        excess = sum((paid[c] for c in group), Decimal(0)) - alone
        best[len(group)] = max(best.get(len(group), excess), excess)
    return best, paid


def assert_exact(ws):
    fairness = ws.fairness
    scenario = ws.scenario
    shapley_lines = [
        {"code": line["code"], "amount": fairness.shapley[line["code"]], "surcharge": s}
        for line, s in zip(ws.result["lines"], _shapley_surcharges(ws), strict=True)
    ]
    prices = group_prices(scenario, [line["code"] for line in ws.result["lines"]])
    checked = 0
    for check, lines in (
        (fairness.formula_core, ws.result["lines"]),
        (fairness.shapley_core, shapley_lines),
    ):
        best, paid = brute_force(prices, lines)
        blocked = {k for k, excess in best.items() if excess > 0}
        assert {g.size for g in check.groups} == blocked
        for group in check.groups:
            assert group.alone == prices[group.codes]
            assert group.paid == sum((paid[c] for c in group.codes), Decimal(0))
            assert best[group.size] - Decimal("0.01") <= group.excess <= best[group.size]
        checked += 1
    return checked


def _shapley_surcharges(ws):
    """The Shapley split's surcharge parts, from the engine's own Shapley run."""
    from costshare.engine import allocate

    scenario = {k: v for k, v in ws.scenario.items() if k != "groups"}
    scenario["formula"] = {"method": "shapley"}
    result = allocate(scenario)
    result = result.get("years", [result])[0]
    return [line["surcharge"] for line in result["lines"]]


def test_every_demo_offer_priced_by_who_joins(session, demo) -> None:
    # (One test: loading the demo is the slow part.)
    offer = offer_for_negotiation(session, demo["Meridian Journals Complete 2027"].id)
    ctx = context(session, offer)
    assert len(ctx.joined_codes) == 12
    assert assert_exact(workspace(session, ctx, WhatIf())) == 2
    ten = tuple(c for c in ctx.joined_codes if c not in ("SYSU", "SCUT"))
    smaller = workspace(session, ctx, WhatIf(members=ten))
    assert assert_exact(smaller) == 2
    # At 10 members the vendor gives any 6 of them the same 10 % as the consortium: the Shapley
    # split, which does not charge everyone exactly 90 %, leaves some group better off alone.
    assert not smaller.fairness.shapley_core.in_core

    # Helix: per-FTE prices with a floor and a cap (each group pays the sum of its own prices).
    offer = offer_for_negotiation(session, demo["Helix Research Data Navigator 2026"].id)
    ws = workspace(session, context(session, offer), WhatIf())
    assert ws.context.pricing_kind == "per_unit"
    assert assert_exact(ws) == 2

    # Northwind: a per-member price table with a tier at 8 members; nobody has joined yet,
    # so the what-if takes every invited member in.
    offer = offer_for_negotiation(session, demo["Northwind Business Source 2027"].id)
    ctx = context(session, offer)
    invited = tuple(p.member.code for p in ctx.participations)
    assert len(invited) == 10
    ws = workspace(session, ctx, WhatIf(members=invited))
    assert ws.error is None, ws.error
    assert assert_exact(ws) == 2
