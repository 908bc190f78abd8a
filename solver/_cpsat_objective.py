"""The CP-SAT objective as named terms, and the one build → solve → read path.

Each soft-constraint family is a small helper (``fit_term``, ``coverage_term``,
``add_soft_split``, ``add_soft_band`` with ``add_soft_band_worst``,
``add_soft_band_units``) that adds its variables
and constraints to the model and returns a ``Term``: the variables, each one's
coefficient in the term's own units, the term's weight in the objective (negative for a
cost) and the most the term can reach. ``solve_terms`` is the only place that sums the
terms, checks the sum against int64, solves, and reads back each term's value, so a new
soft constraint is one more helper and one more entry in the list a model passes.

The weights encode the lexicographic order (coverage, then band, then score and split
penalty): ``solver._terms`` says what each term means in conversions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from solver._cpsat_types import CpSatSettings, SplitPenalty
from solver._problem import RoutingProblem
from solver._result import pair_index_of
from solver._scaling import check_objective_range
from solver._terms import TermName

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Term:
    """``weight × Σ coefficients[i] × variables[i]`` in the objective. Terms over the same
    ``variables`` list (fit and coverage both over the pair booleans) are merged into one
    coefficient per variable when summed."""

    name: TermName
    variables: list[cp_model.IntVar]
    coefficients: list[int]
    weight: int
    most: int  # largest |Σ coefficients × values| any solution can give (overflow check)
    offset: int = 0  # constant part of the term, in its units (kept in the objective)


@dataclass(frozen=True, eq=False)
class Solved:
    """A solved model: the CP-SAT status, lead → rep (when a solution exists), each
    term's weighted value in objective units (they sum to ``objective``, the model's
    objective value), and the proven objective bound."""

    status: cp_model.CpSolverStatus
    rep_index: IntArray
    terms: dict[TermName, int]
    objective: float
    bound: float

    @property
    def found(self) -> bool:
        return self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    @property
    def optimal(self) -> bool:
        return self.status == cp_model.OPTIMAL


def _most_per_lead(problem: RoutingProblem, pairs: IntArray, values: IntArray) -> int:
    """Each lead takes at most one pair: the most a per-pair sum can reach."""
    per_lead = np.zeros(problem.n_leads, dtype=np.int64)
    np.maximum.at(per_lead, problem.pair_lead[pairs], np.abs(values))
    return int(per_lead.sum())


def fit_term(problem: RoutingProblem, x: list[cp_model.IntVar], pairs: IntArray,
             scaled: IntArray) -> Term:
    """The score of the chosen pairs (``scaled``: per pair of ``pairs``, integer units)."""
    return Term(TermName.FIT, x, scaled.tolist(), 1, _most_per_lead(problem, pairs, scaled))


def coverage_term(problem: RoutingProblem, x: list[cp_model.IntVar], pairs: IntArray,
                  weight: int) -> Term:
    """Routed leads (weighted by the leads each row stands for), worth ``weight`` each."""
    counts = problem.coverage_weights()[problem.pair_lead[pairs]]
    return Term(TermName.COVERAGE, x, counts.tolist(), weight,
                _most_per_lead(problem, pairs, counts))


def add_soft_split(model: cp_model.CpModel, x: list[cp_model.IntVar],
                   problem: RoutingProblem, split: SplitPenalty, penalty: int) -> Term:
    """One ``extra`` per soft account group: reps its leads use, minus one (0 when none is
    routed), ``penalty`` (scaled) each."""
    grouped = split.grouped()
    chosen = np.flatnonzero(grouped[problem.pair_lead])
    extras: list[cp_model.IntVar] = []
    most = 0
    for group, pairs in groups_of(split.group[problem.pair_lead[chosen]], chosen):
        uses: list[cp_model.IntVar] = []
        for rep, at_rep in groups_of(problem.pair_rep[pairs], pairs):
            used = model.new_bool_var(f"g{group}r{rep}")
            for p in at_rep.tolist():
                model.add_implication(x[p], used)
            uses.append(used)
        extra = model.new_int_var(0, max(len(uses) - 1, 0), f"extra{group}")
        model.add(extra >= cp_model.LinearExpr.sum(uses) - 1)
        extras.append(extra)
        most += max(len(uses) - 1, 0)
    return Term(TermName.ACCOUNT_SPLIT, extras, [1] * len(extras), -penalty, most)


@dataclass(frozen=True)
class BandRows:
    """A band on integer loads: per pair what it adds to its rep's load (``measure``),
    per rep the band ``lower``/``upper`` and the most the load can reach (``cap``)."""

    measure: IntArray
    lower: IntArray
    upper: IntArray
    cap: IntArray


def add_soft_band(model: cp_model.CpModel, x: list[cp_model.IntVar],
                  problem: RoutingProblem, rows: BandRows, weight: int
                  ) -> tuple[Term, list[cp_model.IntVar]]:
    """Total load outside the band, ``weight`` per unit; also each rep's ``off`` variable
    (its load outside the band) for ``add_soft_band_worst``."""
    penalties: list[cp_model.IntVar] = []
    offs: list[cp_model.IntVar] = []
    lower, upper, cap = rows.lower, rows.upper, rows.cap
    for rep, group in groups_of(problem.pair_rep, np.arange(problem.n_pairs, dtype=np.int64)):
        load = cp_model.LinearExpr.weighted_sum([x[p] for p in group],
                                                rows.measure[group].tolist())
        under = model.new_int_var(0, max(int(lower[rep]), 0), "")
        over = model.new_int_var(0, max(int(cap[rep]), 0), "")
        model.add(load + under >= int(lower[rep]))
        model.add(load - over <= int(upper[rep]))
        penalties += [under, over]
        off = model.new_int_var(0, max(int(cap[rep]), int(lower[rep]), 0), "")
        model.add(off == under + over)
        offs.append(off)
    most = int(np.maximum(lower, 0).sum() + np.maximum(cap, 0).sum())
    return Term(TermName.FAIRNESS_BAND, penalties, [1] * len(penalties), -weight, most), offs


def add_soft_band_worst(model: cp_model.CpModel, offs: list[cp_model.IntVar],
                        rows: BandRows, weight: int) -> Term:
    """The worst rep's load outside the band, times the rep count, ``weight`` per unit:
    with the total, the shortfall is spread over reps instead of landing on one."""
    peak = int(max(rows.cap.max(), rows.lower.max(), 0))
    worst = model.new_int_var(0, peak, "worst")
    model.add_max_equality(worst, offs)
    return Term(TermName.FAIRNESS_BAND, [worst], [len(offs)], -weight, len(offs) * peak)


def add_soft_band_units(model: cp_model.CpModel, x: list[cp_model.IntVar],
                        problem: RoutingProblem, effort: IntArray, tables: list[list[int]],
                        rows: BandRows, weight: int) -> Term:
    """Whole-number loads: each rep's convex band penalty priced unit by unit
    (``_band_units_of``); ``weight`` per penalty unit."""
    units: list[cp_model.IntVar] = []
    steps: list[int] = []
    for rep, group in groups_of(problem.pair_rep, np.arange(problem.n_pairs, dtype=np.int64)):
        load = cp_model.LinearExpr.weighted_sum([x[p] for p in group], effort[group].tolist())
        rep_units, rep_steps = _band_units_of(model, tables[rep], int(rows.lower[rep]),
                                              int(rows.upper[rep]), load)
        units += rep_units
        steps += rep_steps
    # the priced units count the penalty from each rep's penalty at load 0 (table[0])
    return Term(TermName.FAIRNESS_BAND, units, steps, -weight,
                sum(max(table) for table in tables), sum(table[0] for table in tables))


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


def objective_of(terms: Sequence[Term]) -> cp_model.LinearExpr:
    """``Σ weight × term`` with one coefficient per variable, variables in the order their
    terms come (terms over one variable list are added up coefficient by coefficient),
    plus the terms' constant offsets."""
    merged: dict[int, tuple[list[cp_model.IntVar], npt.NDArray[np.int64]]] = {}
    for term in terms:
        weighted = np.asarray(term.coefficients, dtype=np.int64) * term.weight
        key = id(term.variables)
        if key in merged:
            merged[key] = (term.variables, merged[key][1] + weighted)
        else:
            merged[key] = (term.variables, weighted)
    variables: list[cp_model.IntVar] = []
    coefficients: list[int] = []
    for group, weights in merged.values():
        variables += group
        coefficients += weights.tolist()
    expr = cp_model.LinearExpr.weighted_sum(variables, coefficients)
    offset = sum(term.weight * term.offset for term in terms)
    return expr + offset if offset else expr


