"""Link a replacement invoice to the invoice it replaces.

A corrected invoice drafted when an invoice is voided was found again by the
text of its note ("Replaces invoice CS-2027-0002, voided: …"), which a
coordinator may edit. It now points at the voided invoice: `replaces_invoice_id`
(indexed; the voided invoice cannot be deleted while a replacement refers to it:
the foreign key's default NO ACTION, which SQLite, adding the column in place,
could not record as RESTRICT for the models to compare).
Replacements drafted before are linked by the note they were given. Like the
other links of an invoice, it never changes once the invoice is issued: the
"Freeze issued invoices" triggers are redefined with this column among the
frozen ones (and back without it on downgrade).

On SQLite the column is added in place: rebuilding the invoice table (batch mode)
would drop its triggers and, foreign keys being on, its DROP TABLE would delete
every invoice's lines (ON DELETE CASCADE). Dropping the column again needs that
rebuild, so a downgrade of a SQLite database that holds invoices is refused.

Revision ID: bffbea0008fa
Revises: 07d174418fd6
Create Date: 2026-11-27 14:08:44.548102+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bffbea0008fa"
down_revision: str | Sequence[str] | None = "07d174418fd6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The frozen columns of revision c47d82c6c02f ("Freeze issued invoices").
FROZEN_BEFORE = [
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
FROZEN = [*FROZEN_BEFORE, "replaces_invoice_id"]
FROZEN_JSON = ["seller", "buyer"]
STORED_ONCE = ["pdf", "pdf_sha256"]
SQLITE_MESSAGE = "CHECK constraint failed: invoice_immutable"

#: A replacement's note as `redraft` wrote it: "Replaces invoice <number>, voided: <reason>".
BACKFILL = """
UPDATE invoice SET replaces_invoice_id = (
  SELECT voided.id FROM invoice AS voided
  WHERE voided.run_id = invoice.run_id
    AND voided.kind = 'invoice'
    AND voided.status = 'void'
    AND voided.number IS NOT NULL
    AND substr(invoice.notes, 1, length('Replaces invoice ' || voided.number || ','))
        = 'Replaces invoice ' || voided.number || ','
  ORDER BY voided.id
  LIMIT 1
)
WHERE kind = 'invoice' AND replaces_invoice_id IS NULL AND notes LIKE 'Replaces invoice %'
"""


def _sqlite_update_trigger(frozen: list[str]) -> None:
    parts = [f"NEW.{c} IS NOT OLD.{c}" for c in frozen + FROZEN_JSON]
    parts += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})" for c in STORED_ONCE]
    parts += ["NEW.status = 'draft'", "(OLD.status = 'void' AND NEW.status <> 'void')"]
    changed = "\n      OR ".join(parts)
    op.execute(
        f"""
        CREATE TRIGGER invoice_immutable_update BEFORE UPDATE ON invoice
        WHEN OLD.status <> 'draft' AND (
          {changed})
        BEGIN SELECT RAISE(ABORT, '{SQLITE_MESSAGE}'); END
        """
    )


def _sqlite_triggers_on_invoice() -> list[tuple[str, str]]:
    """Return the (name, SQL) of every trigger on or about the invoice table."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name IN ('invoice', 'invoice_line') ORDER BY name"
    )
    return [(name, sql) for name, sql in rows]


def _postgres_function(frozen: list[str]) -> None:
    parts = [f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in frozen]
    parts += [f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN_JSON]
    parts += [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in STORED_ONCE]
    parts += ["NEW.status = 'draft'", "(OLD.status = 'void' AND NEW.status <> 'void')"]
    changed = "\n         OR ".join(parts)
    raise_ = (
        "RAISE EXCEPTION 'An issued invoice cannot be changed (invoice %).', {row}.id "
        "USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_immutable'"
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.status <> 'draft' THEN {raise_.format(row="OLD")}; END IF;
            RETURN OLD;
          END IF;
          IF OLD.status <> 'draft' AND (
             {changed}) THEN
            {raise_.format(row="OLD")};
          END IF;
          RETURN NEW;
        END $$
        """
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place, not rebuilt (see above).
        op.execute("DROP TRIGGER invoice_immutable_update")
        op.execute(
            "ALTER TABLE invoice ADD COLUMN replaces_invoice_id INTEGER "
            "CONSTRAINT fk_invoice_replaces_invoice_id_invoice "
            "REFERENCES invoice (id)"
        )
        op.create_index(op.f("ix_invoice_replaces_invoice_id"), "invoice", ["replaces_invoice_id"])
        op.execute(BACKFILL)
        _sqlite_update_trigger(FROZEN)
        return
    op.add_column("invoice", sa.Column("replaces_invoice_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_invoice_replaces_invoice_id"), "invoice", ["replaces_invoice_id"])
    op.create_foreign_key(
        "fk_invoice_replaces_invoice_id_invoice",
        "invoice",
        "invoice",
        ["replaces_invoice_id"],
        ["id"],
    )
    # Before the column is frozen: issued replacements get their link too.
    op.execute(BACKFILL)
    _postgres_function(FROZEN)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _postgres_function(FROZEN_BEFORE)
        op.drop_constraint("fk_invoice_replaces_invoice_id_invoice", "invoice", type_="foreignkey")
        op.drop_index(op.f("ix_invoice_replaces_invoice_id"), table_name="invoice")
        op.drop_column("invoice", "replaces_invoice_id")
        return
    # SQLite drops a column that is a foreign key only by rebuilding the table, and with
    # foreign keys on, the rebuild's DROP TABLE would delete every invoice's lines
    # (ON DELETE CASCADE): refuse rather than lose them.
    if op.get_bind().exec_driver_sql("SELECT count(*) FROM invoice").scalar():
        raise RuntimeError(
            "This SQLite database holds invoices: going below this revision would rebuild "
            "the invoice table and lose their lines. Restore a backup taken before instead."
        )
    triggers = _sqlite_triggers_on_invoice()
    for name, _sql in triggers:
        op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_replaces_invoice_id"))
        batch_op.drop_column("replaces_invoice_id")
    for name, sql in triggers:
        if name != "invoice_immutable_update":
            op.execute(sql)
    _sqlite_update_trigger(FROZEN_BEFORE)
