"""Cost-sharing formulas: presets and the consortium's own."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("formulas", __name__, url_prefix="/formulas")