def solve_terms(model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
                terms: Sequence[Term], settings: CpSatSettings,
                hint: IntArray | None = None, pairs: IntArray | None = None) -> Solved:
    """Maximise the sum of ``terms`` over the pair booleans ``x`` (standing for ``pairs``,
    default all), hinted with ``hint``; read the assignment and each term's value."""
    check_objective_range((term.weight, term.most + abs(term.offset)) for term in terms)
    model.maximize(objective_of(terms))
    add_hint(model, x, problem, hint, pairs)
    solver = cp_model.CpSolver()
    tune(solver, settings)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Solved(status, np.full(problem.n_leads, -1, dtype=np.int64), {}, float("nan"),
                      float("inf"))
    solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
    solved_x = solution[[var.index for var in x]]
    values: dict[TermName, int] = {}
    for term in terms:  # a family may come as several terms (the band's total and worst)
        at = solved_x if term.variables is x else solution[[v.index for v in term.variables]]
        value = term.weight * (term.offset + int(np.dot(
            np.asarray(term.coefficients, dtype=np.int64), at)))
        values[term.name] = values.get(term.name, 0) + value
    return Solved(status, read(problem, solved_x, pairs), values,
                  float(solver.objective_value), float(solver.best_objective_bound))


def tune(solver: cp_model.CpSolver, settings: CpSatSettings) -> None:
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


