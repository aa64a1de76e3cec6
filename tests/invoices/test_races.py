"""Two coordinators acting on the same invoice, or billing the same shares, at the same moment.

On PostgreSQL (fixture `postgres_database_url`) two real sessions race: the first
acts and holds its transaction open, the second is seen waiting for the first's
lock, then the first commits. The second must then see what the first did and be
refused with a sentence — never pay twice, pay a voided invoice, or bill twice.
On SQLite, the same refusals are checked with an invoice changed behind the
session's back (what the row lock makes the second session see).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from costshare.allocations.models import Allocation, AllocationLine
from costshare.db import get_session
from costshare.errors import ConflictError, ServiceError
from costshare.invoices import services, views
from costshare.invoices.models import BillingRun, Invoice, InvoiceLine, InvoiceSequence, Payment
from costshare.members.models import Member
from costshare.offers.models import Offer, Participation, QuoteRound, Resource, Vendor
from tests.factories import create_final_allocation, create_member, create_offer
from tests.invoices.support import ISSUE, issued_run, settings

YEAR = 2098  # a year no other test bills or numbers in
ISSUED_ON = dt.date(YEAR, 2, 1)


# --- PostgreSQL: two sessions ------------------------------------------------------------


def _wait_until_blocked(engine, timeout: float = 30) -> None:
    """Return once another connection of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            conn.rollback()
            time.sleep(0.05)
    raise AssertionError("the second session never waited for the first one's lock")


def _race(app, engine, first: Callable[[Session], Any], second: Callable[[Session], Any]):
    """Run `first` in a session kept open, then `second` in another until it waits; commit.

    Returns what `second` returned, or the exception it raised. Before `first` runs,
    the second session has already read everything it needs (as a page load does).
    """
    with app.app_context(), Session(engine) as one, ThreadPoolExecutor(1) as pool:
        first(one)

        def run_second():
            with app.app_context(), Session(engine) as two:
                try:
                    second(two)
                    two.commit()
                    return "done"
                except Exception as error:  # handed back to the test
                    two.rollback()
                    return error

        future = pool.submit(run_second)
        try:
            _wait_until_blocked(engine)
        finally:
            one.commit()
        return future.result(timeout=60)


@pytest.fixture
def pg(app, postgres_database_url):
    """A PostgreSQL engine; every row the test commits in YEAR is removed afterwards."""
    engine = create_engine(postgres_database_url, pool_size=4, max_overflow=0)
    created: dict[str, list[int]] = {}
    yield engine, created
    with engine.begin() as conn:
        # Issued invoices are permanent: the triggers must be off to clean up the test's own.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        invoices = select(Invoice.id).where(Invoice.year == YEAR).scalar_subquery()
        runs = select(BillingRun.id).where(BillingRun.year == YEAR).scalar_subquery()
        conn.execute(delete(Payment).where(Payment.invoice_id.in_(invoices)))
        conn.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(invoices)))
        conn.execute(delete(Invoice).where(Invoice.year == YEAR))
        conn.execute(delete(BillingRun).where(BillingRun.id.in_(runs)))
        conn.execute(delete(InvoiceSequence).where(InvoiceSequence.year.in_([YEAR, YEAR + 1])))
        for model in (AllocationLine, Allocation, Participation, QuoteRound):
            ids = created.get(model.__tablename__, [])
            conn.execute(delete(model).where(model.id.in_(ids)))
        for model in (Offer, Resource, Vendor, Member):
            conn.execute(delete(model).where(model.id.in_(created.get(model.__tablename__, []))))
    engine.dispose()


def _one_issued_invoice(app, engine, created) -> int:
    """Commit an issued invoice of 100.00 EUR (number CS-2098-0001) and return its id."""
    with app.app_context(), Session(engine) as setup:
        member = Member(code="RACE", name="Race Library", billing_currency="EUR")
        invoice = Invoice(
            member=member,
            kind="invoice",
            year=YEAR,
            status="draft",
            currency="EUR",
            net=Decimal("100.00"),
            gross=Decimal("100.00"),
            seller={},
            buyer={},
        )
        invoice.lines.append(
            InvoiceLine(
                position=1,
                description="Share",
                source_amount=Decimal("100.00"),
                net=Decimal("100.00"),
                gross=Decimal("100.00"),
            )
        )
        setup.add(invoice)
        setup.flush()
        services.issue_invoice(setup, settings(), invoice, issue_date=ISSUED_ON)
        setup.commit()
        created["member"] = [member.id]
        return invoice.id


def _pay(invoice_id: int, amount: str = "100.00") -> Callable[[Session], Payment]:
    def pay(session: Session) -> Payment:
        invoice = session.get(Invoice, invoice_id)
        return services.record_payment(session, invoice, amount=Decimal(amount), paid_on=ISSUED_ON)

    return pay


