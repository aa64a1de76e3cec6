"""Billing in a browser: a partial payment, void and reissue with progress, member downloads."""

from __future__ import annotations

import re
import zipfile

from tests.browser.conftest import log_in


def _open_invoice(page, live_server: str, member_code: str) -> None:
    page.goto(f"{live_server}/billing/?q={member_code}&kind=invoice&status=issued")
    page.locator("#invoices-table tbody tr").first.locator("a").first.click()
    page.wait_for_load_state("networkidle")


def test_a_coordinator_records_a_partial_payment(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    page.click("nav.mainnav >> text=Billing")
    assert page.locator("#runs-table >> text=2026 subscriptions").is_visible()
    _open_invoice(page, live_server, "SCUT")
    gross = page.locator("#invoice-gross").inner_text()
    assert gross.startswith("€")
    page.fill("#payment-form input[name=amount]", "1000.00")
    page.fill("#payment-form input[name=paid_on]", "2026-03-02")
    page.fill("#payment-form input[name=reference]", "SCUT wire 0302")
    page.click("#payment-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "is still outstanding" in page.locator(".flash-success").inner_text()
    assert page.locator("text=part paid").first.is_visible()
    assert page.locator("#payments >> text=SCUT wire 0302").is_visible()


def test_void_reissue_and_issue_with_progress(page, live_server) -> None:
    log_in(page, live_server, "coordinator@demo.costshare.org")
    _open_invoice(page, live_server, "GDUFS")
    number = re.search(r"CS-\d{4}-\d{4}", page.locator("h1").inner_text()).group(0)
    page.fill("#void-form textarea[name=reason]", "Tax id corrected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#void-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "credit note" in page.locator(".flash-success").inner_text()
    # The corrected draft opens; its run offers to issue it, with a progress bar.
    page.click(".breadcrumbs >> text=2026 subscriptions")
    page.wait_for_load_state("networkidle")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#issue-form button[type=submit]")
    page.wait_for_url(re.compile(r"/billing/runs/\d+$"))
    page.wait_for_load_state("networkidle")
    assert "Issued 1 invoices" in page.locator(".flash-success").inner_text()
    rows = page.locator("#run-invoices tbody tr", has_text="GDUFS")
    assert rows.count() == 3  # the void invoice, its credit note, the corrected invoice
    assert page.locator("#run-invoices", has_text=number).is_visible()
    with page.expect_download() as download:
        page.click("text=All PDFs (ZIP)")
    archive = zipfile.ZipFile(download.value.path())
    assert any(name.endswith("_GDUFS.pdf") for name in archive.namelist())


def test_a_member_sees_its_portal_downloads_its_pdf_and_nothing_else(page, live_server) -> None:
    log_in(page, live_server, "finance@gzcc.demo.costshare.org")
    assert "广州城市职业学院图书馆" in page.locator("h1").inner_text()
    row = page.locator("#portal-invoices tbody tr").first
    assert "part paid" in row.inner_text()
    with page.expect_download() as download:
        row.locator("text=Download").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    own = {
        int(href.rsplit("/", 1)[1])
        for href in page.locator("#portal-invoices a[href*='/billing/invoices/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href')).filter(h => !h.includes('.pdf'))"
        )
    }
    others = [n for n in range(1, 20) if n not in own][:4]
    # Another member's invoice, page or PDF: the same answer as for one that does not exist.
    for invoice_id in others:
        assert page.goto(f"{live_server}/billing/invoices/{invoice_id}").status == 404
        assert page.goto(f"{live_server}/billing/invoices/{invoice_id}.pdf").status == 404
    assert page.goto(f"{live_server}/billing/").status == 404
