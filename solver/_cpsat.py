"""CP-SAT engine for the generalized assignment case (effort varies per lead or pair).

One boolean per candidate pair; each lead at most once; each rep's scaled efforts within
its scaled capacity. Coverage first is a weighted objective: one more routed lead is
worth more than any possible difference in total score (``coverage_weight``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from solver._errors import SolverError
from solver._problem import RoutingProblem
from solver._scaling import INT_LIMIT, ScaledScores, scale_efforts, scale_scores


@dataclass(frozen=True, kw_only=True)
class CpSatSettings:
    time_limit_s: float
    seed: int
    workers: int


@dataclass(frozen=True)
class CpSatSolution:
    rep_index: npt.NDArray[np.int64]  # all -1 when no solution was found
    found: bool
    proven_optimal: bool
    scaled: ScaledScores
    objective_scaled: int  # score part only
    score_bound_scaled: float  # upper bound on the score part at maximal coverage


def _coverage_weight(problem: RoutingProblem, scaled: ScaledScores) -> int:
    """Larger than the spread of total score between any two assignments."""
    per_lead = np.zeros(problem.n_leads, dtype=np.int64)
    np.maximum.at(per_lead, problem.pair_lead, np.abs(scaled.values))
    return 2 * int(per_lead.sum()) + 1


def solve_cpsat(
    problem: RoutingProblem,
    settings: CpSatSettings,
    hint: npt.NDArray[np.int64] | None = None,
) -> CpSatSolution:
    n, k = problem.n_leads, problem.n_pairs
    # weight ~ 2·n·peak, objective ~ weight·n: keep weight·n·(1 + n) inside int64.
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    weight = _coverage_weight(problem, scaled)
    if weight * (n + 1) >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")
    effort, capacity = scale_efforts(problem.pair_effort, problem.capacity)

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{p}") for p in range(k)]
    starts = problem.lead_pair_bounds()
    for lead in range(n):
        lo, hi = int(starts[lead]), int(starts[lead + 1])
        if hi - lo > 1:
            model.add_at_most_one(x[lo:hi])
    by_rep = np.argsort(problem.pair_rep, kind="stable")
    rep_starts = np.searchsorted(problem.pair_rep[by_rep], np.arange(problem.n_reps + 1))
    for rep in range(problem.n_reps):
        pairs = by_rep[rep_starts[rep] : rep_starts[rep + 1]]
        if len(pairs) and int(effort[pairs].sum()) > int(capacity[rep]):
            model.add(
                cp_model.LinearExpr.weighted_sum([x[p] for p in pairs], effort[pairs].tolist())
                <= int(capacity[rep])
            )
    coefficients = (scaled.values + weight).tolist()
    model.maximize(cp_model.LinearExpr.weighted_sum(x, coefficients))
    if hint is not None:
        chosen = np.zeros(k, dtype=bool)
        hinted = np.flatnonzero(hint >= 0)
        for lead in hinted:
            lo, hi = starts[lead], starts[lead + 1]
            chosen[lo + np.searchsorted(problem.pair_rep[lo:hi], hint[lead])] = True
        for p in range(k):
            model.add_hint(x[p], bool(chosen[p]))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = settings.time_limit_s
    solver.parameters.random_seed = settings.seed
    solver.parameters.num_workers = settings.workers
    # Interleaved workers make the search reproducible for a given seed.
    solver.parameters.interleave_search = True
    status = solver.solve(model)

    rep_index = np.full(n, -1, dtype=np.int64)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpSatSolution(rep_index, False, False, scaled, 0, float("inf"))
    values = np.fromiter((solver.boolean_value(v) for v in x), dtype=bool, count=k)
    chosen_pairs = np.flatnonzero(values)
    rep_index[problem.pair_lead[chosen_pairs]] = problem.pair_rep[chosen_pairs]
    covered = len(chosen_pairs)
    score_part = int(np.sum(scaled.values[chosen_pairs]))
    bound = float(solver.best_objective_bound)
    # Any assignment routing one more lead scores above weight·(covered+1) − (weight−1)/2,
    # so a bound below that proves the coverage maximal and bounds the score part.
    coverage_proven = bound < weight * (covered + 1) - (weight - 1) // 2
    score_bound = bound - weight * covered if coverage_proven else float("inf")
    return CpSatSolution(
        rep_index=rep_index,
        found=True,
        proven_optimal=status == cp_model.OPTIMAL,
        scaled=scaled,
        objective_scaled=score_part,
        score_bound_scaled=score_bound,
    )
