"""The demo consortium with an issued 2026 billing run, for invoice, portal and statement tests.

The allocations feature's demo step creates the FINAL 2026 allocations of the
demo offers `atlas`, `helix` and `lotus` (year 1). Until that step exists,
`ensure_final_allocations` creates them here with the engine, so the billing
run has something real to bill. The billing step (costshare/invoices/demo.py)
then runs as `seed-demo` runs it.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from costshare.allocations.inputs import build_scenario, result_for_year
from costshare.allocations.models import Allocation, AllocationLine
from costshare.db import utcnow
from costshare.demo import Demo, seed_demo
from costshare.engine import allocate, to_jsonable
from costshare.invoices import demo as invoices_demo
from costshare.invoices.models import BillingRun
from costshare.offers.models import Offer

#: A formula per demo deal, as the allocations demo might finalize them.
FORMULAS = {
    "Atlas Science Citation Index 2026": (
        "90 % FTE, 10 % equal",
        {
            "formula": {
                "components": [
                    {"kind": "attribute", "attribute": "fte", "weight": 90},
                    {"kind": "equal", "weight": 10},
                ],
                "cap": "solo_price",
            }
        },
    ),
    "Helix Research Data Navigator 2026": (
        "Per-FTE price, 700 to 11,000",
        {"formula": {"method": "shapley"}},
    ),
    "Lotus Academic E-books 2026–2028": (
        "30 % equal, 35 % FTE, 35 % materials budget",
        {
            "formula": {
                "components": [
                    {"kind": "equal", "weight": 30},
                    {"kind": "attribute", "attribute": "fte", "weight": 35},
                    {"kind": "attribute", "attribute": "materials_budget", "weight": 35},
                ]
            }
        },
    ),
}


def ensure_final_allocations(session: Session, year: int = 2026) -> list[Allocation]:
    """Return the final allocations of `year`, creating the demo's when there are none."""
    existing = session.scalars(
        select(Allocation).where(Allocation.status == "final", Allocation.year == year)
    ).all()
    if existing:
        return list(existing)
    created = []
    for title, (name, definition) in FORMULAS.items():
        offer = session.scalar(select(Offer).where(Offer.title == title))
        source = build_scenario(session, offer, definition, term_year=1)
        result = result_for_year(allocate(source.scenario), 1)
        allocation = Allocation(
            offer=offer,
            round=source.round,
            term_year=1,
            year=source.year,
            formula_name=name,
            status="final",
            currency=result["currency"],
            inputs=to_jsonable(source.scenario),
            result=to_jsonable(result),
            price=result["price"],
            surcharge_amount=result["surcharge_amount"],
            subsidy=result["subsidy"],
            total=result["total"],
            computed_at=utcnow(),
            finalized_at=utcnow(),
        )
        members = {m.code: m for m in source.members}
        attributes = {m["code"]: m["attributes"] for m in allocation.inputs["members"]}
        for item in result["lines"]:
            allocation.lines.append(
                AllocationLine(
                    member=members[item["code"]],
                    code=item["code"],
                    name=item["name"] or members[item["code"]].name,
                    amount=item["amount"],
                    raw=item["raw"],
                    surcharge=item["surcharge"],
                    bound=item["bound"],
                    solo_price=item["solo_price"],
                    savings=item["savings"],
                    savings_pct=item["savings_pct"],
                    explanation=to_jsonable(item["explanation"]),
                    attributes=attributes[item["code"]],
                )
            )
        session.add(allocation)
        created.append(allocation)
    session.flush()
    return created


def seed_billing_demo(session: Session) -> dict[str, Any]:
    """Load the whole demo and make sure it holds the issued 2026 billing run."""
    seed_demo(session)
    ensure_final_allocations(session)
    if session.scalar(select(BillingRun.id).limit(1)) is None:
        invoices_demo.seed(Demo(session=session, rng=random.Random(2026)))
    session.flush()
    run = session.scalar(select(BillingRun).order_by(BillingRun.id))
    return {"run": run}
