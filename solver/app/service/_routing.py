"""The read-only half of a batch: from the store's state to a routing decision.

Nothing here writes: ``route`` reads the reps, their loads over the cap windows, owners and
rotation, builds the validated tables and solves. A stored rep whose values the loaders
cannot represent (written before the checks existed, or patched in place) sits the batch
out with its reason instead of failing the batch; a capacity beyond any batch's total
effort is lowered to ``MAX_CAPACITY``, where it never binds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection

from solver import MICRO_BATCH_GAP_LIMIT, Scorer, SolveOptions
from solver import route as route_batch
from solver.app.service import _capacity as cap
from solver.app.service import _state as state
from solver.app.service._match_routing import match_bars, merge_notes
from solver.app.service._rep_cache import StoredReps, stored_reps
from solver.contract_tables import (
    MAX_CAPACITY,
    keep_attributes,
    load_leads,
    load_reps,
    table_label,
)
from solver.errors import InputError, RefusedLeadError
from solver.policy import (
    ListRule,
    Policy,
    PolicyInputs,
    PolicyOutcome,
    adaptive_factors,
    downweight_expiries,
    load_owners,
    room_left,
    tier_bars,
    unit_factors,
)
from solver.strategies import Strategy


def uniform_scorer(leads: pd.DataFrame, reps: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Every eligible pair scores 1: routing by rules, caps and fairness alone."""
    return np.ones((len(leads), len(reps)))


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    policy: Policy = field(default_factory=Policy)
    strategy: str = "optimal"
    scorer: Scorer = uniform_scorer
    max_leads: int = 5000  # pending leads taken per batch, oldest first
    time_limit_s: float = 10.0
    gap_limit: float = MICRO_BATCH_GAP_LIMIT  # stop once proven this close to the optimum
    seed: int = 0
    webhook_url: str | None = None
    routing: Strategy | None = None  # a built strategy instead of ``strategy`` (instant)


@dataclass(frozen=True)
class Routed:
    outcome: PolicyOutcome
    leads: pd.DataFrame
    reps: pd.DataFrame
    cap_notes: list[str]
    tier_notes: dict[str, str]
    reps_set_aside: dict[str, str]  # rep id → why it sat this batch out
    stored_reps: pd.DataFrame  # the reps table the decision read (working hours for SLAs)


def route(conn: Connection, settings: BatchSettings, pending: list[dict[str, Any]],
          now: datetime, *, lead_table: pd.DataFrame | None = None) -> Routed:
    """``lead_table``: the pending leads already validated by ``load_leads`` (instant
    routing validated them on arrival; see ``instant_lead_table``), by lead id; None: the
    stored rows are validated here. Given, the leads were stored by the caller's own
    transaction: they have no past reps and no ingest match, so neither is read.

    Raises ``RefusedLeadError`` when one pending lead's own data is refused."""
    fresh = lead_table is not None
    # The lead frame is ``pending`` in order: a located error about it (row r) is the
    # pending lead at r - 1; an error about the whole table (no row) stops the batch.
    try:  # the loader reads the lead frame alone: where it fails, a lead's data is refused
        leads = (load_leads(lead_frame(pending, settings.policy)) if lead_table is None
                 else _in_order(lead_table, pending))
    except InputError as exc:
        if exc.row is None:
            raise
        raise RefusedLeadError(exc.row - 1, exc) from exc
    try:
        return _decide(conn, settings, leads, now, fresh=fresh)
    except InputError as exc:
        # the scorer and the rules read both the lead frame and the rep table; they (a
        # user's scorer too) name the lead frame by the loader's label for it
        if exc.row is None or exc.source != table_label(leads, "leads"):
            raise
        raise RefusedLeadError(exc.row - 1, exc) from exc


def _decide(conn: Connection, settings: BatchSettings, lead_table: pd.DataFrame,
            now: datetime, *, fresh: bool) -> Routed:
    """Capacity, availability, scores, bars and the policy's decision for valid leads."""
    policy = settings.policy
    stored = stored_reps(conn)
    reps = stored.frame
    spans = cap.windows(reps, now)
    day_load, week_load = cap.window_loads(
        reps, spans, lambda starts: state.effort_by_rep_windows(conn, starts))
    sla = policy.sla
    adaptive = sla.adaptive_caps if sla is not None else None
    lookback = timedelta(days=adaptive.lookback_days if adaptive else 14)
    # without adaptive caps the follow-up figures change nothing: not read
    factors = (adaptive_factors(reps, state.follow_up(conn, now, lookback), adaptive)
               if adaptive is not None else unit_factors(len(reps)))
    remaining = room_left(reps, factors, day_load, week_load)
    why_not = cap.available(reps, state.absent_reps(conn, now), now)

    remaining = np.clip(remaining, 0.0, MAX_CAPACITY)
    rep_table, set_aside = _rep_table(stored, remaining, why_not)
    score = settings.scorer(lead_table, rep_table)
    if sla is not None and sla.expiry_penalty > 0:
        expiries = state.expiries_since(conn, now - lookback)
        score = downweight_expiries(score, sla, list(rep_table["rep_id"]), expiries)
    forbidden = set() if fresh else state.previous_reps(conn, list(lead_table["lead_id"]))
    tier_forbidden, tier_notes = tier_bars(sla, lead_table, rep_table, now)
    match_forbidden, match_notes = ((set(), {}) if fresh  # ingest's match
                                    else match_bars(conn, lead_table, rep_table))
    tier_notes = merge_notes(tier_notes, match_notes)
    owners = state.owners_frame(conn)
    inputs = PolicyInputs(
        owners=load_owners(owners, rep_ids=rep_table["rep_id"]) if len(owners) else {},
        forbidden=frozenset(forbidden | tier_forbidden | match_forbidden),
        as_of=pd.Timestamp(now),
        prior_loads=dict(zip(rep_table["rep_id"], day_load.tolist(), strict=True)),
    )
    outcome = route_batch(
        leads=lead_table, reps=rep_table, scores=score, policy=policy, inputs=inputs,
        strategy=settings.routing or settings.strategy, state=state.read_rotation(conn),
        options=SolveOptions(time_limit_s=settings.time_limit_s, seed=settings.seed,
                             gap_limit=settings.gap_limit),
    )
    return Routed(outcome, lead_table, rep_table, factors.notes, tier_notes, set_aside, reps)


