"""CP-SAT engine for the generalized assignment case (effort varies per lead or pair).

One boolean per candidate pair; each lead at most once; each rep's scaled efforts within
its scaled capacity. Coverage first is a weighted objective: one more routed lead is
worth more than any possible difference in total score (``coverage_weight``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from solver._band import LoadBand, band_penalty_weight
from solver._cpsat_types import CpSatSettings, SplitPenalty
from solver._lp import round_relaxation, solve_lp_relaxation
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._result import pair_index_of
from solver._scaling import EFFORT_SCALE, INT_LIMIT, ScaledScores, scale_efforts, scale_scores
from solver.errors import SolverError

# Most out-of-band load units (sum over reps of under- plus over-band units, one boolean
# each) the exact integer band model builds; beyond it the effort-scaled model is used.
_MAX_BAND_PIECES = 50_000


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


def _tune(solver: cp_model.CpSolver, settings: CpSatSettings) -> None:
    """One place for the engine's parameters.

    ``linearization_level = 2`` puts the full LP relaxation in the search: assignment
    LPs are nearly integral, and with one worker it proves OR-Library gapa instances
    optimal at once instead of stalling at the 20 s limit (measured).
    """
    solver.parameters.max_time_in_seconds = settings.time_limit_s
    solver.parameters.random_seed = settings.seed
    solver.parameters.num_workers = settings.workers
    solver.parameters.linearization_level = 2
    # Several workers race unless interleaved; interleaving keeps the output reproducible.
    solver.parameters.interleave_search = settings.workers > 1
    # Presolve finds little in these models (the at-most-ones are stated, hopeless pairs
    # are dropped before) and costs 20-40 ms each: without it the policy benchmark's
    # banded micro-batch runs about 20% faster, and OR-Library gapa-gapc at 20 s reach the
    # same optima or better (measured).
    solver.parameters.cp_model_presolve = False


def _split_terms(
    model: cp_model.CpModel, x: list[cp_model.IntVar] | dict[int, cp_model.IntVar],
    problem: RoutingProblem, split: SplitPenalty,
) -> list[cp_model.IntVar]:
    """One ``extra`` per group: reps its leads use, minus one (0 when none is routed)."""
    grouped = split.grouped()
    chosen = np.flatnonzero(grouped[problem.pair_lead])
    extras: list[cp_model.IntVar] = []
    if len(chosen) == 0:
        return extras
    keys = split.group[problem.pair_lead[chosen]]
    for group, pairs in _groups(keys, chosen):
        uses: list[cp_model.IntVar] = []
        for rep, at_rep in _groups(problem.pair_rep[pairs], pairs):
            used = model.new_bool_var(f"g{group}r{rep}")
            for p in at_rep.tolist():
                model.add_implication(x[p], used)
            uses.append(used)
        extra = model.new_int_var(0, max(len(uses) - 1, 0), f"extra{group}")
        model.add(extra >= cp_model.LinearExpr.sum(uses) - 1)
        extras.append(extra)
    return extras


def _split_reach(split: SplitPenalty | None, scale: float) -> tuple[int, int]:
    """(scaled penalty per extra rep, largest possible total of extra reps)."""
    if split is None:
        return 0, 0
    grouped = split.grouped()
    _, counts = np.unique(split.group[grouped], return_counts=True)
    return int(np.rint(split.penalty * scale)), int((counts - 1).sum())


def _pairs_of(problem: RoutingProblem, rep_index: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    pairs = pair_index_of(problem, rep_index)
    return pairs[pairs >= 0]


def solve_cpsat(
    problem: RoutingProblem,
    settings: CpSatSettings,
    hint: npt.NDArray[np.int64] | None = None,
    *,
    polish: bool = True,
    band: LoadBand | None = None,
    split: SplitPenalty | None = None,
    max_coverage: npt.NDArray[np.int64] | None = None,
) -> CpSatSolution:
    """``polish``: also try the LP's integral part plus an exact solve of its fractional
    residue as incumbent (the residue is solved with ``polish=False``).
    ``band``: soft per-rep load band, minimised after coverage and before score.
    ``split``: soft account groups, a penalty per extra rep, weighed against the score.
    ``max_coverage``: with ``band``, an assignment proven to route the most leads; the
    banded solve then skips its own unbanded first pass."""
    if split is not None and not split.grouped().any():
        split = None
    if band is not None:
        first = None if max_coverage is None else _known_optimum(problem, max_coverage)
        return _solve_banded(problem, settings, hint, band, split, first)
    if split is not None:
        return _solve_split(problem, settings, hint, split)
    n, k = problem.n_leads, problem.n_pairs
    # weight ~ 2·n·peak, objective ~ weight·n: keep weight·n·(1 + n) inside int64.
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    weight = _coverage_weight(problem, scaled)
    counts = problem.coverage_weights()
    if weight * (int(counts.sum()) + 1) >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")
    effort, capacity = scale_efforts(problem.pair_effort, problem.capacity)
    objective = scaled.values + weight * counts[problem.pair_lead]

    # Incumbent: the better of the caller's hint and the rounded LP relaxation.
    candidates = [] if hint is None else [hint]
    relaxation = solve_lp_relaxation(problem, objective.astype(float), effort, capacity)
    if relaxation is not None:
        candidates.append(round_relaxation(problem, relaxation.x, effort, capacity))
        if polish:
            candidates.append(_integral_part_plus_residue(problem, relaxation.x, settings))
    incumbent = np.full(n, -1, dtype=np.int64)
    best_value = 0
    for candidate in candidates:
        value = int(objective[_pairs_of(problem, candidate)].sum())
        if value > best_value:
            incumbent, best_value = candidate, value

    keep = np.ones(k, dtype=bool)
    if relaxation is not None:
        slack = relaxation.bound - best_value
        if slack < 1 - 1e-9 * max(abs(relaxation.bound), 1.0):
            # LP bound meets the incumbent within one integer unit: it is optimal.
            return _solution(problem, incumbent, True, scaled, weight, float(best_value))
        # Reduced-cost fixing (tolerance keeps it safe against float round-off).
        keep = relaxation.reduced <= slack + 1e-7 * max(abs(relaxation.bound), 1.0)
        keep[_pairs_of(problem, incumbent)] = True

    kept = np.flatnonzero(keep)
    model, x = _assignment_model(problem, kept)
    _add_capacities(model, x, problem, kept)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, objective[kept].tolist()))
    _add_hint(model, x, problem, incumbent, kept)

    solver = cp_model.CpSolver()
    _tune(solver, settings)
    status = solver.solve(model)

    upper = relaxation.bound if relaxation is not None else float("inf")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if best_value > 0:  # the incumbent still stands; CP-SAT only failed to improve it
            return _solution(problem, incumbent, False, scaled, weight, upper)
        return CpSatSolution(np.full(n, -1, dtype=np.int64), False, False, scaled, 0, float("inf"))
    rep_index = _read(problem, solver, x, kept)
    # Dropped pairs only appear in assignments worse than the incumbent, so the reduced
    # model's bound (never below the incumbent) bounds the full problem too.
    bound = min(max(float(solver.best_objective_bound), float(best_value)), upper)
    return _solution(problem, rep_index, status == cp_model.OPTIMAL, scaled, weight, bound)


def _solve_split(
    problem: RoutingProblem,
    settings: CpSatSettings,
    hint: npt.NDArray[np.int64] | None,
    split: SplitPenalty,
) -> CpSatSolution:
    """Coverage first, then score minus the split penalty, as one weighted objective."""
    n = problem.n_leads
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    penalty, reach = _split_reach(split, scaled.scale)
    weight = _coverage_weight(problem, scaled) + penalty * reach
    counts = problem.coverage_weights()
    if weight * (int(counts.sum()) + 1) >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")
    model, x = _assignment_model(problem)
    _add_capacities(model, x, problem)
    extras = _split_terms(model, x, problem, split)
    model.maximize(
        cp_model.LinearExpr.weighted_sum(x, (scaled.values + weight * counts[problem.pair_lead])
                                         .tolist())
        - penalty * cp_model.LinearExpr.sum(extras)
    )
    _add_hint(model, x, problem, hint)
    solver = cp_model.CpSolver()
    _tune(solver, settings)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpSatSolution(np.full(n, -1, dtype=np.int64), False, False, scaled, 0, float("inf"))
    rep_index = _read(problem, solver, x)
    score = int(np.sum(scaled.values[_pairs_of(problem, rep_index)]))
    proven = status == cp_model.OPTIMAL
    return CpSatSolution(rep_index=rep_index, found=True, proven_optimal=proven, scaled=scaled,
                         objective_scaled=score,
                         score_bound_scaled=float(score) if proven else float("inf"))


def _assignment_model(problem: RoutingProblem, pairs: npt.NDArray[np.int64] | None = None
                      ) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """One boolean per pair (of ``pairs``, default all, in that order), each lead at most
    once. Variables stay unnamed: naming costs more than building on micro-batches."""
    if pairs is None:
        pairs = np.arange(problem.n_pairs, dtype=np.int64)
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(len(pairs))]
    for _lead, group in _groups(problem.pair_lead[pairs], np.arange(len(pairs))):
        if len(group) > 1:
            model.add_at_most_one(x[i] for i in group.tolist())
    return model, x


def _add_capacities(model: cp_model.CpModel, x: list[cp_model.IntVar],
                    problem: RoutingProblem, pairs: npt.NDArray[np.int64] | None = None) -> None:
    """Each rep's scaled efforts within its scaled capacity, ``x`` standing for ``pairs``
    (default all); rows that cannot bind are left out."""
    effort, capacity = scale_efforts(problem.pair_effort, problem.capacity)
    if pairs is None:
        pairs = np.arange(problem.n_pairs, dtype=np.int64)
    for rep, group in _groups(problem.pair_rep[pairs], np.arange(len(pairs))):
        used = effort[pairs[group]]
        if int(used.sum()) > int(capacity[rep]):
            model.add(cp_model.LinearExpr.weighted_sum([x[i] for i in group.tolist()],
                                                       used.tolist())
                      <= int(capacity[rep]))


def _add_hint(model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
              hint: npt.NDArray[np.int64] | None,
              pairs: npt.NDArray[np.int64] | None = None) -> None:
    """Hint ``hint``'s pairs on, every other pair off (written straight into the proto:
    one call per variable costs as much as building the model)."""
    if hint is None:
        return
    chosen = np.zeros(problem.n_pairs, dtype=np.int64)
    chosen[_pairs_of(problem, hint)] = 1
    values = chosen if pairs is None else chosen[pairs]
    proto = model.proto.solution_hint
    proto.vars.extend([var.index for var in x])
    proto.values.extend(values.tolist())


def _read(problem: RoutingProblem, solver: cp_model.CpSolver, x: list[cp_model.IntVar],
          pairs: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.int64]:
    """Lead → rep from the solved booleans of ``pairs`` (default all pairs)."""
    if pairs is None:
        pairs = np.arange(problem.n_pairs, dtype=np.int64)
    solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
    on = pairs[solution[[var.index for var in x]] > 0]
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    rep_index[problem.pair_lead[on]] = problem.pair_rep[on]
    return rep_index


def integral_efforts(problem: RoutingProblem) -> npt.NDArray[np.int64] | None:
    """Pair efforts as integers when they all are whole numbers, else None."""
    rounded = np.rint(problem.pair_effort)
    if np.any(np.abs(problem.pair_effort - rounded) > EFFORT_TOLERANCE):
        return None
    return rounded.astype(np.int64)


def band_units(
    band: LoadBand, capacity: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The band in whole effort units, as the min-cost flow rounds it: a load below
    ``ceil(lower)`` or above ``floor(upper)`` is out of band (upper never below lower)."""
    lower = np.minimum(np.ceil(band.lower - EFFORT_TOLERANCE), capacity)
    upper = np.clip(np.floor(band.upper + EFFORT_TOLERANCE), lower, capacity)
    return lower.astype(np.int64), upper.astype(np.int64)


