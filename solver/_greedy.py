"""Greedy best-fit: each lead, in order, takes its best-scoring rep with room left.

It is the baseline strategy of the benchmarks and the warm start (hint) for CP-SAT.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver._problem import EFFORT_TOLERANCE, RoutingProblem


def greedy_best_fit(
    problem: RoutingProblem, order: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.int64]:
    """Rep index per lead (-1 when none has room), visiting leads in ``order``."""
    remaining = problem.capacity.astype(np.float64).copy()
    starts = problem.lead_pair_bounds()
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    visit = np.arange(problem.n_leads) if order is None else order
    for lead in visit:
        lo, hi = starts[lead], starts[lead + 1]
        if lo == hi:
            continue
        reps = problem.pair_rep[lo:hi]
        effort = problem.pair_effort[lo:hi]
        fits = remaining[reps] + EFFORT_TOLERANCE >= effort
        if not fits.any():
            continue
        scores = np.where(fits, problem.pair_score[lo:hi], -np.inf)
        best = int(np.argmax(scores))  # first maximum: lowest rep index on ties
        rep_index[lead] = reps[best]
        remaining[reps[best]] -= effort[best]
    return rep_index
