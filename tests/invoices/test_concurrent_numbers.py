"""On PostgreSQL, 20 coordinators issuing at the same moment get 20 distinct numbers, no gap."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session

from costshare.invoices import services
from costshare.invoices.models import Invoice, InvoiceLine, InvoiceSequence
from costshare.members.models import Member
from tests.invoices.support import settings

COUNT = 20
YEAR = 2099  # a year no other test numbers in


@pytest.fixture
def committed_drafts(app, postgres_database_url):
    """Twenty draft invoices committed for real (so twenty connections see them); removed after."""
    engine = create_engine(postgres_database_url, pool_size=COUNT, max_overflow=0)
    with Session(engine) as setup:
        member = Member(code="CONC", name="Concurrency Library", billing_currency="EUR")
        setup.add(member)
        for n in range(COUNT):
            invoice = Invoice(
                member=member,
                kind="invoice",
                year=YEAR,
                status="draft",
                currency="EUR",
                net=Decimal(n + 1),
                gross=Decimal(n + 1),
                seller={},
                buyer={},
            )
            invoice.lines.append(
                InvoiceLine(
                    position=1,
                    description=f"Share {n + 1}",
                    source_amount=Decimal(n + 1),
                    net=Decimal(n + 1),
                    gross=Decimal(n + 1),
                )
            )
            setup.add(invoice)
        setup.commit()
        ids = [i.id for i in setup.query(Invoice).filter(Invoice.member_id == member.id)]
        member_id = member.id
    yield engine, ids
    with engine.begin() as conn:
        # Issued invoices are permanent: the triggers must be off to clean up the test's own.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids)))
        conn.execute(delete(Invoice).where(Invoice.id.in_(ids)))
        conn.execute(delete(InvoiceSequence).where(InvoiceSequence.year == YEAR))
        conn.execute(delete(Member).where(Member.id == member_id))
    engine.dispose()


def test_twenty_concurrent_issues_take_twenty_numbers_without_a_gap(app, committed_drafts) -> None:
    engine, ids = committed_drafts
    start = threading.Barrier(COUNT)

    def issue(invoice_id: int) -> str:
        with app.app_context(), Session(engine) as session:
            invoice = session.get(Invoice, invoice_id)
            start.wait(timeout=60)
            services.issue_invoice(session, settings(), invoice, issue_date=dt.date(YEAR, 3, 1))
            session.commit()
            return invoice.number

    with ThreadPoolExecutor(max_workers=COUNT) as pool:
        numbers = list(pool.map(issue, ids))

    assert sorted(numbers) == [f"CS-{YEAR}-{n:04d}" for n in range(1, COUNT + 1)]
    with Session(engine) as check:
        assert check.get(InvoiceSequence, _sequence_id(check)).last_number == COUNT


def _sequence_id(session: Session) -> int:
    return session.query(InvoiceSequence.id).filter(InvoiceSequence.year == YEAR).scalar()
