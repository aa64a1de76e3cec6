"""The negotiation brief: the what-if's figures as plain data for a PDF to take to the vendor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from costshare.negotiation.services import (
    Change,
    Fairness,
    Projection,
    RoundColumn,
    Tier,
    Workspace,
)


@dataclass(frozen=True)
class Brief:
    """Everything the PDF shows; no database objects (the template gets plain data)."""

    consortium: str
    title: str
    vendor: str
    resource: str
    term: str
    currency: str
    formula: str
    members: list[str]
    date: dt.date
    result: dict[str, Any]
    baseline: dict[str, Any] | None
    changes: list[Change]
    tier: Tier | None
    fairness: Fairness | None
    projection: Projection | None
    rounds: list[RoundColumn]
    charts: list[Markup] = field(default_factory=list)
    scenario: str | None = None
    note: str | None = None


def brief(
    ws: Workspace,
    consortium: str,
    today: dt.date,
    charts: dict[str, Markup],
    scenario: Any = None,
) -> Brief:
    """Return the brief of a computed what-if (`ws.result` must be set)."""
    assert ws.result is not None
    offer = ws.offer
    return Brief(
        consortium=consortium,
        title=offer.title,
        vendor=offer.resource.vendor.name,
        resource=offer.resource.name,
        term=f"{offer.term_start.isoformat()} – {offer.term_end.isoformat()}",
        currency=offer.currency,
        formula=ws.choice.label,
        members=[line["code"] for line in ws.result["lines"]],
        date=today,
        result=ws.result,
        baseline=ws.baseline,
        changes=ws.changes,
        tier=ws.tier,
        fairness=ws.fairness,
        projection=ws.projection,
        rounds=ws.rounds,
        charts=[charts[k] for k in ("solo_joint", "years", "rounds") if k in charts],
        scenario=scenario.name if scenario is not None else None,
        note=scenario.note if scenario is not None else None,
    )
