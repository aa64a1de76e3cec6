"""Access entries of the user administration pages (coordinators only)."""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry


def _user(w: Any) -> dict[str, Any]:
    return {"user_id": w.other_member_user.id}


ENTRIES = {
    "users.index": Entry(),
    "users.invite": Entry(data=lambda w: {"email": "new@example.org", "role": "negotiator"}),
    "users.deactivate": Entry(_user),
    "users.activate": Entry(_user),
    "users.reset_password": Entry(_user),
}
