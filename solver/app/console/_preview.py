"""Policy preview: validate a pasted policy, then route the pending leads (or replay the
last N days' leads) with the running policy and with the new one, in a read-only
connection, and compare. Nothing is written."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sqlalchemy import and_, select

from solver import SolveOptions, problem_from_matrix
from solver.app.service import _routing
from solver.app.service import _schema as t
from solver.app.service import _state as state
from solver.app.service._batch import BatchSettings
from solver.app.service._store import Store
from solver.contract_tables import load_leads, load_reps
from solver.policy import Policy, PolicyInputs, PolicyOutcome, route_with_policy
from solver.strategies import strategy_from_name

MAX_POLICY_CHARS = 100_000


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a pasted policy; ``key`` is the dotted path ("fairness.band"),
    empty for a syntax error (then ``line`` says where)."""

    key: str
    message: str
    line: int | None = None


def parse_policy_text(text: str) -> Policy | list[PolicyProblem]:
    """A validated policy, or every problem found (not just the first)."""
    if len(text) > MAX_POLICY_CHARS:
        return [PolicyProblem("", f"policy longer than {MAX_POLICY_CHARS} characters")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return [PolicyProblem("", f"not valid TOML: {exc}",
                              int(found.group(1)) if found else None)]
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        return [_problem(error) for error in exc.errors()]


def _problem(error: object) -> PolicyProblem:
    assert isinstance(error, dict)
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
    return PolicyProblem(key, message)


@dataclass(frozen=True, kw_only=True)
class RepLoad:
    rep_id: str
    before: float
    after: float


@dataclass(frozen=True, kw_only=True)
class Preview:
    leads: int  # leads routed twice (pending ones, or those that arrived in the window)
    days: int | None  # None: the pending leads; else a replay of the last ``days`` days
    changed: int  # leads whose rep (or lack of one) differs
    assigned_before: int
    assigned_after: int
    loads: list[RepLoad]  # effort per rep
    expected_before: float  # sum of the model's scores of the assigned pairs
    expected_after: float
    examples: list[tuple[str, str, str]]  # (lead, rep before, rep after), first changes


def preview(store: Store, settings: BatchSettings, policy: Policy, now: datetime) -> Preview:
    """The next batch under the running policy and under ``policy``."""
    with store.read() as conn:
        pending = state.pending_leads(conn, settings.max_leads)
        if not pending:
            return _compare(None, None, 0, None)
        # the same read-only routing a batch does, once per policy
        routed = _routing.route(conn, settings, pending, now)
        before = _picks(settings, routed.outcome, routed.leads, routed.reps)
        trial = replace(settings, policy=policy)
        routed = _routing.route(conn, trial, pending, now)
        after = _picks(trial, routed.outcome, routed.leads, routed.reps)
    return _compare(before, after, len(pending), None)


def _compare(before: _Picks | None, after: _Picks | None, leads: int, days: int | None
             ) -> Preview:
    if before is None or after is None:
        return Preview(leads=0, days=days, changed=0, assigned_before=0, assigned_after=0,
                       loads=[], expected_before=0.0, expected_after=0.0, examples=[])
    rep_ids = sorted(set(before.rep_load) | set(after.rep_load))
    changes = [(lead, before.rep_of.get(lead, ""), after.rep_of.get(lead, ""))
               for lead in before.order if before.rep_of.get(lead) != after.rep_of.get(lead)]
    return Preview(
        leads=leads, days=days, changed=len(changes),
        assigned_before=len(before.rep_of), assigned_after=len(after.rep_of),
        loads=[RepLoad(rep_id=r, before=before.rep_load.get(r, 0.0),
                       after=after.rep_load.get(r, 0.0)) for r in rep_ids],
        expected_before=before.expected, expected_after=after.expected, examples=changes[:20])


@dataclass(frozen=True)
class _Picks:
    order: list[str]
    rep_of: dict[str, str]  # assigned leads only
    rep_load: dict[str, float]
    expected: float


def _picks(settings: BatchSettings, outcome: PolicyOutcome, leads: pd.DataFrame,
           reps: pd.DataFrame) -> _Picks:
    table = outcome.assignments
    lead_ids = leads["lead_id"].astype(str).tolist()
    rep_ids = reps["rep_id"].astype(str).tolist()
    row_of = {lead: i for i, lead in enumerate(lead_ids)}
    col_of = {rep: j for j, rep in enumerate(rep_ids)}
    effort = leads["effort"].to_numpy(dtype=float)
    score = np.asarray(settings.scorer(leads, reps), dtype=float)
    assigned = table[table["status"].astype(str) == "assigned"]
    rep_of = dict(zip(assigned["lead_id"].astype(str), assigned["rep_id"].astype(str),
                      strict=True))
    load = dict.fromkeys(rep_ids, 0.0)
    expected = 0.0
    for lead, rep in rep_of.items():
        load[rep] += float(effort[row_of[lead]])
        expected += float(score[row_of[lead], col_of[rep]])
    return _Picks(lead_ids, rep_of, load, expected)


def replay(store: Store, settings: BatchSettings, policy: Policy, now: datetime, days: int
           ) -> Preview:
    """The leads that arrived in the last ``days`` days, routed again as one batch under the
    running policy and under ``policy``: each rep gets ``days`` × its daily cap, active
    reps only, no prior loads, owners or earlier assignments (the same for both policies,
    so the difference is the policy's)."""
    since = now - timedelta(days=days)
    with store.read() as conn:
        query = (select(t.leads).where(and_(t.leads.c.created_at >= since,
                                            t.leads.c.created_at <= now))
                 .order_by(t.leads.c.created_at, t.leads.c.lead_id).limit(settings.max_leads))
        leads = [dict(row) for row in conn.execute(query).mappings()]
        reps = state.reps_frame(conn)
    if not leads or reps.empty:
        return _compare(None, None, 0, days)
    picks = []
    for trial in (settings, replace(settings, policy=policy)):
        outcome, lead_table, rep_table = _route_again(trial, leads, reps, now, days)
        picks.append(_picks(trial, outcome, lead_table, rep_table))
    return _compare(picks[0], picks[1], len(leads), days)


def _route_again(settings: BatchSettings, leads: list[dict[str, Any]], reps: pd.DataFrame,
                 now: datetime, days: int) -> tuple[PolicyOutcome, pd.DataFrame, pd.DataFrame]:
    room = reps["capacity"].to_numpy(dtype=float) * days
    why_not = [None if bool(active) else "inactive" for active in reps["active"]]
    rep_table = load_reps(_routing.rep_frame(reps, room, why_not))
    lead_table = load_leads(_routing.lead_frame(leads, settings.policy))
    score = np.asarray(settings.scorer(lead_table, rep_table), dtype=float)
    shared = {"seed": settings.seed, "time_limit_s": settings.time_limit_s}
    outcome = route_with_policy(
        problem_from_matrix(lead_table, rep_table, score), lead_table, rep_table,
        settings.policy, inputs=PolicyInputs(as_of=pd.Timestamp(now)),
        strategy=strategy_from_name(settings.strategy, reps=rep_table, shared=shared),
        options=SolveOptions(time_limit_s=settings.time_limit_s, seed=settings.seed))
    return outcome, lead_table, rep_table
