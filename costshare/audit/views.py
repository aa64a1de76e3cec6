"""The audit log: who changed what, when."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("audit", __name__, url_prefix="/audit")