def _convex_band_table(lower: int, upper: int, capacity: int) -> list[int]:
    """Penalty per whole load 0..capacity: the k-th unit out of band costs k (as in the
    min-cost flow's convex arcs), so a shortfall is spread over reps, not dumped on one."""
    table = []
    for load in range(capacity + 1):
        under, over = max(lower - load, 0), max(load - upper, 0)
        table.append(under * (under + 1) // 2 + over * (over + 1) // 2)
    return table


# A band on expected value counts each pair's score in units of 1/_VALUE_UNITS of the
# largest one: 1% resolution, whatever the currency, and no overflow for revenue. Finer
# units made the search slower (500 × 100 with account groups: 1000 units left twice the
# shortfall of 20 units at the same time limit).
_VALUE_UNITS = 100


def _band_measure(problem: RoutingProblem, band: LoadBand, effort: npt.NDArray[np.int64]
                  ) -> tuple[npt.NDArray[np.int64], float]:
    """What each pair adds to its rep's banded load, in integers, and the factor from the
    band's units to those integers: scaled effort, or (``on_score``) the pair's score,
    negative scores counting as zero (an expected value is not negative)."""
    if not band.on_score:
        return effort, float(EFFORT_SCALE)
    peak = float(np.max(problem.pair_score, initial=0.0))
    scale = _VALUE_UNITS / peak if peak > 0 else 1.0
    return np.maximum(np.rint(problem.pair_score * scale), 0).astype(np.int64), scale


def _band_units_of(model: cp_model.CpModel, table: list[int], lower: int, upper: int,
                   load: cp_model.LinearExprT) -> tuple[list[cp_model.IntVar], list[int]]:
    """One rep's convex band penalty, unit by unit: a boolean per load unit below the band
    and per unit above it, priced at the penalty's step there (``table[t] - table[t-1]``),
    and one free integer for the units inside the band. Steps rise with the load
    (convexity), so the cheapest units fill first and the priced sum equals the penalty
    without ordering constraints. Measured 40% faster to prove than the same penalty as
    the maximum of its linear pieces (same LP bound, better propagation)."""
    capacity = len(table) - 1
    under = [model.new_bool_var("") for _ in range(lower)]
    over = [model.new_bool_var("") for _ in range(capacity - upper)]
    inside = model.new_int_var(0, upper - lower, "")
    model.add(load == cp_model.LinearExpr.sum(under) + inside + cp_model.LinearExpr.sum(over))
    steps = [table[t] - table[t - 1] for t in range(1, lower + 1)]
    steps += [table[t] - table[t - 1] for t in range(upper + 1, capacity + 1)]
    return under + over, steps


def _solve_banded(
    problem: RoutingProblem,
    settings: CpSatSettings,
    hint: npt.NDArray[np.int64] | None,
    band: LoadBand,
    split: SplitPenalty | None = None,
    first: CpSatSolution | None = None,
) -> CpSatSolution:
    """Coverage first (an unbanded solve, or ``first`` when given, fixes the number of
    routed leads), then the band shortfall, then the score, as one weighted objective
    over the second solve.

    Whole-number efforts (unit leads, account groups of unit leads) get the exact convex
    band of the min-cost flow on integer loads; other efforts, and bands on expected
    value, a scaled model (total shortfall plus, times the rep count, the worst rep's of
    this model)."""
    second = settings
    if first is None:
        half = replace(settings, time_limit_s=settings.time_limit_s / 2)
        first = solve_cpsat(problem, half, hint)
        second = replace(settings, time_limit_s=max(settings.time_limit_s / 2, 0.01))
    if not first.found:
        return first
    units = None if band.on_score else integral_efforts(problem)
    if units is not None:
        reachable = np.bincount(problem.pair_rep, weights=units, minlength=problem.n_reps)
        capacity = np.minimum(np.floor(problem.capacity + EFFORT_TOLERANCE), reachable)
        lower, upper = band_units(band, capacity.astype(np.int64))
        if int(lower.sum() + (capacity - upper).sum()) <= _MAX_BAND_PIECES:
            return _solve_banded_integral(problem, second, first, units,
                                          capacity.astype(np.int64), lower, upper, split)
    n, k = problem.n_leads, problem.n_pairs
    counts = problem.coverage_weights()
    covered = int(counts[first.rep_index >= 0].sum())
    effort, capacity = scale_efforts(problem.pair_effort, problem.capacity)
    measure, band_scale = _band_measure(problem, band, effort)
    # most a rep's banded load can reach
    band_cap = capacity if not band.on_score else np.bincount(
        problem.pair_rep, weights=measure, minlength=problem.n_reps).astype(np.int64)
    # penalty ≈ shortfall_weight (≈ 2·n·peak) × (2·Σ band_cap + reps × max band_cap)
    lower = np.ceil(band.lower * band_scale - 1e-6).astype(np.int64)
    reach = 2 * int(band_cap.sum() + lower.sum()) + (problem.n_reps + 1) * int(
        max(band_cap.max(initial=0), lower.max(initial=0)) + 1)
    scaled = scale_scores(
        problem.pair_score, multiplier=4 * (n + 1) * (n + 1) + 2 * (n + 1) * reach
    )
    split_penalty, split_reach = _split_reach(split, scaled.scale)
    shortfall_weight = (band_penalty_weight(problem.pair_lead, scaled.values, n)
                        + split_penalty * split_reach)
    if shortfall_weight * reach >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")
    upper = np.floor(band.upper * band_scale + 1e-6).astype(np.int64)

    model, x = _assignment_model(problem)
    _add_capacities(model, x, problem)
    penalties: list[cp_model.IntVar] = []
    worst_terms: list[cp_model.IntVar] = []
    for rep, group in _groups(problem.pair_rep, np.arange(k, dtype=np.int64)):
        load = cp_model.LinearExpr.weighted_sum([x[p] for p in group], measure[group].tolist())
        under = model.new_int_var(0, max(int(lower[rep]), 0), "")
        over = model.new_int_var(0, max(int(band_cap[rep]), 0), "")
        model.add(load + under >= int(lower[rep]))
        model.add(load - over <= int(upper[rep]))
        penalties += [under, over]
        off = model.new_int_var(0, max(int(band_cap[rep]), int(lower[rep]), 0), "")
        model.add(off == under + over)
        worst_terms.append(off)
    model.add(cp_model.LinearExpr.weighted_sum(x, counts[problem.pair_lead].tolist()) >= covered)
    # Total shortfall plus the worst rep's (weighted by the rep count): the shortfall is
    # spread over reps instead of landing on one.
    worst = model.new_int_var(0, int(max(band_cap.max(), lower.max(), 0)), "worst")
    model.add_max_equality(worst, worst_terms)
    extras = [] if split is None else _split_terms(model, x, problem, split)
    model.maximize(
        cp_model.LinearExpr.weighted_sum(x, scaled.values.tolist())
        - split_penalty * cp_model.LinearExpr.sum(extras)
        - shortfall_weight * (cp_model.LinearExpr.sum(penalties) + len(worst_terms) * worst)
    )
    return _solve_second_pass(model, x, problem, second, first, scaled)


def _solve_banded_integral(
    problem: RoutingProblem,
    settings: CpSatSettings,
    first: CpSatSolution,
    effort: npt.NDArray[np.int64],
    capacity: npt.NDArray[np.int64],
    lower: npt.NDArray[np.int64],
    upper: npt.NDArray[np.int64],
    split: SplitPenalty | None,
) -> CpSatSolution:
    """Whole-number loads: each rep's convex band penalty priced unit by unit
    (``_band_units_of``), coverage fixed by the first solve, then
    ``score − weight × penalty`` with the weight above any score difference."""
    n, m = problem.n_leads, problem.n_reps
    counts = problem.coverage_weights()
    covered = int(counts[first.rep_index >= 0].sum())
    tables = [_convex_band_table(int(lower[r]), int(upper[r]), int(capacity[r]))
              for r in range(m)]
    worst = sum(max(table) for table in tables)
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (worst + 2))
    split_penalty, split_reach = _split_reach(split, scaled.scale)
    weight = band_penalty_weight(problem.pair_lead, scaled.values, n) + split_penalty * split_reach
    if weight * (worst + 1) >= INT_LIMIT:
        raise SolverError("objective too large for CP-SAT's 64-bit integers")

    model, x = _assignment_model(problem)
    units: list[cp_model.IntVar] = []
    steps: list[int] = []
    for rep, group in _groups(problem.pair_rep, np.arange(problem.n_pairs, dtype=np.int64)):
        load = cp_model.LinearExpr.weighted_sum([x[p] for p in group], effort[group].tolist())
        rep_units, rep_steps = _band_units_of(model, tables[rep], int(lower[rep]),
                                              int(upper[rep]), load)
        units += rep_units
        steps += rep_steps
    model.add(cp_model.LinearExpr.weighted_sum(x, counts[problem.pair_lead].tolist()) >= covered)
    extras = [] if split is None else _split_terms(model, x, problem, split)
    model.maximize(
        cp_model.LinearExpr.weighted_sum(x, scaled.values.tolist())
        - split_penalty * cp_model.LinearExpr.sum(extras)
        - weight * cp_model.LinearExpr.weighted_sum(units, steps)
    )
    return _solve_second_pass(model, x, problem, settings, first, scaled)


