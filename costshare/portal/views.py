"""A member user's own page: invoices, shares, savings, usage."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("portal", __name__, url_prefix="/portal")
