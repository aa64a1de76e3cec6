"""A hand-computed billing world shared by the invoice, portal and statement tests.

Two final 2027 allocations (numbers chosen by hand, arithmetic in comments):

- "Alpha Index 2027": price 10,000.00 + 5 % surcharge = 10,500.00 owed.
  OWN 6,300.00 (of which surcharge 300.00; solo 7,000.00 → saves 700.00),
  OTHER 4,200.00 (of which surcharge 200.00; solo 4,000.00 → saves −200.00).
- "Beta Books 2027": OWN alone, 1,234.57 (solo 1,500.00 → saves 265.43).

OTHER is billed in CNY at 1 EUR = 7.8421 CNY (rate of 2027-01-10); the run's
tax rate is 6 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from config import TestConfig
from costshare.invoices import services
from costshare.invoices.models import BillingRun, Invoice
from tests.factories import World, create_final_allocation, create_offer, create_resource

RATE = services.ExchangeRate("EUR", "CNY", Decimal("7.8421"), dt.date(2027, 1, 10))
ISSUE = dt.date(2027, 1, 15)


def settings() -> services.BillingSettings:
    return services.BillingSettings.from_config(vars(TestConfig()))


@dataclass
class Billing:
    alpha: Any
    beta: Any
    run: BillingRun

    def invoice_of(self, member) -> Invoice:
        return next(
            i for i in self.run.invoices if i.member_id == member.id and i.kind == "invoice"
        )


def final_allocations(session, world: World) -> tuple[Any, Any]:
    world.other.billing_currency = "CNY"
    alpha_offer = create_offer(
        session,
        resource=create_resource(session, name="Alpha Index"),
        title="Alpha Index 2027",
        joined=[world.own, world.other],
    )
    beta_offer = create_offer(
        session,
        resource=create_resource(session, name="Beta Books"),
        title="Beta Books 2027",
        joined=[world.own],
    )
    alpha = create_final_allocation(
        session,
        alpha_offer,
        {
            world.own: {
                "amount": "6300.00",
                "surcharge": "300.00",
                "solo_price": "7000.00",
                "explanation": {"equal": "2500.00", "attribute:fte": "3800.00"},
                "attributes": {"fte": "12500"},
            },
            world.other: {
                "amount": "4200.00",
                "surcharge": "200.00",
                "solo_price": "4000.00",
                "explanation": {"equal": "2500.00", "attribute:fte": "1700.00"},
                "attributes": {"fte": "5600"},
            },
        },
        formula_name="Half equal, half FTE",
        formula={
            "components": [
                {"kind": "equal", "weight": 1},
                {"kind": "attribute", "attribute": "fte", "weight": 1},
            ],
            "cap": "solo_price",
        },
        surcharge="0.05",
    )
    beta = create_final_allocation(
        session,
        beta_offer,
        {world.own: {"amount": "1234.57", "solo_price": "1500.00", "bound": "floor"}},
        formula_name="Sole member",
    )
    return alpha, beta


def draft_run(session, world: World, **options: Any) -> Billing:
    alpha, beta = final_allocations(session, world)
    options.setdefault("tax_rate", Decimal("0.06"))
    options.setdefault("rates", [RATE])
    run = services.create_run(session, settings(), year=2027, issue_date=ISSUE, **options)
    return Billing(alpha, beta, run)


def issued_run(session, world: World, **options: Any) -> Billing:
    billing = draft_run(session, world, **options)
    services.issue_run(session, settings(), billing.run, issue_date=ISSUE)
    return billing
