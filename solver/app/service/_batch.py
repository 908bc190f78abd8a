"""One micro-batch: expire overdue leads, route the pending ones, commit all at once.

A batch plans, then applies. Planning reads a snapshot of the store and solves, holding the
routing lock (one routing run at a time, across processes) but no database write lock, so
ingestion goes on while the solver runs. Applying is one short write transaction: it first
compares the snapshot's fingerprint (the planned leads' status and version, the reps and
their absences, owners, rotation) with the store; when anything moved it plans again inside
the transaction. The rows it writes are built with the plan, before the lock is taken.
So a crash anywhere leaves the store as it was, two overlapping runs never
see the same pending lead, and a batch id that has already committed is answered from the
batches table instead of routing again.

A lead whose own data is refused (a located error in the leads table, or a value too large
for the solver's integer scaling) is set aside as unrouted with its reason and the rest
routed: one row never stops a batch.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Connection

from solver import EFFORT_TOLERANCE, ReasonCode
from solver.app.service import _state as state
from solver.app.service._calendar import sla_deadlines
from solver.app.service._learning import learning_columns
from solver.app.service._notify import queue_notifications
from solver.app.service._observe import observe_batch
from solver.app.service._prices import batch_prices, save_prices
from solver.app.service._rep_cache import has_no_reps
from solver.app.service._routing import (
    BatchSettings,
    Routed,
    Scorer,
    route,
    uniform_scorer,
)
from solver.app.service._store import Store, as_utc, utcnow
from solver.errors import InputError, RefusedLeadError, ScalingOverflowError
from solver.policy import Policy, PolicyOutcome, Sla
from solver.strategies import PriceSource, RotationState

__all__ = ["BatchReport", "BatchSettings", "Scorer", "policy_version", "route_leads",
           "run_batch", "uniform_scorer"]


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
    reps_set_aside: list[str] = []  # stored reps the solver could not take, with why


def policy_version(policy: Policy) -> str:
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:12]


def run_batch(store: Store, settings: BatchSettings, *, batch_id: str | None = None,
              now: datetime | None = None, wait: bool = True) -> BatchReport:
    """Route every pending lead once; see the module docstring for the guarantees."""
    batch_id = batch_id or uuid.uuid4().hex
    if any(ord(char) < 32 for char in batch_id):
        raise InputError("control character (e.g. a NUL byte) in a batch id",
                         source="batch_id")
    now = as_utc(now) if now is not None else utcnow()
    started = utcnow()
    with store.routing_lock(wait=wait):
        with store.read() as conn:
            earlier = state.batch_report(conn, batch_id)
            if earlier is not None:
                return BatchReport.model_validate({**earlier, "replayed": True})
            plan = _plan(conn, settings, batch_id, now)
            conn.rollback()
        with store.write() as conn:
            if (_fingerprint(conn, plan.lead_ids) != plan.fingerprint
                    or not _caps_still_hold(conn, plan)):
                plan = _plan(conn, settings, batch_id, now)  # the store moved: plan again
            report = _apply(conn, settings, plan, batch_id, now, started)
            # the capacity prices instant routing uses next (none when nothing was routed)
            save_prices(conn, plan.prices, PriceSource.BATCH, batch_id, now)
    observe_batch(report)  # after the commit: only batches that happened are counted
    return report


def route_leads(conn: Connection, settings: BatchSettings, pending: list[dict[str, Any]], *,
                batch_id: str, now: datetime, lead_table: pd.DataFrame | None = None
                ) -> BatchReport:
    """Route exactly ``pending`` (rows of the leads table) in the caller's write
    transaction, the way a batch routes its pending leads (instant routing: the caller
    inserted them in the same transaction, so no batch can see them pending).
    ``lead_table``: the leads already validated (see ``route``)."""
    plan = _Plan(lead_ids=sorted(lead["lead_id"] for lead in pending), fingerprint="",
                 overdue=[], pending=pending, log_mark=0)
    if pending and has_no_reps(conn):
        plan.no_reps = True
    elif pending:
        _route_pending(conn, settings, plan, now, lead_table=lead_table)
    return _apply(conn, settings, plan, batch_id, now, utcnow())


@dataclass
class _Plan:
    """Everything a batch will write, decided on a snapshot."""

    lead_ids: list[str]  # every lead the plan changes or read (pending and overdue)
    fingerprint: str
    overdue: list[dict[str, Any]]
    pending: list[dict[str, Any]]  # as they will be once the overdue are re-queued
    log_mark: int  # the audit log's last row when the plan read the store
    set_aside: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    routed: Routed | None = None
    routable: list[dict[str, Any]] = field(default_factory=list)
    no_reps: bool = False
    decided: _Decisions | None = None  # the rows to write, built before the write lock
    prices: dict[str, float] = field(default_factory=dict)  # also before it (rep summary)


def _plan(conn: Connection, settings: BatchSettings, batch_id: str, now: datetime) -> _Plan:
    sla = settings.policy.sla
    overdue = state.overdue_leads(conn, now) if sla is not None else []
    requeued = [_requeued(lead, sla) for lead in overdue
                if sla is not None and lead["attempts"] < sla.max_attempts]
    pending = sorted(state.pending_leads(conn, settings.max_leads) + requeued,
                     key=lambda lead: (lead["created_at"], lead["lead_id"]))
    pending = pending[:settings.max_leads]
    lead_ids = sorted({lead["lead_id"] for lead in [*overdue, *pending]})
    plan = _Plan(lead_ids=lead_ids, fingerprint=_fingerprint(conn, lead_ids),
                 overdue=overdue, pending=pending, log_mark=state.log_mark(conn))
    if pending and has_no_reps(conn):
        plan.no_reps = True
    elif pending:
        _route_pending(conn, settings, plan, now)
        if plan.routed is not None:
            plan.decided = _decisions(settings, plan.routed, plan.routable, batch_id, now)
            # the rep summary (shadow prices, loads) is computed here, not under the lock
            plan.prices = batch_prices(plan.routed)
    return plan


def _requeued(lead: dict[str, Any], sla: Sla) -> dict[str, Any]:
    return {**lead, "status": "pending", "rep_id": None, "due_at": None,
            "reason": f"re-queued: {lead['rep_id']} did not work it within "
                      f"{sla.work_within_minutes:g} minutes"}


def _fingerprint(conn: Connection, lead_ids: list[str]) -> str:
    """What a plan depends on and another writer may change while the solver runs."""
    return hashlib.sha256(repr(state.batch_inputs_version(conn, lead_ids)).encode()
                          ).hexdigest()


def _caps_still_hold(conn: Connection, plan: _Plan) -> bool:
    """Leads routed instantly while the batch solved used some reps' room: the plan
    stands when every rep still fits its planned load (else the batch plans again)."""
    taken = state.assigned_effort_after(conn, plan.log_mark)
    if not taken or plan.routed is None:
        return True
    summary = plan.routed.outcome.rep_summary
    for rep, capacity, factor, load in zip(
            summary["rep_id"].astype(str), summary["capacity"].to_numpy(dtype=float),
            summary["ramp_factor"].to_numpy(dtype=float), summary["load"].to_numpy(dtype=float),
            strict=True):
        if load > 0 and load > capacity - taken.get(rep, 0.0) * factor + EFFORT_TOLERANCE:
            return False
    return True


def _route_pending(conn: Connection, settings: BatchSettings, plan: _Plan,
                   now: datetime, *, lead_table: pd.DataFrame | None = None) -> None:
    """Route the pending leads; a lead whose own data is refused (a located error in the
    leads table, or the largest value or effort when the batch overflows the integer
    scaling) is set aside as unrouted, reported, and the rest routed again."""
    routable = list(plan.pending)
    while routable:
        try:
            plan.routed = route(conn, settings, routable, now, lead_table=lead_table)
            plan.routable = routable
            return
        except RefusedLeadError as exc:
            plan.set_aside.append((routable.pop(exc.position), str(exc)))
        except ScalingOverflowError as exc:
            key = "effort" if exc.quantity == "effort" else "value"
            worst = int(np.argmax([float(lead[key]) for lead in routable]))
            plan.set_aside.append((routable.pop(worst),
                                   f"its {key} is too large to route with this batch ({exc})"))
    plan.routable = routable


def _apply(conn: Connection, settings: BatchSettings, plan: _Plan, batch_id: str,
           now: datetime, started: datetime) -> BatchReport:
    expired, requeued, unrouted = _expire_overdue(conn, settings.policy.sla, plan.overdue,
                                                  batch_id, now)
    version = policy_version(settings.policy)
    for lead, why in plan.set_aside:
        _set_aside(conn, lead, why, batch_id, version, now)
    unrouted += len(plan.set_aside)
    counts = {"assigned": 0, "nurture": 0, "unassigned": 0}
    engine, status = "none", "optimal"
    proof: tuple[float | None, float | None, float | None] = (None, None, None)
    if plan.no_reps:
        _wait(conn, plan.pending, NO_REPS, batch_id, now)  # nothing to route to yet
        counts["unassigned"] = len(plan.pending)
    elif plan.routed is not None:
        for key, value in plan.routed.outcome.assignments["status"].value_counts().items():
            counts[str(key)] = int(value)
        engine, status = plan.routed.outcome.engine, plan.routed.outcome.status.value
        proof = _proof(plan.routed.outcome)
        _record(conn, settings, plan.routed, plan.routable, batch_id, now, plan.decided)
    report = BatchReport(
        batch_id=batch_id, started_at=started, finished_at=utcnow(),
        policy_version=version, engine=engine, solve_status=status, expired=expired,
        requeued=requeued, routed=len(plan.pending), assigned=int(counts["assigned"]),
        nurture=int(counts["nurture"]), still_pending=int(counts["unassigned"]),
        unrouted=unrouted, objective=proof[0], bound=proof[1], gap=proof[2],
        reps_set_aside=[f"{rep}: {why}" for rep, why in
                        (plan.routed.reps_set_aside.items() if plan.routed else [])],
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


def _set_aside(conn: Connection, lead: dict[str, Any], error: str, batch_id: str,
               version: str, now: datetime) -> None:
    reason = f"bad lead data, needs a fix: {error}"
    state.set_lead(conn, lead["lead_id"], now, status="unrouted", rep_id=None, due_at=None,
                   reason=reason)
    state.log_events(conn, [{
        "lead_id": lead["lead_id"], "rep_id": None, "batch_id": batch_id, "event": "unrouted",
        "effort": 0.0, "score": None, "reason": reason, "engine": "",
        "policy_version": version, "created_at": now}])


def _expire_overdue(conn: Connection, sla: Sla | None, overdue: list[dict[str, Any]],
                    batch_id: str, now: datetime) -> tuple[int, int, int]:
    """Assigned leads past due: log the expiry, then re-queue (or give up after
    ``max_attempts``). Returns (expired, re-queued, given up)."""
    if sla is None:
        return 0, 0, 0
    events = []
    changes = []  # one executemany, not a round trip per lead
    for lead in overdue:
        events.append({"lead_id": lead["lead_id"], "rep_id": lead["rep_id"],
                       "batch_id": batch_id, "event": "expired", "effort": 0.0, "score": None,
                       "reason": f"not worked within {sla.work_within_minutes:g} minutes",
                       "engine": "", "policy_version": "", "created_at": now})
        if lead["attempts"] >= sla.max_attempts:
            changes.append({"lead_id": lead["lead_id"], "status": "unrouted", "rep_id": None,
                            "due_at": None, "reason": f"expired {lead['attempts']} times; "
                            "needs a manager's decision"})
        else:
            changes.append({"lead_id": lead["lead_id"], "status": "pending", "rep_id": None,
                            "due_at": None, "reason": _requeued(lead, sla)["reason"]})
    state.set_leads(conn, changes, now)
    state.log_events(conn, events)
    requeued = sum(change["status"] == "pending" for change in changes)
    return len(overdue), requeued, len(overdue) - requeued


@dataclass(frozen=True)
class _Decisions:
    """The rows a batch writes for its routed leads, built before it takes the write lock
    (its plan holds as long as the fingerprint does: the same leads, reps and owners)."""

    changes: list[dict[str, Any]]  # lead updates
    events: list[dict[str, Any]]  # audit rows
    new_owners: dict[str, str]  # account → its first rep (existing owners stay)
    assigned: list[dict[str, Any]]  # for the webhooks


def _record(conn: Connection, settings: BatchSettings, routed: Routed,
            pending: list[dict[str, Any]], batch_id: str, now: datetime,
            decided: _Decisions | None = None) -> None:
    """Write the batch's decisions: leads, the audit log, owners, rotation, webhooks."""
    if decided is None:
        decided = _decisions(settings, routed, pending, batch_id, now)
    state.set_leads(conn, decided.changes, now)
    state.log_events(conn, decided.events)
    state.claim_accounts(conn, decided.new_owners, now)
    if isinstance(routed.outcome.state, RotationState):
        state.write_rotation(conn, routed.outcome.state, now)
    if settings.webhook_url:
        queue_notifications(conn, settings.webhook_url, batch_id, decided.assigned, now)


