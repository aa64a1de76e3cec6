"""Members of the consortium and their yearly facts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from costshare.db import Base, Currency, Quantity
from costshare.models_base import TimestampMixin, currency_code, non_negative, one_of

if TYPE_CHECKING:
    from costshare.offers.models import Participation

TAX_TREATMENTS = ("standard", "exempt", "reverse_charge")


class Member(TimestampMixin, Base):
    """A member institution (a library) that joins deals and is billed."""

    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("code", name="uq_member_code"),
        currency_code("billing_currency"),
        one_of("tax_treatment", TAX_TREATMENTS),
        non_negative("tax_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short unique code used in formulas, files and invoices (e.g. "SYSU").
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    #: Group or sector (e.g. "university", "college"); groups in formulas split by it.
    sector: Mapped[str | None] = mapped_column(String(64))
    billing_address: Mapped[str | None] = mapped_column(Text)
    finance_contact_name: Mapped[str | None] = mapped_column(String(255))
    finance_contact_email: Mapped[str | None] = mapped_column(String(255))
    tax_id: Mapped[str | None] = mapped_column(String(64))
    billing_currency: Mapped[str] = mapped_column(Currency, default="EUR")
    #: How tax applies on this member's invoices: the consortium's rate, none, or reverse charge.
    tax_treatment: Mapped[str] = mapped_column(String(16), default="standard")
    #: Overrides the consortium's tax rate when set (a fraction, e.g. 0.06).
    tax_rate: Mapped[Decimal | None] = mapped_column(Quantity)
    #: COUNTER institution ids (e.g. "isni:0000000123456789") that identify this member in files.
    counter_ids: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    facts: Mapped[list[MemberFact]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberFact.year"
    )
    participations: Mapped[list[Participation]] = relationship(back_populates="member")

    def __repr__(self) -> str:
        return f"<Member {self.code}>"


class MemberFact(Base):
    """A named number for a member in a year (fte, budget, income, …)."""

    __tablename__ = "member_fact"
    __table_args__ = (
        UniqueConstraint("member_id", "year", "name", name="uq_member_fact_member_year_name"),
        # The names and years in use (fact pickers, the facts grid) without reading every row.
        Index("ix_member_fact_name_year", "name", "year"),
        non_negative("value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(Quantity)

    member: Mapped[Member] = relationship(back_populates="facts")

    def __repr__(self) -> str:
        return f"<MemberFact {self.member_id} {self.year} {self.name}={self.value}>"
