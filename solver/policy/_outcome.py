"""The last stage: the ledger becomes the contract's assignments table (one row per lead:
``lead_id, rep_id, score, status, reason`` and, in experiments, ``propensity`` and ``arm``)
and the per-rep summary."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from solver._reasons import Reason
from solver._result import Engine, LeadStatus, SolveStatus, relative_gap
from solver._terms import TermName, add_terms
from solver.policy._experiment import Arm
from solver.policy._ledger import IntArray, Ledger
from solver.policy._stages import Setup
from solver.policy._summary import RepSummary
from solver.strategies import StrategyState


@dataclass(frozen=True, eq=False)
class PolicyOutcome:
    assignments: pd.DataFrame  # the contract's table, one row per lead
    summary: RepSummary  # the per-rep summary, computed when first read
    rep_index: IntArray
    status: SolveStatus
    objective: float  # total policy objective (score, or score × value) of assigned pairs
    state: StrategyState | None
    engines: tuple[Engine, ...]
    wall_time_s: float
    # upper bound on ``objective`` (inf when a pool's solve proved none); pins and owners
    # are fixed, so the slack is the pools' (bound − objective)
    bound: float = float("inf")
    # per row of ``assignments``, the reason its ``reason`` column renders (None: none);
    # code reads these, never the text. Empty when a caller rewrote the rows afterwards
    # (lead-to-account matching folds duplicates into the table)
    reasons: tuple[Reason | None, ...] = ()
    # objective terms (solver._terms): FIT is ``objective``, costs summed over pool solves
    terms: Mapping[TermName, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    @property
    def rep_summary(self) -> pd.DataFrame:
        return self.summary.frame

    @property
    def engine(self) -> str:
        return "+".join(dict.fromkeys(e.value for e in self.engines)) or Engine.NONE.value


def build_outcome(setup: Setup, ledger: Ledger, state: StrategyState | None) -> PolicyOutcome:
    problem, policy = setup.problem, setup.policy
    reasons = tuple(ledger.reasons)
    assigned = np.flatnonzero(ledger.rep_index >= 0)
    chosen = setup.pair_at.many(assigned, ledger.rep_index[assigned])
    pair_score = np.full(problem.n_leads, np.nan)
    known = chosen >= 0
    pair_score[assigned[known]] = setup.score[chosen[known]]
    rep_ids = setup.rep_ids
    assignments = pd.DataFrame({
        "lead_id": setup.lead_ids,
        "rep_id": np.where(ledger.rep_index >= 0, rep_ids[np.maximum(ledger.rep_index, 0)], ""),
        "score": pair_score,
        "status": [(s or LeadStatus.UNASSIGNED).value for s in ledger.status],
        "reason": [reason.render() if reason is not None else "" for reason in reasons],
    })
    if policy.explore is not None or policy.experiment is not None:
        # deterministic choices have propensity 1; explored leads their exact draw
        propensity = np.where(ledger.rep_index >= 0, 1.0, np.nan)
        for lead, value in ledger.propensity.items():
            propensity[lead] = value
        assignments["propensity"] = propensity
    if ledger.control is not None:
        assignments["arm"] = np.where(ledger.control, Arm.CONTROL.value, Arm.TREATMENT.value)
    fairness = policy.fairness
    summary = RepSummary(
        problem, setup.reps, score=setup.score, eligible=setup.eligible,
        capacity=setup.capacity, loads=ledger.loads - ledger.prior, values=ledger.values,
        weight=setup.weight, factor=setup.factor,
        band=fairness.band if fairness is not None else None,
        share_of=fairness.share_of if fairness is not None else "effort",
        band_shift=ledger.band_shift,
    )
    objective = float(np.nansum(pair_score))
    terms = {**add_terms(ledger.terms), TermName.FIT: objective}
    summary = replace(summary, terms=terms, unit=(
        "revenue" if policy.objective == "expected_revenue" else "conversions"))
    return PolicyOutcome(
        assignments=assignments, summary=summary, rep_index=ledger.rep_index,
        status=ledger.solve_status, objective=objective, state=state,
        engines=tuple(ledger.engines), wall_time_s=time.perf_counter() - ledger.started,
        bound=objective + ledger.slack, reasons=reasons, terms=terms,
    )