def _void(invoice_id: int) -> Callable[[Session], object]:
    def void(session: Session) -> object:
        invoice = session.get(Invoice, invoice_id)
        return services.void_invoice(
            session, settings(), invoice, reason="Wrong member", issue_date=ISSUED_ON
        )

    return void


def _payments(engine, invoice_id: int) -> tuple[int, Decimal, str]:
    with Session(engine) as check:
        count = check.scalar(
            select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice_id)
        )
        invoice = check.get(Invoice, invoice_id)
        return count, invoice.paid, invoice.status


def test_two_sessions_cannot_both_pay_the_last_open_amount(app, pg) -> None:
    engine, created = pg
    invoice_id = _one_issued_invoice(app, engine, created)

    outcome = _race(app, engine, _pay(invoice_id), _pay(invoice_id))

    assert isinstance(outcome, ConflictError), outcome
    assert outcome.status == 409
    assert "CS-2098-0001" in outcome.message and "paid in full" in outcome.message
    assert _payments(engine, invoice_id) == (1, Decimal("100.00"), "paid")


def test_a_partial_payment_meanwhile_leaves_less_to_pay(app, pg) -> None:
    engine, created = pg
    invoice_id = _one_issued_invoice(app, engine, created)

    outcome = _race(app, engine, _pay(invoice_id, "30.00"), _pay(invoice_id, "80.00"))

    assert isinstance(outcome, ConflictError), outcome
    assert "only €70.00 is still outstanding" in outcome.message  # 100.00 − 30.00 still outstanding
    assert _payments(engine, invoice_id) == (1, Decimal("30.00"), "issued")


def test_a_payment_on_an_invoice_voided_meanwhile_is_refused(app, pg) -> None:
    engine, created = pg
    invoice_id = _one_issued_invoice(app, engine, created)

    outcome = _race(app, engine, _void(invoice_id), _pay(invoice_id))

    assert isinstance(outcome, ConflictError), outcome
    assert "CS-2098-0001 was voided" in outcome.message
    assert _payments(engine, invoice_id) == (0, Decimal(0), "void")


def test_an_invoice_paid_meanwhile_is_not_voided(app, pg) -> None:
    engine, created = pg
    invoice_id = _one_issued_invoice(app, engine, created)

    outcome = _race(app, engine, _pay(invoice_id, "40.00"), _void(invoice_id))

    assert isinstance(outcome, ConflictError), outcome
    assert "CS-2098-0001" in outcome.message and "cannot be voided" in outcome.message
    assert _payments(engine, invoice_id) == (1, Decimal("40.00"), "issued")
    with Session(engine) as check:
        assert (
            check.scalar(select(func.count()).where(Invoice.credited_invoice_id == invoice_id)) == 0
        )


# --- SQLite (and either run): the state a lock would show -------------------------------


def _changed_behind_the_session(session, invoice: Invoice, **values: Any) -> None:
    """Change the invoice's row without the session knowing (another coordinator did it)."""
    session.execute(update(Invoice.__table__).where(Invoice.id == invoice.id).values(**values))


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        return issued_run(session, world)


def test_the_service_rereads_the_invoice_before_recording_a_payment(session, world, issued) -> None:
    invoice = issued.invoice_of(world.own)  # gross 7,986.64 EUR
    _changed_behind_the_session(session, invoice, status="void", void_reason="Wrong address")
    with pytest.raises(ConflictError, match=r"was voided by someone else"):
        services.record_payment(session, invoice, amount=Decimal("10.00"), paid_on=ISSUE)
    assert invoice.paid == 0 and not invoice.payments


def _changed_after_the_page_read_it(monkeypatch, **values: Any) -> None:
    """Between the view reading the invoice and the service acting, someone else saves."""
    read = views.invoice_or_404

    def read_then_changed(invoice_id: int) -> Invoice:
        invoice = read(invoice_id)
        _changed_behind_the_session(get_session(), invoice, **values)
        return invoice

    monkeypatch.setattr(views, "invoice_or_404", read_then_changed)


