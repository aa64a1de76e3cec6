"""Load usage records in bulk: no per-row foreign keys, one index by item and month.

On PostgreSQL every foreign key is a trigger run for each inserted row; with the
three of usage_record a COPY of usage records ran at about 24,000 records/s,
with one at about 60,000, with none at about 190,000. The import service is the
only writer of usage records and removes them before their items, so the keys
go. Every read reaches records through their items (a resource's or a batch's),
month by month: one index on (item_id, month) replaces the two on import_id and
(member_id, month).

Revision ID: c68a32a24a0c
Revises: c47d82c6c02f
Create Date: 2026-11-27 11:37:36.370821+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c68a32a24a0c"
down_revision: str | Sequence[str] | None = "c47d82c6c02f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_record_import_id")
        batch_op.drop_index("ix_usage_record_member_month")
        batch_op.create_index("ix_usage_record_item_month", ["item_id", "month"], unique=False)
        batch_op.drop_constraint("fk_usage_record_member_id_member", type_="foreignkey")
        batch_op.drop_constraint("fk_usage_record_item_id_usage_item", type_="foreignkey")
        batch_op.drop_constraint("fk_usage_record_import_id_usage_import", type_="foreignkey")


def downgrade() -> None:
    # The keys cannot come back while a record names a removed item or batch.
    op.execute(
        "DELETE FROM usage_record WHERE item_id NOT IN (SELECT id FROM usage_item)"
        " OR import_id NOT IN (SELECT id FROM usage_import)"
    )
    with op.batch_alter_table("usage_record", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_usage_record_import_id_usage_import",
            "usage_import",
            ["import_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_usage_record_item_id_usage_item",
            "usage_item",
            ["item_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_usage_record_member_id_member", "member", ["member_id"], ["id"]
        )
        batch_op.drop_index("ix_usage_record_item_month")
        batch_op.create_index("ix_usage_record_member_month", ["member_id", "month"], unique=False)
        batch_op.create_index("ix_usage_record_import_id", ["import_id"], unique=False)
