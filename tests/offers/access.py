"""Access entries of the offer pages and the offer, round and participation API.

Every URL names `world.other_offer`, which only the *other* member joined.
"""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry


def _offer(w: Any) -> dict[str, Any]:
    return {"offer_id": w.other_offer.id}


def _round(w: Any) -> dict[str, Any]:
    return {"offer_id": w.other_offer.id, "round_id": w.other_offer.current_round_id}


def _version(w: Any) -> dict[str, Any]:
    return {"version": w.other_offer.version}


ENTRIES = {
    "offers.index": Entry(),
    "offers.new": Entry(data=lambda w: {"title": "x"}),
    "offers.detail": Entry(_offer),
    "offers.edit": Entry(_offer, data=lambda w: {"title": "x", **_version(w)}),
    "offers.participants": Entry(_offer),
    "offers.save_participants": Entry(_offer, data=_version),
    "offers.invite": Entry(_offer, data=lambda w: {"members": str(w.own.id), **_version(w)}),
    "offers.history": Entry(_offer),
    "offers.new_round": Entry(_offer, data=lambda w: {"kind": "total", "total": "100"}),
    "offers.edit_round": Entry(_round, data=lambda w: {"kind": "total", "total": "100"}),
    "offers.make_current": Entry(_round, data=_version),
    "offers.solo_prices": Entry(_round),
    "offers.save_solo_prices": Entry(_round, data=lambda w: {f"price-{w.other.id}": "10"}),
    "offers.compute_solo_prices": Entry(_round),
    "offers.import_solo_prices": Entry(_round),
    "api.offers_list": Entry(member="allowed"),
    "api.offer": Entry(_offer),
    "api.create_offer": Entry(data=lambda w: {"title": "x"}),
    "api.update_offer": Entry(_offer, data=lambda w: {"title": "x"}),
    "api.rounds": Entry(_offer),
    "api.create_round": Entry(_offer, data=lambda w: {"pricing": {"total": "100.00"}}),
    "api.quote_round": Entry(_round),
    "api.update_round": Entry(_round, data=lambda w: {"label": "x"}),
    "api.participations": Entry(_offer),
    "api.record_participation": Entry(
        _offer, data=lambda w: {"member_id": w.other.id, "status": "joined"}
    ),
}
