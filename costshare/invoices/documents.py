"""What an invoice PDF shows, as plain data: templates get these, never ORM objects.

`invoice_document(invoice)` reads only what the invoice itself froze — its
seller and buyer, its lines and their stored explanations — so an issued
invoice renders the same whatever happens to members, offers or formulas later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision

from costshare.invoices.models import Invoice

REVERSE_CHARGE_NOTE = (
    "Reverse charge: no tax is charged on this invoice; the buyer accounts for the tax "
    "on these services in its own country."
)
EXEMPT_NOTE = "Exempt from tax: no tax is charged to this buyer."


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: list[str]
    tax_id: str | None
    email: str | None = None
    code: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class Part:
    label: str
    amount: Decimal
    basis: Decimal | None = None
    basis_label: str | None = None


@dataclass(frozen=True)
class LineDoc:
    position: int
    kind: str
    description: str
    term: str | None
    source_amount: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: Decimal
    gross: Decimal
    #: Under the line: the formula, the parts that add up, the bound, solo price and saving.
    formula: str | None = None
    parts: list[Part] = field(default_factory=list)
    amount: Decimal | None = None
    surcharge: Decimal | None = None
    bound_text: str | None = None
    solo_price: Decimal | None = None
    savings: Decimal | None = None
    savings_pct: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True)
class InvoiceDoc:
    kind: str
    title: str
    number: str | None
    draft: bool
    void: bool
    issue_date: dt.date | None
    due_date: dt.date | None
    year: int
    currency: str
    #: The offers' currency, when the member is billed in another one.
    source_currency: str | None
    exchange_rate: Decimal | None
    exchange_rate_date: dt.date | None
    seller: Party
    buyer: Party
    lines: list[LineDoc]
    net: Decimal
    tax: Decimal
    gross: Decimal
    source_total: Decimal
    tax_notes: list[str]
    bank_details: str
    logo: str | None
    notes: str | None
    credited_number: str | None = None
    credited_issue_date: dt.date | None = None
    tax_rates: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == "credit_note"

    @property
    def unit(self) -> Decimal:
        return Decimal(1).scaleb(-get_currency_precision(self.currency))


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _party(data: dict[str, Any]) -> Party:
    address = data.get("address") or ""
    return Party(
        name=data.get("name", ""),
        address_lines=[line for line in address.splitlines() if line.strip()],
        tax_id=data.get("tax_id") or None,
        email=data.get("email") or None,
        code=data.get("code") or None,
        contact=data.get("contact") or None,
    )


def _line(line: Any) -> LineDoc:
    explanation = line.explanation or {}
    common = {
        "position": line.position,
        "kind": line.kind,
        "description": line.description,
        "term": line.term,
        "source_amount": line.source_amount,
        "net": line.net,
        "tax_rate": line.tax_rate,
        "tax": line.tax,
        "gross": line.gross,
    }
    if explanation.get("kind") == "share":
        return LineDoc(
            **common,
            formula=explanation.get("formula"),
            parts=[
                Part(
                    label=p["label"],
                    amount=Decimal(p["amount"]),
                    basis=_decimal(p.get("basis")),
                    basis_label=p.get("basis_label"),
                )
                for p in explanation.get("parts", [])
            ],
            amount=_decimal(explanation.get("amount")),
            surcharge=_decimal(explanation.get("surcharge")),
            bound_text=explanation.get("bound_text"),
            solo_price=_decimal(explanation.get("solo_price")),
            savings=_decimal(explanation.get("savings")),
            savings_pct=_decimal(explanation.get("savings_pct")),
        )
    return LineDoc(**common, note=explanation.get("text"))


def invoice_document(invoice: Invoice) -> InvoiceDoc:
    """Return the plain data an invoice or credit note PDF prints."""
    buyer = invoice.buyer or {}
    seller = invoice.seller or {}
    notes = []
    treatment = buyer.get("tax_treatment")
    if treatment == "reverse_charge":
        notes.append(REVERSE_CHARGE_NOTE)
    elif treatment == "exempt":
        notes.append(EXEMPT_NOTE)
    lines = [_line(line) for line in invoice.lines]
    by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        net, tax = by_rate.get(line.tax_rate, (Decimal(0), Decimal(0)))
        by_rate[line.tax_rate] = (net + line.net, tax + line.tax)
    credited = invoice.credited_invoice
    is_credit = invoice.kind == "credit_note"
    return InvoiceDoc(
        kind=invoice.kind,
        title="Credit note" if is_credit else "Invoice",
        number=invoice.number,
        draft=invoice.status == "draft",
        void=invoice.status == "void",
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        year=invoice.year,
        currency=invoice.currency,
        source_currency=invoice.source_currency,
        exchange_rate=invoice.exchange_rate,
        exchange_rate_date=invoice.exchange_rate_date,
        seller=_party(seller),
        buyer=_party(buyer),
        lines=lines,
        net=invoice.net,
        tax=invoice.tax,
        gross=invoice.gross,
        source_total=sum((line.source_amount for line in lines), Decimal(0)),
        tax_notes=notes,
        bank_details=seller.get("bank_details", ""),
        logo=seller.get("logo"),
        notes=invoice.notes,
        credited_number=credited.number if credited is not None else None,
        credited_issue_date=credited.issue_date if credited is not None else None,
        tax_rates=[(rate, net, tax) for rate, (net, tax) in sorted(by_rate.items())],
    )
