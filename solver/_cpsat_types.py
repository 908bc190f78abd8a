"""CP-SAT settings and the soft account-group penalty: plain data, kept apart from
``_cpsat`` so that callers which only pass them along (the solve dispatcher, the policy)
do not import OR-Tools' CP-SAT (and scipy) when no part of the batch needs it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, kw_only=True)
class CpSatSettings:
    time_limit_s: float
    seed: int
    workers: int


@dataclass(frozen=True)
class SplitPenalty:
    """Soft account groups: ``penalty`` (objective units) per extra rep a group's leads are
    split across. ``group`` per lead of the problem: group id, or -1 for no group."""

    group: npt.NDArray[np.int64]
    penalty: float

    def restricted(self, leads: npt.NDArray[np.int64]) -> SplitPenalty:
        return SplitPenalty(self.group[leads], self.penalty)

    def grouped(self) -> npt.NDArray[np.bool_]:
        """Leads that share their group with another lead (only those can be split)."""
        ids, counts = np.unique(self.group[self.group >= 0], return_counts=True)
        return np.isin(self.group, ids[counts > 1])

    def splits(self, rep_index: npt.NDArray[np.int64]) -> dict[int, int]:
        """Group → number of reps its routed leads went to (groups on 2+ reps only)."""
        routed = (self.group >= 0) & (rep_index >= 0)
        pairs = set(zip(self.group[routed].tolist(), rep_index[routed].tolist(), strict=True))
        count: dict[int, int] = {}
        for group, _ in pairs:
            count[group] = count.get(group, 0) + 1
        return {g: c for g, c in count.items() if c > 1}
