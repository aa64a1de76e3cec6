"""An issued invoice never changes (service and database refuse); void makes a credit note."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from costshare.errors import ServiceError, constraint_message, constraint_name
from costshare.invoices import services
from tests.invoices.support import ISSUE, issued_run, settings


@pytest.fixture
def issued(session, world, app):
    # Only while issuing: a request context left open would be shared with the client's.
    with app.test_request_context():
        billing = issued_run(session, world)
    return billing


def _refused(session, statement: str, **params) -> IntegrityError:
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        session.execute(text(statement), params)
    savepoint.rollback()
    return caught.value


def test_the_service_refuses_to_edit_an_issued_invoice(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    with pytest.raises(ServiceError, match="issued and cannot be changed"):
        services.update_draft(session, invoice, notes="changed")
    with pytest.raises(ServiceError, match="already issued"):
        services.issue_invoice(session, settings(), invoice)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoice SET gross = gross + 1 WHERE id = :id",
        "UPDATE invoice SET number = 'CS-2027-9999' WHERE id = :id",
        "UPDATE invoice SET issue_date = '2027-02-01' WHERE id = :id",
        "UPDATE invoice SET status = 'draft' WHERE id = :id",
        "UPDATE invoice SET pdf = NULL WHERE id = :id",
        "DELETE FROM invoice WHERE id = :id",
        "UPDATE invoice_line SET net = 1 WHERE invoice_id = :id",
        "DELETE FROM invoice_line WHERE invoice_id = :id",
    ],
)
def test_the_database_refuses_raw_sql_changes(session, world, issued, statement) -> None:
    invoice = issued.invoice_of(world.own)
    error = _refused(session, statement, id=invoice.id)
    assert constraint_name(error) == "invoice_immutable"
    assert constraint_message(error).startswith("An issued invoice cannot be changed")


def test_the_database_refuses_a_new_line_on_an_issued_invoice(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    error = _refused(
        session,
        "INSERT INTO invoice_line (invoice_id, position, kind, description, source_amount, "
        "net, tax_rate, tax, gross, explanation) "
        "VALUES (:id, 9, 'share', 'extra', 1, 1, 0, 0, 1, '{}')",
        id=invoice.id,
    )
    assert constraint_name(error) == "invoice_immutable"


def test_status_payments_and_email_fields_still_move(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    session.execute(
        text("UPDATE invoice SET paid = 10, emailed_to = 'x@example.org' WHERE id = :id"),
        {"id": invoice.id},
    )
    session.execute(text("UPDATE invoice SET status = 'paid' WHERE id = :id"), {"id": invoice.id})


def test_the_pdf_is_served_byte_identical(as_coordinator, session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    stored = invoice.pdf
    first = as_coordinator.get(f"/billing/invoices/{invoice.id}.pdf")
    second = as_coordinator.get(
        f"/api/v1/invoices/{invoice.id}.pdf",
        headers={"Authorization": f"Bearer {world.tokens['coordinator']}"},
    )
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == stored
    assert hashlib.sha256(first.data).hexdigest() == invoice.pdf_sha256
    assert first.headers["ETag"] == f'"{invoice.pdf_sha256}"'


def test_void_needs_a_reason(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    with pytest.raises(ServiceError) as caught:
        services.void_invoice(session, settings(), invoice, reason="  ")
    assert caught.value.field == "reason"
    assert invoice.status == "issued"


def test_void_issues_a_credit_note_that_refers_to_the_invoice(session, world, app, issued) -> None:
    invoice = issued.invoice_of(world.own)
    with app.test_request_context():
        credit, replacement = services.void_invoice(
            session,
            settings(),
            invoice,
            reason="Wrong address",
            issue_date=dt.date(2027, 1, 20),
            reissue=True,
        )
    assert invoice.status == "void" and invoice.void_reason == "Wrong address"
    assert credit.kind == "credit_note" and credit.credited_invoice_id == invoice.id
    assert credit.number == "CS-2027-0003"  # the next number: OTHER 0001, OWN 0002
    assert credit.status == "issued" and credit.pdf.startswith(b"%PDF")
    assert (credit.net, credit.tax, credit.gross) == (invoice.net, invoice.tax, invoice.gross)
    assert [line.kind for line in credit.lines] == ["credit"] * len(invoice.lines)
    assert "Cancels invoice CS-2027-0002" in credit.notes
    # The correction: a new draft billing the same shares, not yet numbered.
    assert replacement.status == "draft" and replacement.number is None
    assert replacement.gross == invoice.gross
    assert replacement.notes.startswith("Replaces invoice CS-2027-0002, voided: Wrong address")
    # The voided invoice no longer counts as billed: the replacement can be issued.
    with app.test_request_context():
        services.issue_invoice(session, settings(), replacement, issue_date=dt.date(2027, 1, 21))
    assert replacement.number == "CS-2027-0004"
    # The run still reconciles: the void and its credit note cancel out.
    assert services.run_reconciliation(session, issued.run)["ok"]


def test_a_paid_invoice_cannot_be_voided(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    services.record_payment(session, invoice, amount=Decimal("100.00"), paid_on=ISSUE)
    with pytest.raises(ServiceError, match=r"Payments of €100\.00 are"):
        services.void_invoice(session, settings(), invoice, reason="late")


def test_partial_payments_leave_a_balance_and_the_last_one_settles(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)  # gross 7,986.64
    services.record_payment(session, invoice, amount=Decimal("5000.00"), paid_on=ISSUE)
    assert invoice.status == "issued" and invoice.balance == Decimal("2986.64")
    with pytest.raises(ServiceError, match=r"more than the balance of €2,986\.64\."):
        services.record_payment(session, invoice, amount=Decimal("2986.65"), paid_on=ISSUE)
    with pytest.raises(ServiceError, match="more decimals"):
        services.record_payment(session, invoice, amount=Decimal("1.001"), paid_on=ISSUE)
    with pytest.raises(ServiceError, match="before the issue date"):
        services.record_payment(
            session, invoice, amount=Decimal("1.00"), paid_on=ISSUE - dt.timedelta(days=1)
        )
    services.record_payment(session, invoice, amount=Decimal("2986.64"), paid_on=ISSUE)
    assert invoice.status == "paid" and invoice.balance == 0
    with pytest.raises(ServiceError, match="already paid in full"):
        services.record_payment(session, invoice, amount=Decimal("1.00"), paid_on=ISSUE)
