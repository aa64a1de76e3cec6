"""Invoices and payments as CSV or XLSX for the accounting system.

Amounts are exact decimals (never floats) in the document's currency; credit
notes carry negative amounts so that a column adds up to what is owed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from costshare.invoices.models import Invoice, Payment
from costshare.invoices.services import half_even
from costshare.xlsx import safe_cell

INVOICE_HEADERS = [
    "number",
    "kind",
    "credits",
    "status",
    "member_code",
    "member_name",
    "buyer_tax_id",
    "year",
    "issue_date",
    "due_date",
    "currency",
    "net",
    "tax",
    "gross",
    "paid",
    "balance",
    "source_currency",
    "exchange_rate",
    "exchange_rate_date",
    "void_reason",
    "emailed_to",
]
PAYMENT_HEADERS = [
    "invoice_number",
    "member_code",
    "paid_on",
    "currency",
    "amount",
    "reference",
]
#: Columns holding money, and the column naming their currency.
INVOICE_MONEY = {"net", "tax", "gross", "paid", "balance"}
PAYMENT_MONEY = {"amount"}


def invoice_row(invoice: Invoice, credited: dict[int, str]) -> list[Any]:
    sign = -1 if invoice.kind == "credit_note" else 1
    cur = invoice.currency
    return [
        invoice.number or "",
        invoice.kind,
        credited.get(invoice.credited_invoice_id or 0, ""),
        invoice.status,
        invoice.member.code,
        invoice.member.name,
        (invoice.buyer or {}).get("tax_id", ""),
        invoice.year,
        invoice.issue_date,
        invoice.due_date,
        invoice.currency,
        half_even(sign * invoice.net, cur),
        half_even(sign * invoice.tax, cur),
        half_even(sign * invoice.gross, cur),
        half_even(invoice.paid, cur),
        half_even(invoice.balance, cur),
        invoice.source_currency or "",
        invoice.exchange_rate,
        invoice.exchange_rate_date,
        invoice.void_reason or "",
        invoice.emailed_to or "",
    ]


def payment_row(payment: Payment) -> list[Any]:
    invoice = payment.invoice
    return [
        invoice.number,
        invoice.member.code,
        payment.paid_on,
        invoice.currency,
        half_even(payment.amount, invoice.currency),
        payment.reference or "",
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return safe_cell(str(value))


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8 (CJK names)


def to_xlsx(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], money: set[str]
) -> bytes:
    """Write one sheet; money as numbers in each row's currency format."""
    from costshare.xlsx import Column, Sheet, workbook

    columns = [
        Column(h, "money" if h in money else ("date" if h.endswith(("_date", "_on")) else "text"))
        for h in headers
    ]
    for index, header in enumerate(headers):
        if header in ("year",):
            columns[index] = Column(header, "integer")
        if header == "exchange_rate":
            columns[index] = Column(header, "number")
    return workbook(
        [Sheet(title, columns, list(rows), currency_column=list(headers).index("currency"))]
    )
