"""Create the schema: members, offers, usage, allocations, invoices, users, audit.

Revision ID: 206663d524bb
Revises:
Create Date: 2026-11-27 10:35:54.538351+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "206663d524bb"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _offer_round_key() -> list[sa.ForeignKeyConstraint]:
    if op.get_bind().dialect.name == "sqlite":
        return [
            sa.ForeignKeyConstraint(
                ["current_round_id"],
                ["quote_round.id"],
                name=op.f("fk_offer_current_round_id_quote_round"),
                ondelete="SET NULL",
            )
        ]
    return []


def upgrade() -> None:
    op.create_table(
        "formula",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("preset_key", sa.String(length=64), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_formula")),
        sa.UniqueConstraint("name", name="uq_formula_name"),
    )
    op.create_table(
        "invoice_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_sequence")),
        sa.UniqueConstraint("year", name="uq_invoice_sequence_year"),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sector", sa.String(length=64), nullable=True),
        sa.Column("billing_address", sa.Text(), nullable=True),
        sa.Column("finance_contact_name", sa.String(length=255), nullable=True),
        sa.Column("finance_contact_email", sa.String(length=255), nullable=True),
        sa.Column("tax_id", sa.String(length=64), nullable=True),
        sa.Column("billing_currency", sa.String(length=3), nullable=False),
        sa.Column("tax_treatment", sa.String(length=16), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("counter_ids", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tax_treatment IN ('standard', 'exempt', 'reverse_charge')",
            name=op.f("ck_member_tax_treatment_known"),
        ),
        sa.CheckConstraint(
            "length(billing_currency) = 3 AND upper(billing_currency) = billing_currency",
            name=op.f("ck_member_billing_currency_iso_code"),
        ),
        sa.CheckConstraint("tax_rate >= 0", name=op.f("ck_member_tax_rate_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("code", name="uq_member_code"),
    )
    op.create_table(
        "vendor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column("contact_name", sa.String(length=255), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
        sa.UniqueConstraint("name", name="uq_vendor_name"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'member') = (member_id IS NOT NULL)",
            name=op.f("ck_app_user_member_role_has_member"),
        ),
        sa.CheckConstraint(
            "role IN ('coordinator', 'negotiator', 'member')", name=op.f("ck_app_user_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_app_user_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("email", name="uq_user_email"),
    )
    op.create_table(
        "member_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_member_fact_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_fact_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_fact")),
        sa.UniqueConstraint("member_id", "year", "name", name="uq_member_fact_member_year_name"),
    )
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("counter_platform", sa.String(length=255), nullable=True),
        sa.Column("counter_database", sa.String(length=255), nullable=True),
        sa.Column("counter_title_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('database', 'journals', 'ebooks', 'platform', 'other')",
            name=op.f("ck_resource_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_resource_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource")),
        sa.UniqueConstraint("vendor_id", "name", name="uq_resource_vendor_name"),
    )
    op.create_table(
        "sushi_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=512), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("requestor_id", sa.String(length=255), nullable=True),
        sa.Column("api_key", sa.String(length=255), nullable=True),
        sa.Column("platform", sa.String(length=255), nullable=True),
        sa.Column("last_harvest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_harvest_status", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_sushi_credential_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
            name=op.f("fk_sushi_credential_vendor_id_vendor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sushi_credential")),
        sa.UniqueConstraint("member_id", "vendor_id", name="uq_sushi_credential_member_vendor"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_audit_event_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_event_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "billing_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("exchange_rates", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('per_member', 'per_member_resource')", name=op.f("ck_billing_run_mode_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'issued')", name=op.f("ck_billing_run_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_billing_run_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_run")),
    )
    op.create_table(
        "offer",
        *_offer_round_key(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("current_round_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'negotiating', 'accepted', 'declined')",
            name=op.f("ck_offer_status_known"),
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_offer_currency_iso_code"),
        ),
        sa.CheckConstraint("term_end > term_start", name=op.f("ck_offer_term_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resource.id"], name=op.f("fk_offer_resource_id_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
    )
    op.create_table(
        "usage_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("release", sa.String(length=8), nullable=False),
        sa.Column("report_id", sa.String(length=16), nullable=False),
        sa.Column("platform", sa.String(length=255), nullable=True),
        sa.Column("begin", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('upload', 'sushi', 'cli', 'demo')",
            name=op.f("ck_usage_import_source_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_usage_import_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_usage_import_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_import")),
        sa.UniqueConstraint("member_id", "checksum", name="uq_usage_import_member_checksum"),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("credited_invoice_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source_currency", sa.String(length=3), nullable=True),
        sa.Column("exchange_rate", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("exchange_rate_date", sa.Date(), nullable=True),
        sa.Column("net", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("tax", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("gross", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("paid", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind = 'invoice' OR credited_invoice_id IS NOT NULL",
            name=op.f("ck_invoice_credit_note_refers"),
        ),
        sa.CheckConstraint(
            "kind IN ('invoice', 'credit_note')", name=op.f("ck_invoice_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'issued', 'paid', 'void')", name=op.f("ck_invoice_status_known")
        ),
        sa.CheckConstraint(
            "exchange_rate IS NULL OR exchange_rate > 0",
            name=op.f("ck_invoice_exchange_rate_positive"),
        ),
        sa.CheckConstraint("gross >= 0", name=op.f("ck_invoice_gross_non_negative")),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_invoice_currency_iso_code"),
        ),
        sa.CheckConstraint("net >= 0", name=op.f("ck_invoice_net_non_negative")),
        sa.CheckConstraint("paid >= 0", name=op.f("ck_invoice_paid_non_negative")),
        sa.CheckConstraint("tax >= 0", name=op.f("ck_invoice_tax_non_negative")),
        sa.ForeignKeyConstraint(
            ["credited_invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_credited_invoice_id_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["app_user.id"],
            name=op.f("fk_invoice_issued_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_invoice_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["billing_run.id"], name=op.f("fk_invoice_run_id_billing_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number", name="uq_invoice_number"),
    )
    op.create_table(
        "participation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('invited', 'joined', 'declined')",
            name=op.f("ck_participation_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_participation_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_participation_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation")),
        sa.UniqueConstraint("offer_id", "member_id", name="uq_participation_offer_member"),
    )
    op.create_table(
        "quote_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("pricing", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_quote_round_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_round")),
        sa.UniqueConstraint("offer_id", "number", name="uq_quote_round_offer_number"),
    )
    # offer.current_round_id and quote_round.offer_id refer to each other: the
    # first key is added once both tables exist. SQLite cannot add a key to a
    # table, but it does not check that the target exists when a table is made,
    # so there the key is part of the CREATE TABLE instead.
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(
            op.f("fk_offer_current_round_id_quote_round"),
            "offer",
            "quote_round",
            ["current_round_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_scenario_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_scenario_offer_id_offer"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario")),
    )
    op.create_table(
        "usage_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=255), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("publisher", sa.String(length=255), nullable=True),
        sa.Column("print_issn", sa.String(length=32), nullable=True),
        sa.Column("online_issn", sa.String(length=32), nullable=True),
        sa.Column("isbn", sa.String(length=32), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("proprietary_id", sa.String(length=255), nullable=True),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("data_type", sa.String(length=64), nullable=True),
        sa.Column("section_type", sa.String(length=64), nullable=True),
        sa.Column("access_type", sa.String(length=64), nullable=True),
        sa.Column("access_method", sa.String(length=64), nullable=True),
        sa.Column("yop", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["usage_import.id"],
            name=op.f("fk_usage_item_import_id_usage_import"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resource.id"],
            name=op.f("fk_usage_item_resource_id_resource"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_item")),
    )
    with op.batch_alter_table("usage_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_item_import_id"), ["import_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_usage_item_resource_id"), ["resource_id"], unique=False
        )

    op.create_table(
        "allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("term_year", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("formula_id", sa.Integer(), nullable=True),
        sa.Column("formula_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("surcharge_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("subsidy", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalized_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'final')", name=op.f("ck_allocation_status_known")),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f("ck_allocation_currency_iso_code"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_allocation_price_non_negative")),
        sa.CheckConstraint("subsidy >= 0", name=op.f("ck_allocation_subsidy_non_negative")),
        sa.CheckConstraint("term_year >= 1", name=op.f("ck_allocation_term_year_positive")),
        sa.CheckConstraint("total >= 0", name=op.f("ck_allocation_total_non_negative")),
        sa.ForeignKeyConstraint(
            ["finalized_by_id"],
            ["app_user.id"],
            name=op.f("fk_allocation_finalized_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["formula_id"],
            ["formula.id"],
            name=op.f("fk_allocation_formula_id_formula"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_allocation_offer_id_offer")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["quote_round.id"], name=op.f("fk_allocation_round_id_quote_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
        sa.UniqueConstraint(
            "offer_id", "term_year", "status", name="uq_allocation_offer_year_status"
        ),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_payment_recorded_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    op.create_table(
        "solo_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "source IN ('typed', 'imported', 'computed')", name=op.f("ck_solo_price_source_known")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_solo_price_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_solo_price_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["quote_round.id"],
            name=op.f("fk_solo_price_round_id_quote_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_solo_price")),
        sa.UniqueConstraint("round_id", "member_id", name="uq_solo_price_round_member"),
    )
    op.create_table(
        "usage_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_usage_record_count_non_negative")),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["usage_import.id"],
            name=op.f("fk_usage_record_import_id_usage_import"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["usage_item.id"],
            name=op.f("fk_usage_record_item_id_usage_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_usage_record_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_record")),
    )
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_record_import_id"), ["import_id"], unique=False)
        batch_op.create_index("ix_usage_record_member_month", ["member_id", "month"], unique=False)

    op.create_table(
        "allocation_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("raw", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("surcharge", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("bound", sa.String(length=16), nullable=True),
        sa.Column("solo_price", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("savings", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("savings_pct", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_allocation_line_amount_non_negative")),
        sa.CheckConstraint(
            "surcharge >= 0", name=op.f("ck_allocation_line_surcharge_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["allocation.id"],
            name=op.f("fk_allocation_line_allocation_id_allocation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_allocation_line_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_line")),
        sa.UniqueConstraint(
            "allocation_id", "member_id", name="uq_allocation_line_allocation_member"
        ),
    )
    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("allocation_line_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=True),
        sa.Column("source_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("net", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("tax", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("gross", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('share', 'surcharge', 'credit')", name=op.f("ck_invoice_line_kind_known")
        ),
        sa.CheckConstraint("gross >= 0", name=op.f("ck_invoice_line_gross_non_negative")),
        sa.CheckConstraint("net >= 0", name=op.f("ck_invoice_line_net_non_negative")),
        sa.CheckConstraint(
            "source_amount >= 0", name=op.f("ck_invoice_line_source_amount_non_negative")
        ),
        sa.CheckConstraint("tax >= 0", name=op.f("ck_invoice_line_tax_non_negative")),
        sa.CheckConstraint("tax_rate >= 0", name=op.f("ck_invoice_line_tax_rate_non_negative")),
        sa.ForeignKeyConstraint(
            ["allocation_line_id"],
            ["allocation_line.id"],
            name=op.f("fk_invoice_line_allocation_line_id_allocation_line"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoice.id"],
            name=op.f("fk_invoice_line_invoice_id_invoice"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_line")),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_offer_current_round_id_quote_round"), "offer", type_="foreignkey"
        )
    op.drop_table("invoice_line")
    op.drop_table("allocation_line")
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_record_member_month")
        batch_op.drop_index(batch_op.f("ix_usage_record_import_id"))

    op.drop_table("usage_record")
    op.drop_table("solo_price")
    op.drop_table("payment")
    op.drop_table("allocation")
    with op.batch_alter_table("usage_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_item_resource_id"))
        batch_op.drop_index(batch_op.f("ix_usage_item_import_id"))

    op.drop_table("usage_item")
    op.drop_table("scenario")
    op.drop_table("quote_round")
    op.drop_table("participation")
    op.drop_table("invoice")
    op.drop_table("usage_import")
    op.drop_table("offer")
    op.drop_table("billing_run")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_object")
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    op.drop_table("api_token")
    op.drop_table("sushi_credential")
    op.drop_table("resource")
    op.drop_table("member_fact")
    op.drop_table("app_user")
    op.drop_table("vendor")
    op.drop_table("member")
    op.drop_table("invoice_sequence")
    op.drop_table("formula")
