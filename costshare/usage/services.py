"""Usage services: what other features call, SUSHI credentials, usage as a formula input.

- Importing: `import_usage`, `remove_batch`, `rematch` (`costshare.usage.importing`).
- Figures: `member_usage_summary(session, member_id)` and `cost_per_use(session,
  member_id=…, offer_id=…)` for the member portal; `resource_table`, `member_table`
  (`costshare.usage.figures`).
- Formulas: `usage_figures(session, offer, members, spec, year)` resolves a formula
  definition's ``usage`` block to each member's uses and the reports and months they
  came from (called by `costshare.allocations.inputs.build_scenario`);
  `usage_attribute` gives the uses alone.
- SUSHI credentials: `save_credential`, `delete_credential`; harvesting is in
  `costshare.usage.sushi`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from costshare.audit.services import changes, record
from costshare.errors import ServiceError
from costshare.members.forms import RESERVED_FACTS
from costshare.members.models import Member
from costshare.offers.models import Offer, Resource, Vendor
from costshare.urls import bounded_id
from costshare.usage.figures import (
    MAX_MONTHS,
    CostPerUse,
    MemberUsage,
    Row,
    Window,
    add_months,
    cost_per_use,
    counts,
    member_table,
    member_usage_summary,
    parse_month,
    resource_table,
)
from costshare.usage.importing import (
    DuplicateImport,
    Imported,
    UsageImportError,
    import_usage,
    rematch,
    remove_batch,
)
from costshare.usage.models import SushiCredential
from costshare.usage.reports import METRICS, metric_label

__all__ = [
    "CostPerUse",
    "DuplicateImport",
    "Imported",
    "MemberUsage",
    "UsageFigures",
    "UsageImportError",
    "clean_usage_spec",
    "cost_per_use",
    "delete_credential",
    "import_usage",
    "member_table",
    "member_usage_summary",
    "rematch",
    "remove_batch",
    "resource_table",
    "save_credential",
    "usage_attribute",
    "usage_attributes",
    "usage_figures",
    "usage_window",
]

# --- usage as a formula input -----------------------------------------------------------

USAGE_KEYS = ("attribute", "metric", "window", "resource_id", "missing")
MISSING_CHOICES = ("zero", "refuse")
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _refuse(message: str, field: str) -> ServiceError:
    return ServiceError(message, field=f"usage.{field}" if field else "usage")


def clean_usage_spec(data: Any) -> dict[str, Any]:
    """Return a formula definition's ``usage`` block checked, or raise naming the field.

    ``{"attribute": "usage", "metric": "Total_Item_Requests", "window": {"months": 12,
    "before_term": true} | {"begin": "2026-01", "end": "2026-12"}, "resource_id": null,
    "missing": "zero" | "refuse"}``. ``missing`` has no default: counting a member
    without usage as zero is a choice someone makes, never a silent one.
    """
    if not isinstance(data, dict):
        raise _refuse("The usage settings must be a JSON object.", "")
    unknown = sorted(str(key) for key in data if key not in USAGE_KEYS)
    if unknown:
        raise _refuse(
            f"Unknown key '{unknown[0]}' in the usage settings (allowed: {', '.join(USAGE_KEYS)}).",
            unknown[0],
        )
    attribute = data.get("attribute", "usage")
    if not isinstance(attribute, str) or not _ATTRIBUTE.match(attribute):
        raise _refuse(
            "Name the usage attribute with lower-case letters, digits and underscores.",
            "attribute",
        )
    if attribute in RESERVED_FACTS:
        raise _refuse(f"'{attribute}' is filled in by the allocation itself.", "attribute")
    metric = data.get("metric")
    if metric not in METRICS:
        raise _refuse(
            "Choose a COUNTER metric such as Total_Item_Requests or Searches_Regular.", "metric"
        )
    window = _clean_window(data.get("window"))
    resource_id = data.get("resource_id")
    if resource_id is not None and bounded_id(resource_id) is None:
        raise _refuse("The stand-in resource must be a resource's id, or null.", "resource_id")
    missing = data.get("missing")
    if missing not in MISSING_CHOICES:
        raise _refuse(
            "Say what a member without usage counts as: 'zero', or 'refuse' to compute.",
            "missing",
        )
    return {
        "attribute": attribute,
        "metric": metric,
        "window": window,
        "resource_id": resource_id,
        "missing": missing,
    }


def _clean_window(window: Any) -> dict[str, Any]:
    if not isinstance(window, dict):
        raise _refuse(
            'Give the usage window: {"months": 12, "before_term": true} or'
            ' {"begin": "2026-01", "end": "2026-12"}.',
            "window",
        )
    if "months" in window:
        months = window["months"]
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
            raise _refuse(f"The window is 1 to {MAX_MONTHS} months long.", "window.months")
        before = window.get("before_term", True)
        if not isinstance(before, bool) or set(window) - {"months", "before_term"}:
            raise _refuse(
                "A window of months takes only 'months' and 'before_term' (true or false).",
                "window",
            )
        return {"months": months, "before_term": before}
    begin = parse_month(window.get("begin") if isinstance(window.get("begin"), str) else None)
    end = parse_month(window.get("end") if isinstance(window.get("end"), str) else None)
    if begin is None or end is None or set(window) - {"begin", "end"}:
        raise _refuse("Give the window's first and last month as YYYY-MM.", "window")
    if end < begin or Window(begin, end).size > MAX_MONTHS:
        raise _refuse(
            f"The window's last month must follow its first, at most {MAX_MONTHS} months on.",
            "window.end",
        )
    return {"begin": f"{begin:%Y-%m}", "end": f"{end:%Y-%m}"}


def usage_window(window: dict[str, Any], offer: Offer, year: int) -> Window:
    """Return the months a usage block counts, for `offer`'s billed calendar `year`.

    ``before_term``: the months just before the term starts (every term year alike);
    otherwise the months just before the billed year's start.
    """
    if "months" in window:
        start = offer.term_start.replace(day=1)
        if not window.get("before_term", True):
            start = start.replace(year=year)
        return Window(add_months(start, -window["months"]), add_months(start, -1))
    return Window(parse_month(window["begin"]), parse_month(window["end"]))  # type: ignore[arg-type]


@dataclass
class UsageFigures:
    """A formula's usage settings resolved for an offer's members: uses and where they came from."""

    spec: dict[str, Any]
    resource_id: int
    resource_name: str
    #: True when the usage is a stand-in resource's, not the offer's own.
    stand_in: bool
    window: Window
    #: member id → the member's monthly counts and the reports they came from.
    rows: dict[int, Row]

    @property
    def attribute(self) -> str:
        return self.spec["attribute"]

    def uses(self, member_id: int) -> int:
        row = self.rows.get(member_id)
        return row.total if row is not None else 0

    def values(self, members: list[Member]) -> dict[int, Decimal]:
        """Return member id → uses, the attribute the formula reads (zero without usage)."""
        return {m.id: Decimal(self.uses(m.id)) for m in members}

    def as_json(self, members: list[Member]) -> dict[str, Any]:
        """Return what an allocation keeps of the figures: each member's uses and sources."""
        return {
            "attribute": self.attribute,
            "metric": self.spec["metric"],
            "resource_id": self.resource_id,
            "resource": self.resource_name,
            "stand_in": self.stand_in,
            "window": self.window.as_dict(),
            "missing": self.spec["missing"],
            "members": {
                m.code: {
                    "uses": self.uses(m.id),
                    "months": len(self.rows[m.id].counts) if m.id in self.rows else 0,
                    "source": source_label(self.rows.get(m.id)),
                }
                for m in members
            },
        }


