"""A resource's COUNTER identifiers, once entered or changed, claim usage imported before."""

from __future__ import annotations

from sqlalchemy import select

from costshare.usage.importing import import_usage
from costshare.usage.models import UsageItem
from costshare.vendors import services
from tests.factories import create_member, create_vendor
from tests.usage.support import journal_report


def _resources_of_items(session) -> set:
    return set(session.scalars(select(UsageItem.resource_id)))


def test_usage_imported_before_its_resource_is_matched_when_the_resource_appears(session) -> None:
    member = create_member(session, code="EARLY")
    report = journal_report({"2026-01": 4}, "TR")  # platform "Meridian Online"
    import_usage(session, report.tsv(), member=member, filename="TR.tsv")
    assert _resources_of_items(session) == {None}

    vendor = create_vendor(session)
    resource = services.create_resource(
        session,
        {
            "vendor_id": vendor.id,
            "name": "Journals",
            "kind": "journals",
            "counter_platform": "Other Platform",
        },
    )
    assert _resources_of_items(session) == {None}

    services.update_resource(session, resource, {"counter_platform": "Meridian Online"})
    assert _resources_of_items(session) == {resource.id}
