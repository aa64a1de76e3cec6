"""Editing a resource with a form that leaves out the title identifiers keeps them."""

from __future__ import annotations

from costshare.offers.models import Resource
from tests.factories import create_resource


def test_an_edit_without_title_identifiers_keeps_them(as_coordinator, session) -> None:
    resource = create_resource(
        session, kind="journals", counter_title_ids=["1234-567X", "10.5555/orchid"]
    )
    response = as_coordinator.post_form(
        f"/vendors/resources/{resource.id}/edit",
        {
            "vendor_id": str(resource.vendor_id),
            "name": "Renamed journals",
            "kind": "journals",
            "counter_platform": "Orchid Online",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    saved = session.get(Resource, resource.id)
    assert saved.name == "Renamed journals"
    assert saved.counter_platform == "Orchid Online"
    assert saved.counter_title_ids == ["1234-567X", "10.5555/orchid"]


def test_an_empty_title_identifiers_field_clears_them(as_coordinator, session) -> None:
    resource = create_resource(session, kind="journals", counter_title_ids=["1234-567X"])
    response = as_coordinator.post_form(
        f"/vendors/resources/{resource.id}/edit",
        {
            "vendor_id": str(resource.vendor_id),
            "name": resource.name,
            "kind": "journals",
            "counter_title_ids": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.get(Resource, resource.id).counter_title_ids == []


def test_a_new_resource_without_title_identifiers_has_none(as_coordinator, session) -> None:
    vendor_id = create_resource(session).vendor_id
    response = as_coordinator.post_form(
        f"/vendors/{vendor_id}/resources/new",
        {"vendor_id": str(vendor_id), "name": "No identifiers", "kind": "database"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = session.query(Resource).filter_by(name="No identifiers").one()
    assert created.counter_title_ids == []
