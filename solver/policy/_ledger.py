"""What a routing run has decided so far (``Ledger``) and where a pair sits
(``PairIndex``): the shared state of the policy's stages (``_stages.py``, ``_pools.py``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from solver._problem import RoutingProblem
from solver._reasons import Reason
from solver._result import Engine, LeadStatus, SolveStatus
from solver._terms import TermName

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Ledger:
    """Mutable bookkeeping of one routing run: each lead's rep, status and reason, each
    rep's room and load. The stages write to it; nothing else does."""

    rep_index: IntArray
    status: list[LeadStatus | None]
    reasons: list[Reason | None]  # None: not decided yet
    remaining: FloatArray
    loads: FloatArray  # prior window load + this batch (the fairness band's view)
    prior: FloatArray = field(default_factory=lambda: np.zeros(0))
    # per rep, expected value assigned in this batch (a band on value share looks at it)
    values: FloatArray = field(default_factory=lambda: np.zeros(0))
    # per rep, load the fairness band moved onto (+) or away from (−) it
    band_shift: FloatArray = field(default_factory=lambda: np.zeros(0))
    solve_status: SolveStatus = SolveStatus.OPTIMAL
    slack: float = 0.0  # sum over pool solves of bound − objective (what may be missed)
    engines: list[Engine] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    pool: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # -1: none
    control: BoolArray | None = None  # per lead, in a holdout: routed by the control arm
    terms: list[Mapping[TermName, float]] = field(default_factory=list)  # per pool solve
    propensity: dict[int, float] = field(default_factory=dict)  # explored leads only

    def assign(self, lead: int, rep: int, effort: float, value: float, reason: Reason) -> None:
        self.rep_index[lead] = rep
        self.status[lead] = LeadStatus.ASSIGNED
        self.reasons[lead] = reason
        self.remaining[rep] -= effort
        self.loads[rep] += effort
        self.values[rep] += max(value, 0.0)

    def release(self, lead: int, effort: float, value: float) -> None:
        rep = int(self.rep_index[lead])
        self.rep_index[lead] = -1
        self.status[lead] = None
        self.remaining[rep] += effort
        self.loads[rep] -= effort
        self.values[rep] -= max(value, 0.0)


class PairIndex:
    """(lead, rep) → pair position by binary search on the sorted pair keys."""

    def __init__(self, problem: RoutingProblem) -> None:
        self._width = max(problem.n_reps, 1)
        self._keys = problem.pair_lead * self._width + problem.pair_rep

    def get(self, key: tuple[int, int]) -> int | None:
        wanted = key[0] * self._width + key[1]
        pos = int(np.searchsorted(self._keys, wanted))
        if pos < len(self._keys) and self._keys[pos] == wanted:
            return pos
        return None

    def many(self, leads: IntArray, reps: IntArray) -> IntArray:
        wanted = leads * self._width + reps
        pos = np.minimum(np.searchsorted(self._keys, wanted), max(len(self._keys) - 1, 0))
        found = len(self._keys) > 0
        return np.where(found & (self._keys[pos] == wanted), pos, -1) if found else (
            np.full(len(leads), -1, dtype=np.int64))
