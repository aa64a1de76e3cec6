"""The allocation workspace: preview, compare, finalize."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("allocations", __name__, url_prefix="/allocations")
