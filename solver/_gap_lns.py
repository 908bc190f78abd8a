"""Large neighbourhood search for tight generalized assignment parts: free every row of a
few reps and re-assign those rows among the same reps exactly (CP-SAT), keep the result
when it is no worse (ties too: they move the search along a plateau), and free more reps
at a time once a size stops paying.

Why: on tight instances (OR-Library type D: efforts 1-100 per pair, capacities binding) the
LP-guided neighbourhoods of ``_gap_engine`` hold few better assignments, and one CP-SAT
model over the whole part spends the time proving; re-optimising a few reps at a time is a
very large neighbourhood that each small exact solve searches completely. Measured at 20 s
on gapd-3..6 (10-20 reps, idle 2-core machine): 0.15-1.15% above the best known instead of
0.27-1.34% without it (``benchmarks/README.md``).

Each sub-problem goes through the engine's one CP-SAT path (``solve_restricted``) with the
other rows fixed to their reps, so the loads and band floors are checked by the same model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver._gap_lp import DenseGap

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Solves the part restricted to the kept cells, hinted with an assignment, within seconds:
# (assignment or None, proven optimal).
Restricted = Callable[[BoolArray, IntArray, float], tuple[IntArray | None, bool]]

_FIRST_REPS = 3
_MAX_REPS = 8  # beyond, a sub-problem is about as hard as the whole part
_SUB_SECONDS = 0.5  # one sub-problem's limit (measured: 5-50 ms each on gapd at 3-6 reps)


@dataclass(frozen=True)
class LnsResult:
    assign: IntArray
    value: int
    solves: int


def reassign_reps(gap: DenseGap, values: IntArray, assign: IntArray, *,
                  solve: Restricted, deadline: float, seed: int,
                  good_enough: float) -> LnsResult:
    """From the feasible ``assign``, until ``deadline``, a value ``>= good_enough``, or no
    size of rep set up to ``_MAX_REPS`` improves for a while."""
    n, m = gap.shape
    rows = np.arange(n)
    rng = np.random.default_rng(seed)
    current = assign.copy()  # only ever replaced by one no worse: it is the best so far
    value = int(values[rows, current].sum())
    size = min(_FIRST_REPS, m - 1)
    largest = min(_MAX_REPS, m - 1)
    stalled = solves = 0
    while size >= 2 and value < good_enough:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        reps = _related_reps(values, current, size, rng)
        found, _ = solve(_freed(gap, current, reps), current, min(_SUB_SECONDS, left))
        solves += 1
        found_value = None if found is None else int(values[rows, found].sum())
        if found is not None and found_value is not None and found_value >= value:
            stalled = 0 if found_value > value else stalled + 1
            current, value = found, found_value
        else:
            stalled += 1
        if stalled > 2 * m:  # this size has stopped paying: free one more rep
            size, stalled = size + 1, 0
            if size > largest:
                break
    return LnsResult(assign=current, value=value, solves=solves)


def _related_reps(values: IntArray, assign: IntArray, size: int,
                  rng: np.random.Generator) -> IntArray:
    """A random rep, then, half the time, reps drawn by how much its rows would gain there
    and theirs at it (a sub-problem of unrelated reps has nothing to exchange), else any
    (one run each on gapd at 20 s: related alone beat uniform on gapd-3/4 and lost on
    gapd-5; the mix was as good as the better of the two on five of six)."""
    n, m = values.shape
    if rng.random() < 0.5:
        return rng.choice(m, size=size, replace=False).astype(np.int64)
    rows = np.arange(n)
    first = int(rng.integers(m))
    own = values[rows, assign]
    gain_there = np.maximum(values - own[:, None], 0)[assign == first].sum(axis=0)
    gain_here = np.maximum(values[:, first] - own, 0)
    weight = gain_there + np.bincount(assign, weights=gain_here, minlength=m) + 1.0
    weight[first] = 0.0
    others = rng.choice(m, size=size - 1, replace=False, p=weight / weight.sum())
    return np.concatenate([[first], others]).astype(np.int64)


def _freed(gap: DenseGap, assign: IntArray, reps: IntArray) -> BoolArray:
    """Cells a sub-problem may use: each row of ``reps`` at any of ``reps`` (where it is
    a candidate), every other row at its own rep."""
    n, _ = gap.shape
    keep = np.zeros(gap.shape, dtype=bool)
    keep[np.arange(n), assign] = True
    chosen = np.zeros(gap.shape[1], dtype=bool)
    chosen[reps] = True
    freed = chosen[assign]
    keep[freed] = gap.candidate[freed] & chosen[None, :]
    return keep
