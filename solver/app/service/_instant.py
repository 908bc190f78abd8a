"""Instant routing (``POST /leads?instant=true``): the request's leads are stored and
routed in one write transaction, before the answer.

The leads go through the batch's own machinery (``route_leads``: policy rules,
availability, owners, daily and weekly caps, ramp-up, nurture, pins, the audit log, owners
claimed, webhooks queued) restricted to the request's leads, with the ``BidPrice``
strategy priced by the latest stored capacity prices (see ``_prices``). Because the leads
are inserted and routed in the same transaction, no batch ever sees them pending; a lead
already known is routed only if it is still pending, else answered as it stands (a retried
request routes nothing twice). A batch solving meanwhile re-checks its plan against the
room instant routing took before it commits (``_batch``).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from solver.app.service import _schema as t
from solver.app.service._api_types import MomentOut
from solver.app.service._batch import BatchSettings, route_leads
from solver.app.service._ingest import validated_leads
from solver.app.service._prices import latest_prices
from solver.app.service._routing import instant_lead_table
from solver.app.service._store import Store, as_utc, utcnow
from solver.contract_tables import TableSource
from solver.strategies import BidPrice, PriceSource

LeadStatus = Literal["pending", "assigned", "accepted", "worked", "nurture", "unrouted"]
PriceName = Literal["batch", "forecast", "none"]
_PRICE_NAME: dict[PriceSource, PriceName] = {
    PriceSource.BATCH: "batch", PriceSource.FORECAST: "forecast", PriceSource.NONE: "none"}


class InstantLead(BaseModel):
    lead_id: str
    status: LeadStatus
    rep_id: str | None
    reason: str
    routed_now: bool  # false: the lead was already routed before this request


class InstantOut(BaseModel):
    batch_id: str  # the audit log's batch id of this request's decisions
    prices: PriceName  # where the capacity prices came from
    prices_computed_at: MomentOut | None
    inserted: int
    already_known: int
    leads: list[InstantLead]


def route_instant(store: Store, settings: BatchSettings, source: TableSource, *,
                  now: datetime | None = None) -> InstantOut:
    """Store and route the leads of ``source`` at once (see the module docstring)."""
    now = as_utc(now) if now is not None else utcnow()
    rows, table = validated_leads(source, now)  # validated before anything is written
    ids = [row["lead_id"] for row in rows]
    batch_id = f"instant-{uuid.uuid4().hex}"
    with store.write() as conn:
        inserted, known = _insert_new(conn, rows)
        if known:  # a retry: what the store holds counts, read back and validated there
            pending = [lead for lead in _leads(conn, ids) if lead["status"] == "pending"]
            lead_table = None
        else:  # every lead is new: the rows just written, and their validated table
            pending = sorted(rows, key=lambda lead: (lead["created_at"], lead["lead_id"]))
            lead_table = instant_lead_table(table, rows, settings.policy)
        prices = latest_prices(conn, now)
        bid = BidPrice(prices=prices.by_rep, source=prices.source)
        route_leads(conn, replace(settings, routing=bid), pending, batch_id=batch_id, now=now,
                    lead_table=lead_table)
        stored = {lead["lead_id"]: lead for lead in _leads(conn, ids)}
    routed = {lead["lead_id"] for lead in pending}
    return InstantOut(
        batch_id=batch_id, prices=_PRICE_NAME[prices.source],
        prices_computed_at=prices.computed_at, inserted=inserted, already_known=known,
        leads=[InstantLead(lead_id=lead_id, status=stored[lead_id]["status"],
                           rep_id=stored[lead_id]["rep_id"], reason=stored[lead_id]["reason"],
                           routed_now=lead_id in routed) for lead_id in ids])


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert the leads not stored yet, one round trip per 500 leads: the insert skips
    the known ids itself (``ON CONFLICT DO NOTHING``) and returns the ids it wrote."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    written = 0
    for start in range(0, len(rows), 500):
        statement = (insert(t.leads).values(rows[start:start + 500])
                     .on_conflict_do_nothing(index_elements=[t.leads.c.lead_id])
                     .returning(t.leads.c.lead_id))
        written += len(conn.execute(statement).all())
    return written, len(rows) - written


def _leads(conn: Connection, lead_ids: list[str]) -> list[dict[str, Any]]:
    """The stored rows of ``lead_ids``, oldest first (the order a batch routes in)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(lead_ids), 500):
        query = (select(t.leads).where(t.leads.c.lead_id.in_(lead_ids[start:start + 500])))
        found += [dict(row) for row in conn.execute(query).mappings()]
    return sorted(found, key=lambda lead: (lead["created_at"], lead["lead_id"]))
