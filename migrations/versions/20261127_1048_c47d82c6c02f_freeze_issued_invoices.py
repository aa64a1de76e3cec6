"""Freeze issued invoices: triggers refuse changes; a run's tax rate; indexes for lists.

Once an invoice (or credit note) leaves the draft state, its number, dates,
parties, amounts, lines and stored PDF never change: a trigger rejects such an
UPDATE (and any DELETE) on SQLite and PostgreSQL, whatever client runs it. Only
its status (issued → paid | void, never back), payments, void and email fields
move, and its PDF may be stored once.

Revision ID: c47d82c6c02f
Revises: 82b48161043b
Create Date: 2026-11-27 10:48:19.116640+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c47d82c6c02f"
down_revision: str | Sequence[str] | None = "82b48161043b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Columns of an invoice that never change once it is issued (JSON compared as text).
FROZEN = [
    "number",
    "kind",
    "member_id",
    "run_id",
    "credited_invoice_id",
    "year",
    "issue_date",
    "due_date",
    "currency",
    "source_currency",
    "exchange_rate",
    "exchange_rate_date",
    "net",
    "tax",
    "gross",
    "notes",
    "issued_at",
]
FROZEN_JSON = ["seller", "buyer"]
#: Stored once, then never changed.
STORED_ONCE = ["pdf", "pdf_sha256"]

#: SQLite names a failed CHECK constraint this way; errors.constraint_name reads it back.
SQLITE_MESSAGE = "CHECK constraint failed: invoice_immutable"


def _sqlite_changed() -> str:
    parts = [f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN + FROZEN_JSON]
    parts += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in STORED_ONCE]
    parts += ["NEW.status = 'draft'", "(OLD.status = 'void' AND NEW.status <> 'void')"]
    return "\n      OR ".join(parts)


def _postgres_changed() -> str:
    parts = [f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN]
    parts += [f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN_JSON]
    parts += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in STORED_ONCE]
    parts += ["NEW.status = 'draft'", "(OLD.status = 'void' AND NEW.status <> 'void')"]
    return "\n         OR ".join(parts)


def _sqlite_upgrade() -> None:
    op.execute(
        f"""
        CREATE TRIGGER invoice_immutable_update BEFORE UPDATE ON invoice
        WHEN OLD.status <> 'draft' AND (
          {_sqlite_changed()})
        BEGIN SELECT RAISE(ABORT, '{SQLITE_MESSAGE}'); END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER invoice_immutable_delete BEFORE DELETE ON invoice
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{SQLITE_MESSAGE}'); END
        """
    )
    for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
        op.execute(
            f"""
            CREATE TRIGGER invoice_line_immutable_{event.lower()} BEFORE {event} ON invoice_line
            WHEN (SELECT status FROM invoice WHERE id = {row}.invoice_id) <> 'draft'
            BEGIN SELECT RAISE(ABORT, '{SQLITE_MESSAGE}'); END
            """
        )


def _postgres_upgrade() -> None:
    raise_ = (
        "RAISE EXCEPTION 'An issued invoice cannot be changed (invoice %).', {row}.id "
        "USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_immutable'"
    )
    op.execute(
        f"""
        CREATE FUNCTION invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.status <> 'draft' THEN {raise_.format(row="OLD")}; END IF;
            RETURN OLD;
          END IF;
          IF OLD.status <> 'draft' AND (
             {_postgres_changed()}) THEN
            {raise_.format(row="OLD")};
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON invoice "
        "FOR EACH ROW EXECUTE FUNCTION invoice_immutable()"
    )
    op.execute(
        """
        CREATE FUNCTION invoice_line_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          line invoice_line%ROWTYPE;
        BEGIN
          IF TG_OP = 'INSERT' THEN line := NEW; ELSE line := OLD; END IF;
          IF (SELECT status FROM invoice WHERE id = line.invoice_id) <> 'draft' THEN
            RAISE EXCEPTION 'An issued invoice cannot be changed (invoice %).', line.invoice_id
              USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_immutable';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER invoice_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_line "
        "FOR EACH ROW EXECUTE FUNCTION invoice_line_immutable()"
    )


def upgrade() -> None:
    with op.batch_alter_table("billing_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tax_rate", sa.Numeric(precision=20, scale=6), nullable=False, server_default="0"
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_billing_run_tax_rate_non_negative"), "tax_rate >= 0"
        )
    with op.batch_alter_table("billing_run", schema=None) as batch_op:
        batch_op.alter_column("tax_rate", server_default=None)

    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_run_id"), ["run_id"], unique=False)
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_line_invoice_id"), ["invoice_id"], unique=False
        )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_invoice_id"), ["invoice_id"], unique=False)

    # Triggers last: a batch operation that rebuilds a table on SQLite would drop them.
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER invoice_line_immutable ON invoice_line")
        op.execute("DROP FUNCTION invoice_line_immutable()")
        op.execute("DROP TRIGGER invoice_immutable ON invoice")
        op.execute("DROP FUNCTION invoice_immutable()")
    else:
        for name in (
            "invoice_line_immutable_insert",
            "invoice_line_immutable_update",
            "invoice_line_immutable_delete",
            "invoice_immutable_delete",
            "invoice_immutable_update",
        ):
            op.execute(f"DROP TRIGGER {name}")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_invoice_id"))
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_invoice_id"))
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_run_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_member_id"))
    with op.batch_alter_table("billing_run", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_billing_run_tax_rate_non_negative"), type_="check")
        batch_op.drop_column("tax_rate")