def source_label(row: Row | None) -> str:
    """Say which reports a member's uses came from, and for which months.

    "TR, 10 months (2026-01 to 2026-10)", or per report when they change:
    "TR_J1, 12 months (2025-01 to 2025-12); TR, 10 months (2026-01 to 2026-10)".
    """
    if row is None or not row.sources:
        return ""
    spans: dict[str, list[dt.date]] = defaultdict(list)
    for month in sorted(row.sources):
        spans[", ".join(sorted(row.sources[month]))].append(month)
    return "; ".join(
        f"{reports}, {len(months)} month{'s' if len(months) != 1 else ''}"
        f" ({Window(months[0], months[-1]).label})"
        for reports, months in spans.items()
    )


def usage_figures(
    session: Session, offer: Offer, members: list[Member], spec: Any, year: int
) -> UsageFigures:
    """Return each member's uses for a formula, with the reports and months they came from.

    The resource is the offer's, or the stand-in (`resource_id`) for a new product;
    the months are the spec's window. Master reports are preferred over standard views
    as everywhere. A member without any usage in the window counts as zero when
    ``missing`` is "zero"; with "refuse" a ServiceError names every such member.
    """
    spec = clean_usage_spec(spec)
    resource_id = spec["resource_id"] or offer.resource_id
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise _refuse(f"There is no resource {resource_id} to take usage from.", "resource_id")
    window = usage_window(spec["window"], offer, year)
    rows: dict[int, Row] = {}
    for c in counts(
        session,
        [spec["metric"]],
        window,
        member_ids=[m.id for m in members],
        resource_ids=[resource_id],
    ):
        rows.setdefault(c.member_id, Row(c.member_id, "")).add(c.month, c.count, c.report_id)
    lacking = sorted(m.code for m in members if m.id not in rows)
    if lacking and spec["missing"] == "refuse":
        error = _refuse(
            f"No usage of {resource.name} ({metric_label(spec['metric']).lower()},"
            f" {window.label}) for {', '.join(lacking)}: import their usage, or count"
            " members without usage as zero.",
            "missing",
        )
        error.details = {"members": lacking, "attribute": spec["attribute"]}
        raise error
    return UsageFigures(
        spec, resource.id, resource.name, resource.id != offer.resource_id, window, rows
    )


