"""XLSX exports: numbers stay numbers, money has its currency's format, totals match the page."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from costshare.xlsx import Column, Sheet, money_format, workbook
from tests.factories import create_member, create_offer
from tests.negotiation.pages import money, table

TIERS = {
    "pricing": {"kind": "list_discount", "tiers": [{"min_members": 2, "discount": "0.25"}]},
    "surcharge": "0.02",
}


@pytest.fixture
def offer(session):
    """Two members, list prices 1,000.10 and 333.33: 25 % off for two, 2 % surcharge."""
    a = create_member(session, code="XA")
    b = create_member(session, code="XB")
    return create_offer(
        session, pricing=TIERS, joined=[a, b], solo={a: "1000.10", b: "333.33"}, title="Export"
    )


def book(response):
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(io.BytesIO(response.data))


def header_row(sheet):
    """Return (row number, headers) of the bold header row (notes may come first)."""
    for row in sheet.iter_rows():
        if row[0].font.bold:
            return row[0].row, [c.value for c in row]
    raise AssertionError("no bold header row")


def test_the_offer_workbook_matches_the_page(as_negotiator, offer) -> None:
    html = as_negotiator.get(f"/negotiation/offers/{offer.id}").get_data(as_text=True)
    page = table(html, "solo-table")
    wb = book(as_negotiator.get(f"/negotiation/offers/{offer.id}/export.xlsx"))
    assert {"Solo vs joint", "Fairness", "Core check", "Quote rounds"} <= set(wb.sheetnames)
    sheet = wb["Solo vs joint"]
    number, headers = header_row(sheet)
    assert headers[:6] == ["Code", "Member", "Solo price", "Joint share", "Saving", "Saving %"]
    assert sheet.freeze_panes == f"A{number + 1}"
    rows = list(sheet.iter_rows(min_row=number + 1, values_only=False))
    body, total = rows[:-1], rows[-1]
    for row in body:
        code = row[0].value
        for index in (2, 3, 4):
            cell = row[index]
            assert cell.data_type == "n" and isinstance(cell.value, int | float)
            assert cell.number_format == money_format("EUR")
            # The same amount as the page shows, to the cent.
            assert Decimal(str(cell.value)) == money(page["rows"][code][index])
        assert row[5].number_format == "0.00%"
    # Totals: solo 1,333.43; the vendor's 0.75 × 1,333.43 = 1,000.0725 → 1,000.07, plus 2 %.
    foot = page["foot"][0]
    assert Decimal(str(total[2].value)) == money(foot[1]) == Decimal("1333.43")
    assert Decimal(str(total[3].value)) == money(foot[2]) == Decimal("1020.07")
    assert Decimal(str(total[4].value)) == money(foot[3]) == Decimal("313.36")
    assert total[0].font.bold


def test_the_what_if_sheet_follows_the_query(as_negotiator, offer) -> None:
    wb = book(as_negotiator.get(f"/negotiation/offers/{offer.id}/export.xlsx?whatif=1&members=XA"))
    sheet = wb["What-if"]
    number, _ = header_row(sheet)
    rows = {r[0]: r for r in sheet.iter_rows(min_row=number + 1, values_only=True)}
    # XA alone: no discount, 1,000.10 + 2 % = 1,020.102 → 1,020.10.
    assert rows["XA"][4] == pytest.approx(1020.10) and isinstance(rows["XA"][4], float)
    assert rows["XB"][2] == "dropped" and rows["XB"][4] is None


def test_the_year_workbook_has_offers_and_members(as_negotiator, offer) -> None:
    html = as_negotiator.get("/negotiation/?year=2027").get_data(as_text=True)
    page = table(html, "members-EUR")
    wb = book(as_negotiator.get("/negotiation/2027.xlsx"))
    assert wb.sheetnames[:2] == ["Offers 2027", "Members EUR"]
    sheet = wb["Members EUR"]
    number, _ = header_row(sheet)
    rows = list(sheet.iter_rows(min_row=number + 1, values_only=True))
    total = rows[-1]
    assert total[0] == "Total"
    assert [Decimal(str(v)) for v in total[3:6]] == [money(c) for c in page["foot"][0][1:4]]
    offers = wb["Offers 2027"]
    number, _ = header_row(offers)
    for row in offers.iter_rows(min_row=number + 1):
        if row[7].value is not None:
            assert row[7].number_format == money_format(row[3].value)
    assert as_negotiator.get("/negotiation/1999.xlsx").status_code == 404


def test_the_helper_writes_numbers_dates_and_a_frozen_bold_header() -> None:
    data = workbook(
        [
            Sheet(
                "Mixed [1]: a/b",
                [
                    Column("Name"),
                    Column("Amount", "money", "JPY"),
                    Column("Count", "integer"),
                    Column("Share", "percent"),
                    Column("Day", "date"),
                    Column("Price", "money"),
                    Column("Currency"),
                ],
                [
                    [
                        "a",
                        Decimal("1200"),
                        3,
                        Decimal("0.125"),
                        dt.date(2027, 1, 1),
                        Decimal("9.5"),
                        "BHD",
                    ]
                ],
                totals=["Total", Decimal("1200"), 3, None, None, Decimal("9.5"), ""],
                currency_column=6,
                notes=["What this is"],
            )
        ]
    )
    wb = load_workbook(io.BytesIO(data))
    sheet = wb.worksheets[0]
    assert sheet.title == "Mixed  1   a b"
    assert sheet["A1"].value == "What this is"
    assert [c.value for c in sheet[2]] == [
        "Name",
        "Amount",
        "Count",
        "Share",
        "Day",
        "Price",
        "Currency",
    ]
    assert all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    row = sheet[3]
    assert row[1].value == 1200 and row[1].number_format == '#,##0 "JPY";-#,##0 "JPY"'
    assert row[3].value == 0.125 and row[3].number_format == "0.00%"
    assert row[4].value.date() == dt.date(2027, 1, 1)
    # A money column without a currency takes the row's (BHD has three decimals).
    assert row[5].number_format == '#,##0.000 "BHD";-#,##0.000 "BHD"'
    assert all(c.font.bold for c in sheet[4])


def test_the_brief_pdf_carries_the_what_if_figures(as_negotiator, offer) -> None:
    from pypdf import PdfReader

    response = as_negotiator.get(f"/negotiation/offers/{offer.id}/brief.pdf?whatif=1&members=XA")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    # XA alone: no discount, 1,000.10 + 2 % surcharge = 1,020.10; the tier of 2+ is lost.
    assert "Tier lost: 2+ members, 25 % discount → now no discount" in text
    assert "€1,020.10" in text
    assert "XB (dropped)" in text
    for scenario in ("999", "9" * 30):  # no such scenario; no id a row can have
        url = f"/negotiation/offers/{offer.id}/brief.pdf?scenario={scenario}"
        assert as_negotiator.get(url).status_code == 404
