"""Score-aware strategies: greedy best fit, cherry-picking reps, and the optimiser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from solver._explain import explain
from solver._greedy import greedy_best_fit
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver._solve import SolveOptions, solve
from solver.errors import PolicyError
from solver.strategies._base import StrategyOutcome, heuristic_result, now
from solver.strategies._state import StrategyState


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True)
class GreedyBestFit:
    """Each lead, in arrival order, takes its best-scoring eligible rep with room.

    Wraps ``solver.greedy_best_fit``; reasons are the core's (best fit, or the preferred
    rep at capacity). Stateless.
    """

    name: ClassVar[str] = "greedy"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = True

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        rep_index = greedy_best_fit(problem)
        _, core = explain(problem, rep_index, timed_out=np.zeros(problem.n_leads, dtype=bool))
        reasons = [Reason(ReasonCode.GREEDY, inner=r) if rep >= 0 else None
                   for rep, r in zip(rep_index.tolist(), core, strict=True)]
        return StrategyOutcome(heuristic_result(problem, rep_index, reasons, started), state)


@dataclass(frozen=True)
class CherryPicking:
    """Simulates reps picking leads from a shared queue.

    Round after round, the reps that can still pick act in a random order (a fresh
    permutation per round from ``numpy.random.default_rng(seed)`` over those reps in
    rep table order); each takes its best-scoring remaining eligible lead that fits its
    remaining capacity (ties: earliest lead). A rep with nothing left to take drops out;
    the simulation ends when every rep has. Stateless; deterministic for a seed.
    """

    name: ClassVar[str] = "cherry_picking"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = True
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int(self.seed, "seed", 0)

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        n, m = problem.n_leads, problem.n_reps
        # Each rep's candidate pairs, best score first, then earliest lead.
        perm = np.lexsort((problem.pair_lead, -problem.pair_score, problem.pair_rep))
        by_rep = problem.pair_rep[perm]
        bounds = np.searchsorted(by_rep, np.arange(m + 1)).tolist()
        lead_of = problem.pair_lead[perm].tolist()
        effort_of = problem.pair_effort[perm].tolist()
        score_of = problem.pair_score[perm].tolist()
        remaining = problem.capacity.tolist()
        pointer = bounds[:-1]
        taken = [False] * n
        rep_index = [-1] * n
        reasons: list[Reason | None] = [None] * n
        rng = np.random.default_rng(self.seed)
        active = [r for r in range(m) if bounds[r] < bounds[r + 1]]
        round_no = 0
        while active:
            round_no += 1
            still: list[int] = []
            for i in rng.permutation(len(active)).tolist():
                rep = active[i]
                p, end = pointer[rep], bounds[rep + 1]
                # Taken leads stay taken and remaining capacity only shrinks: skip for good.
                while p < end and (
                    taken[lead_of[p]] or effort_of[p] > remaining[rep] + EFFORT_TOLERANCE
                ):
                    p += 1
                pointer[rep] = p
                if p == end:
                    continue
                lead = lead_of[p]
                taken[lead] = True
                rep_index[lead] = rep
                remaining[rep] -= effort_of[p]
                pointer[rep] = p + 1
                reasons[lead] = Reason(ReasonCode.CHERRY_PICKED, rep=str(problem.rep_ids[rep]),
                                       count=round_no, score=score_of[p])
                still.append(rep)
            active = sorted(still)
        result = heuristic_result(problem, np.asarray(rep_index, dtype=np.int64), reasons,
                                  started)
        return StrategyOutcome(result, state)


@dataclass(frozen=True)
class Optimal:
    """The optimiser (``solver.solve``): maximal coverage, then maximal total score."""

    name: ClassVar[str] = "optimal"
    soft_terms: ClassVar[bool] = True
    time_limited: ClassVar[bool] = True
    stateless: ClassVar[bool] = True
    time_limit_s: float = 30.0
    seed: int = 0
    workers: int = 1
    gap_limit: float = 0.0  # stop once the proven relative gap is this small (0: optimal)

    def __post_init__(self) -> None:
        limit = self.time_limit_s
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0:
            raise PolicyError(f"time_limit_s must be a number > 0, got {limit!r}")
        gap = self.gap_limit
        if isinstance(gap, bool) or not isinstance(gap, int | float) or not 0 <= gap < 1:
            raise PolicyError(f"gap_limit must be a number in [0, 1), got {gap!r}")
        _check_int(self.seed, "seed", 0)
        _check_int(self.workers, "workers", 1)

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        options = SolveOptions(time_limit_s=float(self.time_limit_s), seed=self.seed,
                               workers=self.workers, gap_limit=float(self.gap_limit))
        return StrategyOutcome(solve(problem, options=options), state)
