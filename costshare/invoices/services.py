"""Billing: runs from final allocations, issuing, payments, voiding with credit notes, email.

Services take a session and `flush()`; they never commit. An issued invoice is
permanent: its number, dates, lines, amounts and stored PDF never change (the
service refuses here, and a database trigger refuses any UPDATE that tries).
A correction is a credit note (made by `void_invoice`) plus a new invoice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import get_currency_precision
from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.utils import secure_filename

from costshare.allocations.inputs import term_label
from costshare.allocations.models import Allocation, AllocationLine
from costshare.audit.services import record, snapshot
from costshare.db import today, utcnow
from costshare.errors import ConflictError, ServiceError
from costshare.formatting import money
from costshare.invoices import explain
from costshare.invoices.documents import invoice_document
from costshare.invoices.models import (
    RUN_MODES,
    BillingRun,
    Invoice,
    InvoiceLine,
    Payment,
)
from costshare.invoices.numbering import lock_numbers, take_number
from costshare.members.models import Member
from costshare.offers.models import Offer, Resource

#: Invoice states in which the member owes money (or owed it): the allocation line is billed.
BILLED = ("issued", "paid")
PDF_TEMPLATE = "pdf/invoice.html"


@dataclass(frozen=True)
class BillingSettings:
    """The consortium's billing settings (from the app's config)."""

    seller: dict[str, Any]
    payment_terms_days: int = 30
    default_tax_rate: Decimal = Decimal(0)
    invoice_prefix: str = "CS-{year}-"
    #: Babel locale for dates written into notes ("15 Jan 2026").
    locale: str = "en_GB"

    def date(self, value: dt.date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def money(self, value: Decimal, currency: str) -> str:
        """Write an amount on its currency's grid (half to even), as every page writes it."""
        return money(half_even(value, currency), currency, self.locale)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BillingSettings:
        return cls(
            seller={
                "name": config["CONSORTIUM_NAME"],
                "address": config["CONSORTIUM_ADDRESS"].replace("\\n", "\n"),
                "tax_id": config["CONSORTIUM_TAX_ID"],
                "email": config["CONSORTIUM_EMAIL"],
                "bank_details": config["CONSORTIUM_BANK_DETAILS"],
                "logo": "logo.svg",
            },
            payment_terms_days=int(config["PAYMENT_TERMS_DAYS"]),
            default_tax_rate=Decimal(config["DEFAULT_TAX_RATE"]),
            invoice_prefix=config["INVOICE_PREFIX"],
            locale=config.get("LOCALE", "en_GB"),
        )


