"""Vendors and resources: pages, COUNTER identifiers, and the API with member scoping."""

from __future__ import annotations

from sqlalchemy import select

from costshare.offers.models import Resource, Vendor
from costshare.vendors.forms import normalise_title_id, parse_title_ids
from tests.factories import create_offer, create_resource, create_vendor


def api(client, method: str, url: str, token: str, json=None):
    return client.open(url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})


def test_title_identifiers_are_read_in_one_spelling() -> None:
    assert normalise_title_id(" 1234567x ") == "1234-567X"
    assert normalise_title_id("978-3-16-148410-0") == "9783161484100"
    assert normalise_title_id("10.1000/ABC.def") == "10.1000/abc.def"
    assert normalise_title_id("Proprietary:meridian:J-42") == "Proprietary:meridian:J-42"
    assert normalise_title_id("not an id") is None
    ids, problems = parse_title_ids("1234-5678\n\nnonsense\n12345678\n")
    assert ids == ["1234-5678"]  # the second spelling of the same ISSN is a duplicate
    assert problems == ["Line 3, “nonsense”: not an ISSN, ISBN, DOI or namespace:id."]


def test_a_coordinator_adds_a_vendor_and_a_resource(as_coordinator, session) -> None:
    response = as_coordinator.post_form(
        "/vendors/new", {"name": "Orchid Press", "website": "https://orchid.example.com"}
    )
    assert response.status_code == 302
    vendor = session.scalar(select(Vendor).where(Vendor.name == "Orchid Press"))
    response = as_coordinator.post_form(
        f"/vendors/{vendor.id}/resources/new",
        {
            "vendor_id": str(vendor.id),
            "name": "Orchid Journals",
            "kind": "journals",
            "counter_platform": "Orchid Online",
            "counter_title_ids": "1234567X\n10.5555/orchid\nbad line",
        },
    )
    assert response.status_code == 422
    assert "Line 3, “bad line”" in response.get_data(as_text=True)
    response = as_coordinator.post_form(
        f"/vendors/{vendor.id}/resources/new",
        {
            "vendor_id": str(vendor.id),
            "name": "Orchid Journals",
            "kind": "journals",
            "counter_platform": "Orchid Online",
            "counter_title_ids": "1234567X\n10.5555/orchid",
        },
    )
    assert response.status_code == 302
    resource = session.scalar(select(Resource).where(Resource.name == "Orchid Journals"))
    assert resource.counter_title_ids == ["1234-567X", "10.5555/orchid"]
    page = as_coordinator.get(f"/vendors/resources/{resource.id}").get_data(as_text=True)
    assert "Orchid Online" in page and "1234-567X" in page


def test_names_are_unique_ignoring_case(as_coordinator, session) -> None:
    vendor = create_vendor(session, name="Lotus Press")
    create_resource(session, vendor=vendor, name="Lotus Books")
    response = as_coordinator.post_form("/vendors/new", {"name": "lotus press"})
    assert response.status_code == 422
    assert "A vendor named Lotus Press already exists." in response.get_data(as_text=True)
    response = as_coordinator.post_form(
        f"/vendors/{vendor.id}/resources/new",
        {"vendor_id": str(vendor.id), "name": "LOTUS BOOKS", "kind": "ebooks"},
    )
    assert "already has a resource named Lotus Books" in response.get_data(as_text=True)


def test_the_vendor_list_shows_resources_and_offer_counts(as_negotiator, world) -> None:
    body = as_negotiator.get("/vendors/").get_data(as_text=True)
    assert world.own_offer.resource.vendor.name in body
    assert world.own_offer.resource.name in body
    assert "New vendor" not in body  # negotiators read, coordinators edit


def test_the_api_creates_and_changes_vendors_and_resources(client, world, session) -> None:
    token = world.tokens["coordinator"]
    vendor = api(client, "POST", "/api/v1/vendors", token, {"name": "API Vendor"}).get_json()
    created = api(
        client,
        "POST",
        "/api/v1/resources",
        token,
        {"vendor_id": vendor["id"], "name": "API db", "counter_title_ids": ["0028-0836"]},
    )
    assert created.status_code == 201, created.get_json()
    resource = created.get_json()
    assert resource["kind"] == "database" and resource["counter_title_ids"] == ["0028-0836"]
    changed = api(
        client, "PATCH", f"/api/v1/resources/{resource['id']}", token, {"counter_platform": "Nav"}
    )
    assert changed.get_json()["counter_platform"] == "Nav"
    assert changed.get_json()["counter_title_ids"] == ["0028-0836"]
    missing = api(client, "POST", "/api/v1/resources", token, {"vendor_id": 987654, "name": "x"})
    assert missing.status_code == 404
    duplicate = api(client, "POST", "/api/v1/vendors", token, {"name": "api vendor"})
    assert duplicate.status_code == 409


def test_member_users_see_only_the_vendors_and_resources_of_their_deals(
    client, world, session
) -> None:
    vendor = create_vendor(session, name="Someone else's vendor")
    resource = create_resource(session, vendor=vendor)
    create_offer(session, resource=resource, joined=[world.other])
    token = world.tokens["member"]
    vendors = api(client, "GET", "/api/v1/vendors", token).get_json()
    assert [v["id"] for v in vendors["items"]] == [world.own_offer.resource.vendor_id]
    assert api(client, "GET", f"/api/v1/vendors/{vendor.id}", token).status_code == 404
    assert api(client, "GET", f"/api/v1/resources/{resource.id}", token).status_code == 404
    own = world.own_offer.resource_id
    assert api(client, "GET", f"/api/v1/resources/{own}", token).status_code == 200
