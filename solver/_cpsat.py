"""CP-SAT engine for the generalized assignment case (effort varies per lead or pair).

One boolean per candidate pair; each lead at most once; each rep's scaled efforts within
its scaled capacity. Coverage first is a weighted objective: one more routed lead is
worth more than any possible difference in total score (``priority_weight``).

The models differ only in their terms (``solver._cpsat_objective``): plain (fit +
coverage, after an LP incumbent and reduced-cost fixing), soft account groups (+ split),
and the banded second pass (coverage fixed; fit + split + band, the band on integer loads
or scaled). Each chooses its score scale and weights here; building, the overflow check,
solving and reading are ``solve_terms``'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from solver._band import LoadBand
from solver._cpsat_objective import (
    BandRows,
    Term,
    add_soft_band,
    add_soft_band_units,
    add_soft_band_worst,
    add_soft_split,
    coverage_term,
    fit_term,
    groups_of,
    pairs_of,
    solve_terms,
)
from solver._cpsat_types import CpSatSettings, SplitPenalty
from solver._lp import round_relaxation, solve_lp_relaxation
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._scaling import (
    EFFORT_SCALE,
    ScaledScores,
    check_objective_range,
    priority_weight,
    scale_efforts,
    scale_scores,
)
from solver._terms import TermName

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
    # each objective term's weighted value in the model's integer units (they sum to the
    # model's objective value; ``solver._terms`` says what each means)
    terms: Mapping[TermName, int] = field(default_factory=dict)


def _split_reach(split: SplitPenalty | None, scale: float) -> tuple[int, int]:
    """(scaled penalty per extra rep, largest possible total of extra reps)."""
    if split is None:
        return 0, 0
    grouped = split.grouped()
    _, counts = np.unique(split.group[grouped], return_counts=True)
    return int(np.rint(split.penalty * scale)), int((counts - 1).sum())


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
    return _solve_plain(problem, settings, hint, polish)


def _incumbent(problem: RoutingProblem, objective: npt.NDArray[np.int64],
               candidates: list[npt.NDArray[np.int64]]) -> tuple[npt.NDArray[np.int64], int]:
    """The candidate assignment of highest ``objective`` (per pair), with its value."""
    incumbent = np.full(problem.n_leads, -1, dtype=np.int64)
    best_value = 0
    for candidate in candidates:
        value = int(objective[pairs_of(problem, candidate)].sum())
        if value > best_value:
            incumbent, best_value = candidate, value
    return incumbent, best_value


def _solve_plain(problem: RoutingProblem, settings: CpSatSettings,
                 hint: npt.NDArray[np.int64] | None, polish: bool) -> CpSatSolution:
    """Coverage, then score: the LP relaxation gives a bound, an incumbent (the better
    of ``hint`` and the rounded LP) and reduced-cost fixing; CP-SAT solves what is left."""
    n, k = problem.n_leads, problem.n_pairs
    # weight ~ 2·n·peak, objective ~ weight·n: keep weight·n·(1 + n) inside int64.
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    weight = priority_weight(problem.pair_lead, scaled.values, problem.n_leads)
    counts = problem.coverage_weights()
    # checked before the LP too: its incumbents are valued in these integers
    check_objective_range([(1, (weight - 1) // 2), (weight, int(counts.sum()))])
    objective = scaled.values + weight * counts[problem.pair_lead]

    candidates = [] if hint is None else [hint]
    effort, capacity = scale_efforts(problem.pair_effort, problem.capacity)
    relaxation = solve_lp_relaxation(problem, objective.astype(float), effort, capacity)
    if relaxation is not None:
        candidates.append(round_relaxation(problem, relaxation.x, effort, capacity))
        if polish:
            candidates.append(_integral_part_plus_residue(problem, relaxation.x, settings))
    incumbent, best_value = _incumbent(problem, objective, candidates)

    keep = np.ones(k, dtype=bool)
    if relaxation is not None:
        slack = relaxation.bound - best_value
        if slack < 1 - 1e-9 * max(abs(relaxation.bound), 1.0):
            # LP bound meets the incumbent within one integer unit: it is optimal.
            return _solution(problem, incumbent, True, scaled, weight, float(best_value))
        # Reduced-cost fixing (tolerance keeps it safe against float round-off).
        keep = relaxation.reduced <= slack + 1e-7 * max(abs(relaxation.bound), 1.0)
        keep[pairs_of(problem, incumbent)] = True

    kept = np.flatnonzero(keep)
    model, x = _assignment_model(problem, kept)
    _add_capacities(model, x, problem, kept)
    terms = [fit_term(problem, x, kept, scaled.values[kept]),
             coverage_term(problem, x, kept, weight)]
    solved = solve_terms(model, x, problem, terms, settings, incumbent, kept)

    upper = relaxation.bound if relaxation is not None else float("inf")
    if not solved.found:
        if best_value > 0:  # the incumbent still stands; CP-SAT only failed to improve it
            return _solution(problem, incumbent, False, scaled, weight, upper)
        return CpSatSolution(np.full(n, -1, dtype=np.int64), False, False, scaled, 0, float("inf"))
    # Dropped pairs only appear in assignments worse than the incumbent, so the reduced
    # model's bound (never below the incumbent) bounds the full problem too.
    bound = min(max(solved.bound, float(best_value)), upper)
    return _solution(problem, solved.rep_index, solved.optimal, scaled, weight, bound,
                     solved.terms)


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
    weight = priority_weight(problem.pair_lead, scaled.values, problem.n_leads) + penalty * reach
    model, x = _assignment_model(problem)
    _add_capacities(model, x, problem)
    every = np.arange(problem.n_pairs, dtype=np.int64)
    split_term = add_soft_split(model, x, problem, split, penalty)
    terms = [fit_term(problem, x, every, scaled.values), coverage_term(problem, x, every, weight),
             split_term]
    solved = solve_terms(model, x, problem, terms, settings, hint)
    if not solved.found:
        return CpSatSolution(np.full(n, -1, dtype=np.int64), False, False, scaled, 0, float("inf"))
    score = solved.terms[TermName.FIT]
    return CpSatSolution(rep_index=solved.rep_index, found=True,
                         proven_optimal=solved.optimal, scaled=scaled, objective_scaled=score,
                         score_bound_scaled=float(score) if solved.optimal else float("inf"),
                         terms=solved.terms)


def _assignment_model(problem: RoutingProblem, pairs: npt.NDArray[np.int64] | None = None
                      ) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """One boolean per pair (of ``pairs``, default all, in that order), each lead at most
    once. Variables stay unnamed: naming costs more than building on micro-batches."""
    if pairs is None:
        pairs = np.arange(problem.n_pairs, dtype=np.int64)
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(len(pairs))]
    for _lead, group in groups_of(problem.pair_lead[pairs], np.arange(len(pairs))):
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
    for rep, group in groups_of(problem.pair_rep[pairs], np.arange(len(pairs))):
        used = effort[pairs[group]]
        if int(used.sum()) > int(capacity[rep]):
            model.add(cp_model.LinearExpr.weighted_sum([x[i] for i in group.tolist()],
                                                       used.tolist())
                      <= int(capacity[rep]))


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
            rows = BandRows(units, lower, upper, capacity.astype(np.int64))
            return _solve_banded_integral(problem, second, first, rows, split)
    return _solve_banded_scaled(problem, second, first, band, split)


def _solve_banded_scaled(
    problem: RoutingProblem,
    settings: CpSatSettings,
    first: CpSatSolution,
    band: LoadBand,
    split: SplitPenalty | None,
) -> CpSatSolution:
    """The band on scaled efforts (or expected values), coverage fixed by ``first``."""
    n = problem.n_leads
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
    shortfall_weight = (priority_weight(problem.pair_lead, scaled.values, n)
                        + split_penalty * split_reach)
    upper = np.floor(band.upper * band_scale + 1e-6).astype(np.int64)

    model, x = _assignment_model(problem)
    _add_capacities(model, x, problem)
    rows = BandRows(measure, lower, upper, band_cap)
    total, offs = add_soft_band(model, x, problem, rows, shortfall_weight)
    _keep_coverage(model, x, problem, first)
    worst = add_soft_band_worst(model, offs, rows, shortfall_weight)
    return _solve_second_pass(model, x, problem, settings, first, scaled, [total, worst],
                              split, split_penalty)


def _keep_coverage(model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
                   first: CpSatSolution) -> None:
    """Route at least as many leads as the maximal-coverage ``first``."""
    counts = problem.coverage_weights()
    covered = int(counts[first.rep_index >= 0].sum())
    model.add(cp_model.LinearExpr.weighted_sum(x, counts[problem.pair_lead].tolist()) >= covered)


def _solve_banded_integral(
    problem: RoutingProblem,
    settings: CpSatSettings,
    first: CpSatSolution,
    rows: BandRows,
    split: SplitPenalty | None,
) -> CpSatSolution:
    """Whole-number loads (``rows``: unit efforts, integer band and capacity): each rep's
    convex band penalty priced unit by unit (``add_soft_band_units``), coverage fixed by
    the first solve, then ``score − weight × penalty`` with the weight above any score
    difference."""
    n, m = problem.n_leads, problem.n_reps
    tables = [_convex_band_table(int(rows.lower[r]), int(rows.upper[r]), int(rows.cap[r]))
              for r in range(m)]
    worst = sum(max(table) for table in tables)
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (worst + 2))
    split_penalty, split_reach = _split_reach(split, scaled.scale)
    weight = priority_weight(problem.pair_lead, scaled.values, n) + split_penalty * split_reach

    model, x = _assignment_model(problem)
    band = add_soft_band_units(model, x, problem, rows.measure, tables, rows, weight)
    _keep_coverage(model, x, problem, first)
    return _solve_second_pass(model, x, problem, settings, first, scaled, [band], split,
                              split_penalty)


def _solve_second_pass(
    model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
    settings: CpSatSettings, first: CpSatSolution, scaled: ScaledScores,
    band: list[Term], split: SplitPenalty | None, split_penalty: int,
) -> CpSatSolution:
    """Solve a banded model from the maximal-coverage ``first``; keep ``first`` (unproven)
    when nothing is found in time. Proven only if both passes are."""
    every = np.arange(problem.n_pairs, dtype=np.int64)
    terms = [fit_term(problem, x, every, scaled.values)]
    if split is not None:
        terms.append(add_soft_split(model, x, problem, split, split_penalty))
    solved = solve_terms(model, x, problem, [*terms, *band], settings, first.rep_index)
    if not solved.found:
        return replace(first, proven_optimal=False, score_bound_scaled=float("inf"))
    score = solved.terms[TermName.FIT]
    proven = solved.optimal and first.proven_optimal
    return CpSatSolution(
        rep_index=solved.rep_index, found=True, proven_optimal=proven, scaled=scaled,
        objective_scaled=score, score_bound_scaled=float(score) if proven else float("inf"),
        terms=solved.terms,
    )


def _known_optimum(problem: RoutingProblem, rep_index: npt.NDArray[np.int64]) -> CpSatSolution:
    """A caller's proven maximal-coverage assignment, in the unbanded model's units."""
    n = problem.n_leads
    scaled = scale_scores(problem.pair_score, multiplier=4 * (n + 1) * (n + 1))
    score = int(scaled.values[pairs_of(problem, rep_index)].sum())
    return CpSatSolution(rep_index=rep_index, found=True, proven_optimal=True, scaled=scaled,
                         objective_scaled=score, score_bound_scaled=float(score),
                         terms={TermName.FIT: score})


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


def _solution(
    problem: RoutingProblem,
    rep_index: npt.NDArray[np.int64],
    proven: bool,
    scaled: ScaledScores,
    weight: int,
    bound: float,
    terms: dict[TermName, int] | None = None,
) -> CpSatSolution:
    """The unbanded model's answer; ``terms`` as read from the model, or (for an
    incumbent no model solved) valued on the assignment."""
    chosen = pairs_of(problem, rep_index)
    covered = int(problem.coverage_weights()[problem.pair_lead[chosen]].sum())
    # Any assignment routing one more lead scores above weight·(covered+1) − (weight−1)/2,
    # so a bound below that proves the coverage maximal and bounds the score part.
    coverage_proven = bound < weight * (covered + 1) - (weight - 1) // 2
    score_bound = bound - weight * covered if coverage_proven else float("inf")
    score = int(np.sum(scaled.values[chosen]))
    return CpSatSolution(
        rep_index=rep_index,
        found=True,
        proven_optimal=proven,
        scaled=scaled,
        objective_scaled=score,
        score_bound_scaled=score_bound,
        terms=terms if terms is not None else {TermName.FIT: score,
                                               TermName.COVERAGE: weight * covered},
    )
