"""Access entries of the member pages (beyond the core list and detail) and the members API."""

from __future__ import annotations

from tests.access_registry import Entry


def _other(w):
    return {"member_id": w.other.id}


ENTRIES = {
    "members.new": Entry(data=lambda w: {"code": "NEWX", "name": "New", "billing_currency": "EUR"}),
    "members.edit": Entry(_other, data=lambda w: {"code": "OTHER", "name": "Renamed"}),
    "members.edit_facts": Entry(_other, data=lambda w: {"row-0": "fte", "col-0": "2026"}),
    "members.facts": Entry(),
    "members.save_facts": Entry(data=lambda w: {"row-0": str(w.other.id), "col-0": "2026"}),
    "members.import_members": Entry(),
    "members.confirm_import": Entry(data=lambda w: {"token": "x" * 32}),
    "members.export": Entry(lambda w: {"fmt": "csv"}),
    "api.create_member": Entry(data=lambda w: {"code": "NEWX", "name": "New"}),
    "api.update_member": Entry(_other, data=lambda w: {"name": "Renamed"}),
    "api.member_facts": Entry(_other),
    "api.put_member_facts": Entry(
        _other, data=lambda w: {"facts": [{"year": 2026, "name": "fte", "value": "1"}]}
    ),
}
