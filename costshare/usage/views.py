"""Usage statistics: imports, SUSHI harvests, usage and cost per use."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("usage", __name__, url_prefix="/usage")
