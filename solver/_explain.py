"""Per-lead status and a reason a sales manager understands."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._result import LeadStatus, pair_index_of

NO_ELIGIBLE_REP = "no eligible rep"
SOLVER_TIMEOUT = "solver time limit reached before an assignment was found"


def capacity_exhausted(n_candidates: int) -> str:
    noun = "rep is" if n_candidates == 1 else f"{n_candidates} eligible reps are"
    return f"capacity exhausted: {'the only eligible ' if n_candidates == 1 else 'all '}{noun} full"


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
) -> tuple[tuple[LeadStatus, ...], tuple[str, ...]]:
    starts = problem.lead_pair_bounds()
    remaining = problem.capacity - rep_loads(problem, rep_index)
    statuses: list[LeadStatus] = []
    reasons: list[str] = []
    for lead in range(problem.n_leads):
        lo, hi = int(starts[lead]), int(starts[lead + 1])
        rep = int(rep_index[lead])
        if rep < 0:
            statuses.append(LeadStatus.UNASSIGNED)
            if lo == hi:
                reasons.append(NO_ELIGIBLE_REP)
            elif timed_out[lead]:
                reasons.append(SOLVER_TIMEOUT)
            else:
                reasons.append(capacity_exhausted(hi - lo))
            continue
        statuses.append(LeadStatus.ASSIGNED)
        reasons.append(_assigned_reason(problem, lead, rep, lo, hi, remaining))
    return tuple(statuses), tuple(reasons)


def _assigned_reason(
    problem: RoutingProblem,
    lead: int,
    rep: int,
    lo: int,
    hi: int,
    remaining: npt.NDArray[np.float64],
) -> str:
    if hi - lo == 1:
        return "only eligible rep"
    reps = problem.pair_rep[lo:hi]
    scores = problem.pair_score[lo:hi]
    mine = scores[np.searchsorted(reps, rep)]
    others = reps != rep
    best_other = int(np.argmax(np.where(others, scores, -np.inf)))
    if mine >= scores[best_other]:
        margin = mine - scores[best_other]
        return (
            f"best fit (score {mine:.3g}, +{margin:.3g} over next best "
            f"{problem.rep_ids[reps[best_other]]})"
        )
    preferred = reps[best_other]
    effort = problem.pair_effort[lo + best_other]
    name = problem.rep_ids[preferred]
    if remaining[preferred] + EFFORT_TOLERANCE < effort:
        return f"preferred rep {name} (score {scores[best_other]:.3g}) at capacity; next best fit"
    return (
        f"trade-off: {name} fits better (score {scores[best_other]:.3g} vs {mine:.3g}) "
        "but routing it here maximises the batch total"
    )
