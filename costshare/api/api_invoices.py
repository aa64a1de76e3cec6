"""API: billing runs, invoices and their PDFs (a member's token sees only its own, never drafts)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from costshare.access import access, member_scope
from costshare.api.openapi import PAGE_PARAMETERS, SCHEMAS, document, list_of, ref
from costshare.api.views import blueprint, paginated
from costshare.db import today
from costshare.downloads import content_disposition
from costshare.invoices import queries, services
from costshare.invoices.models import INVOICE_KINDS, INVOICE_STATUSES, BillingRun, Invoice
from costshare.invoices.services import half_even
from costshare.invoices.views import invoice_or_404

MONEY = ref("Money")
DATE = {"type": "string", "format": "date", "nullable": True}

SCHEMAS["Invoice"] = {
    "type": "object",
    "required": [
        "id",
        "number",
        "kind",
        "member_code",
        "status",
        "currency",
        "total",
        "issue_date",
        "due_date",
    ],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string", "nullable": True},
        "kind": {"type": "string", "enum": list(INVOICE_KINDS)},
        "credits": {"type": "string", "nullable": True},
        "member_id": {"type": "integer"},
        "member_code": {"type": "string"},
        "status": {"type": "string", "enum": list(INVOICE_STATUSES)},
        "year": {"type": "integer"},
        "run_id": {"type": "integer", "nullable": True},
        "currency": {"type": "string"},
        "net": MONEY,
        "tax": MONEY,
        "total": MONEY,
        "paid": MONEY,
        "balance": MONEY,
        "issue_date": DATE,
        "due_date": DATE,
        "source_currency": {"type": "string", "nullable": True},
        "exchange_rate": {"type": "string", "nullable": True},
        "exchange_rate_date": DATE,
        "pdf": {"type": "string"},
    },
}
SCHEMAS["InvoiceLine"] = {
    "type": "object",
    "required": ["position", "kind", "description", "source_amount", "net", "tax", "gross"],
    "properties": {
        "position": {"type": "integer"},
        "kind": {"type": "string"},
        "description": {"type": "string"},
        "term": {"type": "string", "nullable": True},
        "allocation_line_id": {"type": "integer", "nullable": True},
        "source_amount": MONEY,
        "net": MONEY,
        "tax_rate": {"type": "string"},
        "tax": MONEY,
        "gross": MONEY,
        "explanation": {"type": "object"},
    },
}
SCHEMAS["InvoiceDetail"] = {
    "allOf": [
        ref("Invoice"),
        {
            "type": "object",
            "required": ["lines", "payments", "seller", "buyer"],
            "properties": {
                "seller": {"type": "object"},
                "buyer": {"type": "object"},
                "notes": {"type": "string", "nullable": True},
                "void_reason": {"type": "string", "nullable": True},
                "lines": {"type": "array", "items": ref("InvoiceLine")},
                "payments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "paid_on": {"type": "string", "format": "date"},
                            "amount": MONEY,
                            "reference": {"type": "string", "nullable": True},
                        },
                    },
                },
            },
        },
    ]
}
SCHEMAS["BillingRun"] = {
    "type": "object",
    "required": ["id", "name", "year", "mode", "status"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "year": {"type": "integer"},
        "mode": {"type": "string"},
        "status": {"type": "string"},
        "issue_date": DATE,
        "tax_rate": {"type": "string"},
        "exchange_rates": {"type": "array", "items": {"type": "object"}},
    },
}

FILTERS = [
    {
        "name": "year",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1900, "maximum": 9999},
    },
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(INVOICE_STATUSES)}},
    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(INVOICE_KINDS)}},
]


def _money(value: Any, currency: str | None = None) -> str | None:
    """Write money as a decimal string, on its currency's grid when one is given."""
    if value is None:
        return None
    return str(half_even(value, currency) if currency else value)


def _date(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    sign = -1 if invoice.kind == "credit_note" else 1
    cur = invoice.currency
    return {
        "id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "credits": invoice.credited_invoice.number if invoice.credited_invoice else None,
        "member_id": invoice.member_id,
        "member_code": invoice.member.code,
        "status": invoice.status,
        "year": invoice.year,
        "run_id": invoice.run_id,
        "currency": invoice.currency,
        "net": _money(sign * invoice.net, cur),
        "tax": _money(sign * invoice.tax, cur),
        "total": _money(sign * invoice.gross, cur),
        "paid": _money(invoice.paid, cur),
        "balance": _money(invoice.balance, cur),
        "issue_date": _date(invoice.issue_date),
        "due_date": _date(invoice.due_date),
        "source_currency": invoice.source_currency,
        "exchange_rate": _money(invoice.exchange_rate),
        "exchange_rate_date": _date(invoice.exchange_rate_date),
        "pdf": f"/api/v1/invoices/{invoice.id}.pdf",
    }


@blueprint.route("/invoices")
@access("user")
@document(
    "List invoices and credit notes (a member sees its own, issued ones only); "
    "credit notes carry negative amounts",
    {200: list_of("Invoice")},
    PAGE_PARAMETERS + FILTERS,
)
def invoices():
    filters = queries.InvoiceFilter.from_args(request.args)
    filters.sort = "number"
    query = queries.invoice_query(filters, member_scope(), today())
    return paginated(query.options(selectinload(Invoice.credited_invoice)), invoice_json)


@blueprint.route("/invoices/<int:invoice_id>")
@access("user")
@document("One invoice with its lines and payments", {200: ref("InvoiceDetail"), 404: ref("Error")})
def invoice(invoice_id: int):
    found = invoice_or_404(invoice_id)
    source = found.source_currency or found.currency
    data = invoice_json(found)
    data.update(
        {
            "seller": found.seller,
            "buyer": found.buyer,
            "notes": found.notes,
            "void_reason": found.void_reason,
            "lines": [
                {
                    "position": line.position,
                    "kind": line.kind,
                    "description": line.description,
                    "term": line.term,
                    "allocation_line_id": line.allocation_line_id,
                    "source_amount": _money(line.source_amount, source),
                    "net": _money(line.net, found.currency),
                    "tax_rate": _money(line.tax_rate.normalize()),
                    "tax": _money(line.tax, found.currency),
                    "gross": _money(line.gross, found.currency),
                    "explanation": line.explanation,
                }
                for line in found.lines
            ],
            "payments": [
                {
                    "paid_on": _date(p.paid_on),
                    "amount": _money(p.amount, found.currency),
                    "reference": p.reference,
                }
                for p in found.payments
            ],
        }
    )
    return jsonify(data)


@blueprint.route("/invoices/<int:invoice_id>.pdf")
@access("user")
@document(
    "The invoice's PDF: the stored, byte-identical document once issued (a preview for drafts)",
    {
        200: {
            "description": "PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        404: ref("Error"),
    },
)
def invoice_pdf(invoice_id: int):
    found = invoice_or_404(invoice_id)
    response = Response(services.invoice_pdf(found), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(services.pdf_filename(found))
    # A member's invoice: never kept by a shared cache or on disk.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def run_json(run: BillingRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "year": run.year,
        "mode": run.mode,
        "status": run.status,
        "issue_date": _date(run.issue_date),
        "tax_rate": _money(run.tax_rate),
        "exchange_rates": run.exchange_rates,
    }


@blueprint.route("/billing-runs")
@access("staff")
@document("List billing runs, newest first", {200: list_of("BillingRun")}, PAGE_PARAMETERS)
def billing_runs():
    return paginated(select(BillingRun).order_by(BillingRun.id.desc()), run_json)