def _solve_second_pass(
    model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
    settings: CpSatSettings, first: CpSatSolution, scaled: ScaledScores,
) -> CpSatSolution:
    """Solve a banded model from the maximal-coverage ``first``; keep ``first`` (unproven)
    when nothing is found in time. Proven only if both passes are."""
    _add_hint(model, x, problem, first.rep_index)
    solver = cp_model.CpSolver()
    _tune(solver, settings)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return replace(first, proven_optimal=False, score_bound_scaled=float("inf"))
    rep_index = _read(problem, solver, x)
    score = int(np.sum(scaled.values[_pairs_of(problem, rep_index)]))
    proven = status == cp_model.OPTIMAL and first.proven_optimal
    return CpSatSolution(
        rep_index=rep_index, found=True, proven_optimal=proven, scaled=scaled,
        objective_scaled=score, score_bound_scaled=float(score) if proven else float("inf"),
    )


def _known_optimum(problem: RoutingProblem, rep_index: npt.NDArray[np.int64]) -> CpSatSolution:
    """A caller's proven maximal-coverage assignment, in the unbanded model's units."""
    n = problem.n_leads
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    score = int(scaled.values[_pairs_of(problem, rep_index)].sum())
    return CpSatSolution(rep_index=rep_index, found=True, proven_optimal=True, scaled=scaled,
                         objective_scaled=score, score_bound_scaled=float(score))