@dataclass(frozen=True)
class ExchangeRate:
    """How many units of `target` one unit of `source` buys, as entered by the coordinator."""

    source: str
    target: str
    rate: Decimal
    date: dt.date

    def as_json(self) -> dict[str, str]:
        return {
            "from": self.source,
            "to": self.target,
            "rate": str(self.rate),
            "date": self.date.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExchangeRate:
        return cls(
            data["from"], data["to"], Decimal(data["rate"]), dt.date.fromisoformat(data["date"])
        )


#: Exchange rates are stored with 6 decimals (Quantity) and are below this.
MAX_RATE = Decimal(1_000_000)
RATE_PLACES = Decimal("0.000001")


def currency_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def convert(amount: Decimal, rate: ExchangeRate | None, currency: str) -> Decimal:
    """Convert an amount at the entered rate, rounded half to even to the currency's unit."""
    return half_even(amount * rate.rate, currency) if rate else amount


def _amount(value: Decimal, currency: str, locale: str | None = None) -> str:
    """Write an amount for a message or the audit log as pages do (€986.64).

    On its currency's grid (half to even), in `locale`, else the app's, else en_GB.
    """
    if locale is None:
        locale = current_app.config.get("LOCALE", "en_GB") if has_app_context() else "en_GB"
    return money(half_even(value, currency), currency, locale)


def half_even(value: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half to even."""
    return value.quantize(currency_unit(currency), rounding=ROUND_HALF_EVEN)


# --- What can be billed ---------------------------------------------------------------


def final_allocations(session: Session, year: int) -> list[Allocation]:
    """Return the final allocations of `year`, with their lines, members, offers, resources."""
    return list(
        session.scalars(
            select(Allocation)
            .where(Allocation.status == "final", Allocation.year == year)
            .options(
                selectinload(Allocation.lines).selectinload(AllocationLine.member),
                selectinload(Allocation.offer)
                .selectinload(Offer.resource)
                .selectinload(Resource.vendor),
            )
            .order_by(Allocation.id)
        )
    )


def billed_lines(session: Session, line_ids: Iterable[int]) -> dict[int, str]:
    """Return {allocation line id: invoice number} for lines already on an issued invoice."""
    ids = list(line_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(InvoiceLine.allocation_line_id, Invoice.number)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.allocation_line_id.in_(ids),
            Invoice.kind == "invoice",
            Invoice.status.in_(BILLED),
        )
    )
    return {line_id: number for line_id, number in rows}


def unbilled_lines(session: Session, year: int) -> int:
    """Return how many members' shares of `year`'s final allocations no issued invoice bills."""
    ids = [
        line.id
        for allocation in final_allocations(session, year)
        for line in allocation.lines
        if line.amount != 0
    ]
    return len(ids) - len(billed_lines(session, ids))


def billable_years(session: Session) -> list[int]:
    """Return the years that have final allocations, newest first."""
    years = session.scalars(
        select(Allocation.year).where(Allocation.status == "final").distinct()
    ).all()
    return sorted(years, reverse=True)


def needed_rates(session: Session, year: int) -> list[tuple[str, str]]:
    """Return the (offer currency, billing currency) pairs a run for `year` needs a rate for."""
    pairs = set()
    for allocation in final_allocations(session, year):
        for line in allocation.lines:
            if line.member.billing_currency != allocation.currency:
                pairs.add((allocation.currency, line.member.billing_currency))
    return sorted(pairs)


# --- Drafting invoices ------------------------------------------------------------------


def buyer_of(member: Member) -> dict[str, Any]:
    return {
        "code": member.code,
        "name": member.name,
        "address": member.billing_address or "",
        "tax_id": member.tax_id or "",
        "email": member.finance_contact_email or "",
        "contact": member.finance_contact_name or "",
        "tax_treatment": member.tax_treatment,
    }


def tax_rate_for(member: Member, run_rate: Decimal) -> Decimal:
    """Return the tax rate on a member's lines: none when exempt or reverse charge."""
    if member.tax_treatment in ("exempt", "reverse_charge"):
        return Decimal(0)
    return member.tax_rate if member.tax_rate is not None else run_rate


def draft_invoice(
    run: BillingRun,
    member: Member,
    lines: list[tuple[Allocation, AllocationLine]],
    settings: BillingSettings,
    notes: str | None = None,
) -> Invoice:
    """Build (not add) a draft invoice for `member` billing the given allocation lines.

    Every allocation line gives a share line (its amount less the surcharge) and,
    when there is one, the consortium's surcharge as its own line; so the lines'
    source amounts add up to the allocation lines' amounts exactly.
    """
    source_currency = lines[0][0].currency
    currency = member.billing_currency
    rate = None
    if currency != source_currency:
        rate = _rate(run, source_currency, currency)
    tax_rate = tax_rate_for(member, run.tax_rate)
    invoice = Invoice(
        run=run,
        member=member,
        kind="invoice",
        year=run.year,
        status="draft",
        currency=currency,
        source_currency=source_currency if rate else None,
        exchange_rate=rate.rate if rate else None,
        exchange_rate_date=rate.date if rate else None,
        seller=dict(settings.seller),
        buyer=buyer_of(member),
        notes=notes,
    )
    ordered = sorted(lines, key=lambda pair: (pair[0].offer.title, pair[0].term_year))
    for allocation, line in ordered:
        offer = allocation.offer
        what = offer.title
        if offer.term_years > 1:
            what += f", year {allocation.term_year} of {offer.term_years}"
        surcharge = line.surcharge or Decimal(0)
        parts = [
            (
                "share",
                f"{what} — {offer.resource.vendor.name}: your share",
                line.amount - surcharge,
                explain.share_explanation(allocation, line),
            )
        ]
        if surcharge > 0:
            parts.append(
                (
                    "surcharge",
                    f"Consortium surcharge on {what}",
                    surcharge,
                    explain.surcharge_explanation(allocation, line),
                )
            )
        for kind, description, amount, explanation in parts:
            net = convert(amount, rate, currency)
            tax = half_even(net * tax_rate, currency)
            invoice.lines.append(
                InvoiceLine(
                    position=len(invoice.lines) + 1,
                    kind=kind,
                    allocation_line=line,
                    description=description,
                    term=term_label(offer, allocation.term_year),
                    explanation=explanation,
                    source_amount=amount,
                    net=net,
                    tax_rate=tax_rate,
                    tax=tax,
                    gross=net + tax,
                )
            )
    _total(invoice)
    return invoice


def _total(invoice: Invoice) -> None:
    invoice.net = sum((line.net for line in invoice.lines), Decimal(0))
    invoice.tax = sum((line.tax for line in invoice.lines), Decimal(0))
    invoice.gross = sum((line.gross for line in invoice.lines), Decimal(0))


def _rate(run: BillingRun, source: str, target: str) -> ExchangeRate:
    for data in run.exchange_rates or []:
        if data["from"] == source and data["to"] == target:
            return ExchangeRate.from_json(data)
    raise ServiceError(
        f"Enter the exchange rate from {source} to {target} and its date.",
        field=f"rate_{source}_{target}",
    )


def _group(
    allocations: list[Allocation], mode: str, skip: set[int]
) -> dict[tuple[Any, ...], list[tuple[Allocation, AllocationLine]]]:
    groups: dict[tuple[Any, ...], list[tuple[Allocation, AllocationLine]]] = defaultdict(list)
    for allocation in allocations:
        for line in allocation.lines:
            if line.id in skip or line.amount == 0:  # nothing to bill: no invoice of zero
                continue
            if mode == "per_member":
                key: tuple[Any, ...] = (line.member.code, allocation.currency)
            else:
                key = (line.member.code, allocation.offer.title, allocation.id)
            groups[key].append((allocation, line))
    return dict(sorted(groups.items()))


def parse_rates(rates: Iterable[dict[str, Any]]) -> list[ExchangeRate]:
    """Check the coordinator's exchange rates: positive numbers with a date."""
    result = []
    for data in rates:
        field = f"rate_{data.get('from')}_{data.get('to')}"
        try:
            rate = Decimal(str(data.get("rate")))
        except (InvalidOperation, ValueError):
            raise ServiceError("The exchange rate must be a number.", field=field) from None
        if not rate.is_finite() or rate <= 0:
            raise ServiceError("The exchange rate must be a positive number.", field=field)
        if rate >= MAX_RATE or rate != rate.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN):
            raise ServiceError(
                "Give the rate below 1,000,000 with at most 6 decimals, as the bank quotes it.",
                field=field,
            )
        date = data.get("date")
        if not isinstance(date, dt.date):
            raise ServiceError("Give the date of the exchange rate.", field=field)
        result.append(ExchangeRate(data["from"], data["to"], rate, date))
    return result


def create_run(
    session: Session,
    settings: BillingSettings,
    *,
    year: int,
    mode: str = "per_member",
    name: str | None = None,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
    tax_rate: Decimal | None = None,
    rates: Iterable[ExchangeRate] = (),
    user_id: int | None = None,
) -> BillingRun:
    """Draft a billing run: one invoice per member (or per member and resource) of `year`.

    Only allocation lines not yet on an issued invoice are drafted; nothing is
    numbered until the run is issued.
    """
    if mode not in RUN_MODES:
        raise ServiceError("Choose one invoice per member, or per member and resource.", "mode")
    if issue_date and due_date and due_date < issue_date:
        raise ServiceError("The due date cannot be before the issue date.", field="due_date")
    tax_rate = settings.default_tax_rate if tax_rate is None else tax_rate
    if tax_rate < 0 or tax_rate >= 1:
        raise ServiceError("The tax rate is a fraction between 0 and 1, e.g. 0.06.", "tax_rate")
    allocations = final_allocations(session, year)
    if not allocations:
        raise ServiceError(f"There is no final allocation for {year} to bill.", field="year")
    every_line = [line.id for a in allocations for line in a.lines]
    skip = set(billed_lines(session, every_line))
    groups = _group(allocations, mode, skip)
    if not groups:
        raise ServiceError(
            f"Every final allocation of {year} is already on an issued invoice.", field="year"
        )
    rates = list(rates)
    needed = {
        (allocation.currency, line.member.billing_currency)
        for lines in groups.values()
        for allocation, line in lines
        if line.member.billing_currency != allocation.currency
    }
    for source, target in sorted(needed - {(r.source, r.target) for r in rates}):
        raise ServiceError(
            f"Enter the exchange rate from {source} to {target} and its date.",
            field=f"rate_{source}_{target}",
        )
    run = BillingRun(
        year=year,
        name=name or f"{year} subscriptions",
        mode=mode,
        status="draft",
        issue_date=issue_date,
        due_date=due_date,
        tax_rate=tax_rate,
        exchange_rates=[r.as_json() for r in rates if (r.source, r.target) in needed],
        created_by_id=user_id,
    )
    session.add(run)
    for lines in groups.values():
        session.add(draft_invoice(run, lines[0][1].member, lines, settings))
    session.flush()
    record(
        session,
        "billing_run.create",
        run,
        f"Drafted billing run {run.name!r}: {len(groups)} invoices for {year}",
        after=snapshot(run),
        user_id=user_id,
    )
    return run


def run_reconciliation(session: Session, run: BillingRun) -> dict[str, Any]:
    """Compare, for each final allocation the run bills, what its members owe with what is invoiced.

    In the offer's currency, before conversion and tax. Invoiced counts this run's
    drafts and every issued invoice (of any run) for that allocation; voided
    invoices and their credit notes cancel out, so they do not count.
    """
    in_run = (
        select(AllocationLine.allocation_id)
        .join(InvoiceLine, InvoiceLine.allocation_line_id == AllocationLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.run_id == run.id)
    )
    allocations = session.scalars(
        select(Allocation)
        .where(Allocation.id.in_(in_run))
        .options(selectinload(Allocation.offer))
        .order_by(Allocation.id)
    ).all()
    billed: dict[int, Decimal] = defaultdict(Decimal)
    rows = session.execute(
        select(AllocationLine.allocation_id, InvoiceLine.source_amount)
        .join(InvoiceLine, InvoiceLine.allocation_line_id == AllocationLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            AllocationLine.allocation_id.in_([a.id for a in allocations]),
            Invoice.kind == "invoice",
            (Invoice.status.in_(BILLED))
            | ((Invoice.status == "draft") & (Invoice.run_id == run.id)),
        )
    )
    for allocation_id, amount in rows:
        billed[allocation_id] += amount
    result = [
        {
            "allocation_id": a.id,
            "title": a.offer.title,
            "currency": a.currency,
            "owed": a.total,
            "billed": billed[a.id],
            "ok": a.total == billed[a.id],
        }
        for a in allocations
    ]
    return {"rows": result, "ok": all(row["ok"] for row in result)}


def delete_run(session: Session, run: BillingRun, user_id: int | None = None) -> None:
    """Delete a draft run and its draft invoices (an issued one is permanent)."""
    if any(invoice.status != "draft" for invoice in run.invoices):
        raise ServiceError("This run has issued invoices; it cannot be deleted.")
    record(
        session,
        "billing_run.delete",
        run,
        f"Deleted draft billing run {run.name!r}",
        before=snapshot(run),
        user_id=user_id,
    )
    for invoice in list(run.invoices):
        session.delete(invoice)
    session.delete(run)
    session.flush()


# --- Issuing ----------------------------------------------------------------------------


def render_invoices(
    invoices: list[Invoice], progress: Callable[[int, int], None] | None = None
) -> list[bytes]:
    """Render the PDFs of `invoices` in one batch (needs an app context)."""
    from costshare.pdf import render_many

    return render_many(
        PDF_TEMPLATE, [{"doc": invoice_document(invoice)} for invoice in invoices], progress
    )


def _lock_allocations(session: Session, invoices: list[Invoice]) -> None:
    """Lock the rows of the allocations these invoices bill, in id order (PostgreSQL)."""
    line_ids = {
        line.allocation_line_id
        for invoice in invoices
        for line in invoice.lines
        if line.allocation_line_id is not None
    }
    if not line_ids:
        return
    billed = select(AllocationLine.allocation_id).where(AllocationLine.id.in_(line_ids))
    session.execute(
        select(Allocation.id)
        .where(Allocation.id.in_(billed))
        .order_by(Allocation.id)
        .with_for_update()
    ).all()


def _check_not_billed(session: Session, invoices: list[Invoice]) -> None:
    ids = {
        line.allocation_line_id
        for invoice in invoices
        if invoice.kind == "invoice"
        for line in invoice.lines
        if line.allocation_line_id is not None
    }
    already = billed_lines(session, ids)
    if already:
        numbers = ", ".join(sorted(set(already.values())))
        raise ServiceError(
            f"Some of these shares are already billed on issued invoice(s) {numbers}; "
            "void those first or delete this draft."
        )


def _issue(
    session: Session,
    settings: BillingSettings,
    invoices: list[Invoice],
    issue_date: dt.date,
    due_date: dt.date | None,
    user_id: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    for invoice in invoices:
        if invoice.status != "draft":
            raise ServiceError(f"Invoice {invoice.number} is already issued.")
        if not invoice.lines:
            raise ServiceError("An invoice without lines cannot be issued.")
    # First the lock every issue of this year takes for its number and the locks of the
    # allocations billed, then the check: a second issuer of the same shares (whatever
    # date it issues on) waits here, then sees the first one's invoices.
    lock_numbers(session, issue_date.year)
    _lock_allocations(session, invoices)
    _check_not_billed(session, invoices)
    now = utcnow()
    for invoice in invoices:
        invoice.seller = dict(settings.seller)
        if invoice.kind == "invoice":
            invoice.buyer = buyer_of(invoice.member)
        invoice.number = take_number(session, settings.invoice_prefix, issue_date.year)
        invoice.issue_date = issue_date
        invoice.due_date = due_date or issue_date + dt.timedelta(days=settings.payment_terms_days)
        invoice.status = "issued"
        invoice.issued_at = now
        invoice.issued_by_id = user_id
    for invoice, pdf in zip(invoices, render_invoices(invoices, progress), strict=True):
        invoice.pdf = pdf
        invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    session.flush()
    for invoice in invoices:
        record(
            session,
            f"{invoice.kind}.issue",
            invoice,
            f"Issued {invoice.kind.replace('_', ' ')} {invoice.number} to {invoice.member.code}: "
            f"{_amount(invoice.gross, invoice.currency, settings.locale)}",
            after=snapshot(invoice, ["number", "issue_date", "due_date", "gross", "pdf_sha256"]),
            user_id=user_id,
        )


def issue_run(
    session: Session,
    settings: BillingSettings,
    run: BillingRun,
    *,
    user_id: int | None = None,
    issue_date: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Invoice]:
    """Number, date, render and store every draft invoice of the run, in member order.

    All or nothing: the caller commits once, so a failure leaves no number taken.
    """
    drafts = sorted(
        (i for i in run.invoices if i.status == "draft"), key=lambda i: (i.member.code, i.id)
    )
    if not drafts:
        raise ServiceError("This run has no draft invoice left to issue.")
    issue_date = issue_date or run.issue_date or today()
    _issue(session, settings, drafts, issue_date, run.due_date, user_id, progress)
    run.status = "issued"
    run.issue_date = issue_date
    session.flush()
    record(
        session,
        "billing_run.issue",
        run,
        f"Issued billing run {run.name!r}: {len(drafts)} invoices",
        after={"numbers": [i.number for i in drafts]},
        user_id=user_id,
    )
    return drafts


def issue_invoice(
    session: Session,
    settings: BillingSettings,
    invoice: Invoice,
    *,
    user_id: int | None = None,
    issue_date: dt.date | None = None,
) -> Invoice:
    """Issue one draft invoice (a correction, or one invoice of a run ahead of the rest)."""
    _issue(session, settings, [invoice], issue_date or today(), None, user_id)
    return invoice


def refuse_change(invoice: Invoice) -> None:
    """Refuse any edit of an issued invoice's number, dates, lines or amounts."""
    if invoice.status != "draft":
        raise ServiceError(
            f"Invoice {invoice.number} is issued and cannot be changed. Void it (a credit note "
            "is issued) and issue a corrected invoice instead."
        )


def update_draft(
    session: Session, invoice: Invoice, *, notes: str | None, user_id: int | None = None
) -> Invoice:
    """Change what a draft may still change: its note to the member."""
    refuse_change(invoice)
    before = snapshot(invoice, ["notes"])
    invoice.notes = (notes or "").strip() or None
    session.flush()
    record(
        session,
        "invoice.update",
        invoice,
        "Changed the note of a draft invoice",
        before,
        snapshot(invoice, ["notes"]),
        user_id=user_id,
    )
    return invoice


# --- After issue: payments, void, credit notes --------------------------------------------


def lock_invoice(session: Session, invoice: Invoice) -> Invoice:
    """Lock the invoice's row until the transaction ends, and read it again.

    `SELECT … FOR UPDATE` on PostgreSQL: another transaction that locks (or
    updates) the row waits for this one to end, and then reads what it saved.
    SQLite ignores the clause; it serialises writers anyway. The object in the
    session is refreshed with the row as it is now (`populate_existing`).
    """
    return session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_payment(
    session: Session,
    invoice: Invoice,
    *,
    amount: Decimal,
    paid_on: dt.date,
    reference: str | None = None,
    user_id: int | None = None,
) -> Payment:
    """Record money received; a partial payment leaves the rest outstanding.

    The invoice's row is locked and read again first: a payment or void another
    coordinator saved since this one opened the invoice is seen, and refused with
    a `ConflictError` (409), so money is never recorded twice or on a void invoice.
    """
    seen_status, seen_paid = invoice.status, invoice.paid
    lock_invoice(session, invoice)
    if invoice.kind != "invoice" or invoice.status == "draft":
        raise ServiceError("Payments are recorded against issued invoices only.")
    if invoice.status == "void":
        if seen_status != "void":
            raise ConflictError(
                f"Invoice {invoice.number} was voided by someone else in the meantime; "
                "it cannot be paid. Nothing was recorded."
            )
        raise ServiceError(f"Invoice {invoice.number} is void; it cannot be paid.")
    if invoice.status == "paid":
        if seen_status != "paid":
            raise ConflictError(
                f"Someone else recorded a payment on {invoice.number} in the meantime; "
                "it is paid in full now. Nothing was recorded."
            )
        raise ServiceError(f"Invoice {invoice.number} is already paid in full.")
    if amount is None or not amount.is_finite() or amount <= 0:
        raise ServiceError("The amount must be more than zero.", field="amount")
    if amount > invoice.balance:
        if invoice.paid != seen_paid:
            raise ConflictError(
                f"Someone else recorded a payment on {invoice.number} in the meantime; only "
                f"{_amount(invoice.balance, invoice.currency)} is still outstanding. Nothing "
                "was recorded: check the amount and enter it again."
            )
        raise ServiceError(
            f"This is more than the balance of {_amount(invoice.balance, invoice.currency)}.",
            field="amount",
        )
    if half_even(amount, invoice.currency) != amount:
        raise ServiceError(
            f"The amount has more decimals than {invoice.currency} uses.", field="amount"
        )
    if paid_on < invoice.issue_date:
        raise ServiceError("The payment date cannot be before the issue date.", field="paid_on")
    before = snapshot(invoice, ["paid", "status"])
    payment = Payment(
        invoice=invoice,
        amount=amount,
        paid_on=paid_on,
        reference=(reference or "").strip() or None,
        recorded_by_id=user_id,
        created_at=utcnow(),
    )
    session.add(payment)
    invoice.paid = invoice.paid + amount
    if invoice.paid == invoice.gross:
        invoice.status = "paid"
    session.flush()
    record(
        session,
        "invoice.payment",
        invoice,
        f"Recorded a payment of {_amount(amount, invoice.currency)} on {invoice.number}",
        before,
        snapshot(invoice, ["paid", "status"]),
        user_id=user_id,
    )
    return payment


def void_invoice(
    session: Session,
    settings: BillingSettings,
    invoice: Invoice,
    *,
    reason: str,
    user_id: int | None = None,
    reissue: bool = False,
    issue_date: dt.date | None = None,
) -> tuple[Invoice, Invoice | None]:
    """Void an issued invoice: issue the credit note that cancels it, and optionally redraft it.

    The invoice's row is locked and read again first, so a payment recorded (or a
    void) since it was opened is seen and refused with a `ConflictError` (409).

    Returns (credit note, new draft invoice or None). The new draft bills the same
    shares with the member's current details; the coordinator checks and issues it.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the invoice is voided.", field="reason")
    seen_status, seen_paid = invoice.status, invoice.paid
    lock_invoice(session, invoice)
    if invoice.kind == "invoice" and invoice.status == "void" and seen_status != "void":
        raise ConflictError(f"Invoice {invoice.number} was voided by someone else in the meantime.")
    if invoice.kind != "invoice" or invoice.status not in ("issued", "paid"):
        raise ServiceError("Only an issued invoice can be voided.")
    if invoice.paid > 0 and seen_paid != invoice.paid:
        raise ConflictError(
            "Someone else recorded a payment of "
            f"{_amount(invoice.paid - seen_paid, invoice.currency, settings.locale)} "
            f"on {invoice.number} in the meantime; it cannot be voided."
        )
    if invoice.paid > 0:
        raise ServiceError(
            f"Payments of {_amount(invoice.paid, invoice.currency, settings.locale)} "
            f"are recorded against {invoice.number}; it cannot be voided."
        )
    lines = list(invoice.lines)  # loaded before the credit note joins the session
    before = snapshot(invoice, ["status", "void_reason"])
    invoice.status = "void"
    invoice.void_reason = reason
    invoice.voided_at = utcnow()
    credit = Invoice(
        run=invoice.run,
        member=invoice.member,
        kind="credit_note",
        credited_invoice=invoice,
        year=invoice.year,
        status="draft",
        currency=invoice.currency,
        source_currency=invoice.source_currency,
        exchange_rate=invoice.exchange_rate,
        exchange_rate_date=invoice.exchange_rate_date,
        seller=dict(invoice.seller),
        buyer=dict(invoice.buyer),
        notes=f"Cancels invoice {invoice.number} of {settings.date(invoice.issue_date)} in full. "
        f"Reason: {reason}",
    )
    for line in lines:
        credit.lines.append(
            InvoiceLine(
                position=line.position,
                kind="credit",
                allocation_line_id=line.allocation_line_id,
                description=f"Credit: {line.description}",
                term=line.term,
                source_amount=line.source_amount,
                net=line.net,
                tax_rate=line.tax_rate,
                tax=line.tax,
                gross=line.gross,
                explanation={
                    "kind": "credit",
                    "text": f"Cancels line {line.position} of invoice {invoice.number}.",
                },
            )
        )
    _total(credit)
    session.add(credit)
    session.flush()
    record(
        session,
        "invoice.void",
        invoice,
        f"Voided invoice {invoice.number}: {reason}",
        before,
        snapshot(invoice, ["status", "void_reason"]),
        user_id=user_id,
    )
    _issue(session, settings, [credit], issue_date or today(), issue_date or today(), user_id)
    replacement = None
    if reissue:
        replacement = redraft(session, settings, invoice, user_id=user_id)
    return credit, replacement


def redraft(
    session: Session, settings: BillingSettings, voided: Invoice, user_id: int | None = None
) -> Invoice:
    """Draft a corrected invoice for the shares a voided invoice billed."""
    ids = {line.allocation_line_id for line in voided.lines if line.allocation_line_id}
    lines = session.scalars(
        select(AllocationLine)
        .where(AllocationLine.id.in_(ids))
        .options(
            selectinload(AllocationLine.allocation)
            .selectinload(Allocation.offer)
            .selectinload(Offer.resource)
            .selectinload(Resource.vendor),
            selectinload(AllocationLine.member),
        )
    ).all()
    run = voided.run
    if run is None:
        raise ServiceError("This invoice belongs to no billing run; draft a new run instead.")
    if not lines:
        raise ServiceError(
            "This invoice bills no member shares that can be billed again: void it without "
            "a corrected draft, and draft a new run for what should be billed.",
            field="reissue",
        )
    invoice = draft_invoice(
        run,
        voided.member,
        [(line.allocation, line) for line in lines],
        settings,
        notes=f"Replaces invoice {voided.number}, voided: {voided.void_reason}",
    )
    invoice.replaces_invoice = voided
    session.add(invoice)
    session.flush()
    record(
        session,
        "invoice.redraft",
        invoice,
        f"Drafted a corrected invoice replacing {voided.number}",
        after=snapshot(invoice, ["member_id", "gross", "currency"]),
        user_id=user_id,
    )
    return invoice


def replacement_of(session: Session, voided: Invoice) -> Invoice | None:
    """Return the corrected invoice drafted to replace `voided` (the latest), if any."""
    return session.scalars(
        select(Invoice)
        .where(Invoice.replaces_invoice_id == voided.id, Invoice.kind == "invoice")
        .order_by(Invoice.id.desc())
        .limit(1)
    ).first()


# --- PDFs and email -----------------------------------------------------------------------


def invoice_pdf(invoice: Invoice) -> bytes:
    """Return the stored PDF of an issued invoice, or a fresh preview of a draft."""
    if invoice.status != "draft":
        if invoice.pdf is None:  # pragma: no cover - issuing always stores it
            raise ServiceError("This invoice's PDF was not stored.")
        return invoice.pdf
    return render_invoices([invoice])[0]


def pdf_filename(invoice: Invoice) -> str:
    """Name an invoice's PDF from its number and member: safe in a header, archive or folder.

    A prefix may hold "/" or quotes (INV/2027/0001): only letters, digits, "-", "_" and
    "." are kept, and none that leads up a folder (INV_2027_0001_OWN.pdf).
    """
    label = invoice.number or f"draft-{invoice.id}"
    return secure_filename(f"{label}_{invoice.member.code}.pdf") or "invoice.pdf"


def send_invoice(
    session: Session,
    settings: BillingSettings,
    invoice: Invoice,
    send: Callable[..., None],
    *,
    user_id: int | None = None,
) -> Invoice:
    """Email an issued invoice's PDF to the member's finance contact; record the send.

    `send(to=…, subject=…, body=…, attachments=[(filename, bytes, mimetype)])`
    does the SMTP work (costshare.mail.send_mail with the app's settings).
    """
    if invoice.status == "draft":
        raise ServiceError("Issue the invoice before sending it.")
    to = invoice.member.finance_contact_email
    if not to:
        raise ServiceError(
            f"{invoice.member.code} has no finance contact email; add one on the member's page."
        )
    doc = invoice_document(invoice)
    seller = doc.seller.name
    amount = settings.money(invoice.gross, invoice.currency)
    lines = [
        f"Dear {invoice.member.finance_contact_name or 'colleague'},",
        "",
        f"Please find attached {doc.title.lower()} {invoice.number} from {seller}, "
        f"issued on {settings.date(invoice.issue_date)}, for {amount}.",
    ]
    if invoice.kind == "invoice":
        lines += [
            f"It is due on {settings.date(invoice.due_date)}.",
            "",
            f"Payment details: {doc.bank_details}",
            f"Reference: {invoice.number}",
        ]
    else:
        lines.append(f"It cancels invoice {doc.credited_number}; no payment is due.")
    lines += ["", "With kind regards,", seller, doc.seller.email or ""]
    send(
        to=to,
        subject=f"{doc.title} {invoice.number} from {seller}",
        body="\n".join(lines) + "\n",
        attachments=[(pdf_filename(invoice), invoice_pdf(invoice), "application/pdf")],
    )
    invoice.emailed_at = utcnow()
    invoice.emailed_to = to
    session.flush()
    record(
        session,
        f"{invoice.kind}.email",
        invoice,
        f"Emailed {invoice.number} to {to}",
        after={"emailed_to": to},
        user_id=user_id,
    )
    return invoice
