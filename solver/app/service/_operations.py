"""What operators and the API do to the store besides routing: ingest leads, load reps
and owners, mark leads worked, change availability, read a lead's story."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from solver.app.service import _schema as t
from solver.app.service import _state as state
from solver.app.service._accounts import fitted_matcher, match_policy
from solver.app.service._ingest import lead_rows, rep_rows
from solver.app.service._lead_matching import insert_matched, match_verdicts
from solver.app.service._store import Store, as_utc, utcnow
from solver.contract_tables import TableSource, read_raw
from solver.errors import InputError, StoreError
from solver.policy import Match

_WORKABLE = ("assigned", "accepted")


def ingest_leads(store: Store, source: TableSource, *, now: datetime | None = None,
                 match: Match | None = None) -> tuple[int, int]:
    """Validate, match to the stored accounts and dedupe (``[match]``: ``match``, else the
    store's registered policy), then insert; a lead id seen before is skipped (ingest is
    retry-safe). Returns (inserted, already known). Nothing is written when any row is
    invalid."""
    rows = lead_rows(source, as_utc(now) if now else utcnow())
    rule = match or match_policy(store)
    with store.read() as conn:  # fitting (new accounts only) holds no write lock
        matcher = fitted_matcher(store, conn, rule.min_confidence)
    verdicts = match_verdicts(rows, matcher)  # nor does matching
    with store.write() as conn:
        return insert_matched(conn, rows, verdicts, rule)


def load_reps_into_store(store: Store, source: TableSource, *, now: datetime | None = None) -> int:
    """Insert or replace reps (by rep_id); all rows validated before any is written."""
    rows = rep_rows(source, as_utc(now) if now else utcnow())
    with store.write() as conn:
        return state.upsert(conn, t.reps, "rep_id", rows)


def load_owners_into_store(store: Store, source: TableSource, *,
                           now: datetime | None = None) -> int:
    """Owners table ``account_id, rep_id[, parent_account_id]``; reps must exist."""
    raw, label = read_raw(source, "owners")
    for column in ("account_id", "rep_id"):
        if column not in raw.columns:
            raise InputError("required column is missing", source=label, column=column)
    moment = as_utc(now) if now else utcnow()
    with store.write() as conn:
        known = set(state.reps_frame(conn)["rep_id"])
        rows = []
        for number, (_, row) in enumerate(raw.iterrows(), start=1):
            account, rep = str(row["account_id"]).strip(), str(row["rep_id"]).strip()
            if not account:
                raise InputError("empty account_id", source=label, row=number,
                                 column="account_id")
            if rep not in known:
                raise InputError(f"rep '{rep}' is not in the store", source=label,
                                 row=number, column="rep_id")
            parent = str(row.get("parent_account_id", "") or "").strip() or None
            rows.append({"account_id": account, "rep_id": rep, "parent_account_id": parent,
                         "updated_at": moment})
        return state.upsert(conn, t.owners, "account_id", rows)


def mark_lead(store: Store, lead_id: str, *, action: str, converted: bool | None = None,
              now: datetime | None = None) -> dict[str, Any]:
    """``accepted`` or ``worked`` (optionally with the outcome) for an assigned lead."""
    moment = as_utc(now) if now else utcnow()
    with store.write() as conn:
        lead = state.get_lead(conn, lead_id)
        if lead["status"] not in _WORKABLE and not (
                lead["status"] == "worked" and action == "worked"):
            raise StoreError(f"lead '{lead_id}' is {lead['status']}, not assigned to a rep")
        values: dict[str, Any] = {"status": action}
        if action == "worked":
            values.update(worked_at=lead["worked_at"] or moment, due_at=None)
            if converted is not None:
                values["converted"] = converted
        else:
            values["due_at"] = lead["due_at"]  # accepting does not stop the SLA clock:
            # an accepted lead not worked in time expires like an assigned one
        state.set_lead(conn, lead_id, moment, **values)
        state.log_events(conn, [{
            "lead_id": lead_id, "rep_id": lead["rep_id"], "batch_id": "", "event": action,
            "effort": 0.0, "score": None, "engine": "", "policy_version": "",
            "reason": f"marked {action}" + (
                f" (converted: {converted})" if converted is not None else ""),
            "created_at": moment,
        }])
        return state.get_lead(conn, lead_id)


def lead_story(store: Store, lead_id: str) -> dict[str, Any]:
    with store.read() as conn:
        lead = state.get_lead(conn, lead_id)
        lead["history"] = state.lead_history(conn, lead_id)
        return lead


def reps_table(store: Store) -> pd.DataFrame:
    with store.read() as conn:
        return state.reps_frame(conn)
