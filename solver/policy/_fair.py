"""The fairness band inside one pool: a free solve, then a solve whose loads stay within
±band of each rep's weighted share (``mode = "band"``), or the best of a few bands by score
− penalty × deviation (``mode = "penalty"``); and the reasons of the leads the band moved.
Only a strategy with ``soft_terms`` (the optimiser) is solved this way."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from solver._band import LoadBand
from solver._cpsat_types import SplitPenalty
from solver._explain import rep_loads
from solver._metrics import share_deviation
from solver._problem import RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver._result import SolveResult
from solver._solve import SolveOptions, solve
from solver.policy._model import Fairness

FloatArray = npt.NDArray[np.float64]

# Penalty mode tries these bands and keeps the best score − penalty × deviation.
_PENALTY_BANDS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, float("inf"))
# In band mode the free solve is only the reference the band departs from (its coverage
# and each lead's unbanded rep, for the reasons and the band shift); the banded solve is
# the answer. A generalized-assignment reference may stop this far from its bound: on the
# dense 1,000 x 100 micro-batches the engine's local search gets there before its HiGHS and
# CP-SAT stages, which halves the routing time (bench_microbatch.py). Flow-shaped and
# exact-model parts are solved exactly as before (the gap limit does not apply to them).
_REFERENCE_GAP_LIMIT = 0.01


def _targets(weight: FloatArray, total: float) -> FloatArray:
    share = weight / weight.sum() if weight.sum() > 0 else np.zeros_like(weight)
    return share * total


def _band_for(fairness_band: float, weight: FloatArray, prior: FloatArray, total: float,
              on_value: bool) -> LoadBand:
    """Band on this solve's loads (efforts, or expected values with ``on_value``) so that
    prior + new stays within ±band of the target."""
    target = _targets(weight, total)
    lower = np.maximum((1 - fairness_band) * target - prior, 0.0)
    upper = np.maximum((1 + fairness_band) * target - prior, 0.0)
    # reps without a share (inactive, zero weight) get no lower bound and no room target
    upper = np.where(weight > 0, upper, 0.0)
    return LoadBand(lower=lower, upper=upper, on_score=on_value)


def _loads(problem: RoutingProblem, result: SolveResult, on_value: bool = False) -> FloatArray:
    return rep_loads(problem, result.rep_index, on_score=on_value)


@dataclass(frozen=True)
class FairSolve:
    """The fair solve, the free one it departs from, and the band it used (None: the
    free solve was kept)."""

    result: SolveResult
    free: SolveResult
    band: LoadBand | None
    on_value: bool = False

    def shift(self, problem: RoutingProblem) -> FloatArray:
        return (_loads(problem, self.result, self.on_value)
                - _loads(problem, self.free, self.on_value))

    def reasons(self, problem: RoutingProblem) -> dict[int, Reason]:
        """Item → reason, for the items the band moved away from their free-solve rep."""
        if self.band is None:
            return {}
        loads = _loads(problem, self.result, self.on_value)
        rep_ids = problem.rep_ids
        starts = problem.lead_pair_bounds()
        out: dict[int, Reason] = {}
        moved = np.flatnonzero((self.result.rep_index >= 0)
                               & (self.result.rep_index != self.free.rep_index))
        for item in moved.tolist():
            rep, preferred = int(self.result.rep_index[item]), int(self.free.rep_index[item])
            lo, hi = int(starts[item]), int(starts[item + 1])
            reps = problem.pair_rep[lo:hi]
            mine = float(problem.pair_score[lo + int(np.searchsorted(reps, rep))])
            common = Reason(ReasonCode.FAIR_EVEN_OUT, rep=str(rep_ids[rep]), score=mine,
                            other_rep=str(rep_ids[preferred]) if preferred >= 0 else None,
                            on_value=self.on_value)
            if preferred >= 0 and loads[preferred] + 1e-9 >= self.band.upper[preferred]:
                theirs = problem.pair_score[lo + int(np.searchsorted(reps, preferred))]
                out[item] = replace(common, code=ReasonCode.FAIR_AT_LIMIT, other=float(theirs),
                                    value=float(loads[preferred]),
                                    limit=float(self.band.upper[preferred]))
            elif loads[rep] <= self.band.lower[rep] + 1e-9:
                out[item] = replace(common, code=ReasonCode.FAIR_BELOW_FLOOR,
                                    value=float(loads[rep]), limit=float(self.band.lower[rep]))
            else:
                out[item] = common
        return out


def solve_fair(
    problem: RoutingProblem, fairness: Fairness, weight: FloatArray, prior: FloatArray,
    options: SolveOptions,
    split: SplitPenalty | None = None,
) -> FairSolve:
    """``prior``: what each rep already holds in the band's measure (effort, or expected
    value with ``share_of = "value"``)."""
    on_value = fairness.share_of == "value"
    half = replace(options, time_limit_s=options.time_limit_s / 2)
    if fairness.mode == "band":
        reference = replace(half, gap_limit=max(options.gap_limit, _REFERENCE_GAP_LIMIT))
        free = solve(problem, options=reference, split=split)
        total = float(prior.sum() + _loads(problem, free, on_value).sum())
        fixed = _band_for(fairness.band, weight, prior, total, on_value)
        # the banded solve gets what the reference left of the time limit
        rest = replace(options, time_limit_s=max(options.time_limit_s - free.wall_time_s,
                                                 half.time_limit_s))
        return FairSolve(solve(problem, options=rest, band=fixed, split=split, warm=free),
                         free, fixed, on_value)
    free = solve(problem, options=half, split=split)
    total = float(prior.sum() + _loads(problem, free, on_value).sum())
    each = replace(options, time_limit_s=options.time_limit_s / 2 / len(_PENALTY_BANDS))
    best, best_value = FairSolve(free, free, None, on_value), -np.inf
    for width in _PENALTY_BANDS:
        band = None if np.isinf(width) else _band_for(width, weight, prior, total, on_value)
        result = free if band is None else solve(problem, options=each, band=band, split=split,
                                                 warm=free)
        loads = prior + _loads(problem, result, on_value)
        deviation = share_deviation(loads, weight)
        value = result.objective - fairness.penalty * deviation * total
        if value > best_value + 1e-12:
            best, best_value = FairSolve(result, free, band, on_value), value
    return best
