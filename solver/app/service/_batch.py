"""One micro-batch: expire overdue leads, route the pending ones, commit all at once.

Everything between reading the pending leads and writing the assignments happens in one
database transaction that holds the routing lock, so a crash anywhere leaves the store as
it was, two overlapping runs never see the same pending lead, and a batch id that has
already committed is answered from the batches table instead of routing again.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Connection

from solver._build import problem_from_matrix
from solver._errors import InputError
from solver._explain import NO_ELIGIBLE_REP
from solver._solve import MICRO_BATCH_GAP_LIMIT, SolveOptions
from solver._tables import load_leads, load_reps
from solver.app.service import _capacity as cap
from solver.app.service import _state as state
from solver.app.service._notify import queue_notifications
from solver.app.service._store import Store, as_utc, utcnow
from solver.policy import (
    ListRule,
    Policy,
    PolicyInputs,
    PolicyOutcome,
    Sla,
    load_owners,
    route_with_policy,
)
from solver.policy._eligibility import rep_filter_mask
from solver.strategies import RotationState, strategy_from_name

LEADS_SOURCE = "leads table"  # how the contract's loader names a DataFrame of leads
Scorer = Callable[[pd.DataFrame, pd.DataFrame], npt.NDArray[np.float64]]


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


class BatchReport(BaseModel):
    batch_id: str
    started_at: datetime
    finished_at: datetime
    policy_version: str
    engine: str
    solve_status: str
    expired: int
    requeued: int
    routed: int  # leads the batch looked at
    assigned: int
    nurture: int
    still_pending: int
    unrouted: int
    # the optimiser's objective, proven bound and relative gap (None: not proven / no solve)
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    replayed: bool = False  # true when the batch id had already committed


def policy_version(policy: Policy) -> str:
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:12]


def run_batch(store: Store, settings: BatchSettings, *, batch_id: str | None = None,
              now: datetime | None = None, wait: bool = True) -> BatchReport:
    """Route every pending lead once; see the module docstring for the guarantees."""
    batch_id = batch_id or uuid.uuid4().hex
    now = as_utc(now) if now is not None else utcnow()
    started = utcnow()
    with store.routing_transaction(wait=wait) as conn:
        earlier = state.batch_report(conn, batch_id)
        if earlier is not None:
            return BatchReport.model_validate({**earlier, "replayed": True})
        expired, requeued, unrouted = _expire_overdue(conn, settings.policy.sla, batch_id, now)
        pending = state.pending_leads(conn, settings.max_leads)
        counts = {"assigned": 0, "nurture": 0, "unassigned": 0}
        engine, status = "none", "optimal"
        proof: tuple[float | None, float | None, float | None] = (None, None, None)
        if pending and not state.has_reps(conn):
            _wait(conn, pending, NO_REPS, batch_id, now)  # nothing to route to yet
            counts["unassigned"] = len(pending)
        elif pending:
            routed, routable = _route_pending(conn, settings, pending, batch_id, now)
            unrouted += len(pending) - len(routable)
            if routed is not None:
                for key, value in routed.outcome.assignments["status"].value_counts().items():
                    counts[str(key)] = int(value)
                engine, status = routed.outcome.engine, routed.outcome.status.value
                proof = _proof(routed.outcome)
                _record(conn, settings, routed, routable, batch_id, now)
        report = BatchReport(
            batch_id=batch_id, started_at=started, finished_at=utcnow(),
            policy_version=policy_version(settings.policy), engine=engine,
            solve_status=status, expired=expired, requeued=requeued, routed=len(pending),
            assigned=int(counts["assigned"]), nurture=int(counts["nurture"]),
            still_pending=int(counts["unassigned"]), unrouted=unrouted,
            objective=proof[0], bound=proof[1], gap=proof[2],
        )
        conn.execute(state.t.batches.insert().values(
            batch_id=batch_id, started_at=started, finished_at=report.finished_at,
            report=report.model_dump(mode="json")))
    return report


def _proof(outcome: PolicyOutcome) -> tuple[float | None, float | None, float | None]:
    """(objective, bound, gap) for the batch report; None where nothing is proven."""
    if not math.isfinite(outcome.bound):
        return outcome.objective, None, None
    return outcome.objective, outcome.bound, outcome.gap


NO_REPS = "no reps in the store yet"


def _wait(conn: Connection, leads: list[dict[str, Any]], reason: str, batch_id: str,
          now: datetime) -> None:
    """Leads stay pending; the reason (and one audit row) only when it changes."""
    changed = [lead for lead in leads if lead["reason"] != reason]
    state.set_leads(conn, [{"lead_id": lead["lead_id"], "reason": reason}
                           for lead in changed], now)
    state.log_events(conn, [{
        "lead_id": lead["lead_id"], "rep_id": None, "batch_id": batch_id,
        "event": "unassigned", "effort": 0.0, "score": None, "reason": reason, "engine": "",
        "policy_version": "", "created_at": now} for lead in changed])


def _route_pending(conn: Connection, settings: BatchSettings, pending: list[dict[str, Any]],
                   batch_id: str, now: datetime) -> tuple[_Routed | None, list[dict[str, Any]]]:
    """Route the pending leads; a lead whose own data is refused (a located error in the
    leads table) is set aside as unrouted, reported, and the rest routed again."""
    routable = list(pending)
    while routable:
        try:
            return _route(conn, settings, routable, now), routable
        except InputError as exc:
            if exc.source != LEADS_SOURCE or exc.row is None:
                raise
            bad = routable.pop(exc.row - 1)
            _set_aside(conn, bad, exc, batch_id, policy_version(settings.policy), now)
    return None, routable


def _set_aside(conn: Connection, lead: dict[str, Any], error: InputError, batch_id: str,
               version: str, now: datetime) -> None:
    reason = f"bad lead data, needs a fix: {error}"
    state.set_lead(conn, lead["lead_id"], now, status="unrouted", reason=reason)
    state.log_events(conn, [{
        "lead_id": lead["lead_id"], "rep_id": None, "batch_id": batch_id, "event": "unrouted",
        "effort": 0.0, "score": None, "reason": reason, "engine": "",
        "policy_version": version, "created_at": now}])


def _expire_overdue(conn: Connection, sla: Sla | None, batch_id: str, now: datetime
                    ) -> tuple[int, int, int]:
    """Assigned leads past due: log the expiry, then re-queue (or give up after
    ``max_attempts``). Returns (expired, re-queued, given up)."""
    if sla is None:
        return 0, 0, 0
    overdue = state.overdue_leads(conn, now)
    requeued = gave_up = 0
    events = []
    for lead in overdue:
        events.append({"lead_id": lead["lead_id"], "rep_id": lead["rep_id"],
                       "batch_id": batch_id, "event": "expired", "effort": 0.0, "score": None,
                       "reason": f"not worked within {sla.work_within_minutes:g} minutes",
                       "engine": "", "policy_version": "", "created_at": now})
        if lead["attempts"] >= sla.max_attempts:
            gave_up += 1
            state.set_lead(conn, lead["lead_id"], now, status="unrouted", rep_id=None,
                           due_at=None, reason=f"expired {lead['attempts']} times; "
                           "needs a manager's decision")
        else:
            requeued += 1
            state.set_lead(conn, lead["lead_id"], now, status="pending", rep_id=None,
                           due_at=None, reason=f"re-queued: {lead['rep_id']} did not work it "
                           f"within {sla.work_within_minutes:g} minutes")
    state.log_events(conn, events)
    return len(overdue), requeued, gave_up


@dataclass(frozen=True)
class _Routed:
    outcome: PolicyOutcome
    leads: pd.DataFrame
    reps: pd.DataFrame
    cap_notes: list[str]
    tier_notes: dict[str, str]


def _route(conn: Connection, settings: BatchSettings, pending: list[dict[str, Any]],
           now: datetime) -> _Routed:
    policy = settings.policy
    reps = state.reps_frame(conn)
    spans = cap.windows(reps, now)
    day_load, week_load = cap.window_loads(
        reps, spans, lambda since, rep_ids: state.effort_by_rep_since(conn, since, rep_ids))
    sla = policy.sla
    adaptive = sla.adaptive_caps if sla is not None else None
    lookback = timedelta(days=adaptive.lookback_days if adaptive else 14)
    factors = cap.adaptive_factors(reps, state.follow_up(conn, now, lookback), adaptive)
    remaining = reps["capacity"].to_numpy(dtype=float) * factors.factor - day_load
    weekly = reps["capacity_week"].to_numpy(dtype=float)
    remaining = np.where(np.isnan(weekly), remaining,
                         np.minimum(remaining, weekly - week_load))
    why_not = cap.available(reps, state.absent_reps(conn, now), now)

    rep_table = load_reps(_rep_frame(reps, np.maximum(remaining, 0.0), why_not))
    lead_table = load_leads(_lead_frame(pending, policy))
    score = np.asarray(settings.scorer(lead_table, rep_table), dtype=float)
    if sla is not None and sla.expiry_penalty > 0:
        expiries = state.expiries_since(conn, now - lookback)
        count = np.array([expiries.get(r, 0) for r in rep_table["rep_id"]], dtype=float)
        score = score * (1.0 - sla.expiry_penalty) ** count[None, :]
    forbidden = state.previous_reps(conn, list(lead_table["lead_id"]))
    tier_forbidden, tier_notes = _tier_bars(sla, lead_table, rep_table, now)
    owners = state.owners_frame(conn)
    inputs = PolicyInputs(
        owners=load_owners(owners, rep_ids=rep_table["rep_id"]) if len(owners) else {},
        forbidden=frozenset(forbidden | tier_forbidden),
        as_of=pd.Timestamp(now),
        prior_loads=dict(zip(rep_table["rep_id"], day_load.tolist(), strict=True)),
    )
    rotation = state.read_rotation(conn)
    shared = {"seed": settings.seed, "time_limit_s": settings.time_limit_s,
              "gap_limit": settings.gap_limit}
    strategy = strategy_from_name(settings.strategy, reps=rep_table, shared=shared)
    problem = problem_from_matrix(lead_table, rep_table, score)
    outcome = route_with_policy(
        problem, lead_table, rep_table, policy, inputs=inputs, strategy=strategy,
        state=rotation,
        options=SolveOptions(time_limit_s=settings.time_limit_s, seed=settings.seed,
                             gap_limit=settings.gap_limit),
    )
    return _Routed(outcome, lead_table, rep_table, factors.notes, tier_notes)


def _rep_frame(reps: pd.DataFrame, remaining: npt.NDArray[np.float64],
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


def _lead_frame(pending: list[dict[str, Any]], policy: Policy) -> pd.DataFrame:
    base = pd.DataFrame({
        "lead_id": [lead["lead_id"] for lead in pending],
        "account_id": [lead["account_id"] or "" for lead in pending],
        "value": [lead["value"] for lead in pending],
        "effort": [lead["effort"] for lead in pending],
        "created_at": [lead["created_at"].isoformat() for lead in pending],
    })
    attributes = pd.DataFrame([lead["attributes"] or {} for lead in pending])
    extra = attributes.drop(columns=[c for c in attributes.columns if c in base.columns])
    frame = pd.concat([base, extra], axis=1)
    # a column the policy reads but no lead of this batch has is blank, not an error
    missing = [c for c in policy_lead_columns(policy) if c not in frame.columns]
    return frame.assign(**dict.fromkeys(missing, "")) if missing else frame


def policy_lead_columns(policy: Policy) -> list[str]:
    columns = [rule.attribute if isinstance(rule, ListRule) else rule.lead
               for rule in policy.rules]
    if policy.ramp is not None:
        columns += [lead_class.attribute for lead_class in policy.ramp.forbid_until_ramped]
    return list(dict.fromkeys(columns))


def _tier_bars(sla: Sla | None, leads: pd.DataFrame, reps: pd.DataFrame, now: datetime
               ) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Escalation: a lead may go to the reps of every tier whose delay it has reached."""
    if sla is None or not sla.tiers:
        return set(), {}
    in_tier = [rep_filter_mask(tier.reps, reps) for tier in sla.tiers]
    rep_ids = reps["rep_id"].astype(str).to_numpy()
    barred: set[tuple[str, str]] = set()
    notes: dict[str, str] = {}
    created = pd.to_datetime(leads["created_at"])
    for lead_id, at in zip(leads["lead_id"].astype(str), created, strict=True):
        age = (pd.Timestamp(now) - at).total_seconds() / 60.0
        open_tiers = [i for i, tier in enumerate(sla.tiers) if tier.after_minutes <= age]
        allowed = np.zeros(len(reps), dtype=bool)
        for i in open_tiers:
            allowed |= in_tier[i]
        barred |= {(lead_id, rep) for rep in rep_ids[~allowed]}
        later = [tier for tier in sla.tiers if tier.after_minutes > age]
        notes[lead_id] = (f"tier '{sla.tiers[open_tiers[-1]].name}'" +
                          (f"; escalates to '{later[0].name}' at {later[0].after_minutes:g} min"
                           if later else ""))
    return barred, notes


