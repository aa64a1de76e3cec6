"""Demo data for the invoices feature (run by costshare.demo.seed_demo).

An issued 2026 billing run made from whatever final 2026 allocations exist (the
allocations step finalizes the demo's running deals): one invoice per member,
6 % tax (members exempt or under reverse charge pay none), rates entered for
the members billed in CNY and HKD. Then SYSU pays in full, GZCC pays part, and
SZU's invoice is voided (its credit note issued) and replaced by a corrected one.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from flask import current_app
from sqlalchemy import select

from costshare.auth.models import User
from costshare.demo import Demo
from costshare.invoices.services import (
    BillingSettings,
    ExchangeRate,
    create_run,
    final_allocations,
    issue_invoice,
    issue_run,
    record_payment,
    void_invoice,
)

YEAR = 2026
ISSUE_DATE = dt.date(2026, 1, 15)
RATE_DATE = dt.date(2026, 1, 12)
RATES = [("EUR", "CNY", "7.8421"), ("EUR", "HKD", "8.4563"), ("EUR", "USD", "1.0412")]
TAX_RATE = Decimal("0.06")


def seed(demo: Demo) -> None:
    """Add this feature's part of the demo consortium."""
    session = demo.session
    if not final_allocations(session, YEAR):
        demo.notes.append(f"no billing run (no final {YEAR} allocation to bill)")
        return
    coordinator = session.scalar(select(User).where(User.role == "coordinator").order_by(User.id))
    user_id = coordinator.id if coordinator else None
    settings = BillingSettings.from_config(current_app.config)
    run = create_run(
        session,
        settings,
        year=YEAR,
        name=f"{YEAR} subscriptions",
        issue_date=ISSUE_DATE,
        tax_rate=TAX_RATE,
        rates=[ExchangeRate(s, t, Decimal(r), RATE_DATE) for s, t, r in RATES],
        user_id=user_id,
    )
    issued = issue_run(session, settings, run, user_id=user_id, issue_date=ISSUE_DATE)
    by_code = {invoice.member.code: invoice for invoice in issued}
    notes = [f"billing run {run.name!r}: {len(issued)} invoices issued"]

    if "SYSU" in by_code:
        invoice = by_code["SYSU"]
        record_payment(
            session,
            invoice,
            amount=invoice.gross,
            paid_on=dt.date(2026, 2, 10),
            reference="SYSU-AP-2026-0113",
            user_id=user_id,
        )
        notes.append(f"{invoice.number} paid")
    if "GZCC" in by_code:
        invoice = by_code["GZCC"]
        part = (invoice.gross * Decimal("0.4")).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        record_payment(
            session,
            invoice,
            amount=part,
            paid_on=dt.date(2026, 2, 24),
            reference="GZCC transfer 0224",
            user_id=user_id,
        )
        notes.append(f"{invoice.number} partly paid")
    if "SZU" in by_code:
        invoice = by_code["SZU"]
        credit, replacement = void_invoice(
            session,
            settings,
            invoice,
            reason="Billing address changed: invoices go to the new finance building.",
            user_id=user_id,
            reissue=True,
            issue_date=dt.date(2026, 1, 28),
        )
        member = invoice.member
        member.billing_address = (
            "Finance Building, 3688 Nanhai Avenue\nNanshan District, Shenzhen 518060\nChina"
        )
        issue_invoice(
            session, settings, replacement, user_id=user_id, issue_date=dt.date(2026, 1, 28)
        )
        notes.append(f"{invoice.number} voided by credit note {credit.number}")
    session.flush()
    demo.notes.append("; ".join(notes))
