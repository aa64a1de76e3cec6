"""Savings statements and consortium reports."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("statements", __name__, url_prefix="/statements")
