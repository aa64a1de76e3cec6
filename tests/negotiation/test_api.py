"""The negotiation API: what-if and scenarios by token, the same numbers as the page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from costshare.offers.models import Scenario
from tests.factories import create_member, create_offer

PRICING = {
    "pricing": {"kind": "list_discount", "tiers": [{"min_members": 3, "discount": "0.10"}]},
    "surcharge": "0.02",
}


@pytest.fixture
def offer(session):
    """List prices 5,000 / 3,000 / 2,000; 10 % off from 3 members; 2 % surcharge."""
    members = [create_member(session, code=c) for c in ("PA", "PB", "PC")]
    prices = dict(zip(members, ("5000.00", "3000.00", "2000.00"), strict=True))
    return create_offer(session, pricing=PRICING, joined=members, solo=prices, title="API offer")


def call(client, world, method, url, body=None, role="negotiator"):
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    return client.open(url, method=method, json=body, headers=headers)


def test_what_if_names_the_tier_and_every_share(client, world, offer) -> None:
    response = call(
        client, world, "POST", f"/api/v1/offers/{offer.id}/what-if", {"members": ["PA", "PB"]}
    )
    assert response.status_code == 200, response.json
    data = response.json
    # As joined: 0.9 × 10,000 = 9,000; + 2 % = 9,180. PA and PB alone: 8,000 + 2 % = 8,160.
    assert data["baseline"]["total"] == "9180.00"
    assert data["result"]["price"] == "8000.00"
    assert data["result"]["total"] == "8160.00"
    assert data["tier"]["change"] == "lost"
    assert data["tier"]["before"] == {"min_members": 3, "discount": "0.10"}
    assert data["tier"]["after"] is None
    # Proportional savings: PA 9,180 × 5/10 = 4,590 → 8,160 × 5/8 = 5,100 (+510).
    changes = {c["code"]: c for c in data["changes"]}
    assert changes["PA"] == {
        "code": "PA",
        "status": "in",
        "before": "4590.00",
        "after": "5100.00",
        "change": "510.00",
    }
    assert changes["PC"]["status"] == "out" and changes["PC"]["after"] is None
    assert data["fairness"]["formula_core"]["in_core"] is True


def test_bad_what_ifs_are_422_with_the_field(client, world, offer) -> None:
    url = f"/api/v1/offers/{offer.id}/what-if"
    for body, field in (
        ({"members": "PA"}, "members"),
        ({"max_change": "2"}, "max_change"),
        ({"max_change": True}, "max_change"),
        ({"colour": "red"}, "colour"),
    ):
        response = call(client, world, "POST", url, body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["details"], response.json
    assert call(client, world, "POST", url, [1, 2]).status_code == 400
    assert call(client, world, "POST", "/api/v1/offers/999999/what-if", {}).status_code == 404


def test_scenarios_are_saved_listed_and_read(client, session, world, offer) -> None:
    response = call(
        client,
        world,
        "POST",
        f"/api/v1/offers/{offer.id}/scenarios",
        {"name": "PA and PB", "note": "for the call", "members": ["PB", "PA"]},
    )
    assert response.status_code == 201, response.json
    saved = response.json
    assert saved["data"]["members"] == ["PA", "PB"]
    assert saved["url"].endswith(f"/negotiation/scenarios/{saved['id']}")
    listed = call(client, world, "GET", f"/api/v1/offers/{offer.id}/scenarios").json
    assert listed["count"] == 1 and listed["items"][0]["name"] == "PA and PB"
    one = call(client, world, "GET", f"/api/v1/scenarios/{saved['id']}", role="coordinator")
    assert one.json["created_by"] == world.negotiator.email
    assert session.scalar(select(Scenario.note)) == "for the call"
    refused = call(client, world, "POST", f"/api/v1/offers/{offer.id}/scenarios", {"name": ""})
    assert refused.status_code == 422


def test_member_tokens_get_404(client, world, offer) -> None:
    url = f"/api/v1/offers/{world.own_offer.id}/what-if"
    assert call(client, world, "POST", url, {}, role="member").status_code == 404


def test_money_in_the_answer_is_exact_text(client, world, offer) -> None:
    data = call(client, world, "POST", f"/api/v1/offers/{offer.id}/what-if", {}).json
    shares = data["fairness"]["shapley"]
    assert sum(Decimal(v) for v in shares.values()) == Decimal(data["result"]["total"])


def test_unknown_references_are_404_and_what_the_offer_cannot_give_is_409(
    client, world, offer
) -> None:
    url = f"/api/v1/offers/{offer.id}/what-if"
    # A member or formula the offer does not have is "not found", as an unknown id would be.
    assert call(client, world, "POST", url, {"members": ["NOPE"]}).status_code == 404
    assert call(client, world, "POST", url, {"formula": "preset:nope"}).status_code == 404
    # A well-formed what-if the offer's own figures cannot answer: no uplift to change.
    answer = call(client, world, "POST", url, {"uplift": "0.05"})
    assert answer.status_code == 409 and "uplift" in answer.json["details"]


def test_names_lose_nul_characters_and_broken_unicode(client, session, world, offer) -> None:
    body = {"name": "Plan\u0000 B \ud800", "members": ["PA"]}
    response = call(client, world, "POST", f"/api/v1/offers/{offer.id}/scenarios", body)
    assert response.status_code == 201
    assert response.json["name"] == "Plan B ?"
