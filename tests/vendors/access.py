"""Access entries of the vendor and resource pages, and the vendor and resource API.

`build` adds a vendor whose only resource is sold through an offer of the
*other* member: a member user must not see it (404), in pages and API alike.
"""

from __future__ import annotations

from typing import Any

from tests.access_registry import Entry
from tests.factories import create_offer, create_resource, create_vendor


def build(session: Any, world: Any) -> None:
    vendor = create_vendor(session, name="Vendor of the other member only")
    resource = create_resource(session, vendor=vendor, name="Other member's database")
    create_offer(session, resource=resource, joined=[world.other], title="Other member's deal")
    world.objects["other_vendor_id"] = vendor.id
    world.objects["other_resource_id"] = resource.id


def _vendor(w: Any) -> dict[str, Any]:
    return {"vendor_id": w.objects["other_vendor_id"]}


def _resource(w: Any) -> dict[str, Any]:
    return {"resource_id": w.objects["other_resource_id"]}


ENTRIES = {
    "vendors.index": Entry(),
    "vendors.new": Entry(data=lambda w: {"name": "A new vendor"}),
    "vendors.detail": Entry(_vendor),
    "vendors.edit": Entry(_vendor, data=lambda w: {"name": "Renamed vendor"}),
    "vendors.new_resource": Entry(_vendor, data=lambda w: {"name": "New db", "kind": "database"}),
    "vendors.resource": Entry(_resource),
    "vendors.edit_resource": Entry(
        _resource, data=lambda w: {"name": "Renamed", "kind": "database"}
    ),
    "api.vendors_list": Entry(member="allowed"),
    "api.vendor": Entry(_vendor),
    "api.create_vendor": Entry(data=lambda w: {"name": "API vendor"}),
    "api.update_vendor": Entry(_vendor, data=lambda w: {"notes": "changed"}),
    "api.resources_list": Entry(member="allowed"),
    "api.resource": Entry(_resource),
    "api.create_resource": Entry(
        data=lambda w: {"vendor_id": w.objects["other_vendor_id"], "name": "API db"}
    ),
    "api.update_resource": Entry(_resource, data=lambda w: {"counter_platform": "X"}),
}
