"""A soft per-rep load band: the fairness constraint the engines understand.

After coverage (always first), the engines minimise the total load outside
``[lower, upper]`` and only then maximise the score, so a band that cannot hold is met as
closely as possible, never a crash. A rep's load is its assigned effort, or with
``on_score`` the sum of its assigned pairs' scores (its expected value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver._scaling import priority_weight

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LoadBand:
    lower: FloatArray
    upper: FloatArray
    on_score: bool = False  # band the expected value (pair scores), not the effort

    def restricted(self, reps: IntArray) -> LoadBand:
        return LoadBand(self.lower[reps], self.upper[reps], self.on_score)

    def shortfall(self, loads: FloatArray) -> FloatArray:
        """Per rep, how far the load lies outside the band (0 inside)."""
        return np.maximum(self.lower - loads, 0.0) + np.maximum(loads - self.upper, 0.0)


def band_penalty_weight(pair_lead: IntArray, scaled_scores: IntArray, n_leads: int) -> int:
    """More than the spread of total score between any two assignments (lexicographic)."""
    return priority_weight(pair_lead, scaled_scores, n_leads)
