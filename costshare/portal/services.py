"""What a member's own page shows: invoices, shares with explanations, savings, usage."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.models import Allocation, AllocationLine
from costshare.invoices import explain
from costshare.invoices.models import Invoice
from costshare.offers.models import Offer, Resource
from costshare.statements.services import Totals


@dataclass
class Share:
    """The member's line of one final allocation, with its explanation."""

    allocation_id: int
    year: int
    title: str
    vendor: str
    resource_id: int
    currency: str
    amount: Decimal
    explanation: dict[str, Any]


def invoices_of(session: Session, member_id: int) -> list[Invoice]:
    """Return the member's issued invoices and credit notes, newest first (never drafts)."""
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.member_id == member_id, Invoice.status != "draft")
            .options(selectinload(Invoice.credited_invoice))
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        )
    )


def shares_of(session: Session, member_id: int) -> list[Share]:
    """Return the member's lines of every final allocation, newest year first."""
    lines = session.scalars(
        select(AllocationLine)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(AllocationLine.member_id == member_id, Allocation.status == "final")
        .options(
            selectinload(AllocationLine.allocation)
            .selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor)
        )
        .order_by(Allocation.year.desc(), Allocation.id)
    )
    return [
        Share(
            allocation_id=line.allocation_id,
            year=line.allocation.year,
            title=line.allocation.offer.title,
            vendor=line.allocation.offer.resource.vendor.name,
            resource_id=line.allocation.offer.resource_id,
            currency=line.allocation.currency,
            amount=line.amount,
            explanation=explain.share_explanation(line.allocation, line),
        )
        for line in lines
    ]


def savings_by_year(shares: list[Share]) -> dict[int, dict[str, Totals]]:
    """Return {year: {currency: paid, solo, saved}} from the member's shares."""
    years: dict[int, dict[str, Totals]] = defaultdict(lambda: defaultdict(Totals))
    for share in shares:
        solo = share.explanation.get("solo_price")
        years[share.year][share.currency].add(
            share.amount, Decimal(solo) if solo is not None else None
        )
    return {year: dict(by_currency) for year, by_currency in sorted(years.items(), reverse=True)}


def balance_of(invoices: list[Invoice], today: dt.date) -> dict[str, dict[str, Decimal]]:
    """Return {currency: {"open": …, "overdue": …}} of the member's issued invoices."""
    result: dict[str, dict[str, Decimal]] = {}
    for invoice in invoices:
        if invoice.kind != "invoice" or invoice.status != "issued":
            continue
        sums = result.setdefault(invoice.currency, {"open": Decimal(0), "overdue": Decimal(0)})
        sums["open"] += invoice.balance
        if invoice.due_date and invoice.due_date < today:
            sums["overdue"] += invoice.balance
    return result
