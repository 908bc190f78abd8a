"""Each assignment's propensity, arm and experiment; each lead's revenue (issue 21).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (("lr_assignments", sa.Column("propensity", sa.Float(), nullable=True)),
            ("lr_assignments", sa.Column("arm", sa.String(length=16), nullable=True)),
            ("lr_assignments", sa.Column("experiment", sa.String(length=200), nullable=True)),
            ("lr_leads", sa.Column("revenue", sa.Float(), nullable=True)))


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table, column in _COLUMNS:
        # a store made by the hand-written migrations has the code's columns already
        if column.name not in {c["name"] for c in inspector.get_columns(table)}:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.add_column(column)


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column.name)
