"""The consortium at a glance: members, offers by status, committed spend, savings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.models import Allocation, AllocationLine
from costshare.invoices.models import Invoice
from costshare.members.models import Member
from costshare.offers.models import OFFER_STATUSES, Offer, Resource

PING = text("SELECT 1")


@dataclass
class Glance:
    members: int
    active_members: int
    offers_by_status: dict[str, int]
    open_offers: list[Offer]
    committed: dict[str, Decimal] = field(default_factory=dict)
    solo: dict[str, Decimal] = field(default_factory=dict)
    savings: dict[str, Decimal] = field(default_factory=dict)
    outstanding: dict[str, Decimal] = field(default_factory=dict)
    outstanding_count: int = 0


def glance(session: Session, year: int) -> Glance:
    """Summarise the consortium for `year` in a fixed number of queries."""
    members, active = session.execute(
        select(func.count(), func.count().filter(Member.active.is_(True))).select_from(Member)
    ).one()
    by_status = dict.fromkeys(OFFER_STATUSES, 0)
    by_status.update(
        session.execute(select(Offer.status, func.count()).group_by(Offer.status)).all()
    )
    open_offers = list(
        session.scalars(
            select(Offer)
            .where(Offer.status.in_(("draft", "negotiating")))
            .options(selectinload(Offer.resource).selectinload(Resource.vendor))
            .order_by(Offer.deadline.is_(None), Offer.deadline, Offer.id)
            .limit(10)
        )
    )
    result = Glance(members, active, by_status, open_offers)

    # Money is added in Python (Decimal), never in SQL: SQLite stores Numeric as a float.
    committed: dict[str, Decimal] = defaultdict(Decimal)
    solo: dict[str, Decimal] = defaultdict(Decimal)
    savings: dict[str, Decimal] = defaultdict(Decimal)
    rows = session.execute(
        select(Allocation.currency, AllocationLine.amount, AllocationLine.solo_price)
        .join(AllocationLine, AllocationLine.allocation_id == Allocation.id)
        .where(Allocation.status == "final", Allocation.year == year)
    )
    for currency, amount, solo_price in rows:
        committed[currency] += amount
        if solo_price is not None:
            solo[currency] += solo_price
            savings[currency] += solo_price - amount
    result.committed, result.solo, result.savings = dict(committed), dict(solo), dict(savings)

    outstanding: dict[str, Decimal] = defaultdict(Decimal)
    count = 0
    for currency, gross, paid in session.execute(
        select(Invoice.currency, Invoice.gross, Invoice.paid).where(
            Invoice.kind == "invoice", Invoice.status == "issued"
        )
    ):
        if gross > paid:
            outstanding[currency] += gross - paid
            count += 1
    result.outstanding, result.outstanding_count = dict(outstanding), count
    return result
