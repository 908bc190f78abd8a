"""Per-lead status and why, as a `Reason` (code and parameters; its words in `_reasons.py`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver._problem import EFFORT_TOLERANCE, RoutingProblem, lead_chunks
from solver._reasons import NO_ELIGIBLE_REP, SOLVER_TIMEOUT, Reason, ReasonCode, shared
from solver._result import LeadStatus, pair_index_of

__all__ = ["NO_ELIGIBLE_REP", "SOLVER_TIMEOUT", "explain", "rep_loads"]

_NO_ELIGIBLE = Reason(ReasonCode.NO_ELIGIBLE_REP)
_TIMED_OUT = Reason(ReasonCode.SOLVER_TIMEOUT)
_ONLY_ELIGIBLE = Reason(ReasonCode.ONLY_ELIGIBLE)


def rep_loads(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64], *, on_score: bool = False
) -> npt.NDArray[np.float64]:
    """Per rep: assigned effort, or with ``on_score`` assigned score (expected value;
    negative scores count as zero, as in a band on value)."""
    pairs = pair_index_of(problem, rep_index)
    chosen = pairs[pairs >= 0]
    measure = (np.maximum(problem.pair_score[chosen], 0.0) if on_score
               else problem.pair_effort[chosen])
    loads = np.bincount(problem.pair_rep[chosen], weights=measure, minlength=problem.n_reps)
    return loads.astype(np.float64)


def explain(
    problem: RoutingProblem,
    rep_index: npt.NDArray[np.int64],
    *,
    timed_out: npt.NDArray[np.bool_],
) -> tuple[tuple[LeadStatus, ...], tuple[Reason, ...]]:
    starts = problem.lead_pair_bounds()
    degree = np.diff(starts)
    remaining = problem.capacity - rep_loads(problem, rep_index)
    chosen = pair_index_of(problem, rep_index)
    other = _best_other_pair(problem, chosen, starts)
    statuses: list[LeadStatus] = []
    reasons: list[Reason] = []
    # one numpy gather per quantity instead of numpy scalar reads per lead
    mine = problem.pair_score[np.maximum(chosen, 0)].tolist() if problem.n_pairs else []
    theirs = problem.pair_score[np.maximum(other, 0)].tolist() if problem.n_pairs else []
    preferred = problem.pair_rep[np.maximum(other, 0)] if problem.n_pairs else other
    full = (remaining[preferred] + EFFORT_TOLERANCE
            < problem.pair_effort[np.maximum(other, 0)]).tolist() if problem.n_pairs else []
    names = problem.rep_ids[preferred].tolist() if problem.n_pairs else []
    for lead, (rep, count) in enumerate(zip(rep_index.tolist(), degree.tolist(),
                                            strict=True)):
        if rep < 0:
            statuses.append(LeadStatus.UNASSIGNED)
            if count == 0:
                reasons.append(_NO_ELIGIBLE)
            elif timed_out[lead]:
                reasons.append(_TIMED_OUT)
            else:
                reasons.append(shared(ReasonCode.CAPACITY_EXHAUSTED, count))
            continue
        statuses.append(LeadStatus.ASSIGNED)
        reasons.append(_ONLY_ELIGIBLE if count == 1 else _assigned_reason(
            mine[lead], theirs[lead], names[lead], full[lead]))
    return tuple(statuses), tuple(reasons)


def _best_other_pair(problem: RoutingProblem, chosen: npt.NDArray[np.int64],
                     starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per lead, its best-scoring pair other than the chosen one (first on ties), -1 when
    there is none; a few passes over cache-sized blocks of leads instead of one numpy
    call per lead (or full-size temporaries)."""
    out = np.full(problem.n_leads, -1, dtype=np.int64)
    for lo, hi, first, end in lead_chunks(starts):
        masked = problem.pair_score[first:end].copy()
        mine = chosen[lo:hi]
        masked[mine[mine >= 0] - first] = -np.inf
        bounds = starts[lo:hi + 1] - first
        nonempty = np.flatnonzero(bounds[:-1] < bounds[1:])
        best = np.full(hi - lo, -np.inf)
        best[nonempty] = np.maximum.reduceat(masked, bounds[nonempty])
        lead = problem.pair_lead[first:end] - lo
        hits = np.flatnonzero((masked == best[lead]) & np.isfinite(masked))
        new = np.flatnonzero(np.diff(lead[hits], prepend=-1))  # first hit per lead
        out[lo + lead[hits[new]]] = first + hits[new]
    return out


def _assigned_reason(mine: float, theirs: float, name: object, preferred_full: bool
                     ) -> Reason:
    """Chosen pair's score ``mine`` against the best other pair's ``theirs`` (rep ``name``)."""
    if mine >= theirs:
        code = ReasonCode.BEST_FIT
    else:
        code = ReasonCode.PREFERRED_FULL if preferred_full else ReasonCode.TRADE_OFF
    return Reason(code, score=mine, other=theirs, other_rep=str(name))
