"""The database itself refuses what breaks the rules, by named constraints the app explains."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from costshare.errors import constraint_message, constraint_name
from costshare.invoices.models import Invoice
from costshare.members.models import MemberFact
from costshare.offers.models import SoloPrice
from tests.factories import create_member, create_offer


def _refused(session, add) -> IntegrityError:
    savepoint = session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        add()
        session.flush()
    savepoint.rollback()
    return caught.value


def test_duplicate_member_code(session) -> None:
    create_member(session, code="DUP")
    error = _refused(session, lambda: create_member(session, code="DUP"))
    assert constraint_name(error) == "uq_member_code"
    assert constraint_message(error) == "Another member already has this code."


def test_negative_amount(session) -> None:
    member = create_member(session)
    offer = create_offer(session, joined=[member])
    error = _refused(
        session,
        lambda: session.add(
            SoloPrice(round=offer.current_round, member=member, amount=Decimal("-1.00"))
        ),
    )
    assert constraint_name(error) == "ck_solo_price_amount_non_negative"
    assert constraint_message(error) == "Amounts and figures cannot be negative."


def test_second_fact_for_the_same_member_year_and_name(session) -> None:
    member = create_member(session, facts={(2026, "fte"): 100})
    error = _refused(
        session,
        lambda: session.add(MemberFact(member=member, year=2026, name="fte", value=Decimal(5))),
    )
    assert constraint_name(error) == "uq_member_fact_member_year_name"
    assert constraint_message(error) == "This member already has a value for this fact and year."


def test_duplicate_invoice_number(session) -> None:
    member = create_member(session)
    session.add(Invoice(member=member, year=2027, currency="EUR", number="CS-2027-0001"))
    session.flush()
    error = _refused(
        session,
        lambda: session.add(
            Invoice(member=member, year=2027, currency="EUR", number="CS-2027-0001")
        ),
    )
    assert constraint_name(error) == "uq_invoice_number"
    assert constraint_message(error) == "An invoice with this number already exists."


def test_currency_must_be_an_iso_code(session) -> None:
    error = _refused(session, lambda: create_member(session, billing_currency="eu"))
    assert constraint_message(error).startswith("A currency must be a three-letter")


def test_the_app_answers_a_constraint_with_a_sentence(app, session) -> None:
    """An IntegrityError reaching a request becomes a 409 page or JSON error, not a traceback."""
    create_member(session, code="DUP")
    error = _refused(session, lambda: create_member(session, code="DUP"))
    handler = app.error_handler_spec[None][None][IntegrityError]
    with app.test_request_context("/members/"):
        body, status = handler(error)
    assert status == 409 and "Another member already has this code." in body
    with app.test_request_context("/api/v1/members"):
        response = handler(error)
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "Another member already has this code.",
        "details": None,
    }
