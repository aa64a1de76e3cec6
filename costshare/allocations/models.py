"""Saved formulas and allocations: frozen inputs, outputs and explanations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from costshare.db import Base, Currency, Quantity
from costshare.models_base import TimestampMixin, currency_code, non_negative, one_of

if TYPE_CHECKING:
    from costshare.auth.models import User
    from costshare.members.models import Member
    from costshare.offers.models import Offer, QuoteRound

ALLOCATION_STATUSES = ("draft", "final")


class Formula(TimestampMixin, Base):
    """A named cost-sharing configuration (the `formula` of spec/allocation.md)."""

    __tablename__ = "formula"
    __table_args__ = (UniqueConstraint("name", name="uq_formula_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    #: Where a published model comes from (consortium, document, URL).
    source: Mapped[str | None] = mapped_column(Text)
    #: The engine preset this formula was made from, if any.
    preset_key: Mapped[str | None] = mapped_column(String(64))
    #: `formula`, and optionally `derived` and `groups`, as the engine takes them.
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def __repr__(self) -> str:
        return f"<Formula {self.name}>"


class Allocation(TimestampMixin, Base):
    """One run of a formula on an offer's round for one year of its term."""

    __tablename__ = "allocation"
    __table_args__ = (
        # One working draft and one final allocation per offer and term year.
        UniqueConstraint("offer_id", "term_year", "status", name="uq_allocation_offer_year_status"),
        one_of("status", ALLOCATION_STATUSES),
        currency_code("currency"),
        CheckConstraint("term_year >= 1", "term_year_positive"),
        non_negative("price"),
        non_negative("total"),
        non_negative("subsidy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("quote_round.id"))
    #: 1 for the first year of the offer's term, 2 for the second, …
    term_year: Mapped[int]
    #: The calendar year billed (the term year's first calendar year).
    year: Mapped[int]
    formula_id: Mapped[int | None] = mapped_column(ForeignKey("formula.id", ondelete="SET NULL"))
    formula_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(8), default="draft")
    currency: Mapped[str] = mapped_column(Currency)
    #: The whole scenario given to the engine: members, attributes, prices, formula; for a
    #: formula that reads usage, also `usage` and `usage_figures`, which the engine never
    #: sees (`costshare.allocations.inputs.engine_scenario`).
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The engine's whole result (spec section 9), money as strings.
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    price: Mapped[Decimal]
    surcharge_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    subsidy: Mapped[Decimal] = mapped_column(default=Decimal(0))
    #: What the members owe together: the sum of the lines' amounts.
    total: Mapped[Decimal]
    computed_at: Mapped[dt.datetime]
    finalized_at: Mapped[dt.datetime | None]
    finalized_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    offer: Mapped[Offer] = relationship()
    round: Mapped[QuoteRound] = relationship()
    finalized_by: Mapped[User | None] = relationship()
    lines: Mapped[list[AllocationLine]] = relationship(
        back_populates="allocation", cascade="all, delete-orphan", order_by="AllocationLine.code"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_final(self) -> bool:
        return self.status == "final"

    def __repr__(self) -> str:
        return f"<Allocation {self.id} offer={self.offer_id} y{self.term_year} {self.status}>"


class AllocationLine(Base):
    """One member's amount in an allocation, with its frozen inputs and explanation."""

    __tablename__ = "allocation_line"
    __table_args__ = (
        UniqueConstraint("allocation_id", "member_id", name="uq_allocation_line_allocation_member"),
        non_negative("amount"),
        non_negative("surcharge"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocation.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    amount: Mapped[Decimal]
    raw: Mapped[Decimal]
    #: The member's part of the consortium's surcharge, inside `amount`.
    surcharge: Mapped[Decimal] = mapped_column(default=Decimal(0))
    #: Which bound held: cap, floor, max_change_up, max_change_down, or NULL.
    bound: Mapped[str | None] = mapped_column(String(16))
    solo_price: Mapped[Decimal | None]
    savings: Mapped[Decimal | None]
    savings_pct: Mapped[Decimal | None] = mapped_column(Quantity)
    #: Parts that add up to `amount` exactly (components, bound_adjustment, rounding).
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The member's attributes as given to the engine.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Fact name → the calendar year its value was taken from (the latest year ≤ the billed one).
    facts_year: Mapped[dict[str, Any] | None]

    allocation: Mapped[Allocation] = relationship(back_populates="lines")
    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<AllocationLine {self.allocation_id} {self.code}={self.amount}>"
