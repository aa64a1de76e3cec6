"""Vendors and their resources."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("vendors", __name__, url_prefix="/vendors")
