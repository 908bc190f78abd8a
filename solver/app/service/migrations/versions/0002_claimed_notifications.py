"""Outbox rows are claimed before delivery (a token and a lease) and every delivery
attempt is recorded: the hand-written migration 2 of issue 13.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lr_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
    op.create_table(
        "lr_notification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["lr_notifications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lr_notification_attempts", schema=None) as batch_op:
        batch_op.create_index("lr_notification_attempts_row", ["notification_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lr_notification_attempts", schema=None) as batch_op:
        batch_op.drop_index("lr_notification_attempts_row")
    op.drop_table("lr_notification_attempts")
    with op.batch_alter_table("lr_notifications", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
