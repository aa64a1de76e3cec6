"""Billing runs, invoices and credit notes, their lines, payments and number sequences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from costshare.db import Base, Currency, Quantity
from costshare.models_base import TimestampMixin, currency_code, non_negative, one_of

if TYPE_CHECKING:
    from costshare.allocations.models import AllocationLine
    from costshare.auth.models import User
    from costshare.members.models import Member

RUN_MODES = ("per_member", "per_member_resource")
RUN_STATUSES = ("draft", "issued")
INVOICE_KINDS = ("invoice", "credit_note")
INVOICE_STATUSES = ("draft", "issued", "paid", "void")
LINE_KINDS = ("share", "surcharge", "credit")


class BillingRun(TimestampMixin, Base):
    """A coordinator's run that turns one year's final allocations into invoices."""

    __tablename__ = "billing_run"
    __table_args__ = (
        one_of("mode", RUN_MODES),
        one_of("status", RUN_STATUSES),
        non_negative("tax_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    #: One invoice per member, or one per member and resource.
    mode: Mapped[str] = mapped_column(String(24), default="per_member")
    status: Mapped[str] = mapped_column(String(8), default="draft")
    issue_date: Mapped[dt.date | None]
    due_date: Mapped[dt.date | None]
    #: Exchange rates the coordinator entered: [{"from", "to", "rate", "date"}].
    exchange_rates: Mapped[list[Any]] = mapped_column(default=list)
    #: The consortium's tax rate for this run's lines (a fraction); members may override it.
    tax_rate: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )

    created_by: Mapped[User | None] = relationship()
    invoices: Mapped[list[Invoice]] = relationship(back_populates="run", order_by="Invoice.id")

    def __repr__(self) -> str:
        return f"<BillingRun {self.id} {self.year}>"


class InvoiceSequence(Base):
    """The last number used for invoices of one year: numbers are gapless per year."""

    __tablename__ = "invoice_sequence"
    __table_args__ = (UniqueConstraint("year", name="uq_invoice_sequence_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<InvoiceSequence {self.year}:{self.last_number}>"


class Invoice(TimestampMixin, Base):
    """An invoice (or credit note) to one member; permanent once issued.

    Once issued, its number, dates, parties, amounts, lines and stored PDF never
    change: the services refuse, and database triggers (migration "Freeze issued
    invoices") reject such an UPDATE or DELETE on SQLite and PostgreSQL. Only
    `status`, `paid`, the void and email fields move.
    """

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("number", name="uq_invoice_number"),
        one_of("kind", INVOICE_KINDS),
        one_of("status", INVOICE_STATUSES),
        currency_code("currency"),
        non_negative("net"),
        non_negative("tax"),
        non_negative("gross"),
        non_negative("paid"),
        CheckConstraint("exchange_rate IS NULL OR exchange_rate > 0", "exchange_rate_positive"),
        CheckConstraint(
            "kind = 'invoice' OR credited_invoice_id IS NOT NULL", "credit_note_refers"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_run.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice")
    #: For a credit note: the invoice it cancels.
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    #: For a corrected invoice: the voided invoice it replaces (set when it is drafted).
    #: The default NO ACTION refuses to delete a replaced invoice, as RESTRICT would; SQLite
    #: cannot record RESTRICT on a column added in place (see the migration).
    replaces_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id", name="fk_invoice_replaces_invoice_id_invoice"), index=True
    )
    #: Given when issued (drafts have none): prefix + year + gapless sequence.
    number: Mapped[str | None] = mapped_column(String(32))
    #: The year billed (the run's year); the number counts in the issue date's year.
    year: Mapped[int]
    status: Mapped[str] = mapped_column(String(8), default="draft")
    issue_date: Mapped[dt.date | None]
    due_date: Mapped[dt.date | None]
    currency: Mapped[str] = mapped_column(Currency)
    #: The offers' currency when the member is billed in another one.
    source_currency: Mapped[str | None] = mapped_column(Currency)
    exchange_rate: Mapped[Decimal | None] = mapped_column(Quantity)
    exchange_rate_date: Mapped[dt.date | None]
    net: Mapped[Decimal] = mapped_column(default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(default=Decimal(0))
    gross: Mapped[Decimal] = mapped_column(default=Decimal(0))
    #: Sum of payments recorded, kept beside them so lists need no aggregate query.
    paid: Mapped[Decimal] = mapped_column(default=Decimal(0))
    #: Seller and buyer as printed: name, address, tax id (frozen when issued).
    seller: Mapped[dict[str, Any]] = mapped_column(default=dict)
    buyer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]
    emailed_to: Mapped[str | None] = mapped_column(String(255))

    run: Mapped[BillingRun | None] = relationship(back_populates="invoices")
    member: Mapped[Member] = relationship()
    credited_invoice: Mapped[Invoice | None] = relationship(
        remote_side=[id], foreign_keys=[credited_invoice_id]
    )
    replaces_invoice: Mapped[Invoice | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_invoice_id]
    )
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.paid_on"
    )

    @property
    def balance(self) -> Decimal:
        """Return what is still to be paid (nothing for drafts, voided invoices, credit notes)."""
        if self.kind != "invoice" or self.status not in ("issued", "paid"):
            return Decimal(0)
        return self.gross - self.paid

    def __repr__(self) -> str:
        return f"<Invoice {self.number or self.id} {self.status}>"


class InvoiceLine(Base):
    """One billed line: a member's share of a resource, or the consortium's surcharge."""

    __tablename__ = "invoice_line"
    __table_args__ = (
        one_of("kind", LINE_KINDS),
        non_negative("source_amount"),
        non_negative("net"),
        non_negative("tax_rate"),
        non_negative("tax"),
        non_negative("gross"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoice.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), default="share")
    allocation_line_id: Mapped[int | None] = mapped_column(ForeignKey("allocation_line.id"))
    description: Mapped[str] = mapped_column(Text)
    #: The term the line covers, as printed ("2027-01-01 – 2027-12-31").
    term: Mapped[str | None] = mapped_column(String(64))
    #: The amount in the offer's currency, before conversion and tax.
    source_amount: Mapped[Decimal]
    net: Mapped[Decimal]
    tax_rate: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(default=Decimal(0))
    gross: Mapped[Decimal]
    #: Formula, components, bound that held, solo price and saving, as printed under the line.
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    allocation_line: Mapped[AllocationLine | None] = relationship()

    def __repr__(self) -> str:
        return f"<InvoiceLine {self.invoice_id}#{self.position} {self.net}>"


class Payment(Base):
    """Money received against an invoice (partial payments allowed)."""

    __tablename__ = "payment"
    __table_args__ = (CheckConstraint("amount > 0", "amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    paid_on: Mapped[dt.date]
    amount: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(255))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]

    invoice: Mapped[Invoice] = relationship(back_populates="payments")

    def __repr__(self) -> str:
        return f"<Payment {self.invoice_id} {self.amount}>"
