"""Read-only queries of the billing pages, the portal and the exports (fixed query counts)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from costshare.invoices.models import INVOICE_KINDS, INVOICE_STATUSES, BillingRun, Invoice, Payment
from costshare.members.models import Member
from costshare.urls import bounded_id

#: Sort keys of the invoice list and the columns they order by.
SORTS = {
    "number": Invoice.number,
    "member": Member.code,
    "issued": Invoice.issue_date,
    "due": Invoice.due_date,
    "status": Invoice.status,
}


@dataclass
class InvoiceFilter:
    """What the invoice list shows: a year, a status, a kind, a member, a search."""

    year: int | None = None
    status: str | None = None
    kind: str | None = None
    member_id: int | None = None
    run_id: int | None = None
    search: str = ""
    overdue: bool = False
    sort: str = "-number"

    @classmethod
    def from_args(cls, args: Any) -> InvoiceFilter:
        status = args.get("status") or None
        kind = args.get("kind") or None
        return cls(
            year=bounded_id(args.get("year", type=int), 9999),
            status=status if status in INVOICE_STATUSES else None,
            kind=kind if kind in INVOICE_KINDS else None,
            member_id=bounded_id(args.get("member", type=int)),
            run_id=bounded_id(args.get("run", type=int)),
            search=(args.get("q") or "").strip()[:100],
            overdue=args.get("overdue") == "1",
            sort=args.get("sort") or "-number",
        )


def invoice_query(filters: InvoiceFilter, member_scope: int | None, today: dt.date) -> Select:
    """Select invoices (with member and run loaded) for a list; drafts hidden from members."""
    query = (
        select(Invoice)
        .join(Member, Member.id == Invoice.member_id)
        .options(selectinload(Invoice.member), selectinload(Invoice.run))
    )
    if member_scope is not None:
        query = query.where(Invoice.member_id == member_scope, Invoice.status != "draft")
    if filters.year:
        query = query.where(Invoice.year == filters.year)
    if filters.status:
        query = query.where(Invoice.status == filters.status)
    if filters.kind:
        query = query.where(Invoice.kind == filters.kind)
    if filters.member_id:
        query = query.where(Invoice.member_id == filters.member_id)
    if filters.run_id:
        query = query.where(Invoice.run_id == filters.run_id)
    if filters.overdue:
        query = query.where(
            Invoice.kind == "invoice", Invoice.status == "issued", Invoice.due_date < today
        )
    if filters.search:
        like = f"%{filters.search.lower()}%"
        query = query.where(
            or_(
                func.lower(Invoice.number).like(like),
                func.lower(Member.code).like(like),
                func.lower(Member.name).like(like),
            )
        )
    key = filters.sort.lstrip("-")
    column = SORTS.get(key, Invoice.number)
    order = column.desc() if filters.sort.startswith("-") else column.asc()
    # Drafts (no number) after the numbered ones, then newest first.
    return query.order_by(Invoice.number.is_(None), order, Invoice.id.desc())


@dataclass
class Outstanding:
    """Money still owed on issued invoices, per currency, and how much of it is overdue."""

    owed: dict[str, Decimal] = field(default_factory=dict)
    overdue: dict[str, Decimal] = field(default_factory=dict)
    count: int = 0
    overdue_count: int = 0


def outstanding(session: Session, today: dt.date, member_id: int | None = None) -> Outstanding:
    """Sum balances in Python (Decimal): SQLite keeps Numeric as a float."""
    query = select(Invoice.currency, Invoice.gross, Invoice.paid, Invoice.due_date).where(
        Invoice.kind == "invoice", Invoice.status == "issued"
    )
    if member_id is not None:
        query = query.where(Invoice.member_id == member_id)
    owed: dict[str, Decimal] = defaultdict(Decimal)
    late: dict[str, Decimal] = defaultdict(Decimal)
    result = Outstanding()
    for currency, gross, paid, due in session.execute(query):
        balance = gross - paid
        if balance <= 0:
            continue
        owed[currency] += balance
        result.count += 1
        if due is not None and due < today:
            late[currency] += balance
            result.overdue_count += 1
    result.owed, result.overdue = dict(owed), dict(late)
    return result


@dataclass
class RunSummary:
    run: BillingRun
    invoices: int = 0
    drafts: int = 0
    gross: dict[str, Decimal] = field(default_factory=dict)


def run_summaries(session: Session, limit: int = 20) -> list[RunSummary]:
    """Return the latest runs with their invoice counts and gross totals (two queries)."""
    runs = list(session.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(limit)))
    summaries = {run.id: RunSummary(run) for run in runs}
    if not runs:
        return []
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = session.execute(
        select(Invoice.run_id, Invoice.status, Invoice.currency, Invoice.gross).where(
            Invoice.run_id.in_(summaries), Invoice.kind == "invoice"
        )
    )
    for run_id, status, currency, gross in rows:
        summary = summaries[run_id]
        summary.invoices += 1
        if status == "draft":
            summary.drafts += 1
        if status != "void":
            totals[run_id][currency] += gross
    for run_id, by_currency in totals.items():
        summaries[run_id].gross = dict(sorted(by_currency.items()))
    return list(summaries.values())


def load_invoice(session: Session, invoice_id: int) -> Invoice | None:
    """Return an invoice with its lines, payments, member, run and credited invoice."""
    return session.get(
        Invoice,
        invoice_id,
        options=[
            selectinload(Invoice.lines),
            selectinload(Invoice.payments),
            selectinload(Invoice.member),
            selectinload(Invoice.run),
            selectinload(Invoice.credited_invoice),
        ],
    )


def visible_invoice(session: Session, invoice_id: int, scope: int | None) -> Invoice | None:
    """Return the invoice if the user may see it: a member user sees its own, issued ones only.

    None means "answer 404", exactly as for an invoice that does not exist.
    """
    invoice = load_invoice(session, invoice_id)
    if invoice is None:
        return None
    if scope is not None and (invoice.member_id != scope or invoice.status == "draft"):
        return None
    return invoice


def credit_notes_of(session: Session, invoice_ids: list[int]) -> dict[int, Invoice]:
    """Return {credited invoice id: its credit note} for the given invoices."""
    if not invoice_ids:
        return {}
    notes = session.scalars(
        select(Invoice).where(
            Invoice.kind == "credit_note", Invoice.credited_invoice_id.in_(invoice_ids)
        )
    )
    return {note.credited_invoice_id: note for note in notes}


def payments_query(filters: InvoiceFilter) -> Select:
    query = (
        select(Payment)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .options(selectinload(Payment.invoice).selectinload(Invoice.member))
        .order_by(Payment.paid_on, Payment.id)
    )
    if filters.year:
        query = query.where(Invoice.year == filters.year)
    if filters.member_id:
        query = query.where(Invoice.member_id == filters.member_id)
    if filters.run_id:
        query = query.where(Invoice.run_id == filters.run_id)
    return query


def member_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (member_id, code)
        for member_id, code in session.execute(select(Member.id, Member.code).order_by(Member.code))
    ]


def invoice_years(session: Session) -> list[int]:
    return sorted(set(session.scalars(select(Invoice.year).distinct())), reverse=True)
