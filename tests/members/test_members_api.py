"""The members API: create, change, facts; the same rules as the pages, JSON errors."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from costshare.members.models import Member, MemberFact


def api(client, method: str, url: str, token: str, json=None):
    return client.open(url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})


def test_a_coordinator_creates_and_changes_a_member(client, world, session) -> None:
    token = world.tokens["coordinator"]
    created = api(
        client,
        "POST",
        "/api/v1/members",
        token,
        {"code": "SCAU", "name": "SCAU Library", "tax_rate": 0.06},
    )
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["code"] == "SCAU" and data["billing_currency"] == "EUR" and data["active"] is True
    assert data["tax_rate"] == "0.06"

    changed = api(
        client,
        "PATCH",
        f"/api/v1/members/{data['id']}",
        token,
        {"sector": "college", "active": False},
    )
    assert changed.status_code == 200
    member = session.get(Member, data["id"])
    assert (member.sector, member.active, member.name) == ("college", False, "SCAU Library")


def test_bad_input_answers_422_naming_every_field(client, world) -> None:
    response = api(
        client,
        "POST",
        "/api/v1/members",
        world.tokens["coordinator"],
        {"code": "a b", "name": "", "billing_currency": "XYZ", "tax_rate": "-0.1"},
    )
    assert response.status_code == 422
    details = response.get_json()["details"]
    assert set(details) == {"code", "name", "billing_currency", "tax_rate"}
    assert details["tax_rate"] == "Cannot be negative."


def test_unknown_fields_objects_and_bodies_that_are_not_json_are_refused(client, world) -> None:
    token = world.tokens["coordinator"]
    assert (
        api(
            client, "POST", "/api/v1/members", token, {"code": "X", "name": "Y", "colour": 1}
        ).status_code
        == 422
    )
    assert (
        api(client, "POST", "/api/v1/members", token, {"code": {"a": 1}, "name": "Y"}).status_code
        == 422
    )
    response = client.post(
        "/api/v1/members",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.get_json()["error"]


def test_a_taken_code_is_a_conflict(client, world) -> None:
    response = api(
        client,
        "POST",
        "/api/v1/members",
        world.tokens["coordinator"],
        {"code": "other", "name": "Y"},
    )
    assert response.status_code == 409
    assert "already has the code OTHER" in response.get_json()["error"]


def test_facts_are_set_changed_and_removed(client, world, session) -> None:
    # OWN has fte 2025 = 12000, fte 2026 = 12500, budget 2026 = 400000.
    response = api(
        client,
        "PUT",
        f"/api/v1/members/{world.own.id}/facts",
        world.tokens["coordinator"],
        {
            "facts": [
                {"year": 2026, "name": "fte", "value": "12600.25"},
                {"year": 2027, "name": "fte", "value": 13000},
                {"year": 2026, "name": "budget", "value": None},
                {"year": 2025, "name": "fte", "value": "12000"},
            ]
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 1, "updated": 1, "removed": 1}
    session.expire_all()
    facts = {
        (f.name, f.year): f.value
        for f in session.scalars(select(MemberFact).where(MemberFact.member_id == world.own.id))
    }
    assert facts == {
        ("fte", 2025): Decimal("12000"),
        ("fte", 2026): Decimal("12600.25"),
        ("fte", 2027): Decimal("13000"),
    }
    listed = api(
        client, "GET", f"/api/v1/members/{world.own.id}/facts?year=2026", world.tokens["member"]
    )
    assert listed.get_json() == {
        "items": [{"year": 2026, "name": "fte", "value": "12600.25"}],
        "count": 1,
        "page": 1,
        "per_page": 1,
    }


def test_bad_facts_name_the_item_and_field_and_change_nothing(client, world, session) -> None:
    response = api(
        client,
        "PUT",
        f"/api/v1/members/{world.own.id}/facts",
        world.tokens["coordinator"],
        {
            "facts": [
                {"year": 2026, "name": "fte", "value": "1"},
                {"year": 1066, "name": "fte", "value": "1"},
                {"year": 2026, "name": "solo_price", "value": "1"},
                {"year": 2026, "name": "budget", "value": "-4"},
                "not an object",
            ]
        },
    )
    assert response.status_code == 422
    assert set(response.get_json()["details"]) == {
        "facts[1].year",
        "facts[2].name",
        "facts[3].value",
        "facts[4]",
    }
    fte = session.scalar(
        select(MemberFact.value).where(
            MemberFact.member_id == world.own.id, MemberFact.year == 2026, MemberFact.name == "fte"
        )
    )
    assert fte == Decimal("12500")


def test_member_users_read_only_their_own_member(client, world) -> None:
    token = world.tokens["member"]
    listed = api(client, "GET", "/api/v1/members", token).get_json()
    assert [m["code"] for m in listed["items"]] == ["OWN"] and listed["count"] == 1
    assert api(client, "GET", f"/api/v1/members/{world.own.id}", token).status_code == 200
    for url in (f"/api/v1/members/{world.other.id}", f"/api/v1/members/{world.other.id}/facts"):
        assert api(client, "GET", url, token).status_code == 404
    assert (
        api(client, "PATCH", f"/api/v1/members/{world.own.id}", token, {"name": "x"}).status_code
        == 404
    )
    assert (
        api(
            client, "GET", "/api/v1/members/99999999999999999999", world.tokens["coordinator"]
        ).status_code
        == 404
    )


def test_the_members_list_searches_and_pages(client, world) -> None:
    data = api(
        client, "GET", "/api/v1/members?q=oth&per_page=1", world.tokens["coordinator"]
    ).get_json()
    assert data == {
        "items": [
            {
                "id": world.other.id,
                "code": "OTHER",
                "name": "Other College Library",
                "sector": "university",
                "billing_currency": "EUR",
                "tax_id": world.other.tax_id,
                "active": True,
            }
        ],
        "count": 1,
        "page": 1,
        "per_page": 1,
    }
