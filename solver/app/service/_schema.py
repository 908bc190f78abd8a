"""The state store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are naive UTC everywhere (SQLite has no time zones). ``assignments`` is the audit log:
rows are only ever inserted, never updated, so "what happened to this lead" is a query.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_version = Table(
    "lr_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)

reps = Table(
    "lr_reps",
    metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("capacity", Float, nullable=False),  # effort units per day
    Column("capacity_week", Float, nullable=True),  # optional weekly cap on top
    Column("active", Boolean, nullable=False, default=True),
    Column("weight", Float, nullable=False, default=1.0),
    Column("start_date", Date, nullable=True),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("work_start", String(5), nullable=True),  # "09:00" local time; null = always
    Column("work_end", String(5), nullable=True),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("updated_at", DateTime, nullable=False),
)

absences = Table(
    "lr_absences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rep_id", String(200), ForeignKey("lr_reps.rep_id"), nullable=False),
    Column("starts_at", DateTime, nullable=False),
    Column("ends_at", DateTime, nullable=False),
)

leads = Table(
    "lr_leads",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("account_id", String(200), nullable=True),
    Column("value", Float, nullable=False, default=1.0),
    Column("effort", Float, nullable=False, default=1.0),
    Column("created_at", DateTime, nullable=False),
    Column("attributes", JSON, nullable=False, default=dict),
    # pending → assigned → accepted → worked; assigned → expired → pending; nurture; unrouted
    Column("status", String(16), nullable=False),
    Column("rep_id", String(200), nullable=True),
    Column("assigned_at", DateTime, nullable=True),
    Column("due_at", DateTime, nullable=True),
    Column("worked_at", DateTime, nullable=True),
    Column("converted", Boolean, nullable=True),
    Column("revenue", Float, nullable=True),  # realised value of a conversion (migration 3)
    Column("attempts", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=False, default=""),
    Column("updated_at", DateTime, nullable=False),
)
Index("lr_leads_status", leads.c.status, leads.c.created_at)

assignments = Table(
    "lr_assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(200), ForeignKey("lr_leads.lead_id"), nullable=False),
    Column("rep_id", String(200), nullable=True),
    Column("batch_id", String(200), nullable=False),
    Column("event", String(16), nullable=False),  # assigned, nurture, unassigned, expired, ...
    Column("effort", Float, nullable=False, default=0.0),
    Column("score", Float, nullable=True),
    Column("reason", Text, nullable=False),
    Column("engine", String(64), nullable=False, default=""),
    Column("policy_version", String(32), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    # the learning loop (migration 3): the probability the policy chose this rep with,
    # and in a holdout the lead's arm and the experiment's name
    Column("propensity", Float, nullable=True),
    Column("arm", String(16), nullable=True),
    Column("experiment", String(200), nullable=True),
)
Index("lr_assignments_lead", assignments.c.lead_id)
Index("lr_assignments_rep_time", assignments.c.rep_id, assignments.c.created_at)

owners = Table(
    "lr_owners",
    metadata,
    Column("account_id", String(200), primary_key=True),
    Column("rep_id", String(200), nullable=False),
    Column("parent_account_id", String(200), nullable=True),
    Column("updated_at", DateTime, nullable=False),
)

rotation = Table(
    "lr_rotation",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("state", Text, nullable=False),  # RotationState JSON
    Column("updated_at", DateTime, nullable=False),
)

batches = Table(
    "lr_batches",
    metadata,
    Column("batch_id", String(200), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("report", JSON, nullable=False),
)

notifications = Table(
    "lr_notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(200), nullable=False),
    Column("rep_id", String(200), nullable=False),
    Column("batch_id", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("updated_at", DateTime, nullable=False),
    # a deliverer claims a row before posting it (migration 2): the claim's token and lease
    Column("claim_token", String(64), nullable=True),
    Column("claimed_until", DateTime, nullable=True),
)
Index("lr_notifications_due", notifications.c.status, notifications.c.next_attempt_at)

notification_attempts = Table(  # every delivery attempt, inserted only (migration 2)
    "lr_notification_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notification_id", Integer, ForeignKey("lr_notifications.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("claim_token", String(64), nullable=False),
    Column("attempted_at", DateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
)
Index("lr_notification_attempts_row", notification_attempts.c.notification_id)

rep_prices = Table(  # each rep's capacity price for instant routing (migration 3)
    "lr_rep_prices",
    metadata,
    Column("rep_id", String(200), primary_key=True),
    Column("price", Float, nullable=False),  # value of one more unit of its capacity today
    Column("source", String(16), nullable=False),  # batch, forecast
    Column("batch_id", String(200), nullable=True),  # the batch whose solve priced it
    Column("computed_at", DateTime, nullable=False),
)

accounts = Table(  # known customer accounts for lead-to-account matching (migration 3)
    "lr_accounts",
    metadata,
    Column("account_id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("domain", Text, nullable=False, default=""),
    Column("website", Text, nullable=False, default=""),
    Column("country", String(64), nullable=False, default=""),
    Column("parent_account_id", String(200), nullable=False, default=""),
    Column("attributes", JSON, nullable=False, default=dict),
    # one id per PUT of the whole list: the fitted matcher is cached under it
    Column("revision", String(32), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

lead_matches = Table(  # what ingest's matcher and dedupe said of each lead (migration 3)
    "lr_lead_matches",
    metadata,
    Column("lead_id", String(200), ForeignKey("lr_leads.lead_id"), primary_key=True),
    Column("account_id", String(200), nullable=True),  # given or matched; null: none
    Column("confidence", Float, nullable=False),
    Column("method", String(32), nullable=False),  # MatchMethod value, or "given"
    Column("reason", Text, nullable=False),
    Column("email_key", String(320), nullable=True),  # johndoe@gmail.com: dedupe by email
    Column("person_key", String(400), nullable=True),  # "john doe": dedupe at an account
    Column("duplicate_of", String(200), nullable=True),  # the first lead of this person
)
Index("lr_lead_matches_email", lead_matches.c.email_key)
Index("lr_lead_matches_person", lead_matches.c.person_key, lead_matches.c.account_id)
