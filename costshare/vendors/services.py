"""Vendor and resource use cases: create and edit, names unique, every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from costshare.audit.services import record, snapshot
from costshare.errors import ConflictError, ServiceError
from costshare.members.services import apply_changes
from costshare.offers.models import Resource, Vendor

VENDOR_FIELDS = ("name", "website", "contact_name", "contact_email", "notes")
RESOURCE_FIELDS = (
    "vendor_id",
    "name",
    "kind",
    "counter_platform",
    "counter_database",
    "counter_title_ids",
)


def _check_vendor_name(session: Session, name: str, vendor_id: int | None = None) -> None:
    query = select(Vendor.name).where(func.lower(Vendor.name) == name.lower())
    if vendor_id is not None:
        query = query.where(Vendor.id != vendor_id)
    other = session.scalar(query.limit(1))
    if other is not None:
        raise ConflictError(f"A vendor named {other} already exists.", field="name")


def _check_resource_name(
    session: Session, vendor_id: int, name: str, resource_id: int | None = None
) -> None:
    if session.get(Vendor, vendor_id) is None:
        raise ServiceError("There is no such vendor.", field="vendor_id")
    query = select(Resource.name).where(
        Resource.vendor_id == vendor_id, func.lower(Resource.name) == name.lower()
    )
    if resource_id is not None:
        query = query.where(Resource.id != resource_id)
    other = session.scalar(query.limit(1))
    if other is not None:
        raise ConflictError(f"This vendor already has a resource named {other}.", field="name")


def create_vendor(session: Session, values: dict[str, Any]) -> Vendor:
    _check_vendor_name(session, values["name"])
    vendor = Vendor(**{k: values.get(k) for k in VENDOR_FIELDS})
    session.add(vendor)
    session.flush()
    record(session, "vendor.create", vendor, f"Added vendor {vendor.name}", after=snapshot(vendor))
    return vendor


def update_vendor(session: Session, vendor: Vendor, values: dict[str, Any]) -> bool:
    if "name" in values and values["name"] != vendor.name:
        _check_vendor_name(session, values["name"], vendor.id)
    return apply_changes(
        session, vendor, values, VENDOR_FIELDS, "vendor.update", f"Edited vendor {vendor.name}"
    )


#: The fields usage is matched by: when they change, stored usage is matched again.
MATCH_FIELDS = ("counter_platform", "counter_database", "counter_title_ids")


def _match_usage_again(session: Session) -> None:
    from costshare.usage.importing import rematch

    session.flush()
    rematch(session)


def create_resource(session: Session, values: dict[str, Any]) -> Resource:
    _check_resource_name(session, values["vendor_id"], values["name"])
    resource = Resource(**{k: values[k] for k in RESOURCE_FIELDS if k in values})
    session.add(resource)
    session.flush()
    record(
        session,
        "resource.create",
        resource,
        f"Added resource {resource.name}",
        after=snapshot(resource),
    )
    if any(getattr(resource, name) for name in MATCH_FIELDS):
        # Usage imported before the resource existed may belong to it.
        _match_usage_again(session)
    return resource


def update_resource(session: Session, resource: Resource, values: dict[str, Any]) -> bool:
    vendor_id = values.get("vendor_id", resource.vendor_id)
    name = values.get("name", resource.name)
    if (vendor_id, name) != (resource.vendor_id, resource.name):
        _check_resource_name(session, vendor_id, name, resource.id)
    identifiers = [getattr(resource, field) for field in MATCH_FIELDS]
    changed = apply_changes(
        session,
        resource,
        values,
        RESOURCE_FIELDS,
        "resource.update",
        f"Edited resource {resource.name}",
    )
    if changed and identifiers != [getattr(resource, field) for field in MATCH_FIELDS]:
        _match_usage_again(session)
    return changed
