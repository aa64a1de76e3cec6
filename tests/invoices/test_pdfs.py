"""The text of generated PDFs: what a finance office needs is on the page, in any script."""

from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from costshare.invoices.models import Invoice
from costshare.members.models import Member
from costshare.pdf import StaticOnlyFetcher, static_path
from tests.invoices.demo_support import seed_billing_demo
from tests.invoices.support import issued_run


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def column_text(data: bytes, x0: float, x1: float) -> str:
    """Return the text between two x positions (points) of each page: one column of a table."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(
            page.crop((x0, 0, x1, page.height)).extract_text() or "" for page in pdf.pages
        )


def flat(text: str) -> str:
    """Join the lines: a long name may wrap in a narrow column."""
    return re.sub(r"\s+", " ", text)


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_a_hand_computed_invoice_prints_every_figure(session, world, app) -> None:
    with app.test_request_context():
        billing = issued_run(session, world)
    own = billing.invoice_of(world.own)
    text = flat(pdf_text(own.pdf))
    for expected in [
        "INVOICE",
        "CS-2027-0002",
        "15 Jan 2027",  # issue date
        "14 Feb 2027",  # due: 30 days later
        "Own University Library",
        "Alpha Index 2027",
        "Consortium surcharge on Alpha Index 2027",
        "Beta Books 2027",
        "€6,000.00",  # Alpha share: 6,300.00 − 300.00 surcharge
        "€300.00",
        "€1,234.57",
        "€7,534.57",  # net
        "Tax 6 % on €7,534.57",
        "€452.07",  # 360.00 + 18.00 + 74.07
        "€7,986.64",  # gross
        "Alone you would pay €7,000.00; you save €700.00 (10.0 %)",
        "The floor held",
        "Page 1 of 1",
    ]:
        assert expected in text, expected


def test_a_converted_invoice_states_the_rate_its_date_and_the_rounding_rule(
    session, world, app
) -> None:
    with app.test_request_context():
        billing = issued_run(session, world)
    text = flat(pdf_text(billing.invoice_of(world.other).pdf))
    assert "1 EUR = 7.8421 CNY, the rate of 10 Jan 2027" in text
    assert "rounded half to even to 0.01 CNY" in text
    assert "CN¥31,368.40" in text and "€4,000.00" in text  # 4,000.00 × 7.8421
    assert "CN¥34,913.03" in text  # gross, computed by hand in test_billing


@pytest.fixture(scope="module")
def demo_pdfs(app):
    """The demo's issued billing run: SYSU's invoice, a credit note, SYSU's statement.

    Built in a transaction that is rolled back before the tests run, so nothing
    holds the database while they read the PDFs.
    """
    from sqlalchemy.orm import Session

    from costshare.db import get_engine
    from costshare.invoices.documents import invoice_document
    from costshare.invoices.services import BillingSettings
    from costshare.pdf import render_pdf
    from costshare.statements.services import member_statement

    connection = get_engine(app).connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.test_request_context():
            seed_billing_demo(session)
            sysu = session.scalar(select(Member).where(Member.code == "SYSU"))
            invoice = session.scalar(
                select(Invoice).where(Invoice.member_id == sysu.id, Invoice.kind == "invoice")
            )
            credit = session.scalar(select(Invoice).where(Invoice.kind == "credit_note"))
            statement = member_statement(
                session, BillingSettings.from_config(app.config), sysu, 2026
            )
            result = {
                "number": invoice.number,
                "figures": (invoice.net, invoice.tax, invoice.gross),
                "doc": invoice_document(invoice),
                "pdf": invoice.pdf,
                "credit": credit.pdf,
                "statement": render_pdf(
                    "pdf/statement.html", {"doc": statement, "today": invoice.issue_date}
                ),
                "config": dict(app.config),
            }
    finally:
        session.close()
        outer.rollback()
        connection.close()
    return result


def test_the_demo_invoice_shows_what_a_finance_office_needs(demo_pdfs) -> None:
    text = pdf_text(demo_pdfs["pdf"])
    config = demo_pdfs["config"]
    net, tax, gross = demo_pdfs["figures"]
    # Seller: name, address, tax id.
    assert config["CONSORTIUM_NAME"] in text
    for line in config["CONSORTIUM_ADDRESS"].split("\n"):
        assert line in text
    assert f"Tax id: {config['CONSORTIUM_TAX_ID']}" in text
    # Buyer: name (Chinese and English), address, tax id.
    assert "中山大学图书馆 Sun Yat-sen University Library" in text
    assert "Haizhu District, Guangzhou 510275" in text
    assert "Tax id: 12100000455416107D" in text
    # Number, issue and due dates (the demo issues on 15 Jan 2026, 30 days' terms).
    assert demo_pdfs["number"] in text
    assert "15 Jan 2026" in text and "14 Feb 2026" in text
    # Each line's description and amount; net, tax, gross; payment details; page x of y.
    # The description column lies between the "#" column and the tax column (A4 is 595 pt wide).
    descriptions = flat(column_text(demo_pdfs["pdf"], 55, 440))
    for line in demo_pdfs["doc"].lines:
        assert line.description in descriptions
        assert f"€{line.net:,.2f}" in text
    assert f"Net €{net:,.2f}" in text
    assert f"Tax 6 % on €{net:,.2f} €{tax:,.2f}" in text
    assert f"Total (gross) €{gross:,.2f}" in text
    assert "Payment instructions" in text
    assert config["CONSORTIUM_BANK_DETAILS"] in text
    assert f"Reference {demo_pdfs['number']}" in text
    assert "Page 1 of 1" in text
    # Under each share: the formula, the parts, the solo price and the saving.
    assert "Formula:" in text and "Alone you would pay" in text


def test_a_chinese_member_name_renders_with_the_cjk_font(demo_pdfs) -> None:
    fonts = font_names(demo_pdfs["pdf"])
    assert any("WenQuanYi" in name for name in fonts), fonts
    assert any("DejaVu" in name for name in fonts), fonts
    assert "中山大学图书馆" in pdf_text(demo_pdfs["pdf"])


def test_the_demo_credit_note_cancels_its_invoice(demo_pdfs) -> None:
    text = pdf_text(demo_pdfs["credit"])
    assert "CREDIT NOTE" in text
    assert "Credits invoice" in text and "Total credited" in text
    assert "No payment is due" in text
    assert "Page 1 of 1" in text


def test_the_demo_savings_statement(demo_pdfs) -> None:
    text = pdf_text(demo_pdfs["statement"])
    assert "SAVINGS STATEMENT" in text
    assert "What you paid, what you would have paid alone, what you saved" in flat(text)
    assert "中山大学图书馆 Sun Yat-sen University Library" in text
    assert "You saved" in text.replace("YOU SAVED", "You saved")
    assert "Page 1 of 1" in text


def test_the_url_fetcher_serves_only_our_static_files(tmp_path) -> None:
    fetcher = StaticOnlyFetcher()
    assert static_path(static_path_url("logo.svg")) is not None
    for url in (
        "https://example.org/logo.png",
        "file:///etc/passwd",
        static_path_url("../__init__.py"),
        "data:text/plain,hello",
    ):
        assert static_path(url) is None
        with pytest.raises(ValueError):
            fetcher(url)


def static_path_url(name: str) -> str:
    from costshare.pdf import base_url

    return base_url() + name


def test_a_document_cannot_make_the_server_fetch_a_url(app) -> None:
    with app.test_request_context():
        from costshare.pdf import html_to_pdfs

        [data] = html_to_pdfs(
            ['<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png"><p>ok</p>']
        )
    assert "ok" in pdf_text(data)


def test_a_batch_numbers_pages_per_document(app) -> None:
    long = "<p>" + "word " * 4000 + "</p>"
    with app.test_request_context():
        from costshare.pdf import html_to_pdfs

        pdfs = html_to_pdfs(["<p>one</p>", long, "<p>three</p>"])
    assert len(PdfReader(io.BytesIO(pdfs[0])).pages) == 1
    pages_of_second = len(PdfReader(io.BytesIO(pdfs[1])).pages)
    assert pages_of_second >= 2
    assert f"Page 1 of {pages_of_second}" in pdf_text(pdfs[1])
    assert "Page 1 of 1" in pdf_text(pdfs[2])