def usage_attribute(
    session: Session, offer: Offer, members: list[Member], spec: Any, year: int
) -> dict[int, Decimal]:
    """Return each member's uses for a formula: member id → the chosen metric's total.

    See `usage_figures`, which also says where each figure came from.
    """
    return usage_figures(session, offer, members, spec, year).values(members)


def usage_attributes(
    session: Session, offer: Offer, members: list[Member], definition: Any, year: int
) -> dict[str, dict[int, Decimal]]:
    """Return the attributes a formula definition's ``usage`` block adds (none without one).

    `costshare.allocations.inputs.build_scenario` calls this: attribute name → member id →
    uses, beside the members' facts.
    """
    if not isinstance(definition, dict) or "usage" not in definition:
        return {}
    spec = clean_usage_spec(definition["usage"])
    return {spec["attribute"]: usage_attribute(session, offer, members, spec, year)}


# --- SUSHI credentials ----------------------------------------------------------------------

CREDENTIAL_FIELDS = ("base_url", "customer_id", "requestor_id", "api_key", "platform")


def _credential_snapshot(credential: SushiCredential) -> dict[str, Any]:
    """The credential for the audit log: the API key masked, never stored whole there."""
    return {
        "member_id": credential.member_id,
        "vendor_id": credential.vendor_id,
        "base_url": credential.base_url,
        "customer_id": credential.customer_id,
        "requestor_id": credential.requestor_id,
        "api_key": credential.masked_api_key,
        "platform": credential.platform,
    }


def _clean_url(url: str | None) -> str:
    value = (url or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServiceError(
            "Give the SUSHI server's base address, e.g. https://sushi.example.com/counter/r5.",
            field="base_url",
        )
    if parts.query or parts.fragment:
        raise ServiceError(
            "Give the base address without ?parameters: the ids and the key have their own fields.",
            field="base_url",
        )
    return value.rstrip("/")


def save_credential(
    session: Session,
    values: dict[str, Any],
    credential: SushiCredential | None = None,
    user_id: int | None = None,
) -> SushiCredential:
    """Create or change a member × vendor SUSHI credential; a blank API key keeps the stored one."""
    member = session.get(Member, values.get("member_id") or 0)
    if member is None:
        raise ServiceError("Choose the member.", field="member_id")
    vendor = session.get(Vendor, values.get("vendor_id") or 0)
    if vendor is None:
        raise ServiceError("Choose the vendor.", field="vendor_id")
    taken = session.scalar(
        select(SushiCredential.id).where(
            SushiCredential.member_id == member.id, SushiCredential.vendor_id == vendor.id
        )
    )
    if taken is not None and (credential is None or taken != credential.id):
        # Mirrors the unique constraint uq_sushi_credential_member_vendor.
        raise ServiceError(
            f"{member.code} already has SUSHI credentials for {vendor.name}.", field="vendor_id"
        )
    customer_id = (values.get("customer_id") or "").strip()
    if not customer_id:
        raise ServiceError("Give the customer id the vendor issued.", field="customer_id")
    created = credential is None
    before = {} if created else _credential_snapshot(credential)  # type: ignore[arg-type]
    if credential is None:
        credential = SushiCredential()
        session.add(credential)
    credential.member_id, credential.member = member.id, member
    credential.vendor_id, credential.vendor = vendor.id, vendor
    credential.base_url = _clean_url(values.get("base_url"))
    credential.customer_id = customer_id
    credential.requestor_id = (values.get("requestor_id") or "").strip() or None
    key = (values.get("api_key") or "").strip()
    if key or values.get("clear_api_key"):
        credential.api_key = key or None
    credential.platform = (values.get("platform") or "").strip() or None
    session.flush()
    after = _credential_snapshot(credential)
    if created:
        record(
            session,
            "sushi.create",
            credential,
            f"SUSHI credentials of {member.code} for {vendor.name} added",
            after=after,
            user_id=user_id,
        )
    else:
        old, new = changes(before, after)
        if new:
            record(
                session,
                "sushi.update",
                credential,
                f"SUSHI credentials of {member.code} for {vendor.name} changed",
                before=old,
                after=new,
                user_id=user_id,
            )
    return credential


def delete_credential(
    session: Session, credential: SushiCredential, user_id: int | None = None
) -> None:
    record(
        session,
        "sushi.delete",
        credential,
        f"SUSHI credentials of {credential.member.code} for {credential.vendor.name} removed",
        before=_credential_snapshot(credential),
        user_id=user_id,
    )
    session.delete(credential)
    session.flush()
