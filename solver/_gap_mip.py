"""HiGHS branch and bound on a restricted GAP neighbourhood (scipy ``milp``, never highspy:
SOLVER-NOTES 1).

On the LP-guided neighbourhood of each row's two best reps by reduced cost, HiGHS's root
cuts and heuristics find a near-optimal assignment much sooner than CP-SAT: measured on
the dense micro-batches (1,000 × 100, efforts 1–3, account groups; ~1,860 cells), HiGHS
reached 0.016% below the neighbourhood's own optimum in 0.8–1.4 s, where CP-SAT (one
worker, linearisation 2) needed 2.7 s to get 0.05% further away; at 400 × 40, 0.28 s for
0.006% below the proven optimum. HiGHS takes no hint and no stopping callback, so it runs
to its relative gap; the answer is checked exactly here (integral efforts, each row once,
loads within ``[L, U]``) and only ever offered as an incumbent, never as a proof: HiGHS's
tolerances are not CP-SAT's exact integer arithmetic. The engine calls it only when a gap
limit is set (on OR-Library gapb-gapd without one it was better on some instances and
worse on others: benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver._gap_lp import DenseGap

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# HiGHS stops at a relative gap to its own (neighbourhood, cut-tightened) bound; that bound
# lay 0.05-0.06% below the whole problem's LP bound on the 1,000 x 100 batches, so a third
# of the engine's gap limit leaves room for it (measured: HiGHS reached 0.02-0.03% of its
# bound after 1.5-2.1 s, then spent 2-3 s more in sub-MIPs to get under 0.02%).
GAP_LIMIT_SHARE = 1 / 3
MIN_REL_GAP = 1e-5


def solve_restricted_mip(gap: DenseGap, values: IntArray, keep: BoolArray,
                         seconds: float, gap_limit: float) -> IntArray | None:
    """The best assignment HiGHS finds on the kept cells within ``seconds``, stopping at a
    share of ``gap_limit`` to its own bound (None: none found, or its answer fails the
    exact check)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    n, m = gap.shape
    cell_i, cell_j = np.nonzero(keep)
    k = len(cell_i)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if k == 0 or seconds <= 0:
        return None
    cols = np.arange(k)
    efforts = gap.effort[cell_i, cell_j]
    each_once = csr_matrix((np.ones(k), (cell_i, cols)), shape=(n, k))
    load = csr_matrix((efforts.astype(float), (cell_j, cols)), shape=(m, k))
    # objective in units of the largest value: HiGHS's tolerances are absolute
    unit = float(max(np.abs(values[cell_i, cell_j]).max(initial=1), 1))
    result = milp(-values[cell_i, cell_j] / unit, integrality=np.ones(k),
                  bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(each_once, 1, 1),
                               LinearConstraint(load, gap.lower.astype(float),
                                                gap.upper.astype(float))],
                  options={"time_limit": float(seconds),
                           "mip_rel_gap": max(gap_limit * GAP_LIMIT_SHARE, MIN_REL_GAP)})
    if result.x is None:
        return None
    chosen = np.asarray(result.x) > 0.5
    assign = np.full(n, -1, dtype=np.int64)
    assign[cell_i[chosen]] = cell_j[chosen]
    if not _feasible(gap, cell_i[chosen], efforts[chosen], cell_j[chosen], n):
        return None
    return assign


def _feasible(gap: DenseGap, rows: IntArray, efforts: IntArray, reps: IntArray,
              n: int) -> bool:
    """Each row exactly once, every load within ``[L, U]`` (exact integer arithmetic)."""
    if len(rows) != n or not np.all(np.bincount(rows, minlength=n) == 1):
        return False
    load = np.bincount(reps, weights=efforts, minlength=gap.shape[1]).astype(np.int64)
    return bool(np.all(load >= gap.lower) and np.all(load <= gap.upper))
