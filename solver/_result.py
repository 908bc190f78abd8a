"""What a solve returns: typed status, objective with bound and gap, and per-lead outcomes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._problem import RoutingProblem
from solver._reasons import Reason, render_all
from solver._terms import TermName


class SolveStatus(enum.Enum):
    OPTIMAL = "optimal"  # proven best: maximal coverage, then maximal score
    FEASIBLE = "feasible"  # time limit reached; best assignment found, gap reported
    NO_SOLUTION = "no_solution"  # time limit reached before any assignment was found


class Engine(enum.Enum):
    NONE = "none"  # nothing to solve (no candidate pairs)
    MIN_COST_FLOW = "min_cost_flow"
    CP_SAT = "cp_sat"
    HEURISTIC = "heuristic"  # a baseline strategy, not an optimiser


class LeadStatus(enum.Enum):
    """A lead's status in a batch's assignments and, with the rest, in the service's store."""

    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    NURTURE = "nurture"
    PENDING = "pending"  # service: waiting for the next batch
    ACCEPTED = "accepted"  # service: the rep took it
    WORKED = "worked"  # service: the rep worked it within the SLA
    UNROUTED = "unrouted"  # service: set aside (bad data, gave up): a manager decides
    ERROR = "error"  # partitioned routing: the lead's partition failed


def relative_gap(objective: float, bound: float) -> float:
    """``(bound − objective) / |bound|``, at least 0; inf when no bound is proven."""
    if not np.isfinite(bound):
        return float("inf")
    return max(0.0, bound - objective) / max(abs(bound), 1e-9)


@dataclass(frozen=True, kw_only=True, eq=False)
class SolveResult:
    """One outcome per lead of the problem, in the problem's lead order.

    ``objective`` is the total score of assigned pairs in the caller's units;
    ``objective_scaled`` is the same in the engine's integer units (``score_scale``).
    ``bound`` is an upper bound on ``objective`` among maximal-coverage assignments
    (``inf`` when coverage itself is not proven maximal); ``gap`` is relative.
    ``terms``: each objective term's contribution in the caller's units (``FIT`` equals
    ``objective``; costs are negative; see ``solver._terms`` for which engine has which).
    ``explanations``: each lead's ``Reason`` (code and parameters); ``reasons`` are their
    words.
    """

    status: SolveStatus
    engines: tuple[Engine, ...]
    rep_index: npt.NDArray[np.int64]
    lead_status: tuple[LeadStatus, ...]
    explanations: tuple[Reason, ...]
    objective: float
    objective_scaled: int
    bound: float
    score_scale: float
    wall_time_s: float
    terms: Mapping[TermName, float] = field(default_factory=dict)

    @cached_property
    def reasons(self) -> tuple[str, ...]:
        """Each lead's reason in words (the edge: tables, CLI, HTTP)."""
        return render_all(self.explanations)

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    @property
    def n_assigned(self) -> int:
        return int(np.count_nonzero(self.rep_index >= 0))

    @property
    def engine(self) -> str:
        return "+".join(e.value for e in self.engines)

    def assignments(self, problem: RoutingProblem) -> pd.DataFrame:
        """The contract's ``assignments`` table: one row for every lead."""
        scores = pair_scores_of(problem, self.rep_index)
        assigned = self.rep_index >= 0
        rep_ids = np.where(assigned, problem.rep_ids[np.maximum(self.rep_index, 0)], "")
        return pd.DataFrame(
            {
                "lead_id": problem.lead_ids.astype(str),
                "rep_id": rep_ids.astype(str),
                "score": np.where(assigned, scores, np.nan),
                "status": [s.value for s in self.lead_status],
                "reason": list(self.reasons),
            }
        )


def pair_index_of(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Index into the pair arrays of each lead's chosen pair, -1 when unassigned."""
    leads = np.flatnonzero(rep_index >= 0)
    wanted = rep_index[leads]
    starts = problem.lead_pair_bounds()
    # binary search within each lead's pairs (sorted by rep), all leads at once: no
    # full-size key array over millions of pairs
    lo, end = starts[leads], starts[leads + 1]
    hi = end
    last = max(problem.n_pairs - 1, 0)
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        right = (lo < hi) & (problem.pair_rep[np.minimum(mid, last)] < wanted)
        lo, hi = np.where(right, mid + 1, lo), np.where(right | (lo >= hi), hi, mid)
    if np.any(lo >= end) or np.any(problem.pair_rep[np.minimum(lo, last)] != wanted):
        raise ValueError("a lead is assigned to a rep that is not among its candidates")
    out = np.full(problem.n_leads, -1, dtype=np.int64)
    out[leads] = lo
    return out


def pair_scores_of(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    pairs = pair_index_of(problem, rep_index)
    if problem.n_pairs == 0:  # no candidates at all: every lead is unassigned
        return np.full(len(pairs), np.nan)
    return np.where(pairs >= 0, problem.pair_score[np.maximum(pairs, 0)], np.nan)
