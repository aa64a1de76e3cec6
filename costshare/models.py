"""Every model of the application, imported in one place for Alembic and the tests."""

from costshare.allocations.models import Allocation, AllocationLine, Formula
from costshare.audit.models import AuditEvent
from costshare.auth.models import ApiToken, User
from costshare.db import Base
from costshare.invoices.models import (
    BillingRun,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
)
from costshare.members.models import Member, MemberFact
from costshare.offers.models import (
    Offer,
    Participation,
    QuoteRound,
    Resource,
    Scenario,
    SoloPrice,
    Vendor,
)
from costshare.usage.models import SushiCredential, UsageImport, UsageItem, UsageRecord

__all__ = [
    "Allocation",
    "AllocationLine",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BillingRun",
    "Formula",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "Member",
    "MemberFact",
    "Offer",
    "Participation",
    "Payment",
    "QuoteRound",
    "Resource",
    "Scenario",
    "SoloPrice",
    "SushiCredential",
    "UsageImport",
    "UsageItem",
    "UsageRecord",
    "User",
    "Vendor",
]
