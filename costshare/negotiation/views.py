"""Negotiation: solo vs joint, what-if, fairness, rounds, scenarios."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("negotiation", __name__, url_prefix="/negotiation")
