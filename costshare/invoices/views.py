"""Billing runs, invoices, credit notes and payments."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("invoices", __name__, url_prefix="/billing")
