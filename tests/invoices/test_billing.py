"""Billing runs from final allocations: lines, surcharge, conversion, tax, numbers, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare.errors import ServiceError
from costshare.invoices import services
from costshare.invoices.models import Invoice, InvoiceSequence
from costshare.invoices.numbering import format_number
from tests.factories import create_member
from tests.invoices.support import ISSUE, RATE, draft_run, issued_run, settings


@pytest.fixture
def app_context(app):
    with app.test_request_context():
        yield


def test_one_invoice_per_member_with_a_line_per_resource_and_the_surcharge_apart(
    session, world
) -> None:
    billing = draft_run(session, world)
    own = billing.invoice_of(world.own)
    assert own.status == "draft" and own.number is None
    assert [(line.kind, line.description, line.source_amount) for line in own.lines] == [
        # Alpha: 6,300.00 owed of which 300.00 surcharge → share 6,000.00 and surcharge 300.00.
        (
            "share",
            "Alpha Index 2027 — " + billing.alpha.offer.resource.vendor.name + ": your share",
            Decimal("6000.00"),
        ),
        ("surcharge", "Consortium surcharge on Alpha Index 2027", Decimal("300.00")),
        (
            "share",
            "Beta Books 2027 — " + billing.beta.offer.resource.vendor.name + ": your share",
            Decimal("1234.57"),
        ),
    ]
    assert own.lines[0].term == "2027-01-01 – 2027-12-31"
    # Tax 6 % per line, half-even to the cent: 360.00 + 18.00 + 74.0742 → 74.07 = 452.07.
    assert [line.tax for line in own.lines] == [
        Decimal("360.00"),
        Decimal("18.00"),
        Decimal("74.07"),
    ]
    assert (own.net, own.tax, own.gross) == (
        Decimal("7534.57"),  # 6,000.00 + 300.00 + 1,234.57
        Decimal("452.07"),
        Decimal("7986.64"),  # 7,534.57 + 452.07
    )


def test_a_member_billed_in_another_currency_is_converted_line_by_line(session, world) -> None:
    billing = draft_run(session, world)
    other = billing.invoice_of(world.other)
    assert (other.currency, other.source_currency) == ("CNY", "EUR")
    assert (other.exchange_rate, other.exchange_rate_date) == (
        Decimal("7.8421"),
        dt.date(2027, 1, 10),
    )
    # 4,000.00 × 7.8421 = 31,368.40; 200.00 × 7.8421 = 1,568.42.
    assert [line.net for line in other.lines] == [Decimal("31368.40"), Decimal("1568.42")]
    # Tax: 31,368.40 × 0.06 = 1,882.104 → 1,882.10; 1,568.42 × 0.06 = 94.1052 → 94.11.
    assert [line.tax for line in other.lines] == [Decimal("1882.10"), Decimal("94.11")]
    assert other.gross == Decimal("34913.03")  # 32,936.82 + 1,976.21
    # Before conversion the lines still add up to what OTHER owes: 4,000.00 + 200.00.
    assert sum(line.source_amount for line in other.lines) == Decimal("4200.00")


def test_conversion_rounds_half_to_even() -> None:
    half = services.ExchangeRate("EUR", "USD", Decimal("0.5"), dt.date(2027, 1, 1))
    # 10.01 × 0.5 = 5.005 → 5.00 (even); 10.03 × 0.5 = 5.015 → 5.02 (even).
    amounts = [services.convert(Decimal(a), half, "USD") for a in ("10.01", "10.03")]
    assert amounts == [Decimal("5.00"), Decimal("5.02")]


def test_invoice_totals_equal_the_allocation_amounts_and_the_run_sums_to_what_is_owed(
    session, world
) -> None:
    billing = draft_run(session, world)
    by_member = {
        i.member_id: sum(line.source_amount for line in i.lines) for i in billing.run.invoices
    }
    # OWN owes 6,300.00 + 1,234.57 = 7,534.57; OTHER owes 4,200.00 (in EUR, before conversion).
    assert by_member == {world.own.id: Decimal("7534.57"), world.other.id: Decimal("4200.00")}
    # Both offers: 10,500.00 + 1,234.57 = 11,734.57.
    assert sum(by_member.values()) == Decimal("11734.57")
    check = services.run_reconciliation(session, billing.run)
    assert check["ok"]
    assert [(r["owed"], r["billed"]) for r in check["rows"]] == [
        (Decimal("10500.00"), Decimal("10500.00")),
        (Decimal("1234.57"), Decimal("1234.57")),
    ]


def test_one_invoice_per_member_and_resource(session, world) -> None:
    billing = draft_run(session, world, mode="per_member_resource")
    own = [i for i in billing.run.invoices if i.member_id == world.own.id]
    assert sorted(len(i.lines) for i in own) == [1, 2]  # Beta; Alpha share + surcharge
    assert sorted(i.net for i in own) == [Decimal("1234.57"), Decimal("6300.00")]


def test_exempt_and_reverse_charge_members_pay_no_tax(session, world) -> None:
    world.own.tax_treatment = "reverse_charge"
    billing = draft_run(session, world)
    own = billing.invoice_of(world.own)
    assert own.tax == 0 and own.gross == own.net == Decimal("7534.57")
    assert own.buyer["tax_treatment"] == "reverse_charge"
    from costshare.invoices.documents import REVERSE_CHARGE_NOTE, invoice_document

    assert invoice_document(own).tax_notes == [REVERSE_CHARGE_NOTE]


def test_a_member_rate_overrides_the_consortium_rate(session, world) -> None:
    world.own.tax_rate = Decimal("0.10")
    own = draft_run(session, world).invoice_of(world.own)
    # 10 %: 600.00 + 30.00 + 123.457 → 123.46.
    assert [line.tax for line in own.lines] == [
        Decimal("600.00"),
        Decimal("30.00"),
        Decimal("123.46"),
    ]


def test_a_missing_exchange_rate_is_named_and_nothing_is_drafted(session, world) -> None:
    with pytest.raises(ServiceError) as caught:
        draft_run(session, world, rates=[])
    assert caught.value.field == "rate_EUR_CNY"
    assert "EUR to CNY" in caught.value.message
    assert session.scalar(select(Invoice.id).where(Invoice.member_id == world.own.id)) is None


def test_a_year_without_final_allocations_cannot_be_billed(session, world) -> None:
    with pytest.raises(ServiceError, match="no final allocation for 2031"):
        services.create_run(session, settings(), year=2031)


def test_issuing_numbers_without_gaps_in_member_order_and_stores_the_pdfs(
    session, world, app_context
) -> None:
    billing = issued_run(session, world)
    invoices = sorted(billing.run.invoices, key=lambda i: i.number)
    # OTHER sorts before OWN by code: "OTHER" < "OWN".
    assert [(i.member.code, i.number) for i in invoices] == [
        ("OTHER", "CS-2027-0001"),
        ("OWN", "CS-2027-0002"),
    ]
    for invoice in invoices:
        assert invoice.status == "issued" and invoice.issue_date == ISSUE
        assert invoice.due_date == ISSUE + dt.timedelta(days=30)  # PAYMENT_TERMS_DAYS
        assert invoice.pdf.startswith(b"%PDF")
        assert len(invoice.pdf_sha256) == 64
    assert billing.run.status == "issued"
    sequence = session.scalar(select(InvoiceSequence).where(InvoiceSequence.year == 2027))
    assert sequence.last_number == 2


def test_a_share_already_on_an_issued_invoice_is_not_billed_twice(
    session, world, app_context
) -> None:
    billing = issued_run(session, world)
    with pytest.raises(ServiceError, match="already on an issued invoice"):
        services.create_run(session, settings(), year=2027, rates=[RATE])
    # A second draft made before the first was issued is refused when it is issued.
    other_draft = services.draft_invoice(
        billing.run,
        world.own,
        [(billing.beta, billing.beta.lines[0])],
        settings(),
    )
    session.add(other_draft)
    session.flush()
    with pytest.raises(ServiceError, match="already billed on issued invoice"):
        services.issue_invoice(session, settings(), other_draft)


def test_a_failed_issue_takes_no_number(session, world, app_context, monkeypatch) -> None:
    billing = draft_run(session, world)

    def broken(invoices, progress=None):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(services, "render_invoices", broken)
    savepoint = session.begin_nested()
    with pytest.raises(RuntimeError):
        services.issue_run(session, settings(), billing.run)
    savepoint.rollback()
    session.expire_all()
    assert session.scalar(
        select(InvoiceSequence.last_number).where(InvoiceSequence.year == 2027)
    ) in (
        None,
        0,
    )
    assert all(i.status == "draft" and i.number is None for i in billing.run.invoices)


def test_invoice_numbers_follow_the_prefix() -> None:
    assert format_number("CS-{year}-", 2027, 1) == "CS-2027-0001"
    assert format_number("INV/{year}/", 2027, 12) == "INV/2027/0012"
    # A prefix without {year} still counts per year, so the year is added.
    assert format_number("PRLC-", 2028, 3) == "PRLC-2028-0003"


def test_a_draft_run_can_be_deleted_an_issued_one_cannot(session, world, app_context) -> None:
    billing = draft_run(session, world)
    run_id = billing.run.id
    services.delete_run(session, billing.run)
    assert session.scalar(select(Invoice.id).where(Invoice.run_id == run_id)) is None
    issued = issued_run(session, world)
    with pytest.raises(ServiceError, match="cannot be deleted"):
        services.delete_run(session, issued.run)


def test_members_without_billing_details_are_still_billed(session, world) -> None:
    bare = create_member(session, code="BARE", billing_address=None, tax_id=None)
    from tests.factories import create_final_allocation, create_offer

    offer = create_offer(
        session,
        title="Gamma 2029",
        term_start=dt.date(2029, 1, 1),
        term_end=dt.date(2029, 12, 31),
        joined=[bare],
    )
    create_final_allocation(session, offer, {bare: {"amount": "10.00"}})
    run = services.create_run(session, settings(), year=2029)
    assert run.invoices[0].buyer["address"] == "" and run.invoices[0].gross == Decimal("10.00")


def test_a_member_owing_nothing_gets_no_invoice(session, world) -> None:
    from tests.factories import create_final_allocation, create_offer

    offer = create_offer(
        session,
        title="Free Trial 2030",
        term_start=dt.date(2030, 1, 1),
        term_end=dt.date(2030, 12, 31),
        joined=[world.own, world.other],
    )
    create_final_allocation(
        session, offer, {world.own: {"amount": "0.00"}, world.other: {"amount": "50.00"}}
    )
    run = services.create_run(session, settings(), year=2030)
    assert [i.member.code for i in run.invoices] == ["OTHER"]
