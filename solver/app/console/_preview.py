"""Policy preview: validate a pasted policy, then route the pending leads with the current
policy and with the new one, in a read-only connection, and compare. Nothing is written."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import ValidationError

from solver.app.service import _batch
from solver.app.service import _state as state
from solver.app.service._batch import BatchSettings
from solver.app.service._store import Store
from solver.policy import Policy

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
    pending: int
    changed: int  # leads whose rep (or lack of one) differs
    assigned_before: int
    assigned_after: int
    loads: list[RepLoad]  # effort per rep
    expected_before: float  # sum of the model's scores of the assigned pairs
    expected_after: float
    examples: list[tuple[str, str, str]]  # (lead, rep before, rep after), first changes


def preview(store: Store, settings: BatchSettings, policy: Policy, now: datetime) -> Preview:
    with store.read() as conn:
        pending = state.pending_leads(conn, settings.max_leads)
        if not pending:
            return Preview(pending=0, changed=0, assigned_before=0, assigned_after=0,
                           loads=[], expected_before=0.0, expected_after=0.0, examples=[])
        # the same read-only routing a batch does, once per policy
        before = _picks(settings, _batch._route(conn, settings, pending, now))
        trial = replace(settings, policy=policy)
        after = _picks(trial, _batch._route(conn, trial, pending, now))
    rep_ids = sorted(set(before.rep_load) | set(after.rep_load))
    changes = [(lead, before.rep_of.get(lead, ""), after.rep_of.get(lead, ""))
               for lead in before.order if before.rep_of.get(lead) != after.rep_of.get(lead)]
    return Preview(
        pending=len(pending), changed=len(changes),
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


def _picks(settings: BatchSettings, routed: _batch._Routed) -> _Picks:
    table = routed.outcome.assignments
    lead_ids = routed.leads["lead_id"].astype(str).tolist()
    rep_ids = routed.reps["rep_id"].astype(str).tolist()
    row_of = {lead: i for i, lead in enumerate(lead_ids)}
    col_of = {rep: j for j, rep in enumerate(rep_ids)}
    effort = routed.leads["effort"].to_numpy(dtype=float)
    score = np.asarray(settings.scorer(routed.leads, routed.reps), dtype=float)
    assigned = table[table["status"].astype(str) == "assigned"]
    rep_of = dict(zip(assigned["lead_id"].astype(str), assigned["rep_id"].astype(str),
                      strict=True))
    load = pd.Series({rep: 0.0 for rep in rep_ids})
    expected = 0.0
    for lead, rep in rep_of.items():
        load[rep] += effort[row_of[lead]]
        expected += float(score[row_of[lead], col_of[rep]])
    return _Picks(lead_ids, rep_of, {str(k): float(v) for k, v in load.items()}, expected)
