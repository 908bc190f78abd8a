"""HiGHS branch and bound on a restricted GAP neighbourhood (scipy's bundled HiGHS, never
highspy: SOLVER-NOTES 1).

On the LP-guided neighbourhood of each row's two best reps by reduced cost, HiGHS's root
cuts and heuristics find a near-optimal assignment much sooner than CP-SAT: measured on
the dense micro-batches (1,000 × 100, efforts 1–3, account groups; ~1,860 cells), HiGHS
reached 0.016% below the neighbourhood's own optimum in 0.8–1.4 s, where CP-SAT (one
worker, linearisation 2) needed 2.7 s to get 0.05% further away; at 400 × 40, 0.28 s for
0.006% below the proven optimum. Through scipy's bundled HiGHS object (private, so with
scipy ``milp`` as the fallback) it starts from the engine's incumbent and a callback stops
it as soon as its incumbent meets the engine's target (the gap limit against the engine's
bound), instead of running to its own relative gap; with a minimal cut pool that took the
1,000 × 100 batches from 2.3–2.8 s to about 1 s (loaded machine). The answer is checked
exactly here (integral efforts, each row once, loads within ``[L, U]``) and only ever
offered as an incumbent, never as a proof: HiGHS's tolerances are not CP-SAT's exact
integer arithmetic. The engine calls it only when a gap
limit is set (on OR-Library gapb-gapd without one it was better on some instances and
worse on others: benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from solver._gap_lp import DenseGap
from solver._highs import core, loaded

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# HiGHS stops at a relative gap to its own (neighbourhood, cut-tightened) bound; that bound
# lay 0.05-0.06% below the whole problem's LP bound on the 1,000 x 100 batches, so a third
# of the engine's gap limit leaves room for it (measured: HiGHS reached 0.02-0.03% of its
# bound after 1.5-2.1 s, then spent 2-3 s more in sub-MIPs to get under 0.02%).
GAP_LIMIT_SHARE = 1 / 3
MIN_REL_GAP = 1e-5
# A minimal cut pool (cuts leave the LP as soon as they are inactive): HiGHS reaches the
# stopping target sooner. Measured on the HiGHS stage of six 1,000 x 100 batches (seeds 0-3,
# with and without band): 3.8 s of CPU in total against 7.2 s with HiGHS's defaults (a pool
# of 10 or 200 rows: 4.6 and 6.6 s).
_CUT_POOL = (("mip_pool_soft_limit", 1), ("mip_lp_age_limit", 0))


def solve_restricted_mip(gap: DenseGap, values: IntArray, keep: BoolArray,
                         seconds: float, gap_limit: float, hint: IntArray | None = None,
                         target: float | None = None) -> IntArray | None:
    """The best assignment HiGHS finds on the kept cells within ``seconds``, stopping at a
    share of ``gap_limit`` to its own bound or, through scipy's bundled HiGHS directly, as
    soon as its incumbent's value reaches ``target`` (started from ``hint``, a full
    assignment on kept cells). None: none found, or its answer fails the exact check."""
    n, m = gap.shape
    cell_i, cell_j = np.nonzero(keep)
    k = len(cell_i)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if k == 0 or seconds <= 0:
        return None
    efforts = gap.effort[cell_i, cell_j]
    # objective in units of the largest value: HiGHS's tolerances are absolute
    cost = values[cell_i, cell_j]
    unit = float(max(np.abs(cost).max(initial=1), 1))
    rel_gap = max(gap_limit * GAP_LIMIT_SHARE, MIN_REL_GAP)
    start = None if hint is None else (hint[cell_i] == cell_j).astype(np.float64)
    x = _run_highs(gap, cell_i, cell_j, efforts, -cost / unit, seconds, rel_gap, start,
                   None if target is None else -target / unit)
    if x is None:
        return None
    chosen = x > 0.5
    assign = np.full(n, -1, dtype=np.int64)
    assign[cell_i[chosen]] = cell_j[chosen]
    if not _feasible(gap, cell_i[chosen], efforts[chosen], cell_j[chosen], n):
        return None
    return assign


def _run_highs(gap: DenseGap, cell_i: IntArray, cell_j: IntArray, efforts: IntArray,
               cost: FloatArray, seconds: float, rel_gap: float, start: FloatArray | None,
               stop_at: float | None) -> FloatArray | None:
    """Minimise ``cost`` over the cells: each row once, loads within ``[L, U]``. Through
    the HiGHS object scipy bundles when it is there (a start and a stopping callback: the
    stop at ``stop_at`` is what saves the time), else scipy ``milp``."""
    highs_core = core()
    n, m = gap.shape
    k = len(cell_i)
    if highs_core is None:  # pragma: no cover - another scipy layout
        return _run_milp(gap, cell_i, cell_j, efforts, cost, seconds, rel_gap)
    from scipy.sparse import csc_matrix

    matrix = csc_matrix((np.concatenate([np.ones(k), efforts.astype(float)]),
                         (np.concatenate([cell_i, n + cell_j]), np.tile(np.arange(k), 2))),
                        shape=(n + m, k))
    # not "threads": HiGHS's scheduler is per process, set by its first solve (milp's)
    highs = loaded(highs_core, matrix, cost, (np.zeros(k), np.ones(k)),
                   (np.concatenate([np.ones(n), gap.lower.astype(float)]),
                    np.concatenate([np.ones(n), gap.upper.astype(float)])),
                   integer=True, time_limit=float(seconds), mip_rel_gap=float(rel_gap),
                   **dict(_CUT_POOL))
    if highs is None:
        return None
    if start is not None:
        solution = highs_core.HighsSolution()
        solution.col_value = start
        solution.value_valid = True
        highs.setSolution(solution)
    if stop_at is not None:
        def stop(kind: int, message: str, out: object, into: object, data: object) -> None:
            if getattr(out, "mip_primal_bound", np.inf) <= stop_at:
                into.user_interrupt = True  # type: ignore[attr-defined]

        highs.setCallback(stop, None)
        highs.startCallback(highs_core.cb.HighsCallbackType.kCallbackMipInterrupt)
    highs.run()
    if highs.getInfo().primal_solution_status != highs_core.kSolutionStatusFeasible:
        return None
    return np.asarray(highs.getSolution().col_value, dtype=np.float64)


def _run_milp(gap: DenseGap, cell_i: IntArray, cell_j: IntArray, efforts: IntArray,
              cost: FloatArray, seconds: float, rel_gap: float) -> FloatArray | None:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    n, m = gap.shape
    k = len(cell_i)
    cols = np.arange(k)
    each_once = csr_matrix((np.ones(k), (cell_i, cols)), shape=(n, k))
    load = csr_matrix((efforts.astype(float), (cell_j, cols)), shape=(m, k))
    result = milp(cost, integrality=np.ones(k), bounds=Bounds(0, 1),
                  constraints=[LinearConstraint(each_once, 1, 1),
                               LinearConstraint(load, gap.lower.astype(float),
                                                gap.upper.astype(float))],
                  options={"time_limit": float(seconds), "mip_rel_gap": rel_gap})
    return None if result.x is None else np.asarray(result.x)


def _feasible(gap: DenseGap, rows: IntArray, efforts: IntArray, reps: IntArray,
              n: int) -> bool:
    """Each row exactly once, every load within ``[L, U]`` (exact integer arithmetic)."""
    if len(rows) != n or not np.all(np.bincount(rows, minlength=n) == 1):
        return False
    load = np.bincount(reps, weights=efforts, minlength=gap.shape[1]).astype(np.int64)
    return bool(np.all(load >= gap.lower) and np.all(load <= gap.upper))