def _integral_part_plus_residue(
    problem: RoutingProblem, x: npt.NDArray[np.float64], settings: CpSatSettings
) -> npt.NDArray[np.int64]:
    """Keep the leads the LP already assigns integrally; solve the rest exactly.

    GAP relaxations are nearly integral, so the residue is a few dozen leads: a small
    CP-SAT model that closes most of the rounding gap and lets reduced-cost fixing bite.
    """
    integral = x > 1 - 1e-6
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    rep_index[problem.pair_lead[integral]] = problem.pair_rep[integral]
    loads = np.bincount(
        problem.pair_rep[integral], weights=problem.pair_effort[integral],
        minlength=problem.n_reps,
    )
    rest = np.flatnonzero(rep_index < 0)
    if len(rest) == 0 or len(rest) == problem.n_leads:
        return rep_index
    sub, _ = problem.subproblem(rest, np.arange(problem.n_reps))
    if sub.n_pairs == 0:  # the LP left only leads without candidates (an empty LP)
        return rep_index
    sub = replace(sub, capacity=np.maximum(problem.capacity - loads, 0.0))
    quick = replace(settings, time_limit_s=max(settings.time_limit_s / 10, 0.01))
    residue = solve_cpsat(sub, quick, polish=False)
    rep_index[rest] = residue.rep_index
    return rep_index


def _groups(
    keys: npt.NDArray[np.int64], pairs: npt.NDArray[np.int64]
) -> Iterator[tuple[int, npt.NDArray[np.int64]]]:
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    for chunk in np.split(order, cuts):
        if len(chunk):
            yield int(keys[chunk[0]]), pairs[chunk]


def _solution(
    problem: RoutingProblem,
    rep_index: npt.NDArray[np.int64],
    proven: bool,
    scaled: ScaledScores,
    weight: int,
    bound: float,
) -> CpSatSolution:
    chosen = _pairs_of(problem, rep_index)
    covered = int(problem.coverage_weights()[problem.pair_lead[chosen]].sum())
    # Any assignment routing one more lead scores above weight·(covered+1) − (weight−1)/2,
    # so a bound below that proves the coverage maximal and bounds the score part.
    coverage_proven = bound < weight * (covered + 1) - (weight - 1) // 2
    score_bound = bound - weight * covered if coverage_proven else float("inf")
    return CpSatSolution(
        rep_index=rep_index,
        found=True,
        proven_optimal=proven,
        scaled=scaled,
        objective_scaled=int(np.sum(scaled.values[chosen])),
        score_bound_scaled=score_bound,
    )
