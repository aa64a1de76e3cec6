"""Access entries of the negotiation pages and API: staff only, member users get 404."""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry


def build(session: Any, world: Any) -> None:
    """A saved what-if on the other member's offer."""
    from costshare.offers.models import Scenario

    scenario = Scenario(
        offer_id=world.other_offer.id,
        name="Other's what-if",
        data={"members": [world.other.code]},
        created_by_id=world.negotiator.id,
    )
    session.add(scenario)
    session.flush()
    world.objects["scenario_id"] = scenario.id


def _offer(w: Any) -> dict[str, Any]:
    return {"offer_id": w.other_offer.id}


def _scenario(w: Any) -> dict[str, Any]:
    return {"scenario_id": w.objects["scenario_id"]}


ENTRIES = {
    "negotiation.index": Entry(),
    "negotiation.index_export": Entry(lambda w: {"year": 2027}),
    "negotiation.offer": Entry(_offer),
    "negotiation.what_if": Entry(_offer, data=lambda w: {"whatif": "1"}),
    "negotiation.export_offer": Entry(_offer),
    "negotiation.brief_pdf": Entry(_offer),
    "negotiation.save_scenario": Entry(_offer, data=lambda w: {"name": "Try", "whatif": "1"}),
    "negotiation.scenario": Entry(_scenario),
    "negotiation.delete_scenario": Entry(_scenario),
    "api.what_if": Entry(_offer, data=lambda w: {}),
    "api.scenarios": Entry(_offer),
    "api.create_scenario": Entry(_offer, data=lambda w: {"name": "Try"}),
    "api.scenario": Entry(_scenario),
}
