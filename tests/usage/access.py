"""Access entries of the usage pages and API: every URL names the *other* member's objects."""

from __future__ import annotations

from typing import Any

from costshare.usage.importing import import_usage
from costshare.usage.models import SushiCredential
from tests.access_registry import Entry
from tests.usage.support import journal_report


def build(session: Any, world: Any) -> None:
    """Usage of the other member, and its SUSHI credentials."""
    report = journal_report({"2026-01": 5}, institution="Other College Library")
    batch = import_usage(
        session, report.tsv(), filename="other.tsv", member=world.other, source_kind="cli"
    ).batch
    credential = SushiCredential(
        member=world.other,
        vendor=world.other_offer.resource.vendor,
        base_url="http://127.0.0.1:9/sushi",
        customer_id="other",
    )
    session.add(credential)
    session.flush()
    world.objects["other_usage_import_id"] = batch.id
    world.objects["other_sushi_id"] = credential.id


def _batch(w: Any) -> dict[str, Any]:
    return {"import_id": w.objects["other_usage_import_id"]}


def _credential(w: Any) -> dict[str, Any]:
    return {"credential_id": w.objects["other_sushi_id"]}


def _credential_fields(w: Any) -> dict[str, Any]:
    return {
        "member_id": str(w.other.id),
        "vendor_id": str(w.other_offer.resource.vendor_id),
        "base_url": "https://sushi.example.org/r5",
        "customer_id": "c1",
    }


ENTRIES = {
    "usage.index": Entry(),
    "usage.member": Entry(lambda w: {"member_id": w.other.id}),
    "usage.resource": Entry(lambda w: {"resource_id": w.other_offer.resource_id}),
    "usage.upload": Entry(data=lambda w: {"member_id": str(w.other.id)}),
    "usage.imports": Entry(),
    "usage.batch": Entry(_batch),
    "usage.remove": Entry(_batch),
    "usage.unmatched": Entry(),
    "usage.match_again": Entry(),
    "usage.credentials": Entry(),
    "usage.new_credential": Entry(data=_credential_fields),
    "usage.edit_credential": Entry(_credential, data=_credential_fields),
    "usage.remove_credential": Entry(_credential),
    "usage.harvest_report": Entry(
        _credential, data=lambda w: {"report": "TR", "begin": "2026-01", "end": "2026-01"}
    ),
    "api.upload_usage": Entry(data=lambda w: {"member": w.other.code}),
    "api.usage_imports": Entry(),
    "api.usage_import": Entry(_batch),
    "api.delete_usage_import": Entry(_batch),
    "api.member_usage": Entry(lambda w: {"member_id": w.other.id}),
    "api.resource_usage": Entry(lambda w: {"resource_id": w.other_offer.resource_id}),
    "api.usage_cost_per_use": Entry(member="allowed"),
}