def test_the_payment_page_says_the_invoice_was_voided_meanwhile(
    as_coordinator, session, world, issued, monkeypatch
) -> None:
    invoice = issued.invoice_of(world.own)
    url = f"/billing/invoices/{invoice.id}"
    _changed_after_the_page_read_it(monkeypatch, status="void", void_reason="Wrong address")
    response = as_coordinator.post_form(
        url + "/payments", {"amount": "10.00", "paid_on": "2027-02-01"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = as_coordinator.get(url).get_data(as_text=True)
    assert f"Invoice {invoice.number} was voided by someone else" in page
    assert session.scalar(select(func.count()).where(Payment.invoice_id == invoice.id)) == 0


def test_the_payment_page_refuses_what_a_payment_meanwhile_settled(
    as_coordinator, session, world, issued, monkeypatch
) -> None:
    invoice = issued.invoice_of(world.own)  # gross 7,986.64
    url = f"/billing/invoices/{invoice.id}"
    _changed_after_the_page_read_it(monkeypatch, paid=Decimal("7000.00"))
    response = as_coordinator.post_form(
        url + "/payments", {"amount": "1000.00", "paid_on": "2027-02-01"}
    )
    assert response.status_code == 302
    page = as_coordinator.get(url).get_data(as_text=True)
    assert "Someone else recorded a payment on" in page
    assert "only €986.64 is still outstanding" in page  # 7,986.64 − 7,000.00
    assert session.scalar(select(func.count()).where(Payment.invoice_id == invoice.id)) == 0


def test_voiding_rereads_the_invoice(session, world, issued, app) -> None:
    invoice = issued.invoice_of(world.own)
    _changed_behind_the_session(session, invoice, paid=Decimal("1.00"))
    with app.test_request_context(), pytest.raises(ConflictError, match="cannot be voided"):
        services.void_invoice(session, settings(), invoice, reason="Wrong address")
    assert invoice.status == "issued"


def test_a_voided_invoice_is_refused_a_payment_as_before(session, world, issued, app) -> None:
    invoice = issued.invoice_of(world.own)
    with app.test_request_context():
        services.void_invoice(session, settings(), invoice, reason="Wrong address")
    with pytest.raises(ServiceError, match="is void; it cannot be paid") as caught:
        services.record_payment(session, invoice, amount=Decimal("1.00"), paid_on=ISSUE)
    assert not isinstance(caught.value, ConflictError)


# --- Billing the same shares twice ---------------------------------------------------------


def _two_draft_runs_of_one_allocation(app, engine, created) -> tuple[int, int]:
    """Commit a final allocation of YEAR and two draft runs that both bill it."""
    with app.app_context(), Session(engine) as setup:
        member = create_member(setup, code="RACE2", name="Second Race Library")
        offer = create_offer(
            setup,
            title="Race Index",
            term_start=dt.date(YEAR, 1, 1),
            term_end=dt.date(YEAR, 12, 31),
            joined=[member],
        )
        allocation = create_final_allocation(setup, offer, {member: {"amount": "500.00"}})
        runs = [services.create_run(setup, settings(), year=YEAR, name=f"Run {n}") for n in (1, 2)]
        setup.commit()
        created.update(
            {
                "allocation_line": [line.id for line in allocation.lines],
                "allocation": [allocation.id],
                "participation": [p.id for p in offer.participations],
                "quote_round": [r.id for r in offer.rounds],
                "offer": [offer.id],
                "resource": [offer.resource_id],
                "vendor": [offer.resource.vendor_id],
                "member": [member.id],
            }
        )
        return runs[0].id, runs[1].id


def test_two_concurrent_runs_cannot_both_bill_the_same_share(app, pg) -> None:
    engine, created = pg
    first_run, second_run = _two_draft_runs_of_one_allocation(app, engine, created)

    def issue(run_id: int) -> Callable[[Session], None]:
        def act(session: Session) -> None:
            run = session.get(BillingRun, run_id)
            services.issue_run(session, settings(), run, issue_date=ISSUED_ON)

        return act

    outcome = _race(app, engine, issue(first_run), issue(second_run))

    assert isinstance(outcome, ServiceError), outcome
    assert "already billed on issued invoice(s) CS-2098-0001" in outcome.message
    with Session(engine) as check:
        issued = check.scalars(
            select(Invoice.number).where(Invoice.year == YEAR, Invoice.status == "issued")
        ).all()
        assert issued == ["CS-2098-0001"]
        sequence = check.scalar(select(InvoiceSequence).where(InvoiceSequence.year == YEAR))
        assert sequence.last_number == 1  # the refused run took no number


def test_runs_issued_in_different_years_cannot_both_bill_the_same_share(app, pg) -> None:
    """Numbers are locked per issue year; the shares themselves are locked too."""
    engine, created = pg
    first_run, second_run = _two_draft_runs_of_one_allocation(app, engine, created)

    def issue(run_id: int, issued_on: dt.date) -> Callable[[Session], None]:
        def act(session: Session) -> None:
            run = session.get(BillingRun, run_id)
            services.issue_run(session, settings(), run, issue_date=issued_on)

        return act

    late = dt.date(YEAR + 1, 1, 2)  # the second issuer dates its run in the next year
    outcome = _race(app, engine, issue(first_run, ISSUED_ON), issue(second_run, late))

    assert isinstance(outcome, ServiceError), outcome
    assert "already billed on issued invoice(s) CS-2098-0001" in outcome.message
    with Session(engine) as check:
        issued = check.scalars(
            select(Invoice.number).where(Invoice.year == YEAR, Invoice.status == "issued")
        ).all()
        assert issued == ["CS-2098-0001"]
