"""Index member facts by name and year.

The fact names in use (the formula editor's and the facts grid's pickers) and
the years a fact has were read by scanning every fact: 500 members with five
years of eleven facts took ~8 ms a page on SQLite. The index answers both from
its own entries.

Revision ID: 07d174418fd6
Revises: c68a32a24a0c
Create Date: 2026-11-27 12:11:06.917538+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "07d174418fd6"
down_revision: str | Sequence[str] | None = "c68a32a24a0c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member_fact", schema=None) as batch_op:
        batch_op.create_index("ix_member_fact_name_year", ["name", "year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member_fact", schema=None) as batch_op:
        batch_op.drop_index("ix_member_fact_name_year")
