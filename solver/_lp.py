"""LP relaxation of the generalized assignment model: bound, rounding and reduction.

CP-SAT is slow on assignment models whose LP is nearly integral (SOLVER-NOTES 7), so
before calling it we solve the LP relaxation with HiGHS (through scipy, never highspy:
SOLVER-NOTES 1), round it to a good incumbent, and use the duals for reduced-cost
fixing: a pair whose Lagrangian bound ``D - r_p`` is below the incumbent cannot appear in
any better assignment, so it is dropped from the CP-SAT model without losing optimality.

The bound ``D`` is recomputed from the duals by weak duality (``y >= 0`` and the implied
upper-bound multipliers), so it stays valid whatever the LP solver's tolerances were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, vstack

from solver._problem import RoutingProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LpRelaxation:
    x: FloatArray  # LP value per pair
    bound: float  # valid upper bound on the integer objective
    reduced: FloatArray  # r_p >= 0: the bound with pair p forced in is bound - r_p
    capacity_duals: FloatArray  # per rep: objective gained per extra unit of capacity


def solve_lp_relaxation(
    problem: RoutingProblem,
    objective: FloatArray,
    effort: IntArray | FloatArray,
    capacity: IntArray | FloatArray,
) -> LpRelaxation | None:
    """Maximise ``objective·x`` over the relaxation; None when HiGHS fails."""
    # scipy.optimize takes ~0.5 s to import: only batches that need the LP pay for it
    from scipy.optimize import linprog

    n, m, k = problem.n_leads, problem.n_reps, problem.n_pairs
    cols = np.arange(k)
    lead_rows = csr_matrix((np.ones(k), (problem.pair_lead, cols)), shape=(n, k))
    rep_rows = csr_matrix((effort.astype(float), (problem.pair_rep, cols)), shape=(m, k))
    matrix = vstack([lead_rows, rep_rows]).tocsr()
    rhs = np.concatenate([np.ones(n), capacity.astype(float)])
    result = linprog(-objective, A_ub=matrix, b_ub=rhs, bounds=(0, 1), method="highs")
    if result.status != 0:
        return None
    duals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=float), 0.0)
    priced = matrix.T @ duals  # A_p^T y
    upper = np.maximum(objective - priced, 0.0)  # multipliers of x_p <= 1
    bound = float(rhs @ duals + upper.sum())
    reduced = priced + upper - objective  # >= 0 by construction
    return LpRelaxation(
        x=np.asarray(result.x, dtype=float), bound=bound, reduced=reduced,
        capacity_duals=duals[n:],
    )


def round_relaxation(
    problem: RoutingProblem, x: FloatArray, effort: IntArray, capacity: IntArray
) -> IntArray:
    """Leads in order of LP confidence take their LP-preferred rep with room left."""
    remaining = capacity.astype(np.int64).copy()
    starts = problem.lead_pair_bounds()
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    confidence = np.zeros(problem.n_leads)
    np.maximum.at(confidence, problem.pair_lead, x)
    for lead in np.argsort(-confidence, kind="stable"):
        lo, hi = int(starts[lead]), int(starts[lead + 1])
        if lo == hi:
            continue
        fits = remaining[problem.pair_rep[lo:hi]] >= effort[lo:hi]
        if not fits.any():
            continue
        # LP value first, score as tie-break: mostly the LP's own integral choice
        rank = np.where(fits, x[lo:hi] + 1e-9 * problem.pair_score[lo:hi], -np.inf)
        best = lo + int(np.argmax(rank))
        rep_index[lead] = problem.pair_rep[best]
        remaining[problem.pair_rep[best]] -= effort[best]
    return rep_index
