"""Offers, quote rounds and participation."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("offers", __name__, url_prefix="/offers")
