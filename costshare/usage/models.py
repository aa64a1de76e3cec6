"""Imported COUNTER usage: one batch per file, its items and monthly counts; SUSHI credentials."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from costshare.db import Base
from costshare.models_base import non_negative, one_of

if TYPE_CHECKING:
    from costshare.auth.models import User
    from costshare.members.models import Member
    from costshare.offers.models import Resource, Vendor

IMPORT_SOURCES = ("upload", "sushi", "cli", "demo")


class UsageImport(Base):
    """One imported COUNTER file (or SUSHI response) for one member."""

    __tablename__ = "usage_import"
    __table_args__ = (
        UniqueConstraint("member_id", "checksum", name="uq_usage_import_member_checksum"),
        one_of("source", IMPORT_SOURCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    #: SHA-256 of the file's bytes; the same file imported twice is recognised by it.
    checksum: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8), default="upload")
    release: Mapped[str] = mapped_column(String(8))
    #: COUNTER report id: TR, TR_J1, DR, JR1, …
    report_id: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str | None] = mapped_column(String(255))
    begin: Mapped[dt.date | None]
    end: Mapped[dt.date | None]
    record_count: Mapped[int] = mapped_column(default=0)
    #: The reader's summary: totals per metric, exceptions, warnings, institution.
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]

    member: Mapped[Member] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[UsageItem]] = relationship(
        back_populates="usage_import", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<UsageImport {self.id} {self.report_id} {self.filename}>"


class UsageItem(Base):
    """A title, database or platform as one imported file names it."""

    __tablename__ = "usage_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("usage_import.id", ondelete="CASCADE"), index=True
    )
    #: The resource this item's usage counts toward; NULL when nothing matched (kept, listed).
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(String(255))
    print_issn: Mapped[str | None] = mapped_column(String(32))
    online_issn: Mapped[str | None] = mapped_column(String(32))
    isbn: Mapped[str | None] = mapped_column(String(32))
    doi: Mapped[str | None] = mapped_column(String(255))
    proprietary_id: Mapped[str | None] = mapped_column(String(255))
    uri: Mapped[str | None] = mapped_column(Text)
    data_type: Mapped[str | None] = mapped_column(String(64))
    section_type: Mapped[str | None] = mapped_column(String(64))
    access_type: Mapped[str | None] = mapped_column(String(64))
    access_method: Mapped[str | None] = mapped_column(String(64))
    yop: Mapped[str | None] = mapped_column(String(16))

    usage_import: Mapped[UsageImport] = relationship(back_populates="items")
    resource: Mapped[Resource | None] = relationship()

    def __repr__(self) -> str:
        return f"<UsageItem {self.id} {self.name}>"


class UsageRecord(Base):
    """One item's count of one metric in one month.

    Written only in bulk by the import service (COPY / executemany, ≥ 100,000 records/s),
    and therefore without foreign keys: on PostgreSQL each foreign key is a trigger run per
    inserted row, and one alone cut the import to about 60,000 records/s. The import
    service is the only writer and deletes a batch's records before its items
    (`costshare.usage.importing`); `tests/usage` checks that no record outlives its item.
    ``import_id`` and ``member_id`` repeat the item's batch and member for simple filters.
    """

    __tablename__ = "usage_record"
    __table_args__ = (
        non_negative("count"),
        # Every read goes item → records (by resource, or by a member's batches), in months.
        Index("ix_usage_record_item_month", "item_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The batch of the item (no foreign key: see above).
    import_id: Mapped[int]
    #: The usage_item counted (no foreign key: see above).
    item_id: Mapped[int]
    #: The member of the batch (no foreign key: see above).
    member_id: Mapped[int]
    metric: Mapped[str] = mapped_column(String(48))
    #: First day of the month counted.
    month: Mapped[dt.date]
    count: Mapped[int]

    def __repr__(self) -> str:
        return f"<UsageRecord {self.item_id} {self.metric} {self.month}={self.count}>"


class SushiCredential(Base):
    """How to harvest one member's usage from one vendor's SUSHI (COUNTER API) server."""

    __tablename__ = "sushi_credential"
    __table_args__ = (
        UniqueConstraint("member_id", "vendor_id", name="uq_sushi_credential_member_vendor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="CASCADE"))
    base_url: Mapped[str] = mapped_column(String(512))
    customer_id: Mapped[str] = mapped_column(String(255))
    requestor_id: Mapped[str | None] = mapped_column(String(255))
    #: Shown masked in every page and API answer; only the harvester reads it whole.
    api_key: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str | None] = mapped_column(String(255))
    last_harvest_at: Mapped[dt.datetime | None]
    last_harvest_status: Mapped[str | None] = mapped_column(Text)

    member: Mapped[Member] = relationship()
    vendor: Mapped[Vendor] = relationship()

    @property
    def masked_api_key(self) -> str:
        if not self.api_key:
            return ""
        return "•" * 8 + self.api_key[-4:] if len(self.api_key) > 8 else "•" * 8

    def __repr__(self) -> str:
        return f"<SushiCredential {self.member_id}/{self.vendor_id}>"
