"""Generalized assignment parts (micro-batches with efforts or account groups): LP bound
first, then a good assignment fast, then CP-SAT on LP-guided neighbourhoods until the gap
to the bound is small enough (``gap_limit``) or proven zero.

1. LP prices (``_gap_lp``): the bound, and each pair's reduced cost.
2. Repair the LP's split rows and local search (``_gap_search``): within a few tenths of a
   percent of the bound in milliseconds.
3. Each row's few best pairs by reduced cost (plus the LP's and the incumbent's): such a
   neighbourhood holds near-optimal assignments (measured: 0.005–0.014% below the optimum
   at 400 × 40 and 1,000 × 100). With a gap limit: on small batches a short CP-SAT slice
   hinted with the incumbent (enough on easy ones), then HiGHS branch and bound started
   from the incumbent and stopped once it meets the gap limit (``_gap_mip``), and CP-SAT
   for the rest of the stage only when both find nothing; without one, CP-SAT alone.
4. Without a gap limit (the first neighbourhood then gets a short time box), when that
   neighbourhood does not settle it (tight instances such as OR-Library type D): a
   column-generation dive (``_gap_dive``: the master LP over each rep's feasible row sets
   guides fixing them one rep at a time, in several descents from one root; the root also
   proves the knapsack Lagrangian bound), then re-assign the rows of a few reps at a time
   exactly (``_gap_lns``) from the best incumbent.
5. Wider neighbourhoods, and last every pair whose reduced cost is within the gap (pairs
   beyond cannot be in a better assignment), where CP-SAT's proof is a proof.

Applies when every row can be routed within the reps' capacities (or band): coverage is
then maximal by construction and the band shortfall zero, so only the score is left to
optimise. Otherwise (or when no such assignment is found) the caller uses the exact
weighted CP-SAT model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from solver._band import LoadBand
from solver._cpsat import CpSatSettings, band_units
from solver._gap_bound import descend, knapsack_applies
from solver._gap_dive import dive, dive_applies
from solver._gap_lns import reassign_reps
from solver._gap_lp import (
    DenseGap,
    dense_gap,
    effort_units,
    lagrangian_bound,
    lp_prices,
    reduced_costs,
)
from solver._gap_mip import solve_restricted_mip
from solver._gap_search import balance, improve, repair, within_band
from solver._problem import RoutingProblem
from solver._scaling import ScaledScores, scale_scores

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Neighbourhoods: each row's best pairs by reduced cost, widening; None = every pair
# within the gap (the exact, reduced-cost-fixed model).
_NEIGHBOURHOODS: tuple[int | None, ...] = (2, 4, None)
# Knapsack-bound evaluations (``_gap_bound``) before each neighbourhood: a few at first
# (measured: CP-SAT on the first neighbourhood usually meets the gap limit against the LP
# bound itself, and an evaluation costs ~10-50 ms), more once the incumbent is good (the
# subgradient steps aim at it).
_BOUND_EVALUATIONS = (3, 60, 120)
# Share of the time left each neighbourhood may take before the bound is tightened again
# with the better incumbent (a neighbourhood that cannot meet the gap limit would
# otherwise spend all of it proving its own optimum).
_STAGE_SHARE = (0.35, 0.5, 1.0)
# Proving the optimum, the first neighbourhood first gets this share: it settles easy parts
# in tenths of a second (dense 400 x 40: 0.12 s), and on tight ones it would spend 7 of
# 20 s for 0.2% (gapd-5) or nothing (gapd-6) that the dive then does better; where the
# dive does not run, the neighbourhood goes on for the rest of its share.
_FIRST_SHARE_PROVING = 0.1
# CP-SAT's deterministic-time budget (load-independent) on a restricted neighbourhood
# before HiGHS takes over. Measured to reach the gap limit: 0.05 on 400 x 40 (0.13 s; HiGHS
# took 0.3 s to its optimum), 0.5-1.4 on 1,000 x 100 (1.2-3.2 s; HiGHS 1-2 s).
_CP_SAT_SLICE = 0.1
# Beyond this many rows HiGHS goes first: measured (seeds 0-2, with and without band,
# HiGHS with its minimal cut pool) the slice made 400 x 40 (~370 rows) faster to the gap
# limit, 0.9-1.9x the LP time against 1.7-3.2x without, and 1,000 x 100 (~920 rows) slower,
# 1.1-2.6x against 0.9-2.1x.
_CP_SAT_SLICE_MAX_ROWS = 600
# Share of the time left that re-assigning a few reps at a time (``_gap_lns``) may take after
# the first neighbourhood (it stops sooner once no size of rep set improves).
_LNS_SHARE = 0.6
# Share of the time left that the column-generation dive (``_gap_dive``) may take before the
# rep-set search goes on from its assignment: its root and first descent take 1.5-4 s on
# gapd, further descents from the same root 1.5-5 s each (0.6 measured against 0.5 and 0.8
# on gapd-5/6, seeds 0-2).
_DIVE_SHARE = 0.6
# The dive lands 0.05-0.3% above the optimum: an incumbent already this close to the bound
# gains nothing from it, and proving such parts needs the time (dense 400 x 40 at --gap 0:
# proven optimal in 7 s without the dive, unproven at 10 s with it; 1,000 x 100, 0.13%
# after the first second: 0.125% at 10 s with the dive, 0.03% without). Type D at that
# point: 0.16-2.5%.
_DIVE_MIN_GAP = 0.002
_DIVES = 8  # descents from the dive's one root, while its share of the time lasts
_LNS_MIN_ROWS_PER_REP = 2
# The rep-set search starts from the dive's best this many assignments in turn: gapd-5 at
# 20 s, seeds 0-2, from the best alone 6188 / 6188 / 6196; from the best two 6188 x 3 (on
# seed 2 the second, 6197, led to 6188; the best, 6196, led nowhere).
_LNS_STARTS = 2


@dataclass(frozen=True)
class GapSolution:
    rep_index: IntArray  # per item of the problem, -1 for items no rep can take
    scaled: ScaledScores
    objective_scaled: int
    bound: float  # upper bound on the score (caller's units) at maximal coverage
    proven: bool


def solve_gap(problem: RoutingProblem, settings: CpSatSettings, gap_limit: float,
              band: LoadBand | None = None) -> GapSolution | None:
    """None when this engine does not apply or finds no full-coverage assignment."""
    deadline = time.perf_counter() + settings.time_limit_s
    units, capacity = effort_units(problem)
    lower = upper = None
    if band is not None:
        if band.on_score or units is None:
            return None
        reachable = np.bincount(problem.pair_rep, weights=units, minlength=problem.n_reps)
        lower, upper = band_units(band, np.minimum(capacity, reachable).astype(np.int64))
        if not _band_leaves_coverage(problem, units, capacity, upper):
            return None
    gap = dense_gap(problem, lower, upper, units, capacity)
    if gap is None:
        return None
    prices = lp_prices(gap)
    if prices is None:
        return None
    scaled = scale_scores(problem.pair_score, multiplier=4 * (problem.n_leads + 1) ** 2)
    search = _Search(gap, scaled, prices.price, gap_limit, settings, deadline)
    assign = balance(gap, repair(gap, prices.fraction))
    if within_band(gap, assign):
        search.offer(improve(gap, assign, deadline), proven=False)
    u = None
    stages = zip(_NEIGHBOURHOODS, _BOUND_EVALUATIONS, _STAGE_SHARE, strict=True)
    for stage, (width, evaluations, share) in enumerate(stages):
        if search.done():
            break
        u = search.tighten(prices.price, u, evaluations)
        if search.done():
            break
        proving = stage == 0 and search.gap_limit == 0
        search.neighbourhood(width, prices.fraction,
                             _FIRST_SHARE_PROVING if proving else share)
        if proving and not search.done():
            # proving the optimum and the narrowest neighbourhood did not settle it (with
            # a gap limit, HiGHS on the next one gets there sooner: bench_microbatch, 1,000
            # x 100 with band 1.5x the LP time without this stage, 6.5x with it). The next
            # stage's bound first: it often proves the incumbent optimal outright (a
            # backtest's daily batches: 158 of 160, where the rep-set search spent ~0.8 s
            # each finding nothing). Nor does that search pay when reps hold fewer than
            # two rows each: a few reps' rows are then one or two rows to exchange, and
            # the exact stage settles such parts in milliseconds.
            u = search.tighten(prices.price, u, _BOUND_EVALUATIONS[1])
            rows, reps = search.gap.shape
            starts: list[IntArray] = []
            if (not search.done() and rows >= _LNS_MIN_ROWS_PER_REP * reps
                    and search.relative_gap() > _DIVE_MIN_GAP):
                starts = search.dive(_DIVE_SHARE)
            elif not search.done():  # no dive: the neighbourhood gets the rest of its time
                search.neighbourhood(width, prices.fraction, share - _FIRST_SHARE_PROVING)
            if not search.done() and rows >= _LNS_MIN_ROWS_PER_REP * reps:
                search.reassign_reps(_LNS_SHARE, starts)
    if search.best is None:
        return None
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    rep_index[gap.rows] = search.best
    return GapSolution(rep_index=rep_index, scaled=scaled,
                       objective_scaled=search.best_scaled,
                       bound=search.bound_score, proven=search.proven)


def _band_leaves_coverage(problem: RoutingProblem, units: IntArray, capacity: IntArray,
                          upper: IntArray) -> bool:
    """Every item that fits some rep's capacity also fits some rep's band ceiling (else
    covering it costs band shortfall: the exact model weighs that)."""
    fits_capacity = np.zeros(problem.n_leads, dtype=bool)
    fits_band = np.zeros(problem.n_leads, dtype=bool)
    fits_capacity[problem.pair_lead[units <= capacity[problem.pair_rep]]] = True
    fits_band[problem.pair_lead[units <= upper[problem.pair_rep]]] = True
    return bool(np.all(fits_band | ~fits_capacity))


class _Search:
    """The incumbent and the CP-SAT stages. Proofs use the bound of the scaled integer
    scores the models optimise (the same prices, any prices give a valid bound), so a
    rounding of scores never passes for an optimum; ``bound_score`` is the bound on the
    caller's own (float) scores that the result reports."""

    def __init__(self, gap: DenseGap, scaled: ScaledScores, price: FloatArray,
                 gap_limit: float, settings: CpSatSettings, deadline: float) -> None:
        self.gap, self.settings, self.deadline = gap, settings, deadline
        self.gap_limit = gap_limit
        self.values = np.zeros(gap.shape, dtype=np.int64)
        self.values[gap.candidate] = scaled.values[gap.pair[gap.candidate]]
        as_scaled = replace(gap, score=np.where(gap.candidate, self.values, -np.inf))
        bound = lagrangian_bound(as_scaled, price * scaled.scale)
        # integer objective: nothing beats the floor (tolerance: float sums of ~1e12 terms)
        self.bound = float(np.floor(bound + 1e-9 * max(abs(bound), 1.0)))
        self.lp_bound = self.bound  # reduced costs are relative to it
        self.reduced = reduced_costs(as_scaled, price * scaled.scale)
        self.bound_score = lagrangian_bound(gap, price)
        self.scale = scaled.scale
        self.best: IntArray | None = None
        self.best_scaled = 0
        self.proven = False

    def offer(self, assign: IntArray, proven: bool) -> None:
        value = int(self.values[np.arange(len(assign)), assign].sum())
        if self.best is None or value > self.best_scaled:
            self.best, self.best_scaled = assign, value
        if proven or self.best_scaled >= self.bound:
            self.proven = True

    def tighten(self, price: FloatArray, u: FloatArray | None, evaluations: int
                ) -> FloatArray | None:
        """Lower the bound with the knapsack Lagrangian (``_gap_bound``), from ``u`` or the
        LP's row multipliers, until it proves the gap limit or ``evaluations`` are spent;
        returns the multipliers to continue from."""
        if self.best is None or not knapsack_applies(self.gap):
            return u
        values = np.where(self.gap.candidate, self.values, -np.inf).astype(float)
        if u is None:
            u = (values - self.gap.effort * (price * self.scale)[None, :]).max(axis=1)
        stop_at = self.best_scaled + self.gap_limit * abs(self.best_scaled)
        bound, u = descend(self.gap, values, u, float(self.best_scaled), stop_at,
                           self.deadline, evaluations)
        self.offer_bound(bound)
        return u

    def relative_gap(self) -> float:
        """The incumbent's distance below the bound, relative to the bound."""
        if self.best is None:
            return np.inf
        return (self.bound - self.best_scaled) / max(abs(self.bound), 1.0)

    def target(self) -> float:
        """Scaled score at which the gap limit is met."""
        return self.bound - self.gap_limit * abs(self.bound)

    def done(self) -> bool:
        return (self.proven or time.perf_counter() >= self.deadline
                or (self.best is not None and self.best_scaled >= self.target()))

    def neighbourhood(self, width: int | None, fraction: FloatArray, share: float) -> None:
        gap = self.gap
        n, m = gap.shape
        exact = width is None or width >= m
        if exact:
            # a cell whose reduced cost exceeds the slack is in no better assignment
            slack = self.lp_bound - self.best_scaled if self.best is not None else np.inf
            keep = self.reduced <= slack + 1e-9 * max(abs(self.lp_bound), 1.0)
        else:
            keep = np.zeros((n, m), dtype=bool)
            order = np.argsort(self.reduced, axis=1, kind="stable")[:, :width]
            keep[np.arange(n)[:, None], order] = True
            keep |= fraction > 0
        keep &= gap.candidate
        if self.best is not None:
            keep[np.arange(n), self.best] = True
        seconds = share * max(self.deadline - time.perf_counter(), 0.0)
        # with a gap limit, reach it sooner; without one (prove the optimum, e.g. the
        # OR-Library runs) CP-SAT alone, as before: on gapb-gapd at 20 s HiGHS's stage
        # gave mixed results (better on gapd-3..6, worse on gapb-4, gapd-1/2; one run each)
        if not exact and self.gap_limit > 0 and self._restricted_quickly(keep, seconds):
            return
        seconds = share * max(self.deadline - time.perf_counter(), 0.0)
        assign, optimal = _solve_restricted(gap, self.values, keep, self.best, self, seconds)
        if assign is not None:
            self.offer(assign, proven=optimal and exact)

    def dive(self, share: float) -> list[IntArray]:
        """``_gap_dive`` seeded with the incumbent; its last few reps by
        ``_solve_restricted``. Its root bound (the knapsack Lagrangian at the master's
        optimum) also tightens the proof. Returns its best ``_LNS_STARTS`` assignments,
        where the rep-set search starts."""
        if self.best is None or not dive_applies(self.gap):
            return []
        until = time.perf_counter() + share * max(self.deadline - time.perf_counter(), 0.0)
        n, m = self.gap.shape

        def finish(assign: IntArray, free_reps: BoolArray, seconds: float) -> IntArray | None:
            keep = np.zeros((n, m), dtype=bool)
            fixed = np.flatnonzero(assign >= 0)
            keep[fixed, assign[fixed]] = True
            free = assign < 0
            keep[np.ix_(free, free_reps)] = self.gap.candidate[np.ix_(free, free_reps)]
            found, _ = _solve_restricted(self.gap, self.values, keep, None, self, seconds)
            return found

        found = dive(self.gap, self.values, start=self.best, deadline=until, finish=finish,
                     descents=_DIVES, seed=self.settings.seed)
        if found.assign is not None:
            self.offer(found.assign, proven=False)
        self.offer_bound(found.bound)
        return list(found.assigns[:_LNS_STARTS])

    def offer_bound(self, bound: float) -> None:
        """A new upper bound on the scaled score (any valid one: the least is kept)."""
        floored = float(np.floor(bound + 1e-9 * max(abs(bound), 1.0)))
        if floored < self.bound:
            self.bound = floored
            # on the caller's scores: each scaled value is within half a unit of exact
            rows = self.gap.shape[0]
            self.bound_score = min(self.bound_score, (bound + rows / 2) / self.scale)
        if self.best is not None and self.best_scaled >= self.bound:
            self.proven = True

    def reassign_reps(self, share: float, starts: list[IntArray]) -> None:
        """``_gap_lns`` from each of ``starts`` in turn (an equal part of the time each;
        none: the incumbent), each sub-problem by ``_solve_restricted``."""
        if self.best is None:
            return
        until = time.perf_counter() + share * max(self.deadline - time.perf_counter(), 0.0)

        def restricted(keep: BoolArray, hint: IntArray, seconds: float
                       ) -> tuple[IntArray | None, bool]:
            return _solve_restricted(self.gap, self.values, keep, hint, self, seconds)

        starts = starts or [self.best]
        for turn, start in enumerate(starts):
            now = time.perf_counter()
            found = reassign_reps(self.gap, self.values, start, solve=restricted,
                                  deadline=now + (until - now) / (len(starts) - turn),
                                  seed=self.settings.seed + turn, good_enough=self.target())
            self.offer(found.assign, proven=False)
            if self.done():
                break

    def _restricted_quickly(self, keep: BoolArray, seconds: float) -> bool:
        """On small batches a short CP-SAT slice (stops at the gap limit: enough on easy
        neighbourhoods), then HiGHS from the incumbent (``_gap_mip``: faster to a
        near-optimal incumbent on hard ones). False when neither found anything: CP-SAT
        then gets the stage's time."""
        started = time.perf_counter()
        assign, optimal = None, False
        if self.gap.shape[0] <= _CP_SAT_SLICE_MAX_ROWS:
            assign, optimal = _solve_restricted(self.gap, self.values, keep, self.best, self,
                                                seconds, deterministic=_CP_SAT_SLICE)
        if assign is not None:
            self.offer(assign, proven=False)
        if optimal or self.done():
            return assign is not None
        left = seconds - (time.perf_counter() - started)
        found = solve_restricted_mip(self.gap, self.values, keep, left, self.gap_limit,
                                     hint=self.best, target=self.target())
        if found is not None:
            self.offer(found, proven=False)
        return found is not None or assign is not None