_REP_TABLES: dict[tuple[int, tuple[str | None, ...]],
                  tuple[pd.DataFrame, dict[str, str]]] = {}  # the last one only


def _rep_table(stored: StoredReps, remaining: npt.NDArray[np.float64],
               why_not: list[str | None]) -> tuple[pd.DataFrame, dict[str, str]]:
    """``valid_reps(rep_frame(...))`` with the validation cached on the stored rows and
    availability (instant routing validates the same reps at every request); only the
    remaining capacities, valid by construction, change between two calls."""
    key = (stored.version, tuple(why_not))
    found = _REP_TABLES.get(key)
    if found is None:
        found = valid_reps(rep_frame(stored.frame, np.zeros(len(stored.frame)), why_not))
        _REP_TABLES.clear()
        _REP_TABLES[key] = found
    table, set_aside = found
    table = table.copy()
    table["capacity"] = np.where(table["rep_id"].isin(list(set_aside)), 0.0, remaining)
    return table, dict(set_aside)


def _in_order(table: pd.DataFrame, pending: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows of a validated lead table for ``pending``, in its order."""
    position = {lead_id: i for i, lead_id in enumerate(table["lead_id"].astype(str))}
    rows = [position[lead["lead_id"]] for lead in pending]
    return table.iloc[rows].reset_index(drop=True)


def valid_reps(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The loader's reps; a row it refuses is made inactive (with neutral numbers) for this
    batch and named with the refusal, so one stored row never stops routing."""
    set_aside: dict[str, str] = {}
    while True:
        try:
            return load_reps(frame), set_aside
        except InputError as exc:
            # the loader reads the rep frame alone: a located error is that rep's row
            if exc.row is None or exc.column == "rep_id":
                raise
            row = exc.row - 1
            rep_id = str(frame.at[row, "rep_id"])
            if rep_id in set_aside:
                raise  # neutral values refused too: not a row problem
            set_aside[rep_id] = f"set aside for this batch: {exc}"
            frame = frame.copy()
            frame.loc[row, ["capacity", "active", "weight", "start_date"]] = [
                0.0, False, 1.0, None]


def rep_frame(reps: pd.DataFrame, remaining: npt.NDArray[np.float64],
               why_not: list[str | None]) -> pd.DataFrame:
    attributes = pd.DataFrame(list(reps["attributes"]), index=reps.index)
    frame = pd.DataFrame({
        "rep_id": reps["rep_id"].astype(str),
        "capacity": remaining,
        "active": [reason is None for reason in why_not],
        "weight": reps["weight"].astype(float),
        "start_date": [None if d is None or (isinstance(d, float) and math.isnan(d))
                       else pd.Timestamp(d).date().isoformat() for d in reps["start_date"]],
    }, index=reps.index)
    extra = attributes.drop(columns=[c for c in attributes.columns if c in frame.columns])
    return pd.concat([frame, extra], axis=1).reset_index(drop=True)


def lead_frame(pending: list[dict[str, Any]], policy: Policy) -> pd.DataFrame:
    base = pd.DataFrame({
        "lead_id": [lead["lead_id"] for lead in pending],
        "account_id": [lead["account_id"] or "" for lead in pending],
        "value": [lead["value"] for lead in pending],
        "effort": [lead["effort"] for lead in pending],
        "created_at": [lead["created_at"] for lead in pending],  # typed, not ISO text
    })
    attributes = pd.DataFrame([lead["attributes"] or {} for lead in pending])
    extra = attributes.drop(columns=[c for c in attributes.columns if c in base.columns])
    frame = pd.concat([base, extra], axis=1)
    # a column the policy reads but no lead of this batch has is blank, not an error
    missing = [c for c in policy_lead_columns(policy) if c not in frame.columns]
    return frame.assign(**dict.fromkeys(missing, "")) if missing else frame


def instant_lead_table(table: pd.DataFrame, rows: list[dict[str, Any]], policy: Policy
                       ) -> pd.DataFrame:
    """What ``load_leads(lead_frame(rows, policy))`` gives for ``rows`` stored just now from
    the validated ``table`` (``validated_leads``), without validating them again: the
    stored created_at (now for a lead without one, to the microsecond) and, as blank text,
    a column the policy reads that no lead has."""
    out = table.copy()
    out["created_at"] = pd.Series([pd.Timestamp(row["created_at"]) for row in rows],
                                  index=out.index, dtype=object).astype("datetime64[ns]")
    missing = [c for c in policy_lead_columns(policy) if c not in out.columns]
    if not missing:
        return out
    blank = keep_attributes(pd.DataFrame(dict.fromkeys(missing, ""), index=out.index),
                            frozenset())
    return pd.concat([out, blank], axis=1)


def policy_lead_columns(policy: Policy) -> list[str]:
    columns = [rule.attribute if isinstance(rule, ListRule) else rule.lead
               for rule in policy.rules]
    if policy.ramp is not None:
        columns += [lead_class.attribute for lead_class in policy.ramp.forbid_until_ramped]
    return list(dict.fromkeys(columns))
