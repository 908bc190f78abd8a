"""Ordered schema migrations: each step runs once, in order, recorded in
``lr_schema_version``. Adding a change = appending a function to ``MIGRATIONS``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect, select, text

from solver.app.service import _schema as schema


def _v1_initial(conn: Connection) -> None:
    tables = [t for t in schema.metadata.sorted_tables if t is not schema.schema_version]
    schema.metadata.create_all(conn, tables=tables)


def _v2_claimed_notifications(conn: Connection) -> None:
    """Outbox rows are claimed before delivery (token + lease) and every attempt is
    recorded. A store created at version 1 gets the columns; a new one has them already."""
    have = {column["name"] for column in inspect(conn).get_columns(schema.notifications.name)}
    for name, kind in (("claim_token", "VARCHAR(64)"), ("claimed_until", "TIMESTAMP")):
        if name not in have:
            conn.execute(text(f"ALTER TABLE {schema.notifications.name} ADD COLUMN {name} "
                              f"{kind}"))
    schema.metadata.create_all(conn, tables=[schema.notification_attempts])


def _v3_accounts(conn: Connection) -> None:
    """Accounts held in the store and each lead's match and duplicate verdict (issue 19).
    ``create_all`` skips tables a store created at version 1 by this code already has."""
    schema.metadata.create_all(conn, tables=[schema.accounts, schema.lead_matches])


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1_initial, _v2_claimed_notifications,
                                                         _v3_accounts)
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema.schema_version.name):
        return 0
    found = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    return max(found, default=0)


def migrate(engine: Engine) -> int:
    """Bring the database to ``LATEST``; safe to call at every start (a no-op when current)."""
    with engine.begin() as conn:
        schema.metadata.create_all(conn, tables=[schema.schema_version])
    with engine.begin() as conn:
        version = current_version(conn)
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(conn)
            conn.execute(schema.schema_version.insert().values(
                version=number, applied_at=datetime.now(UTC).replace(tzinfo=None)))
        return current_version(conn)
