"""Known customer accounts and what ingest's matcher and dedupe said of each lead
(issue 19).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # a store made by the hand-written migrations may have these tables already
    if not inspector.has_table("lr_accounts"):
        op.create_table(
            "lr_accounts",
            sa.Column("account_id", sa.String(length=200), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("domain", sa.Text(), nullable=False),
            sa.Column("website", sa.Text(), nullable=False),
            sa.Column("country", sa.String(length=64), nullable=False),
            sa.Column("parent_account_id", sa.String(length=200), nullable=False),
            sa.Column("attributes", sa.JSON(), nullable=False),
            sa.Column("revision", sa.String(length=32), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("account_id"),
        )
    if not inspector.has_table("lr_lead_matches"):
        op.create_table(
            "lr_lead_matches",
            sa.Column("lead_id", sa.String(length=200), nullable=False),
            sa.Column("account_id", sa.String(length=200), nullable=True),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.Column("method", sa.String(length=32), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("email_key", sa.String(length=320), nullable=True),
            sa.Column("person_key", sa.String(length=400), nullable=True),
            sa.Column("duplicate_of", sa.String(length=200), nullable=True),
            sa.ForeignKeyConstraint(["lead_id"], ["lr_leads.lead_id"]),
            sa.PrimaryKeyConstraint("lead_id"),
        )
        with op.batch_alter_table("lr_lead_matches", schema=None) as batch_op:
            batch_op.create_index("lr_lead_matches_email", ["email_key"], unique=False)
            batch_op.create_index("lr_lead_matches_person", ["person_key", "account_id"],
                                  unique=False)


def downgrade() -> None:
    op.drop_table("lr_lead_matches")
    op.drop_table("lr_accounts")
