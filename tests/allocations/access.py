"""Access entries of the allocation pages and API, and the other member's allocations they use."""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry

EQUAL = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
SCENARIO = {
    "currency": "EUR",
    "total": "100.00",
    "members": [{"code": "A"}, {"code": "B"}],
    "formula": EQUAL["formula"],
}


def build(session: Any, world: Any) -> None:
    """A final allocation of the other member's offer, and a draft of the shared offer."""
    from costshare.allocations.services import finalize, load_offer, save_draft

    other = save_draft(session, load_offer(session, world.other_offer.id), 1, EQUAL, name="Equal")
    finalize(session, other, world.coordinator, other.version)
    draft = save_draft(session, load_offer(session, world.own_offer.id), 1, EQUAL, name="Equal")
    world.objects["other_final_id"] = other.id
    world.objects["draft_id"] = draft.id
    world.objects["draft_version"] = draft.version


def _final(w: Any) -> dict[str, Any]:
    return {"allocation_id": w.objects["other_final_id"]}


def _draft(w: Any) -> dict[str, Any]:
    return {"allocation_id": w.objects["draft_id"]}


ENTRIES = {
    "allocations.index": Entry(),
    "allocations.offer": Entry(lambda w: {"offer_id": w.other_offer.id}),
    "allocations.workspace": Entry(
        lambda w: {"offer_id": w.other_offer.id, "term_year": 1},
        data=lambda w: {"action": "preview", "components-0-kind": "equal"},
    ),
    "allocations.detail": Entry(_final),
    "allocations.export": Entry(_final),
    "allocations.recompute": Entry(_draft, data=lambda w: {"version": w.objects["draft_version"]}),
    "allocations.finalize": Entry(_draft, data=lambda w: {"version": w.objects["draft_version"]}),
    "api.calc": Entry(data=lambda w: SCENARIO),
    "api.allocation_list": Entry(member="allowed"),
    "api.allocation_read": Entry(_final),
    "api.allocation_create": Entry(
        data=lambda w: {"offer_id": w.other_offer.id, "preset": "equal"}
    ),
    "api.allocation_recompute": Entry(_draft, data=lambda w: {}),
    "api.allocation_finalize": Entry(
        _draft, data=lambda w: {"version": w.objects["draft_version"]}
    ),
}
