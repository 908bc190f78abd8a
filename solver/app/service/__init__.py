"""The micro-batch routing service: a state store (SQLite or PostgreSQL through
SQLAlchemy), scheduled batches with SLA re-assignment, webhooks and an HTTP API.

It sits on top of the optimisation core: pending leads and the reps' remaining capacity
are read from the store, routed with ``route_with_policy``, and written back in one
transaction.
"""

from solver.app.service._batch import (
    BatchReport,
    BatchSettings,
    Scorer,
    policy_version,
    run_batch,
    uniform_scorer,
)
from solver.app.service._gc import freeze_startup_objects
from solver.app.service._notify import DeliveryReport, deliver_due, notifications
from solver.app.service._operations import (
    ingest_leads,
    lead_story,
    load_owners_into_store,
    load_reps_into_store,
    mark_lead,
    reps_table,
)
from solver.app.service._store import (
    DB_URL_ENV,
    DEFAULT_DB_URL,
    Store,
    StoreSettings,
    db_url_from_env,
    utcnow,
)
from solver.errors import BatchBusyError, NotFoundError, StoreError

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_URL",
    "BatchBusyError",
    "BatchReport",
    "BatchSettings",
    "DeliveryReport",
    "NotFoundError",
    "Scorer",
    "Store",
    "StoreError",
    "StoreSettings",
    "db_url_from_env",
    "deliver_due",
    "freeze_startup_objects",
    "ingest_leads",
    "lead_story",
    "load_owners_into_store",
    "load_reps_into_store",
    "mark_lead",
    "notifications",
    "policy_version",
    "reps_table",
    "run_batch",
    "uniform_scorer",
    "utcnow",
]
