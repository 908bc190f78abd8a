"""The console's own audit log: every change made from the console, with its origin.

The service's audit log (``lr_assignments``) records what happened to leads; a change to a
rep (capacity, active, absence) has no lead, so console writes are recorded here, in the
same transaction as the change itself. The table is created on first use (idempotent),
next to the service's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    select,
)
from sqlalchemy import Table as SqlTable

metadata = MetaData()

console_audit = SqlTable(
    "lr_console_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("origin", String(32), nullable=False),  # "console"
    Column("client", String(200), nullable=False),  # remote address and user agent
    Column("action", String(32), nullable=False),  # rep.update, rep.absence, route.run
    Column("target", String(200), nullable=False),  # rep id, batch id
    Column("detail", JSON, nullable=False),  # the values written
)
Index("lr_console_audit_target", console_audit.c.target, console_audit.c.created_at)


def ensure_table(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


@dataclass(frozen=True)
class Origin:
    """Where a write came from."""

    client: str
    origin: str = "console"


def record(conn: Connection, origin: Origin, action: str, target: str,
           detail: dict[str, Any], now: datetime) -> None:
    conn.execute(console_audit.insert().values(
        created_at=now, origin=origin.origin, client=origin.client[:200], action=action,
        target=target, detail=detail))


def recent(conn: Connection, *, target: str | None = None, limit: int = 50
           ) -> list[dict[str, Any]]:
    query = select(console_audit).order_by(console_audit.c.id.desc()).limit(limit)
    if target is not None:
        query = query.where(console_audit.c.target == target)
    return [dict(row) for row in conn.execute(query).mappings()]
