"""Vendors, resources, offers with their quote rounds, participation and scenarios."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from costshare.db import Base, Currency
from costshare.models_base import TimestampMixin, currency_code, non_negative, one_of

if TYPE_CHECKING:
    from costshare.auth.models import User
    from costshare.members.models import Member

RESOURCE_KINDS = ("database", "journals", "ebooks", "platform", "other")
OFFER_STATUSES = ("draft", "negotiating", "accepted", "declined")
PARTICIPATION_STATUSES = ("invited", "joined", "declined")
SOLO_PRICE_SOURCES = ("typed", "imported", "computed")


class Vendor(TimestampMixin, Base):
    """A publisher or aggregator that makes offers."""

    __tablename__ = "vendor"
    __table_args__ = (UniqueConstraint("name", name="uq_vendor_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(255))
    contact_name: Mapped[str | None] = mapped_column(String(255))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)

    resources: Mapped[list[Resource]] = relationship(
        back_populates="vendor", order_by="Resource.name"
    )

    def __repr__(self) -> str:
        return f"<Vendor {self.name}>"


class Resource(TimestampMixin, Base):
    """A product a vendor sells: a database, a journal package, an e-book collection."""

    __tablename__ = "resource"
    __table_args__ = (
        UniqueConstraint("vendor_id", "name", name="uq_resource_vendor_name"),
        one_of("kind", RESOURCE_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default="database")
    #: COUNTER platform name as it appears in usage reports (matched case-insensitively).
    counter_platform: Mapped[str | None] = mapped_column(String(255))
    #: COUNTER database name (DR reports), when usage is matched by database.
    counter_database: Mapped[str | None] = mapped_column(String(255))
    #: Title identifiers (ISSN, ISBN, DOI, proprietary ids) that belong to this resource.
    counter_title_ids: Mapped[list[Any]] = mapped_column(default=list)

    vendor: Mapped[Vendor] = relationship(back_populates="resources")
    offers: Mapped[list[Offer]] = relationship(back_populates="resource")

    def __repr__(self) -> str:
        return f"<Resource {self.name}>"


class Offer(TimestampMixin, Base):
    """A vendor's offer for a resource over a term, negotiated in quote rounds."""

    __tablename__ = "offer"
    __table_args__ = (
        currency_code("currency"),
        one_of("status", OFFER_STATUSES),
        CheckConstraint("term_end > term_start", "term_ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id"))
    title: Mapped[str] = mapped_column(String(255))
    term_start: Mapped[dt.date]
    #: Last day of the term (inclusive).
    term_end: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(Currency)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: When the consortium must answer the vendor.
    deadline: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    current_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("quote_round.id", use_alter=True, ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    resource: Mapped[Resource] = relationship(back_populates="offers")
    rounds: Mapped[list[QuoteRound]] = relationship(
        back_populates="offer",
        foreign_keys="QuoteRound.offer_id",
        order_by="QuoteRound.number",
        cascade="all, delete-orphan",
    )
    current_round: Mapped[QuoteRound | None] = relationship(
        foreign_keys=[current_round_id], post_update=True
    )
    participations: Mapped[list[Participation]] = relationship(
        back_populates="offer", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def term_years(self) -> int:
        """Return how many billing years the term spans (at least one)."""
        months = (self.term_end.year - self.term_start.year) * 12 + (
            self.term_end.month - self.term_start.month
        )
        return max(1, (months + 1 + 11) // 12)

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title}>"


class QuoteRound(TimestampMixin, Base):
    """One round of a vendor's quote: the pricing and each member's solo price."""

    __tablename__ = "quote_round"
    __table_args__ = (UniqueConstraint("offer_id", "number", name="uq_quote_round_offer_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    number: Mapped[int]
    label: Mapped[str | None] = mapped_column(String(255))
    received_on: Mapped[dt.date | None]
    #: The engine's price keys for this round: `total` or `pricing`, and optionally
    #: `price_list`, `term`, `surcharge`, `subsidy` (spec/allocation.md), money as strings.
    pricing: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    offer: Mapped[Offer] = relationship(back_populates="rounds", foreign_keys=[offer_id])
    solo_prices: Mapped[list[SoloPrice]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<QuoteRound {self.offer_id}#{self.number}>"


class SoloPrice(Base):
    """What one member would pay the vendor alone, in one quote round."""

    __tablename__ = "solo_price"
    __table_args__ = (
        UniqueConstraint("round_id", "member_id", name="uq_solo_price_round_member"),
        non_negative("amount"),
        one_of("source", SOLO_PRICE_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("quote_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    amount: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(16), default="typed")
    #: True when a coordinator typed over a price the price list computed.
    overridden: Mapped[bool] = mapped_column(default=False)

    round: Mapped[QuoteRound] = relationship(back_populates="solo_prices")
    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<SoloPrice {self.round_id}/{self.member_id}={self.amount}>"


class Participation(TimestampMixin, Base):
    """Whether a member was invited to, joined or declined an offer."""

    __tablename__ = "participation"
    __table_args__ = (
        UniqueConstraint("offer_id", "member_id", name="uq_participation_offer_member"),
        one_of("status", PARTICIPATION_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(16), default="invited")
    invited_on: Mapped[dt.date | None]
    #: The day the member joined or declined.
    decided_on: Mapped[dt.date | None]

    offer: Mapped[Offer] = relationship(back_populates="participations")
    member: Mapped[Member] = relationship(back_populates="participations")

    def __repr__(self) -> str:
        return f"<Participation {self.offer_id}/{self.member_id} {self.status}>"


class Scenario(TimestampMixin, Base):
    """A negotiator's saved what-if on an offer; it never changes the offer."""

    __tablename__ = "scenario"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    #: Members in/out, formula, pricing changes — whatever the what-if page needs to reopen it.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )

    offer: Mapped[Offer] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Scenario {self.id} {self.name}>"
