"""Solo vs joint for every offer of a year: per offer, per member, consortium totals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.inputs import build_scenario, read_known, result_for_year
from costshare.allocations.models import Allocation
from costshare.engine import AllocationError, allocate
from costshare.errors import ServiceError
from costshare.members.models import Member
from costshare.negotiation.services import context, saved_choices
from costshare.offers.models import Offer, Participation, Resource

PCT = Decimal("0.0001")


def _billed_years(offer: Offer) -> list[int]:
    return [offer.term_start.year + i for i in range(offer.term_years)]


def _offers(session: Session, year: int) -> list[Offer]:
    """Return the offers (not declined) that bill `year`, with what their splits read."""
    # The term's dates narrow the offers down in SQL; `_billed_years` has the last word.
    offers = session.scalars(
        select(Offer)
        .where(
            Offer.status != "declined",
            Offer.term_start <= dt.date(year, 12, 31),
            Offer.term_end >= dt.date(year, 1, 1),
        )
        .options(
            selectinload(Offer.participations)
            .selectinload(Participation.member)
            .load_only(Member.code, Member.name, Member.sector),
            selectinload(Offer.current_round),
            selectinload(Offer.resource).selectinload(Resource.vendor),
        )
        .order_by(Offer.title, Offer.id)
    )
    return [offer for offer in offers if year in _billed_years(offer)]


def open_offers(session: Session) -> list[Offer]:
    """Return the offers still being negotiated (draft or negotiating), soonest deadline first."""
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.status.in_(("draft", "negotiating")))
            .options(selectinload(Offer.resource).selectinload(Resource.vendor))
            .order_by(Offer.deadline.is_(None), Offer.deadline, Offer.title)
        )
    )


def years(session: Session) -> list[int]:
    """Return the calendar years that some offer (not declined) bills."""
    found: set[int] = set()
    terms = session.execute(
        select(Offer.term_start, Offer.term_end).where(Offer.status != "declined").distinct()
    )
    for term_start, term_end in terms:
        found.update(_billed_years(Offer(term_start=term_start, term_end=term_end)))
    return sorted(found)


@dataclass
class OfferRow:
    """One offer's term year: the split under its default formula, or why there is none."""

    offer: Offer
    term_year: int
    formula: str
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def savings_pct(self) -> Decimal | None:
        if self.result is None:
            return None
        totals = self.result["totals"]
        if not totals["solo_price"]:
            return None
        return (totals["savings"] / totals["solo_price"]).quantize(PCT)


@dataclass
class MemberRow:
    """One member's offers of the year in one currency, added up."""

    member: Member
    currency: str
    offers: int = 0
    joint: Decimal = Decimal(0)
    solo: Decimal = Decimal(0)
    #: The joint shares of the offers that have a solo price to compare with.
    joint_compared: Decimal = Decimal(0)
    #: Offers in which this member pays more than it would alone.
    pays_more: list[str] = field(default_factory=list)
    #: Offers without a solo price for this member (left out of the saving).
    without_solo: int = 0

    @property
    def savings(self) -> Decimal:
        return self.solo - self.joint_compared

    @property
    def savings_pct(self) -> Decimal | None:
        return (self.savings / self.solo).quantize(PCT) if self.solo else None


@dataclass
class Totals:
    price: Decimal = Decimal(0)
    joint: Decimal = Decimal(0)
    solo: Decimal = Decimal(0)
    savings: Decimal = Decimal(0)

    @property
    def savings_pct(self) -> Decimal | None:
        return (self.savings / self.solo).quantize(PCT) if self.solo else None


@dataclass
class YearOverview:
    year: int
    offers: list[OfferRow]
    #: currency → members, by code.
    members: dict[str, list[MemberRow]]
    totals: dict[str, Totals]


def _allocations(session: Session, offer_ids: list[int]) -> dict[tuple[int, int], Allocation]:
    """Return each (offer, term year)'s allocation: the final one, else the draft."""
    chosen: dict[tuple[int, int], Allocation] = {}
    rows = session.scalars(select(Allocation).where(Allocation.offer_id.in_(offer_ids)))
    for allocation in rows:
        key = (allocation.offer_id, allocation.term_year)
        if key not in chosen or allocation.status == "final":
            chosen[key] = allocation
    return chosen


def year_overview(session: Session, year: int) -> YearOverview:
    """Compute every offer billing `year` (not declined) under its default formula."""
    offers = _offers(session, year)
    saved = saved_choices(session)
    allocations = _allocations(session, [o.id for o in offers])
    # Every offer's facts, solo prices and previous shares at once: queries do not grow.
    known = read_known(session, offers, year)
    rows: list[OfferRow] = []
    for offer in offers:
        term_year = year - offer.term_start.year + 1
        ctx = context(
            session,
            offer,
            saved=saved,
            allocation=allocations.get((offer.id, term_year)),
            solo=known.solo.get(offer.current_round_id, {}),
        )
        choice = ctx.choice(None)
        row = OfferRow(offer, term_year, choice.label)
        if not ctx.joined:
            row.error = "No member has joined yet."
        else:
            try:
                source = build_scenario(
                    session,
                    offer,
                    choice.definition,
                    term_year=term_year,
                    members=ctx.joined,
                    known=known,
                )
                row.result = result_for_year(allocate(source.scenario), term_year)
            except (ServiceError, AllocationError) as error:
                row.error = error.message
        rows.append(row)
    return _add_up(year, rows)


def _add_up(year: int, rows: list[OfferRow]) -> YearOverview:
    members: dict[tuple[str, str], MemberRow] = {}
    totals: dict[str, Totals] = defaultdict(Totals)
    for row in rows:
        if row.result is None:
            continue
        currency = row.offer.currency
        by_code = {p.member.code: p.member for p in row.offer.participations}
        total = totals[currency]
        total.price += row.result["price"]
        total.joint += row.result["total"]
        for line in row.result["lines"]:
            key = (currency, line["code"])
            if key not in members:
                members[key] = MemberRow(by_code[line["code"]], currency)
            member = members[key]
            member.offers += 1
            member.joint += line["amount"]
            if line["solo_price"] is None:
                member.without_solo += 1
                continue
            member.solo += line["solo_price"]
            member.joint_compared += line["amount"]
            total.solo += line["solo_price"]
            total.savings += line["savings"]
            if line["pays_more_than_alone"]:
                member.pays_more.append(row.offer.title)
    grouped: dict[str, list[MemberRow]] = defaultdict(list)
    for (currency, _), member in sorted(members.items()):
        grouped[currency].append(member)
    return YearOverview(year, rows, dict(grouped), dict(totals))
