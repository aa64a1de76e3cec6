"""The Billing screen: draft a run, issue it, record payments, void, export — as a coordinator."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from costshare.audit.models import AuditEvent
from costshare.db import get_engine
from costshare.invoices.models import BillingRun, Invoice, InvoiceLine
from tests.factories import create_member
from tests.invoices.support import draft_run, final_allocations, issued_run


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        billing = issued_run(session, world)
    return billing


def test_a_coordinator_drafts_a_run_with_the_rate_asked_beside_its_field(
    as_coordinator, session, world
) -> None:
    final_allocations(session, world)
    page = as_coordinator.get("/billing/runs/new?year=2027").get_data(as_text=True)
    assert "1 EUR = … CNY" in page and 'name="rate_EUR_CNY_date"' in page
    # Without the rate: the form comes back with the sentence beside the field.
    response = as_coordinator.post_form(
        "/billing/runs/new", {"year": "2027", "mode": "per_member", "tax_percent": "6"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="rate_EUR_CNY-error"[^>]*>Enter the rate from EUR to CNY', body)
    assert session.scalar(select(BillingRun.id)) is None
    response = as_coordinator.post_form(
        "/billing/runs/new",
        {
            "year": "2027",
            "mode": "per_member",
            "tax_percent": "6",
            "rate_EUR_CNY": "7.8421",
            "rate_EUR_CNY_date": "2027-01-10",
            "issue_date": "2027-01-15",
        },
    )
    assert response.status_code == 302
    run = session.scalar(select(BillingRun))
    assert run.tax_rate == Decimal("0.06") and len(run.invoices) == 2
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "billing_run.create"))


def test_issuing_a_run_from_its_page(as_coordinator, session, world, app) -> None:
    billing = draft_run(session, world)
    page = as_coordinator.get(f"/billing/runs/{billing.run.id}").get_data(as_text=True)
    assert "Issue 2 invoices" in page and "adds up" in page
    response = as_coordinator.post_form(f"/billing/runs/{billing.run.id}/issue")
    assert response.status_code == 302
    session.expire_all()
    numbers = sorted(i.number for i in session.scalars(select(Invoice)))
    assert numbers == ["CS-2027-0001", "CS-2027-0002"]
    progress = as_coordinator.get(f"/billing/runs/{billing.run.id}/progress/issue").get_json()
    assert progress["done"] == progress["total"] == 2 and progress["state"] == "done"


def test_recording_a_partial_payment_and_refusing_too_much(
    as_coordinator, session, world, issued
) -> None:
    invoice = issued.invoice_of(world.own)  # gross 7,986.64
    url = f"/billing/invoices/{invoice.id}"
    response = as_coordinator.post_form(
        url + "/payments", {"amount": "7000.00", "paid_on": "2027-02-01", "reference": "T1"}
    )
    assert response.status_code == 302
    page = as_coordinator.get(url).get_data(as_text=True)
    assert "€986.64 is still outstanding" in page  # 7,986.64 − 7,000.00
    assert re.search(r'name="amount"[^>]*value="986.64"', page)  # in cents, as typed
    assert "part paid" in page
    response = as_coordinator.post_form(
        url + "/payments", {"amount": "1000.00", "paid_on": "2027-02-02"}
    )
    # Refused beside the amount field, the page shown again; nothing recorded.
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="amount-error"[^>]*>This is more than the balance of €986\.64\.', page)
    session.refresh(invoice)
    assert invoice.paid == Decimal("7000.00")
    response = as_coordinator.post_form(url + "/payments", {"amount": "abc", "paid_on": "x"})
    page = response.get_data(as_text=True)
    assert 'id="amount-error"' in page and 'id="paid_on-error"' in page


def test_voiding_from_the_page_needs_a_reason_and_opens_the_corrected_draft(
    as_coordinator, session, world, issued
) -> None:
    invoice = issued.invoice_of(world.own)
    url = f"/billing/invoices/{invoice.id}/void"
    response = as_coordinator.post_form(url, {"reason": "", "reissue": "y"})
    page = response.get_data(as_text=True)
    assert re.search(r'id="reason-error"[^>]*>Say why the invoice is voided\.', page)
    session.refresh(invoice)
    assert invoice.status == "issued"
    response = as_coordinator.post_form(url, {"reason": "Wrong address", "reissue": "y"})
    session.expire_all()
    credit = session.scalar(select(Invoice).where(Invoice.kind == "credit_note"))
    replacement = session.scalar(select(Invoice).where(Invoice.status == "draft"))
    assert credit.credited_invoice_id == invoice.id
    assert response.headers["Location"].endswith(f"/billing/invoices/{replacement.id}")
    page = as_coordinator.get(f"/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert "Cancelled by credit note" in page and credit.number in page


def test_a_draft_note_can_change_an_issued_invoice_cannot(as_coordinator, world, issued) -> None:
    invoice = issued.invoice_of(world.own)
    response = as_coordinator.post_form(f"/billing/invoices/{invoice.id}/notes", {"notes": "x"})
    page = as_coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "is issued and cannot be changed" in page
    assert invoice.notes is None


def test_the_zip_holds_every_pdf_of_the_run(as_coordinator, world, issued) -> None:
    response = as_coordinator.get(f"/billing/runs/{issued.run.id}/pdfs.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["CS-2027-0001_OTHER.pdf", "CS-2027-0002_OWN.pdf"]
    own = issued.invoice_of(world.own)
    assert archive.read("CS-2027-0002_OWN.pdf") == own.pdf


def test_exports_for_the_accounting_system(as_coordinator, session, world, issued) -> None:
    from costshare.invoices import services
    from tests.invoices.support import ISSUE

    services.record_payment(
        session, issued.invoice_of(world.own), amount=Decimal("1000.00"), paid_on=ISSUE
    )
    csv = as_coordinator.get("/billing/export/invoices.csv").get_data(as_text=True)
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("number,kind,credits,status,member_code")
    assert any(
        line.startswith("CS-2027-0002,invoice,,issued,OWN,") and ",7534.57,452.07,7986.64," in line
        for line in lines
    )
    xlsx = as_coordinator.get("/billing/export/invoices.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "CS-2027-0002")
    assert row[header.index("gross")] == pytest.approx(7986.64)
    payments = as_coordinator.get("/billing/export/payments.csv").get_data(as_text=True)
    assert payments.lstrip("\ufeff").splitlines() == [
        "invoice_number,member_code,paid_on,currency,amount,reference",
        "CS-2027-0002,OWN,2027-01-15,EUR,1000.00,",
    ]


def test_billing_pages_take_a_fixed_number_of_queries(app, as_coordinator, session, world) -> None:
    def count(url: str) -> int:
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        engine = get_engine(app)
        event.listen(engine, "before_cursor_execute", before)
        try:
            assert as_coordinator.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    with app.test_request_context():
        billing = issued_run(session, world)
    run_url = f"/billing/runs/{billing.run.id}"
    before = count("/billing/"), count(run_url)
    for _ in range(6):
        member = create_member(session)
        invoice = Invoice(
            run=billing.run,
            member=member,
            kind="invoice",
            year=2027,
            currency="EUR",
            net=1,
            gross=1,
        )
        invoice.lines.append(
            InvoiceLine(position=1, description="x", source_amount=1, net=1, gross=1)
        )
        session.add(invoice)
    session.flush()
    assert (count("/billing/"), count(run_url)) == before


def test_bad_input_gets_a_sentence_never_a_500(as_coordinator, session, world, issued) -> None:
    own = issued.invoice_of(world.own)
    gets = [
        "/billing/?year=abc&status=nope&kind=x&member=99999999999999&sort=';drop",
        "/billing/runs/new?year=abc",
        "/billing/runs/999999",
        f"/billing/runs/{issued.run.id}/progress/other",
        "/billing/export/invoices.pdf",
        "/billing/invoices/99999999999999",
        "/statements/?year=abc",
        f"/statements/1999/members/{world.own.id}.pdf",
        "/portal/members/99999999999",
        "/statements/2027/members/99999999999",
        "/billing/runs/99999999999",
        "/api/v1/invoices?per_page=0&page=-1&year=20000",
    ]
    headers = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    for url in gets:
        response = as_coordinator.get(url, headers=headers if url.startswith("/api") else {})
        assert response.status_code in (200, 302, 404), (url, response.status_code)
    posts = [
        ("/billing/runs/new", {"year": "abc", "tax_percent": "150", "mode": "x"}),
        (f"/billing/invoices/{own.id}/payments", {"amount": "1e999", "paid_on": "2027-13-40"}),
        (f"/billing/invoices/{own.id}/payments", {"amount": "-5", "paid_on": "2027-02-01"}),
        (f"/billing/invoices/{own.id}/payments", {"amount": "1e999", "paid_on": "2027-02-01"}),
        (
            "/billing/runs/new",
            {
                "year": "2027",
                "tax_percent": "6",
                "rate_EUR_CNY": "1e999",
                "rate_EUR_CNY_date": "2027-01-01",
            },
        ),
        (f"/billing/invoices/{own.id}/void", {"reason": "x" * 5000}),
    ]
    for url, data in posts:
        response = as_coordinator.post_form(url, data)
        assert response.status_code in (200, 302, 422), (url, response.status_code)
    session.refresh(own)
    assert own.status == "issued" and own.paid == 0