def add_hint(model: cp_model.CpModel, x: list[cp_model.IntVar], problem: RoutingProblem,
             hint: IntArray | None, pairs: IntArray | None = None) -> None:
    """Hint ``hint``'s pairs on, every other pair off (written straight into the proto:
    one call per variable costs as much as building the model)."""
    if hint is None:
        return
    chosen = np.zeros(problem.n_pairs, dtype=np.int64)
    chosen[pairs_of(problem, hint)] = 1
    values = chosen if pairs is None else chosen[pairs]
    proto = model.proto.solution_hint
    proto.vars.extend([var.index for var in x])
    proto.values.extend(values.tolist())


def read(problem: RoutingProblem, solved_x: IntArray, pairs: IntArray | None = None
         ) -> IntArray:
    """Lead → rep from the solved pair booleans (``solved_x``, one per pair of ``pairs``,
    default all pairs)."""
    if pairs is None:
        pairs = np.arange(problem.n_pairs, dtype=np.int64)
    on = pairs[solved_x > 0]
    rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
    rep_index[problem.pair_lead[on]] = problem.pair_rep[on]
    return rep_index


def pairs_of(problem: RoutingProblem, rep_index: IntArray) -> IntArray:
    pairs = pair_index_of(problem, rep_index)
    return pairs[pairs >= 0]


def groups_of(keys: IntArray, pairs: IntArray) -> Iterator[tuple[int, IntArray]]:
    """``pairs`` grouped by ``keys`` (ascending key, stable within a group)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    for chunk in np.split(order, cuts):
        if len(chunk):
            yield int(keys[chunk[0]]), pairs[chunk]
