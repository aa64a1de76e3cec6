"""A corrected invoice points at the voided invoice it replaces, whatever its note says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, make_url, text

from costshare import migrate
from costshare.errors import constraint_name
from costshare.invoices import services
from tests.invoices.support import issued_run, settings
from tests.resources import scratch_database

BEFORE = "07d174418fd6"  # the revision before replacements were linked


@pytest.fixture
def voided(session, world, app):
    """OWN's invoice CS-2027-0002 voided with a corrected draft; OTHER's 0001 stays issued."""
    with app.test_request_context():
        billing = issued_run(session, world)
        invoice = billing.invoice_of(world.own)
        _credit, replacement = services.void_invoice(
            session,
            settings(),
            invoice,
            reason="Wrong address",
            issue_date=dt.date(2027, 1, 20),
            reissue=True,
        )
    return billing, invoice, replacement


def test_the_corrected_draft_points_at_the_invoice_it_replaces(session, world, voided) -> None:
    billing, invoice, replacement = voided
    assert replacement.replaces_invoice_id == invoice.id
    assert replacement.replaces_invoice is invoice
    other = billing.invoice_of(world.other)
    assert other.replaces_invoice_id is None
    assert services.replacement_of(session, invoice) is replacement
    assert services.replacement_of(session, other) is None


def test_the_voided_invoice_links_its_replacement_after_the_note_changed(
    as_coordinator, session, voided
) -> None:
    _billing, invoice, replacement = voided
    services.update_draft(session, replacement, notes="New PO number 4711, please quote it.")
    page = as_coordinator.get(f"/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert f'Replaced by <a href="/billing/invoices/{replacement.id}">a draft</a>.' in page


def test_a_member_user_is_not_linked_to_a_draft_it_cannot_open(
    as_member, session, app, voided
) -> None:
    _billing, invoice, replacement = voided
    page = as_member.get(f"/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert "A corrected invoice will follow." in page
    assert f"/billing/invoices/{replacement.id}" not in page
    assert as_member.get(f"/billing/invoices/{replacement.id}").status_code == 404
    with app.test_request_context():
        services.issue_invoice(session, settings(), replacement, issue_date=dt.date(2027, 1, 21))
    page = as_member.get(f"/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert (
        f'Replaced by <a href="/billing/invoices/{replacement.id}">{replacement.number}</a>.'
        in page
    )


def test_the_link_never_changes_once_the_replacement_is_issued(session, app, voided) -> None:
    replacement = voided[2]
    with app.test_request_context():
        services.issue_invoice(session, settings(), replacement, issue_date=dt.date(2027, 1, 21))
    savepoint = session.begin_nested()
    with pytest.raises(Exception) as caught:
        session.execute(
            text("UPDATE invoice SET replaces_invoice_id = NULL WHERE id = :id"),
            {"id": replacement.id},
        )
    savepoint.rollback()
    assert constraint_name(caught.value) == "invoice_immutable"


def _insert_invoice(conn, **values) -> None:
    row = {
        "kind": "invoice",
        "year": 2027,
        "currency": "EUR",
        "net": 100,
        "tax": 0,
        "gross": 100,
        "paid": 0,
        "seller": "{}",
        "buyer": "{}",
        "created_at": "2027-01-15 00:00:00",
        "updated_at": "2027-01-15 00:00:00",
        **values,
    }
    names = ", ".join(row)
    conn.execute(
        text(f"INSERT INTO invoice ({names}) VALUES ({', '.join(':' + n for n in row)})"),  # noqa: S608
        row,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """An empty SQLite file, or a new database on the suite's PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    base = make_url(request.getfixturevalue("postgres_database_url"))
    with scratch_database(base, f"{base.database}_replaces") as url:
        yield url


def test_the_migration_links_replacements_drafted_before(empty_database_url) -> None:
    url = empty_database_url
    migrate.upgrade(BEFORE, database_url=url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO member (id, code, name, billing_currency, tax_treatment, active, "
                "created_at, updated_at) VALUES (1, 'OWN', 'Own', 'EUR', 'standard', :yes, "
                "'2027-01-01', '2027-01-01')"
            ),
            {"yes": True},
        )
        conn.execute(
            text(
                "INSERT INTO billing_run (id, year, name, mode, status, exchange_rates, "
                "tax_rate, created_at, updated_at) VALUES (1, 2027, 'Run', 'per_member', "
                "'issued', '[]', 0, '2027-01-01', '2027-01-01')"
            )
        )
        # CS-2027-0001 and CS-2027-0011 were voided; 0011's replacement was issued as 0012,
        # 0001's is still a draft; a note merely naming an invoice links nothing.
        _insert_invoice(conn, id=1, run_id=1, member_id=1, number="CS-2027-0001", status="void")
        _insert_invoice(conn, id=2, run_id=1, member_id=1, number="CS-2027-0011", status="void")
        _insert_invoice(
            conn,
            id=3,
            run_id=1,
            member_id=1,
            number="CS-2027-0012",
            status="issued",
            notes="Replaces invoice CS-2027-0011, voided: Wrong address",
        )
        _insert_invoice(
            conn,
            id=4,
            run_id=1,
            member_id=1,
            status="draft",
            notes="Replaces invoice CS-2027-0001, voided: Wrong tax id",
        )
        _insert_invoice(conn, id=5, run_id=1, member_id=1, status="draft", notes="See CS-2027-0001")
    migrate.upgrade("head", database_url=url)
    with engine.connect() as conn:
        links = dict(conn.execute(text("SELECT id, replaces_invoice_id FROM invoice")).all())
    assert links == {1: None, 2: None, 3: 2, 4: 1, 5: None}
    if url.startswith("sqlite"):
        # Going back would rebuild the table and lose the invoices' lines: refused.
        with pytest.raises(RuntimeError, match="holds invoices"):
            command.downgrade(migrate.alembic_config(url), BEFORE)
    else:
        command.downgrade(migrate.alembic_config(url), BEFORE)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM invoice")).scalar() == 5
    engine.dispose()
