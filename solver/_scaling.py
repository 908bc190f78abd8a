"""Integer scaling of float scores and efforts, in one place.

OR-Tools' min-cost flow and CP-SAT take integers. ``SimpleMinCostFlow`` silently
truncates floats (0.7 becomes 0), so every engine scales through this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from solver.errors import ScalingOverflowError, SolverError

# A score of 1.0 becomes 1_000_000 cost units: six decimals survive, which is finer than
# any conversion probability or currency amount a user will route on.
SCORE_SCALE: Final = 10**6
# Efforts are scaled for CP-SAT's knapsack rows; three decimals (0.001 effort units).
EFFORT_SCALE: Final = 10**3
# Engines multiply costs internally (min-cost flow by about the node count, CP-SAT sums
# them); keep every intermediate well inside int64.
INT_LIMIT: Final = 2**62
# Below this scale the solution would ignore differences that matter; refuse instead.
MIN_SCORE_SCALE: Final = 1.0


@dataclass(frozen=True)
class ScaledScores:
    values: npt.NDArray[np.int64]
    scale: float  # original = values / scale

    def unscale(self, total: int | float) -> float:
        return float(total) / self.scale


def scale_scores(scores: npt.NDArray[np.float64], *, multiplier: int) -> ScaledScores:
    """Round ``scores * scale`` to int64 with ``max|value| * multiplier`` below INT_LIMIT.

    ``multiplier`` is the engine's worst-case blow-up (number of nodes, sum of terms).
    The scale starts at SCORE_SCALE and drops by powers of ten only when the guard
    requires it, so the effective scale is reported in the result.
    """
    peak = max(float(scores.max()), -float(scores.min())) if scores.size else 0.0
    scale = float(SCORE_SCALE)
    if peak > 0:
        room = INT_LIMIT / (max(multiplier, 1) * peak)
        if room < scale:
            scale = 10.0 ** math.floor(math.log10(room))
    if scale < MIN_SCORE_SCALE:
        raise ScalingOverflowError(
            f"scores up to {peak:g} across {multiplier} terms overflow 64-bit integer costs; "
            "rescale the scores (e.g. express revenue in thousands)",
            quantity="score",
        )
    values = np.empty(scores.shape, dtype=np.int64)
    flat, out = scores.reshape(-1), values.reshape(-1)
    chunk = 1 << 20  # cache-sized pieces: no full-size float temporaries on 30M pairs
    for start in range(0, len(flat), chunk):
        out[start:start + chunk] = np.rint(flat[start:start + chunk] * scale)
    return ScaledScores(values=values, scale=scale)


def scale_efforts(
    efforts: npt.NDArray[np.float64], capacity: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Efforts round up, capacities round down: the integer model never over-fills a rep.

    Range checks come before the cast to int64 (numpy wraps silently): a capacity above the
    total effort never binds and is lowered to it, an effort above every capacity never
    fits and is lowered to just above the largest one. Neither changes which assignments
    are feasible; what still does not fit in int64 is refused.
    """
    efforts = np.asarray(efforts, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    if not (np.all(np.isfinite(efforts)) and np.all(np.isfinite(capacity))):
        raise SolverError("efforts and capacities must be finite numbers")
    total = float(np.sum(efforts)) if efforts.size else 0.0
    capacity = np.minimum(capacity, total)
    ceiling = float(capacity.max()) + 1.0 / EFFORT_SCALE if capacity.size else 1.0
    efforts = np.minimum(efforts, ceiling)
    total = float(np.sum(efforts)) if efforts.size else 0.0
    if total * EFFORT_SCALE >= INT_LIMIT // 4:
        raise ScalingOverflowError(
            f"efforts summing to {total:g} overflow 64-bit integer scaling; "
            "express efforts and capacities in larger units",
            quantity="effort",
        )
    scaled_effort = np.ceil(efforts * EFFORT_SCALE - 1e-6).astype(np.int64)
    scaled_capacity = np.floor(capacity * EFFORT_SCALE + 1e-6).astype(np.int64)
    return np.maximum(scaled_effort, 1), scaled_capacity


def whole_slots(capacity: npt.NDArray[np.float64], unit: npt.NDArray[np.float64],
                tolerance: float, most: int) -> npt.NDArray[np.int64]:
    """``floor(capacity / unit)`` capped at ``most`` before the cast to int64, so a huge
    capacity means "every lead fits" instead of a wrapped negative number."""
    slots = np.floor(np.asarray(capacity, dtype=float) / unit + tolerance)
    return np.clip(np.nan_to_num(slots, nan=0.0, posinf=most), 0, max(most, 0)).astype(np.int64)


def priority_weight(pair_lead: npt.NDArray[np.int64], scaled_scores: npt.NDArray[np.int64],
                    n_leads: int) -> int:
    """A weight that puts a term before the score (coverage, the load band): more than the
    spread of total score between any two assignments, one lead taking at most one pair."""
    per_lead = np.zeros(n_leads, dtype=np.int64)
    np.maximum.at(per_lead, pair_lead, np.abs(scaled_scores))
    return 2 * int(per_lead.sum()) + 1


def check_objective_range(terms: Iterable[tuple[int, int]]) -> None:
    """Refuse a weighted objective ``Σ weight × term`` that could leave int64: ``terms``
    holds ``(weight, most)`` per term, ``most`` the largest absolute value the term can
    take. Python integers do not wrap, so the sum itself is exact."""
    if sum(abs(weight) * most for weight, most in terms) >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")