class _StopAtTarget(cp_model.CpSolverSolutionCallback):
    """Stops CP-SAT once an assignment meets the gap limit against the LP bound."""

    def __init__(self, target: float) -> None:
        super().__init__()
        self.target = target

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.target:
            self.stop_search()


def _solve_restricted(gap: DenseGap, values: IntArray, keep: BoolArray,
                      hint: IntArray | None, search: _Search, seconds: float,
                      deterministic: float | None = None) -> tuple[IntArray | None, bool]:
    """CP-SAT on the kept cells: each row exactly once, loads within ``[L, U]``
    (``deterministic``: also a deterministic-time limit)."""
    n, m = gap.shape
    cell_i, cell_j = np.nonzero(keep)
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(len(cell_i))]
    starts = np.searchsorted(cell_i, np.arange(n + 1))
    for row in range(n):
        model.add_exactly_one(x[starts[row]:starts[row + 1]])
    order = np.argsort(cell_j, kind="stable")
    rep_starts = np.searchsorted(cell_j[order], np.arange(m + 1))
    efforts = gap.effort[cell_i, cell_j]
    for rep in range(m):
        cells = order[rep_starts[rep]:rep_starts[rep + 1]].tolist()
        total = cp_model.LinearExpr.weighted_sum([x[c] for c in cells],
                                                 efforts[cells].tolist())
        if int(efforts[cells].sum()) > int(gap.upper[rep]):
            model.add(total <= int(gap.upper[rep]))
        if gap.lower[rep] > 0:
            model.add(total >= int(gap.lower[rep]))
    # the objective straight into the proto (maximize() walks the terms in Python: ~1 s
    # for 2,000 terms on the loaded 2-core machine): minimise −value, reported negated
    objective = model.proto.objective
    objective.vars.extend(range(len(x)))
    objective.coeffs.extend((-values[cell_i, cell_j]).tolist())
    objective.scaling_factor = -1.0
    if hint is not None:
        proto = model.proto.solution_hint
        proto.vars.extend(range(len(x)))
        proto.values.extend((hint[cell_i] == cell_j).astype(np.int64).tolist())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    if deterministic is not None:
        solver.parameters.max_deterministic_time = deterministic
    solver.parameters.random_seed = search.settings.seed
    solver.parameters.num_workers = search.settings.workers
    solver.parameters.interleave_search = search.settings.workers > 1
    solver.parameters.linearization_level = 2
    status = solver.solve(model, _StopAtTarget(search.target()))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    chosen = np.asarray(solver.response_proto.solution, dtype=np.int64)[: len(x)] > 0
    assign = np.full(n, -1, dtype=np.int64)
    assign[cell_i[chosen]] = cell_j[chosen]
    return assign, status == cp_model.OPTIMAL
