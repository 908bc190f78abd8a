"""Each rep's capacity price from the last batch solve (or a forecast), for instant
routing (issue 18).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a store made by the hand-written migrations (``_migrations``) builds its tables from
    # the code's metadata, so it may have this table already
    if sa.inspect(op.get_bind()).has_table("lr_rep_prices"):
        return
    op.create_table(
        "lr_rep_prices",
        sa.Column("rep_id", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=200), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rep_id"),
    )


def downgrade() -> None:
    op.drop_table("lr_rep_prices")
