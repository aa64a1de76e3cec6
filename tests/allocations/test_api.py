"""The JSON API: the calculator, formulas and allocations, with the pages' access rules."""

from __future__ import annotations

import json
from pathlib import Path

from costshare.allocations import services
from tests.allocations.helpers import HALF_FTE_HALF_EQUAL, small_consortium
from tests.factories import create_member

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spec-section-1.json"


def _auth(world, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[role]}"}


def test_calc_answers_exactly_what_the_command_prints(client, runner, world) -> None:
    cli = runner.invoke(args=["costshare", "calc", str(EXAMPLE)])
    assert cli.exit_code == 0, cli.output
    response = client.post(
        "/api/v1/calc", data=EXAMPLE.read_bytes(), headers=_auth(world, "negotiator")
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == cli.output
    body = response.get_json()
    # The literal result of spec section 9 (money as strings).
    assert body["lambda"] == "1.063821"
    assert [line["amount"] for line in body["lines"]] == ["27281.44", "9988.56", "2730.00"]


def test_calc_with_drop_is_the_what_if_of_the_command(client, runner, world) -> None:
    cli = runner.invoke(args=["costshare", "calc", str(EXAMPLE), "--drop", "UNI-C"])
    assert cli.exit_code == 0, cli.output
    response = client.post(
        "/api/v1/calc?drop=UNI-C", data=EXAMPLE.read_bytes(), headers=_auth(world, "coordinator")
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == cli.output
    assert [c["code"] for c in response.get_json()["changes"]] == ["UNI-A", "UNI-B"]


def test_calc_errors_are_the_engines_sentence_as_422(client, runner, world, tmp_path) -> None:
    broken = dict(json.loads(EXAMPLE.read_text()))
    broken["members"] = [dict(m) for m in broken["members"]]
    del broken["members"][1]["attributes"]["fte"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    cli = runner.invoke(args=["costshare", "calc", str(path)])
    assert cli.exit_code == 2
    response = client.post(
        "/api/v1/calc", data=path.read_bytes(), headers=_auth(world, "coordinator")
    )
    assert response.status_code == 422
    body = response.get_json()
    assert "Error: " + body["error"] == cli.stderr.strip()
    assert body["details"]["members"] == ["UNI-B"] and body["details"]["attribute"] == "fte"
    for junk in (b"", b"[1, 2]", b"{", b'{"currency": "EUR"}', b"\xff\xfe", b"[" * 5000):
        response = client.post("/api/v1/calc", data=junk, headers=_auth(world, "coordinator"))
        assert response.status_code == 422, junk[:20]
        assert response.get_json()["error"]
    response = client.post(
        "/api/v1/calc?drop=,", data=EXAMPLE.read_bytes(), headers=_auth(world, "coordinator")
    )
    assert response.status_code == 422


def test_formulas_list_read_create(client, world) -> None:
    definition = {
        "formula": {
            "components": [
                {"kind": "equal", "weight": 1},
                {"kind": "attribute", "attribute": "fte", "weight": "3"},
            ],
            "cap": "solo_price",
        }
    }
    response = client.post(
        "/api/v1/formulas",
        json={"name": "Quarter equal", "definition": definition},
        headers=_auth(world, "coordinator"),
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["facts_needed"] == ["fte", "solo_price"]
    listed = client.get("/api/v1/formulas", headers=_auth(world, "negotiator")).get_json()
    assert [f["name"] for f in listed["items"]] == ["Quarter equal"] and listed["count"] == 1
    one = client.get(f"/api/v1/formulas/{created['id']}", headers=_auth(world, "negotiator"))
    assert one.get_json()["definition"] == definition
    presets = client.get("/api/v1/formulas/presets", headers=_auth(world, "negotiator"))
    assert "csu-fte-equal" in [p["key"] for p in presets.get_json()["items"]]
    # Refusals: a negotiator cannot create; a bad formula names its field; a name is unique.
    assert (
        client.post(
            "/api/v1/formulas",
            json={"name": "X", "definition": definition},
            headers=_auth(world, "negotiator"),
        ).status_code
        == 403
    )
    bad = client.post(
        "/api/v1/formulas",
        json={"name": "Bad", "definition": {"formula": {"components": [{"kind": "zz"}]}}},
        headers=_auth(world, "coordinator"),
    )
    assert bad.status_code == 422
    assert bad.get_json()["details"]["field"] == "formula.components[0].kind"
    again = client.post(
        "/api/v1/formulas",
        json={"name": "Quarter equal", "definition": definition},
        headers=_auth(world, "coordinator"),
    )
    assert again.status_code == 422 and "already exists" in again.get_json()["error"]


def test_the_allocation_journey_through_the_api(client, session, world) -> None:
    """Coordinator, all through the API: an offer with a list price and a participation
    discount, five members join, two formulas previewed as drafts, finalize; read-only after.

    List prices 10,000 / 8,000 / 6,000 / 4,000 / 2,000 (Σ 30,000); 10 % off from 5 members:
    the price is 27,000.00. Equal split: 5,400.00 each. FTE 5, 4, 3, 2, 1 thousand (Σ 15,000):
    27,000 × FTE ÷ 15,000 = 9,000.00, 7,200.00, 5,400.00, 3,600.00, 1,800.00.
    """
    members = [
        create_member(session, code=f"L{n}", facts={(2026, "fte"): 1000 * (6 - n)})
        for n in range(1, 6)
    ]
    headers = _auth(world, "coordinator")
    offer = client.post(
        "/api/v1/offers",
        json={
            "resource_id": world.own_offer.resource_id,
            "title": "API journey offer",
            "term_start": "2027-01-01",
            "term_end": "2027-12-31",
            "currency": "EUR",
            "status": "negotiating",
        },
        headers=headers,
    )
    assert offer.status_code == 201, offer.get_json()
    offer_id = offer.get_json()["id"]
    quote = client.post(
        f"/api/v1/offers/{offer_id}/rounds",
        json={
            "label": "First quote",
            "pricing": {
                "pricing": {
                    "kind": "list_discount",
                    "tiers": [{"min_members": 5, "discount": "0.10"}],
                }
            },
            "solo_prices": {m.code: str(2000 * (6 - n)) for n, m in enumerate(members, start=1)},
        },
        headers=headers,
    )
    assert quote.status_code == 201, quote.get_json()
    for member in members:
        joined = client.post(
            f"/api/v1/offers/{offer_id}/participations",
            json={
                "member_code": member.code,
                "status": "joined",
                "invited_on": "2026-10-01",
                "decided_on": "2026-11-20",
            },
            headers=headers,
        )
        assert joined.status_code in (200, 201), joined.get_json()

    equal = client.post(
        "/api/v1/allocations", json={"offer_id": offer_id, "preset": "equal"}, headers=headers
    )
    assert equal.status_code == 201, equal.get_json()
    assert {line["amount"] for line in equal.get_json()["lines"]} == {"5400.00"}
    fte = client.post(
        "/api/v1/allocations",
        json={
            "offer_id": offer_id,
            "definition": {"formula": {"components": [{"kind": "attribute", "attribute": "fte"}]}},
            "name": "By FTE",
        },
        headers=headers,
    )
    assert fte.status_code == 200  # the same draft, recomputed
    draft = fte.get_json()
    assert draft["id"] == equal.get_json()["id"] and draft["status"] == "draft"
    assert [line["amount"] for line in draft["lines"]] == [
        "9000.00",
        "7200.00",
        "5400.00",
        "3600.00",
        "1800.00",
    ]
    assert draft["price"] == "27000.00" and draft["total"] == "27000.00"
    # A negotiator may not finalize; the coordinator may, once.
    url = f"/api/v1/allocations/{draft['id']}/finalize"
    refused = client.post(
        url, json={"version": draft["version"]}, headers=_auth(world, "negotiator")
    )
    assert refused.status_code == 403
    stale = client.post(url, json={"version": draft["version"] - 1}, headers=headers)
    assert stale.status_code == 409
    final = client.post(url, json={"version": draft["version"]}, headers=headers)
    assert final.status_code == 200 and final.get_json()["status"] == "final"
    # Read-only from now on: no second finalize, no new draft, no recompute.
    assert client.post(url, json={}, headers=headers).status_code == 409
    again = client.post(
        "/api/v1/allocations", json={"offer_id": offer_id, "preset": "equal"}, headers=headers
    )
    assert again.status_code == 409
    recompute = client.post(f"/api/v1/allocations/{draft['id']}/recompute", headers=headers)
    assert recompute.status_code == 409
    read = client.get(f"/api/v1/allocations/{draft['id']}", headers=headers).get_json()
    assert read["lines"][0]["amount"] == "9000.00"
    listed = client.get(f"/api/v1/allocations?offer_id={offer_id}", headers=headers).get_json()
    assert [a["status"] for a in listed["items"]] == ["final"]


def test_a_negotiator_creates_drafts_but_a_member_user_cannot(client, session, world) -> None:
    small = small_consortium(session)
    body = {"offer_id": small.offer.id, "definition": HALF_FTE_HALF_EQUAL}
    made = client.post("/api/v1/allocations", json=body, headers=_auth(world, "negotiator"))
    assert made.status_code == 201
    assert (
        client.post("/api/v1/allocations", json=body, headers=_auth(world, "member")).status_code
        == 404
    )


def test_a_member_user_reads_only_its_own_lines_of_final_allocations(
    client, session, world
) -> None:
    equal = {"formula": {"components": [{"kind": "equal", "weight": 1}]}}
    shared = services.save_draft(
        session, services.load_offer(session, world.own_offer.id), 1, equal, name="Equal"
    )
    other = services.save_draft(
        session, services.load_offer(session, world.other_offer.id), 1, equal, name="Equal"
    )
    headers = _auth(world, "member")
    # Drafts are for staff: 404, as if they did not exist.
    assert client.get(f"/api/v1/allocations/{shared.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/allocations", headers=headers).get_json()["items"] == []
    services.finalize(session, shared, world.coordinator, shared.version)
    services.finalize(session, other, world.coordinator, other.version)
    mine = client.get(f"/api/v1/allocations/{shared.id}", headers=headers).get_json()
    # 10,000.00 ÷ 2 = 5,000.00, OWN's line only, with its explanation; no inputs, no result.
    assert [(line["code"], line["amount"]) for line in mine["lines"]] == [("OWN", "5000.00")]
    assert mine["lines"][0]["explanation"]["equal"] == "5000.00"
    assert "inputs" not in mine and "result" not in mine
    listed = client.get("/api/v1/allocations", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [shared.id]
    # The other member's offer and allocation: 404, pages and API alike.
    assert client.get(f"/api/v1/allocations/{other.id}", headers=headers).status_code == 404
    assert (
        client.get(
            f"/api/v1/allocations?offer_id={world.other_offer.id}", headers=headers
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/allocations?offer_id={world.own_offer.id}", headers=headers
        ).status_code
        == 200
    )


def test_the_openapi_document_describes_every_allocation_endpoint(client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/calc"]) == {"post"}
    assert set(paths["/api/v1/formulas"]) == {"get", "post"}
    assert set(paths["/api/v1/allocations"]) == {"get", "post"}
    assert "post" in paths["/api/v1/allocations/{allocation_id}/finalize"]
    create = paths["/api/v1/allocations"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AllocationInput"
    }
