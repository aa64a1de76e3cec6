"""The offers API: offers, rounds (engine-checked pricing), solo prices, participations."""

from __future__ import annotations

from sqlalchemy import select

from costshare.offers.models import Participation, QuoteRound


def api(client, method: str, url: str, token: str, json=None):
    return client.open(url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})


def test_member_users_see_only_the_offers_they_take_part_in(client, world) -> None:
    token = world.tokens["member"]
    listed = api(client, "GET", "/api/v1/offers", token).get_json()
    assert [o["id"] for o in listed["items"]] == [world.own_offer.id]
    assert set(listed) == {"items", "count", "page", "per_page"}
    detail = api(client, "GET", f"/api/v1/offers/{world.own_offer.id}", token).get_json()
    # Of the shared offer, a member user sees only its own participation.
    assert [p["member_code"] for p in detail["participations"]] == ["OWN"]
    other = world.other_offer
    for url in (
        f"/api/v1/offers/{other.id}",
        f"/api/v1/offers/{other.id}/rounds",
        f"/api/v1/offers/{other.id}/rounds/{other.current_round_id}",
        f"/api/v1/offers/{other.id}/participations",
    ):
        assert api(client, "GET", url, token).status_code == 404, url


def test_a_coordinator_creates_an_offer_and_a_round(client, world, session) -> None:
    token = world.tokens["coordinator"]
    created = api(
        client,
        "POST",
        "/api/v1/offers",
        token,
        {
            "resource_id": world.own_offer.resource_id,
            "title": "Three-year deal",
            "term_start": "2027-01-01",
            "term_end": "2029-12-31",
            "currency": "EUR",
        },
    )
    assert created.status_code == 201, created.get_json()
    offer = created.get_json()
    assert offer["term_years"] == 3 and offer["status"] == "draft" and offer["rounds"] == []

    bad = api(
        client,
        "POST",
        f"/api/v1/offers/{offer['id']}/rounds",
        token,
        {"pricing": {"total": "1000.00", "term": {"totals": ["1000.00", "1030.00"]}}},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"].startswith("The offer's term has 3 year(s)")

    unknown = api(
        client, "POST", f"/api/v1/offers/{offer['id']}/rounds", token, {"pricing": {"totl": "1"}}
    )
    assert unknown.status_code == 422 and "totl" in unknown.get_json()["error"]

    off_grid = api(
        client,
        "POST",
        f"/api/v1/offers/{offer['id']}/rounds",
        token,
        {"pricing": {"total": 10.005}},
    )
    assert off_grid.status_code == 422
    assert "multiple of the rounding unit" in off_grid.get_json()["error"]

    # Sent as JSON text with a number: it must be kept exactly, as text.
    good = client.post(
        f"/api/v1/offers/{offer['id']}/rounds",
        data='{"label": "Opening quote", "pricing": {"total": 180000.00, '
        '"term": {"years": 3, "uplift": "0.03"}}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert good.status_code == 201, good.get_json()
    data = good.get_json()
    assert data["pricing"] == {"total": "180000.00", "term": {"years": 3, "uplift": "0.03"}}
    assert data["current"] is True and data["number"] == 1 and data["warnings"] == []


def test_rounds_are_patched_with_solo_prices_and_versions(client, world, session) -> None:
    token = world.tokens["coordinator"]
    offer = world.own_offer
    quote = offer.current_round
    url = f"/api/v1/offers/{offer.id}/rounds/{quote.id}"
    response = api(
        client,
        "PATCH",
        url,
        token,
        {
            "pricing": {
                "pricing": {
                    "kind": "list_discount",
                    "tiers": [{"min_members": 2, "discount": "0.25"}],
                }
            },
            "solo_prices": {"own": "8000.00", "OTHER": 4000},
            "version": quote.version,
        },
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["warnings"] == []
    assert [(p["member_code"], p["amount"], p["source"]) for p in data["solo_prices"]] == [
        ("OTHER", "4000", "typed"),
        ("OWN", "8000", "typed"),
    ]
    stale = api(client, "PATCH", url, token, {"label": "late", "version": quote.version - 1})
    assert stale.status_code == 409
    bad = api(client, "PATCH", url, token, {"solo_prices": {"OWN": "-1", "NOPE": "1"}})
    assert bad.status_code == 422
    assert set(bad.get_json()["details"]) == {"solo_prices.OWN", "solo_prices.NOPE"}
    # The member user sees its own solo price only.
    mine = api(client, "GET", url, world.tokens["member"]).get_json()
    assert [p["member_code"] for p in mine["solo_prices"]] == ["OWN"]
    assert session.scalar(select(QuoteRound.label).where(QuoteRound.id == quote.id)) != "late"


def test_participations_are_recorded(client, world, session) -> None:
    token = world.tokens["coordinator"]
    offer = world.other_offer  # only OTHER joined
    url = f"/api/v1/offers/{offer.id}/participations"
    invited = api(
        client,
        "POST",
        url,
        token,
        {"member_code": "own", "status": "invited", "invited_on": "2026-10-01"},
    )
    assert invited.status_code == 201, invited.get_json()
    joined = api(
        client,
        "POST",
        url,
        token,
        {"member_id": world.own.id, "status": "joined", "decided_on": "2026-11-01"},
    )
    assert joined.status_code == 200
    assert joined.get_json() == {
        "member_id": world.own.id,
        "member_code": "OWN",
        "status": "joined",
        "invited_on": "2026-10-01",
        "decided_on": "2026-11-01",
    }
    session.expire_all()
    assert (
        session.scalar(
            select(Participation.status).where(
                Participation.offer_id == offer.id, Participation.member_id == world.own.id
            )
        )
        == "joined"
    )
    assert (
        api(client, "POST", url, token, {"member_id": 987654, "status": "joined"}).status_code
        == 404
    )
    refused = api(
        client,
        "POST",
        url,
        token,
        {"member_id": world.own.id, "status": "joined", "decided_on": "2026-09-01"},
    )
    assert refused.status_code == 422
    assert "cannot decide before it is invited" in refused.get_json()["error"]


def test_member_users_read_no_notes_and_no_pricing(client, world, session) -> None:
    """A per-member price table would tell a member what the others are quoted."""
    offer = world.own_offer
    offer.notes = "Vendor would go down to 90,000 if pressed."
    offer.resource.vendor.notes = "Sales contact is difficult."
    quote = session.get(QuoteRound, offer.current_round_id)
    quote.notes = "Second round after the call of 3 October."
    quote.pricing = {
        "pricing": {"kind": "member_prices", "prices": {"OWN": "100", "OTH": "987654.32"}}
    }
    session.flush()
    token = world.tokens["member"]
    offer_url = f"/api/v1/offers/{offer.id}"
    rounds = [
        api(client, "GET", f"{offer_url}/rounds/{quote.id}", token).get_json(),
        *api(client, "GET", f"{offer_url}/rounds", token).get_json()["items"],
        *api(client, "GET", offer_url, token).get_json()["rounds"],
    ]
    offer_texts = [
        api(client, "GET", offer_url, token).get_json(),
        *api(client, "GET", "/api/v1/offers", token).get_json()["items"],
    ]
    vendor = api(client, "GET", f"/api/v1/vendors/{offer.resource.vendor_id}", token)
    assert vendor.status_code == 200
    for data in [*rounds, *offer_texts, vendor.get_json()]:
        assert "notes" not in data and "pricing" not in data, data
        assert "OTH" not in str(data) and "987654" not in str(data)
    # Staff read them.
    staff = api(client, "GET", f"{offer_url}/rounds/{quote.id}", world.tokens["negotiator"])
    assert staff.get_json()["notes"].startswith("Second round")
    assert staff.get_json()["pricing"]["pricing"]["prices"]["OTH"] == "987654.32"


def test_short_lists_answer_the_list_shape(client, world) -> None:
    """Lists that are never paged still answer {items, count, page, per_page}."""
    token = world.tokens["coordinator"]
    offer = world.own_offer.id
    for url in (
        "/api/v1/formulas/presets",
        f"/api/v1/members/{world.own.id}/facts",
        "/api/v1/usage/cost-per-use",
        f"/api/v1/offers/{offer}/rounds",
        f"/api/v1/offers/{offer}/participations",
    ):
        data = api(client, "GET", url, token).get_json()
        assert set(data) == {"items", "count", "page", "per_page"}, url
        assert data["count"] == len(data["items"]) and data["page"] == 1, url
    presets = api(client, "GET", "/api/v1/formulas/presets", token).get_json()
    assert presets["count"] == 7  # the seven published models shipped
