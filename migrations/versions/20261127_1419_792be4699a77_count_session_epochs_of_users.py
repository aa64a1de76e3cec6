"""Count each user's deactivations and reactivations (session epoch).

A login session carries a digest of the user's password hash, active flag and
this counter: a session from before a deactivation stays ended once the user
is active again. Added in place on both databases (no table rebuild).

Revision ID: 792be4699a77
Revises: bffbea0008fa
Create Date: 2026-11-27 14:19:43.360817+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "792be4699a77"
down_revision: str | Sequence[str] | None = "bffbea0008fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user",
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # SQLite (3.35 and later) drops a plain column in place, like PostgreSQL.
    op.drop_column("app_user", "session_epoch")
