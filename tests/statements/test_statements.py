"""Savings statements: a member's year, the consortium report, the funder's; page and PDF."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pdfplumber
import pytest

from costshare.statements import services
from tests.factories import create_final_allocation, create_offer
from tests.invoices.support import final_allocations, settings


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return " ".join((page.extract_text() or "") for page in pdf.pages)


@pytest.fixture
def allocations(session, world):
    return final_allocations(session, world)


def test_a_members_statement_adds_up_by_hand(session, world, allocations) -> None:
    statement = services.member_statement(session, settings(), world.own, 2027)
    totals = statement.totals["EUR"]
    # Paid 6,300.00 + 1,234.57 = 7,534.57; alone 7,000.00 + 1,500.00 = 8,500.00; saved 965.43.
    assert (totals.paid, totals.solo, totals.saved) == (
        Decimal("7534.57"),
        Decimal("8500.00"),
        Decimal("965.43"),
    )
    assert totals.saved_pct == Decimal("0.1136")  # 965.43 / 8,500.00
    assert [d.title for d in statement.deals] == ["Alpha Index 2027", "Beta Books 2027"]
    assert len(statement.charts) == 1 and "<svg" in str(statement.charts[0])


def test_the_statement_page_and_pdf_show_the_same_figures_and_chart(
    as_member, world, allocations
) -> None:
    page = as_member.get(f"/statements/2027/members/{world.own.id}").get_data(as_text=True)
    assert "€7,534.57" in page and "€8,500.00" in page and "€965.43" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page
    pdf = as_member.get(f"/statements/2027/members/{world.own.id}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "€7,534.57" in text and "€8,500.00" in text and "€965.43" in text
    # The chart's legend, drawn in the PDF too (SVG text comes out without its spaces).
    assert "Alone(soloprice)" in text.replace(" ", "")
    assert "Page 1 of 1" in text


def test_a_member_cannot_open_another_members_statement(as_member, world, allocations) -> None:
    for suffix in ("", ".pdf"):
        url = f"/statements/2027/members/{world.other.id}{suffix}"
        assert as_member.get(url).status_code == 404


def test_the_consortium_report_totals_and_cost_avoidance(session, world, allocations) -> None:
    report = services.consortium_report(session, settings(), 2027)
    total = report.totals["EUR"]
    # Members paid 10,500.00 + 1,234.57; alone 7,000 + 4,000 + 1,500 = 12,500.00.
    assert (total.paid, total.solo) == (Decimal("11734.57"), Decimal("12500.00"))
    assert total.saved == Decimal("765.43")  # 700.00 − 200.00 + 265.43
    assert report.surcharges["EUR"] == Decimal("500.00")
    assert report.vendor_price["EUR"] == Decimal("11234.57")  # 10,000.00 + 1,234.57
    assert report.cost_avoidance("EUR") == Decimal("765.43")  # no subsidy
    assert [(r.code, r.totals.paid) for r in report.rows] == [
        ("OTHER", Decimal("4200.00")),
        ("OWN", Decimal("7534.57")),
    ]


def test_the_funder_sees_what_its_subsidy_paid_for(as_coordinator, session, world) -> None:
    offer = create_offer(session, title="Subsidised Archive 2027", joined=[world.own, world.other])
    # Vendor 9,000.00 − subsidy 3,000.00 = 6,000.00 owed: OWN 3,600.00, OTHER 2,400.00.
    create_final_allocation(
        session,
        offer,
        {world.own: {"amount": "3600.00"}, world.other: {"amount": "2400.00"}},
        subsidy="3000.00",
    )
    statement = services.funder_statement(session, settings(), 2027)
    [deal] = statement.deals
    assert (deal.price, deal.subsidy, deal.owed) == (
        Decimal("9000.00"),
        Decimal("3000.00"),
        Decimal("6000.00"),
    )
    page = as_coordinator.get("/statements/2027/funder").get_data(as_text=True)
    assert "Subsidised Archive 2027" in page and "€3,000.00" in page
    text = pdf_text(as_coordinator.get("/statements/2027/funder.pdf").data)
    assert "SUBSIDY STATEMENT" in text and "€3,000.00" in text
    report = services.consortium_report(session, settings(), 2027)
    assert report.cost_avoidance("EUR") == Decimal("3000.00")  # no solo prices; the subsidy


def test_the_reports_page_links_each_members_statement(as_coordinator, world, allocations):
    page = as_coordinator.get("/statements/?year=2027").get_data(as_text=True)
    assert re.search(r'id="cost-avoidance-EUR">€765\.43<', page)
    assert f"/statements/2027/members/{world.own.id}" in page
    pdf = as_coordinator.get("/statements/2027/consortium.pdf")
    assert "€11,734.57" in pdf_text(pdf.data)
    from openpyxl import load_workbook

    xlsx = as_coordinator.get("/statements/2027/consortium.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0] in ("OWN", "Total")]
    # OWN: paid 7,534.57, alone 8,500.00, saved 965.43; total paid 11,734.57.
    assert rows[0][4:7] == (pytest.approx(7534.57), pytest.approx(8500), pytest.approx(965.43))
    assert rows[-1][4] == pytest.approx(11734.57)
