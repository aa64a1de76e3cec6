"""Record the year each fact of an allocation line was taken from.

Revision ID: 82b48161043b
Revises: 206663d524bb
Create Date: 2026-11-27 10:47:23.972239+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "82b48161043b"
down_revision: str | Sequence[str] | None = "206663d524bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("allocation_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts_year", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("allocation_line", schema=None) as batch_op:
        batch_op.drop_column("facts_year")