def _record(conn: Connection, settings: BatchSettings, routed: _Routed,
            pending: list[dict[str, Any]], batch_id: str, now: datetime) -> None:
    """Write the batch's decisions: leads, the audit log, owners, rotation, webhooks."""
    policy = settings.policy
    version = policy_version(policy)
    sla = policy.sla
    due = now + timedelta(minutes=sla.work_within_minutes) if sla is not None else None
    by_id = {lead["lead_id"]: lead for lead in pending}
    rep_pos = {rep: j for j, rep in enumerate(routed.reps["rep_id"].astype(str))}
    effort = dict(zip(routed.leads["lead_id"], routed.leads["effort"], strict=True))
    events: list[dict[str, Any]] = []
    new_owners: dict[str, str] = {}
    assigned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    table = routed.outcome.assignments
    for lead_id, rep_id, raw_score, status, raw_reason in zip(
            table["lead_id"].astype(str), table["rep_id"].astype(str),
            table["score"].to_numpy(dtype=float), table["status"].astype(str),
            table["reason"].astype(str), strict=True):
        lead = by_id[lead_id]
        reason = raw_reason
        tier = routed.tier_notes.get(lead_id)
        if tier:
            reason = f"{reason} [{tier}]"
        score = None if np.isnan(raw_score) else float(raw_score)
        if status == "assigned":
            note = routed.cap_notes[rep_pos[rep_id]]
            reason = f"{reason}; {note}" if note else reason
            changes.append({"lead_id": lead_id, "status": "assigned", "rep_id": rep_id,
                            "assigned_at": now, "due_at": due,
                            "attempts": lead["attempts"] + 1, "reason": reason})
            if lead["account_id"]:
                new_owners.setdefault(lead["account_id"], rep_id)
            assigned.append({"lead_id": lead_id, "rep_id": rep_id, "score": score,
                             "reason": reason})
        elif status == "nurture":
            changes.append({"lead_id": lead_id, "status": "nurture", "reason": reason})
        else:
            if reason.startswith(NO_ELIGIBLE_REP) and not tier:
                reason += "; waiting for an eligible rep"
            if reason == lead["reason"]:
                continue  # still waiting for the same reason: no new audit row
            changes.append({"lead_id": lead_id, "status": "pending", "reason": reason})
        events.append({
            "lead_id": lead_id, "rep_id": rep_id or None, "batch_id": batch_id,
            "event": status, "effort": float(effort[lead_id]) if status == "assigned" else 0.0,
            "score": score, "reason": reason,
            "engine": routed.outcome.engine, "policy_version": version, "created_at": now,
        })
    state.set_leads(conn, changes, now)
    state.log_events(conn, events)
    state.claim_accounts(conn, new_owners, now)
    if isinstance(routed.outcome.state, RotationState):
        state.write_rotation(conn, routed.outcome.state, now)
    if settings.webhook_url:
        queue_notifications(conn, settings.webhook_url, batch_id, assigned, now)
