"""Users: invitations, roles, deactivation, password resets."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("users", __name__, url_prefix="/users")
