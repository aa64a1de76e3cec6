"""Savings statements: what a member paid, what it would have paid alone, what it saved.

All figures come from FINAL allocations (what members owe for each deal, in
the offer's currency, before conversion and tax) and their solo prices. A deal
without a solo price for a member counts in what it paid, not in the savings.
Pages and PDFs get the same plain data and the same SVG chart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from costshare.allocations.models import Allocation, AllocationLine
from costshare.charts import Series, bar_chart, stacked_bars
from costshare.invoices.documents import Party
from costshare.invoices.services import BillingSettings
from costshare.members.models import Member
from costshare.offers.models import Offer, Resource

ALONE = "Alone (solo price)"
JOINT = "Through the consortium"


@dataclass
class Totals:
    paid: Decimal = Decimal(0)
    #: Solo prices, and what was paid, over the deals that have a solo price.
    solo: Decimal = Decimal(0)
    paid_with_solo: Decimal = Decimal(0)

    @property
    def saved(self) -> Decimal:
        return self.solo - self.paid_with_solo

    @property
    def saved_pct(self) -> Decimal | None:
        return (self.saved / self.solo).quantize(Decimal("0.0001")) if self.solo else None

    def add(self, paid: Decimal, solo: Decimal | None) -> None:
        self.paid += paid
        if solo is not None:
            self.solo += solo
            self.paid_with_solo += paid


@dataclass
class Deal:
    allocation_id: int
    title: str
    vendor: str
    currency: str
    formula_name: str
    paid: Decimal
    solo: Decimal | None
    surcharge: Decimal = Decimal(0)

    @property
    def saved(self) -> Decimal | None:
        return None if self.solo is None else self.solo - self.paid

    @property
    def saved_pct(self) -> Decimal | None:
        if not self.solo:
            return None
        return (self.saved / self.solo).quantize(Decimal("0.0001"))


@dataclass
class MemberStatement:
    seller: Party
    logo: str | None
    member: Party
    year: int
    deals: list[Deal]
    totals: dict[str, Totals]
    charts: list[Markup] = field(default_factory=list)
    is_credit_note: bool = False  # the letterhead macro asks


def _money_fmt(settings: BillingSettings, currency: str) -> Callable[[Decimal], str]:
    return lambda value: settings.money(Decimal(str(value)), currency)


def short_label(text: str, size: int = 16) -> str:
    """Cut a deal's title for a chart axis (the table beside it names it in full)."""
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _final_lines(session: Session, year: int, member_id: int | None = None):
    query = (
        select(AllocationLine)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(Allocation.status == "final", Allocation.year == year)
        .options(
            selectinload(AllocationLine.allocation)
            .selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor),
            selectinload(AllocationLine.member),
        )
        .order_by(AllocationLine.code, AllocationLine.allocation_id)
    )
    if member_id is not None:
        query = query.where(AllocationLine.member_id == member_id)
    return list(session.scalars(query))


def statement_years(session: Session, member_id: int | None = None) -> list[int]:
    """Return the years with final allocations (for one member, when given), newest first."""
    query = select(Allocation.year).where(Allocation.status == "final").distinct()
    if member_id is not None:
        query = query.join(AllocationLine, AllocationLine.allocation_id == Allocation.id).where(
            AllocationLine.member_id == member_id
        )
    return sorted(set(session.scalars(query)), reverse=True)


def _party(member: Member) -> Party:
    return Party(
        name=member.name,
        address_lines=[line for line in (member.billing_address or "").splitlines() if line],
        tax_id=member.tax_id,
        email=member.finance_contact_email,
        code=member.code,
    )


def seller_party(settings: BillingSettings) -> Party:
    seller = settings.seller
    return Party(
        name=seller["name"],
        address_lines=[line for line in seller["address"].splitlines() if line],
        tax_id=seller["tax_id"],
        email=seller["email"],
    )


def member_statement(
    session: Session, settings: BillingSettings, member: Member, year: int
) -> MemberStatement:
    """Return one member's savings statement for one year."""
    deals = []
    totals: dict[str, Totals] = defaultdict(Totals)
    for line in _final_lines(session, year, member.id):
        allocation = line.allocation
        deals.append(
            Deal(
                allocation_id=allocation.id,
                title=allocation.offer.title,
                vendor=allocation.offer.resource.vendor.name,
                currency=allocation.currency,
                formula_name=allocation.formula_name,
                paid=line.amount,
                solo=line.solo_price,
                surcharge=line.surcharge or Decimal(0),
            )
        )
        totals[allocation.currency].add(line.amount, line.solo_price)
    deals.sort(key=lambda d: (d.currency, d.title))
    charts = []
    for currency in sorted(totals):
        shown = [d for d in deals if d.currency == currency and d.solo is not None]
        if shown:
            charts.append(
                bar_chart(
                    [short_label(d.title) for d in shown],
                    [
                        Series(ALONE, [d.solo for d in shown]),
                        Series(JOINT, [d.paid for d in shown]),
                    ],
                    f"{member.code} {year}: alone vs through the consortium ({currency})",
                    fmt=_money_fmt(settings, currency),
                )
            )
    return MemberStatement(
        seller=seller_party(settings),
        logo=settings.seller.get("logo"),
        member=_party(member),
        year=year,
        deals=deals,
        totals=dict(sorted(totals.items())),
        charts=charts,
    )


@dataclass
class ReportRow:
    member_id: int
    code: str
    name: str
    currency: str
    deals: int
    totals: Totals


