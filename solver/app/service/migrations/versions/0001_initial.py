"""The schema of release 0.1, as its hand-written migration 1 created it.

A frozen copy (not ``metadata.create_all``): later schema changes are later revisions.
``lr_schema_version`` keeps its row so a previous release opening this database sees
version 1 and leaves it alone.

Revision ID: 0001
Revises:
Create Date: 2026-12-02 14:43:26.422793
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lr_batches',
    sa.Column('batch_id', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('lr_leads',
    sa.Column('lead_id', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('effort', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rep_id', sa.String(length=200), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('worked_at', sa.DateTime(), nullable=True),
    sa.Column('converted', sa.Boolean(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('lead_id')
    )
    with op.batch_alter_table('lr_leads', schema=None) as batch_op:
        batch_op.create_index('lr_leads_status', ['status', 'created_at'], unique=False)

    op.create_table('lr_notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=200), nullable=False),
    sa.Column('rep_id', sa.String(length=200), nullable=False),
    sa.Column('batch_id', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lr_notifications', schema=None) as batch_op:
        batch_op.create_index('lr_notifications_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('lr_owners',
    sa.Column('account_id', sa.String(length=200), nullable=False),
    sa.Column('rep_id', sa.String(length=200), nullable=False),
    sa.Column('parent_account_id', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('lr_reps',
    sa.Column('rep_id', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Float(), nullable=False),
    sa.Column('capacity_week', sa.Float(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('work_start', sa.String(length=5), nullable=True),
    sa.Column('work_end', sa.String(length=5), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('rep_id')
    )
    op.create_table('lr_rotation',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    legacy = op.create_table('lr_schema_version',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.bulk_insert(legacy, [{"version": 1,
                             "applied_at": datetime.now(UTC).replace(tzinfo=None)}])
    op.create_table('lr_absences',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rep_id', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rep_id'], ['lr_reps.rep_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('lr_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('lead_id', sa.String(length=200), nullable=False),
    sa.Column('rep_id', sa.String(length=200), nullable=True),
    sa.Column('batch_id', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('effort', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lr_leads.lead_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lr_assignments', schema=None) as batch_op:
        batch_op.create_index('lr_assignments_lead', ['lead_id'], unique=False)
        batch_op.create_index('lr_assignments_rep_time', ['rep_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lr_assignments', schema=None) as batch_op:
        batch_op.drop_index('lr_assignments_rep_time')
        batch_op.drop_index('lr_assignments_lead')

    op.drop_table('lr_assignments')
    op.drop_table('lr_absences')
    op.drop_table('lr_schema_version')
    op.drop_table('lr_rotation')
    op.drop_table('lr_reps')
    op.drop_table('lr_owners')
    with op.batch_alter_table('lr_notifications', schema=None) as batch_op:
        batch_op.drop_index('lr_notifications_due')

    op.drop_table('lr_notifications')
    with op.batch_alter_table('lr_leads', schema=None) as batch_op:
        batch_op.drop_index('lr_leads_status')

    op.drop_table('lr_leads')
    op.drop_table('lr_batches')
