"""Access entries of billing, the member portal and statements, and the other member's invoice.

Every object named here belongs to the *other* member (`world.other`), so a
member user of `world.own` must get 404 for each, pages and API alike.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.access_registry import Entry

YEAR = 2027


def build(session: Any, world: Any) -> None:
    """An issued invoice of the other member (stored as the database holds one), and a run."""
    from costshare.invoices.models import BillingRun, Invoice, InvoiceLine

    run = BillingRun(year=YEAR, name="Access test run", mode="per_member", status="draft")
    invoice = Invoice(
        run=run,
        member=world.other,
        kind="invoice",
        year=YEAR,
        status="draft",
        currency="EUR",
        net=Decimal("100.00"),
        gross=Decimal("100.00"),
        seller={"name": "Consortium"},
        buyer={"name": world.other.name, "code": world.other.code},
    )
    invoice.lines.append(
        InvoiceLine(
            position=1,
            description="Other's share",
            source_amount=Decimal("100.00"),
            net=Decimal("100.00"),
            gross=Decimal("100.00"),
        )
    )
    session.add_all([run, invoice])
    session.flush()
    # Lines are added while a draft; then it is issued (the database refuses the other order).
    invoice.status = "issued"
    invoice.number = "ACCESS-0001"
    invoice.issue_date = dt.date(YEAR, 1, 15)
    invoice.due_date = dt.date(YEAR, 2, 14)
    invoice.pdf = b"%PDF-1.4 other member's invoice"
    session.flush()
    world.objects["other_invoice_id"] = invoice.id
    world.objects["run_id"] = run.id


def _invoice(w: Any) -> dict[str, Any]:
    return {"invoice_id": w.objects["other_invoice_id"]}


def _run(w: Any) -> dict[str, Any]:
    return {"run_id": w.objects["run_id"]}


def _other_statement(w: Any) -> dict[str, Any]:
    return {"year": YEAR, "member_id": w.other.id}


ENTRIES = {
    "invoices.index": Entry(),
    "invoices.new_run": Entry(
        data=lambda w: {"year": YEAR, "mode": "per_member", "tax_percent": "6"}
    ),
    "invoices.run": Entry(_run),
    "invoices.issue_run": Entry(_run),
    "invoices.delete_run": Entry(_run),
    "invoices.email_run": Entry(_run),
    "invoices.run_zip": Entry(_run),
    "invoices.progress": Entry(lambda w: {**_run(w), "action": "issue"}),
    "invoices.detail": Entry(_invoice),
    "invoices.pdf": Entry(_invoice),
    "invoices.issue": Entry(_invoice),
    "invoices.edit_notes": Entry(_invoice, data=lambda w: {"notes": "x"}),
    "invoices.record_payment": Entry(
        _invoice, data=lambda w: {"amount": "10.00", "paid_on": "2027-02-01"}
    ),
    "invoices.void": Entry(_invoice, data=lambda w: {"reason": "test", "reissue": "y"}),
    "invoices.email": Entry(_invoice),
    "invoices.export_invoices": Entry(lambda w: {"fmt": "csv"}),
    "invoices.export_payments": Entry(lambda w: {"fmt": "csv"}),
    "portal.index": Entry(member="allowed"),
    "portal.member": Entry(lambda w: {"member_id": w.other.id}),
    "statements.index": Entry(),
    "statements.consortium_pdf": Entry(lambda w: {"year": YEAR}),
    "statements.consortium_xlsx": Entry(lambda w: {"year": YEAR}),
    "statements.member": Entry(_other_statement),
    "statements.member_pdf": Entry(_other_statement),
    "statements.funder": Entry(lambda w: {"year": YEAR}),
    "statements.funder_pdf": Entry(lambda w: {"year": YEAR}),
    "api.invoices": Entry(member="allowed"),
    "api.invoice": Entry(_invoice),
    "api.invoice_pdf": Entry(_invoice),
    "api.billing_runs": Entry(),
}