@dataclass
class ConsortiumReport:
    seller: Party
    logo: str | None
    year: int
    rows: list[ReportRow]
    totals: dict[str, Totals]
    #: Per currency: what the vendors charged, the consortium's surcharges, subsidies received.
    vendor_price: dict[str, Decimal]
    surcharges: dict[str, Decimal]
    subsidies: dict[str, Decimal]
    deals: int
    charts: list[Markup] = field(default_factory=list)
    is_credit_note: bool = False

    def cost_avoidance(self, currency: str) -> Decimal:
        """Money the members did not spend: savings against going alone, plus subsidies."""
        return self.totals[currency].saved + self.subsidies.get(currency, Decimal(0))


def consortium_report(session: Session, settings: BillingSettings, year: int) -> ConsortiumReport:
    """Return the consortium's report for a year: one row per member and currency, totals, chart."""
    rows: dict[tuple[str, str], ReportRow] = {}
    totals: dict[str, Totals] = defaultdict(Totals)
    allocations: dict[int, Allocation] = {}
    for line in _final_lines(session, year):
        allocation = line.allocation
        allocations[allocation.id] = allocation
        key = (line.member.code, allocation.currency)
        if key not in rows:
            rows[key] = ReportRow(
                line.member_id, line.member.code, line.member.name, allocation.currency, 0, Totals()
            )
        rows[key].deals += 1
        rows[key].totals.add(line.amount, line.solo_price)
        totals[allocation.currency].add(line.amount, line.solo_price)
    price: dict[str, Decimal] = defaultdict(Decimal)
    surcharges: dict[str, Decimal] = defaultdict(Decimal)
    subsidies: dict[str, Decimal] = defaultdict(Decimal)
    for allocation in allocations.values():
        price[allocation.currency] += allocation.price
        surcharges[allocation.currency] += allocation.surcharge_amount
        subsidies[allocation.currency] += allocation.subsidy
    ordered = sorted(rows.values(), key=lambda r: (r.currency, r.code))
    charts = []
    for currency in sorted(totals):
        shown = [r for r in ordered if r.currency == currency and r.totals.solo]
        if shown:
            charts.append(
                bar_chart(
                    [r.code for r in shown],
                    [
                        Series(ALONE, [r.totals.solo for r in shown]),
                        Series(JOINT, [r.totals.paid_with_solo for r in shown]),
                    ],
                    f"{year}: each member alone vs through the consortium ({currency})",
                    fmt=_money_fmt(settings, currency),
                )
            )
    return ConsortiumReport(
        seller=seller_party(settings),
        logo=settings.seller.get("logo"),
        year=year,
        rows=ordered,
        totals=dict(sorted(totals.items())),
        vendor_price=dict(price),
        surcharges=dict(surcharges),
        subsidies=dict(subsidies),
        deals=len(allocations),
        charts=charts,
    )


@dataclass
class FundedMember:
    code: str
    name: str
    paid: Decimal
    solo: Decimal | None


@dataclass
class FundedDeal:
    title: str
    vendor: str
    currency: str
    formula_name: str
    price: Decimal
    surcharge: Decimal
    subsidy: Decimal
    owed: Decimal
    members: list[FundedMember]


@dataclass
class FunderStatement:
    seller: Party
    logo: str | None
    year: int
    deals: list[FundedDeal]
    totals: dict[str, dict[str, Decimal]]
    chart: Markup | None = None
    is_credit_note: bool = False


def funder_statement(session: Session, settings: BillingSettings, year: int) -> FunderStatement:
    """Return what a subsidy paid for in a year: each subsidised deal, its price and members."""
    allocations = session.scalars(
        select(Allocation)
        .where(Allocation.status == "final", Allocation.year == year, Allocation.subsidy > 0)
        .options(
            selectinload(Allocation.lines).selectinload(AllocationLine.member),
            selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor),
        )
        .order_by(Allocation.id)
    ).all()
    deals = []
    totals: dict[str, dict[str, Decimal]] = {}
    for allocation in allocations:
        deals.append(
            FundedDeal(
                title=allocation.offer.title,
                vendor=allocation.offer.resource.vendor.name,
                currency=allocation.currency,
                formula_name=allocation.formula_name,
                price=allocation.price,
                surcharge=allocation.surcharge_amount,
                subsidy=allocation.subsidy,
                owed=allocation.total,
                members=[
                    FundedMember(line.code, line.name, line.amount, line.solo_price)
                    for line in allocation.lines
                ],
            )
        )
        sums = totals.setdefault(
            allocation.currency,
            {
                "price": Decimal(0),
                "surcharge": Decimal(0),
                "subsidy": Decimal(0),
                "owed": Decimal(0),
            },
        )
        sums["price"] += allocation.price
        sums["surcharge"] += allocation.surcharge_amount
        sums["subsidy"] += allocation.subsidy
        sums["owed"] += allocation.total
    chart = None
    if deals:
        chart = stacked_bars(
            [short_label(d.title, 20) for d in deals],
            [
                Series("Paid by the members", [d.owed for d in deals]),
                Series("Paid by the subsidy", [d.subsidy for d in deals]),
            ],
            f"{year}: who paid each subsidised deal",
        )
    return FunderStatement(
        seller=seller_party(settings),
        logo=settings.seller.get("logo"),
        year=year,
        deals=deals,
        totals=totals,
        chart=chart,
    )