def _decisions(settings: BatchSettings, routed: Routed, pending: list[dict[str, Any]],
               batch_id: str, now: datetime) -> _Decisions:
    """The rows ``_record`` writes; reads nothing from the store."""
    policy = settings.policy
    version = policy_version(policy)
    sla = policy.sla
    due = sla_deadlines(sla, routed.stored_reps, now)  # per rep: its working hours
    by_id = {lead["lead_id"]: lead for lead in pending}
    rep_pos = {rep: j for j, rep in enumerate(routed.reps["rep_id"].astype(str))}
    effort = dict(zip(routed.leads["lead_id"], routed.leads["effort"], strict=True))
    decided = _Decisions(changes=[], events=[], new_owners={}, assigned=[])
    table = routed.outcome.assignments
    learning = learning_columns(table, policy)
    engine = routed.outcome.engine  # a property that joins the engines: once, not per lead
    for lead_id, rep_id, raw_score, status, raw_reason, why, logged in zip(
            table["lead_id"].astype(str), table["rep_id"].astype(str),
            table["score"].to_numpy(dtype=float), table["status"].astype(str),
            table["reason"].astype(str), routed.outcome.reasons, learning, strict=True):
        lead = by_id[lead_id]
        reason = raw_reason
        tier = routed.tier_notes.get(lead_id)
        if tier:
            reason = f"{reason} [{tier}]"
        score = None if np.isnan(raw_score) else float(raw_score)
        if status == "assigned":
            note = routed.cap_notes[rep_pos[rep_id]]
            reason = f"{reason}; {note}" if note else reason
            decided.changes.append({
                "lead_id": lead_id, "status": "assigned", "rep_id": rep_id,
                "assigned_at": now, "due_at": due(rep_id), "attempts": lead["attempts"] + 1,
                "reason": reason})
            if lead["account_id"]:
                decided.new_owners.setdefault(lead["account_id"], rep_id)
            decided.assigned.append({"lead_id": lead_id, "rep_id": rep_id, "score": score,
                                     "reason": reason})
        elif status == "nurture":
            decided.changes.append({"lead_id": lead_id, "status": "nurture", "reason": reason})
        else:
            if why is not None and why.code is ReasonCode.NO_ELIGIBLE_REP and not tier:
                reason += "; waiting for an eligible rep"
            if reason == lead["reason"]:
                continue  # still waiting for the same reason: no new audit row
            decided.changes.append({"lead_id": lead_id, "status": "pending", "reason": reason})
        decided.events.append({
            "lead_id": lead_id, "rep_id": rep_id or None, "batch_id": batch_id,
            "event": status, "effort": float(effort[lead_id]) if status == "assigned" else 0.0,
            "score": score, "reason": reason,
            "engine": engine, "policy_version": version, "created_at": now, **logged,
        })
    return decided
