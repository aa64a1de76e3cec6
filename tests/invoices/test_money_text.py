"""Amounts in billing's sentences (emails, refusals, audit log) are written by the one formatter.

Expected texts are checked by hand against tests/test_formatting.py: en_GB writes
1234.5 EUR as "€1,234.50" and yen as "JP¥1,234"; yuan is "CN¥1,234.50" in en_GB
and "1.234,50 CN¥" (no-break space) in de_DE.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare.audit.models import AuditEvent
from costshare.errors import ServiceError
from costshare.invoices import services
from tests.invoices.support import ISSUE, issued_run, settings


def test_the_billing_settings_write_money_in_the_consortiums_locale() -> None:
    en = settings()  # the test consortium's locale: en_GB
    assert en.money(Decimal("1234.5"), "CNY") == "CN¥1,234.50"
    assert en.money(Decimal("1234.5"), "EUR") == "€1,234.50"
    assert en.money(Decimal("1234"), "JPY") == "JP¥1,234"
    # On the currency's grid, half to even: 0.125 → 0.12, 0.135 → 0.14.
    assert en.money(Decimal("0.125"), "EUR") == "€0.12"
    assert en.money(Decimal("0.135"), "EUR") == "€0.14"
    de = dataclasses.replace(en, locale="de_DE")
    assert de.money(Decimal("1234.5"), "CNY") == "1.234,50\xa0CN¥"


def test_the_billing_settings_use_the_one_formatter(monkeypatch) -> None:
    calls = []

    def spy(amount, currency=None, locale=None):
        calls.append((amount, currency, locale))
        return "written"

    monkeypatch.setattr(services, "money", spy)
    assert settings().money(Decimal("1.005"), "EUR") == "written"
    assert calls == [(Decimal("1.00"), "EUR", "en_GB")]


@pytest.fixture
def issued(session, world, app):
    with app.test_request_context():
        return issued_run(session, world)


def test_refusals_write_the_amount_as_pages_do(session, world, issued) -> None:
    other = issued.invoice_of(world.other)  # gross 34,913.03 CNY (test_billing, by hand)
    with pytest.raises(ServiceError) as caught:
        services.record_payment(session, other, amount=Decimal("34913.04"), paid_on=ISSUE)
    assert caught.value.message == "This is more than the balance of CN¥34,913.03."

    own = issued.invoice_of(world.own)  # gross 7,986.64 EUR
    services.record_payment(session, own, amount=Decimal("1234.5"), paid_on=ISSUE)
    with pytest.raises(ServiceError) as caught:
        services.void_invoice(session, settings(), own, reason="late")
    assert caught.value.message == (
        f"Payments of €1,234.50 are recorded against {own.number}; it cannot be voided."
    )


def test_the_audit_log_writes_amounts_as_pages_do(session, world, issued) -> None:
    own = issued.invoice_of(world.own)
    services.record_payment(session, own, amount=Decimal("1234.5"), paid_on=ISSUE)
    summaries = session.scalars(
        select(AuditEvent.summary).where(
            AuditEvent.object_type == "Invoice", AuditEvent.object_id == own.id
        )
    ).all()
    assert f"Issued invoice {own.number} to OWN: €7,986.64" in summaries
    assert f"Recorded a payment of €1,234.50 on {own.number}" in summaries
