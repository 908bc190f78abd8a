"""Outcomes into the store and the history table out of it.

An outcome (converted, optional revenue) belongs to a lead a rep had: an assigned or
accepted lead becomes worked with it; a worked lead's outcome may be corrected. Every
outcome adds an ``outcome`` row to the audit log. A CSV import is validated whole and
written in one transaction: one bad row names its file, row and column and nothing is
written. Revenue on a lead that did not convert is ignored and stored as none, as the API
does (a CRM export often carries the deal's planned amount on lost deals); the import
reports those rows so the command can warn.

The history export is the contract's ``history`` table for leads with a known outcome:
the lead's columns and attributes, the rep, ``converted`` (0/1), ``assigned_at``,
``revenue``, and from the audit row of that assignment its ``propensity``, ``arm`` and
``experiment``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, select

from solver.app.service import _schema as t
from solver.app.service import _state as state
from solver.app.service._store import Store, as_utc, utcnow
from solver.contract_tables import NumberRule, TableSource, boolean_column, number_column, read_raw
from solver.errors import InputError, NotFoundError, StoreError

_HAD_A_REP = ("assigned", "accepted", "worked")
LEAD_COLUMNS = ("lead_id", "account_id", "value", "effort", "created_at")
LOGGED_COLUMNS = ("rep_id", "converted", "assigned_at", "revenue", "propensity", "arm",
                  "experiment")


@dataclass(frozen=True)
class Outcome:
    lead_id: str
    converted: bool
    revenue: float | None = None

    def __post_init__(self) -> None:
        if self.revenue is not None and not (math.isfinite(self.revenue)
                                             and self.revenue >= 0):
            raise ValueError(f"revenue must be a finite number >= 0, got {self.revenue}")
        if self.revenue and not self.converted:
            raise ValueError("revenue above 0 on a lead that did not convert")


@dataclass(frozen=True)
class OutcomeRows:
    outcomes: list[Outcome]
    label: str  # the file, as errors and warnings name it
    ignored_revenue: tuple[int, ...]  # 1-based rows whose revenue was ignored (no conversion)


def outcome_rows(source: TableSource) -> OutcomeRows:
    """Validated ``lead_id, converted[, revenue]`` rows (a lead at most once)."""
    raw, label = read_raw(source, "outcomes")
    for column in ("lead_id", "converted"):
        if column not in raw.columns:
            raise InputError("required column is missing", source=label, column=column)
    ids = raw["lead_id"].astype(str).str.strip()
    for row, (lead_id, seen) in enumerate(zip(ids, ids.duplicated(), strict=True), start=1):
        if not lead_id or seen:
            raise InputError("empty lead_id" if not lead_id else f"lead '{lead_id}' appears "
                             "twice", source=label, row=row, column="lead_id")
    blank = raw["converted"].astype(str).str.strip() == ""
    if blank.any():
        raise InputError("required value is empty", source=label,
                         row=int(blank.to_numpy().argmax()) + 1, column="converted")
    converted = boolean_column(raw, label, "converted", default=False)
    revenue = (number_column(raw, label, NumberRule(column="revenue", default=math.nan,
                                                minimum=0.0))
               if "revenue" in raw.columns else pd.Series(math.nan, index=raw.index))
    out, ignored = [], []
    for row, (lead_id, won, value) in enumerate(zip(ids, converted, revenue, strict=True),
                                                start=1):
        if not won and value > 0:  # NaN (empty) compares False: nothing to ignore
            ignored.append(row)
        kept = None if math.isnan(value) or not won else value  # no conversion, no revenue
        try:
            out.append(Outcome(lead_id, bool(won), kept))
        except ValueError as exc:  # e.g. an infinite revenue
            raise InputError(str(exc), source=label, row=row, column="revenue") from None
    return OutcomeRows(out, label, tuple(ignored))


def record_outcome(conn: Connection, outcome: Outcome, now: datetime) -> None:
    lead = state.get_lead(conn, outcome.lead_id)
    if lead["status"] not in _HAD_A_REP:
        raise StoreError(f"lead '{outcome.lead_id}' is {lead['status']}: no rep had it, so "
                         "it has no outcome")
    values: dict[str, Any] = {"status": "worked", "worked_at": lead["worked_at"] or now,
                              "due_at": None, "converted": outcome.converted,
                              "revenue": outcome.revenue}
    state.set_lead(conn, outcome.lead_id, now, **values)
    revenue = f", revenue {outcome.revenue:g}" if outcome.revenue is not None else ""
    state.log_events(conn, [{
        "lead_id": outcome.lead_id, "rep_id": lead["rep_id"], "batch_id": "",
        "event": "outcome", "effort": 0.0, "score": None, "engine": "", "policy_version": "",
        "reason": f"outcome: {'converted' if outcome.converted else 'not converted'}"
                  f"{revenue}", "created_at": now}])


def import_outcomes(store: Store, source: TableSource, *, now: datetime | None = None
                    ) -> OutcomeRows:
    """All rows or none: a row naming an unknown lead, or one no rep had, is refused
    with its row and the transaction rolled back. Returns the rows written."""
    found = outcome_rows(source)
    moment = as_utc(now) if now else utcnow()
    with store.write() as conn:
        for row, outcome in enumerate(found.outcomes, start=1):
            try:
                record_outcome(conn, outcome, moment)
            except (NotFoundError, StoreError) as exc:
                raise InputError(str(exc), source=found.label, row=row,
                                 column="lead_id") from None
    return found


def history_frame(conn: Connection) -> pd.DataFrame:
    """The contract's history table for every lead with a known outcome."""
    leads = [dict(row) for row in conn.execute(
        select(t.leads).where(and_(t.leads.c.converted.is_not(None),
                                   t.leads.c.rep_id.is_not(None)))
        .order_by(t.leads.c.assigned_at, t.leads.c.lead_id)).mappings()]
    logged = _assignment_rows(conn, [lead["lead_id"] for lead in leads])
    rows = []
    for lead in leads:
        event = logged.get((lead["lead_id"], lead["rep_id"]), {})
        attributes = {key: value for key, value in (lead["attributes"] or {}).items()
                      if key not in LEAD_COLUMNS and key not in LOGGED_COLUMNS}
        rows.append({
            "lead_id": lead["lead_id"], "account_id": lead["account_id"] or "",
            "value": lead["value"], "effort": lead["effort"],
            "created_at": lead["created_at"].isoformat(), **attributes,
            "rep_id": lead["rep_id"], "converted": int(bool(lead["converted"])),
            "assigned_at": lead["assigned_at"].isoformat() if lead["assigned_at"] else "",
            "revenue": lead["revenue"], "propensity": event.get("propensity"),
            "arm": event.get("arm") or "", "experiment": event.get("experiment") or "",
        })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*LEAD_COLUMNS, *LOGGED_COLUMNS])
    ordered = [*LEAD_COLUMNS, *(c for c in frame.columns if c not in LEAD_COLUMNS
                                and c not in LOGGED_COLUMNS), *LOGGED_COLUMNS]
    return frame[ordered]


def _assignment_rows(conn: Connection, lead_ids: Sequence[str]
                     ) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest ``assigned`` audit row of each (lead, rep)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    a = t.assignments
    for start in range(0, len(lead_ids), 500):
        query = (select(a.c.lead_id, a.c.rep_id, a.c.propensity, a.c.arm, a.c.experiment)
                 .where(and_(a.c.event == "assigned",
                             a.c.lead_id.in_(list(lead_ids[start:start + 500]))))
                 .order_by(a.c.id))
        for row in conn.execute(query).mappings():
            out[(str(row["lead_id"]), str(row["rep_id"]))] = dict(row)
    return out


def experiment_arms(conn: Connection, name: str) -> dict[str, int]:
    """Leads logged in each arm of experiment ``name`` (with or without an outcome)."""
    a = t.assignments
    rows = conn.execute(select(a.c.lead_id, a.c.arm).where(a.c.experiment == name)
                        .distinct()).all()
    counts: dict[str, int] = {}
    for _lead, arm in rows:
        counts[str(arm)] = counts.get(str(arm), 0) + 1
    return counts
