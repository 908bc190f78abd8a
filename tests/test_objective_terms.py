"""Named objective terms: each CP-SAT term helper on a hand-built model (its value is the
hand-computed cost), the terms summing to the model's objective, and the terms a solve,
a policy outcome and the rep summary report in conversions."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from rich.console import Console

import solver._cpsat as cpsat_module
from solver import RoutingProblem, SolveOptions, SolverError, TermName, solve
from solver._band import LoadBand
from solver._build import problem_from_matrix
from solver._cpsat import solve_cpsat
from solver._cpsat_objective import (
    BandRows,
    Solved,
    Term,
    add_soft_band,
    add_soft_band_units,
    add_soft_band_worst,
    add_soft_split,
    coverage_term,
    fit_term,
    solve_terms,
)
from solver._cpsat_types import CpSatSettings, SplitPenalty
from solver._scaling import INT_LIMIT, check_objective_range
from solver._terms import add_terms, band_cost, describe_costs
from solver.contract_tables import load_leads, load_reps
from solver.policy import PolicyOutcome, parse_policy, route_with_policy

SETTINGS = CpSatSettings(time_limit_s=10.0, seed=0, workers=1)


def problem_of(score: list[list[float]], capacity: list[float],
               effort: list[list[float]] | None = None) -> RoutingProblem:
    return RoutingProblem.from_dense(
        np.asarray(score, dtype=float), capacity, effort=effort,
        lead_ids=[f"L{i}" for i in range(len(score))],
        rep_ids=[f"R{j}" for j in range(len(score[0]))])


def model_with(problem: RoutingProblem, forced: dict[int, int]
               ) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """One boolean per pair, each lead at most once, ``forced`` lead → rep fixed on (a
    lead left out routes nowhere)."""
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in range(problem.n_pairs)]
    for lead in range(problem.n_leads):
        pairs = np.flatnonzero(problem.pair_lead == lead).tolist()
        model.add_at_most_one(x[p] for p in pairs)
        for p in pairs:
            model.add(x[p] == int(forced.get(lead) == problem.pair_rep[p]))
    return model, x


def solved(problem: RoutingProblem, forced: dict[int, int], *build: object) -> Solved:
    model, x = model_with(problem, forced)
    terms = [make(model, x) for make in build]  # type: ignore[operator]
    result = solve_terms(model, x, problem, terms, SETTINGS)
    assert result.optimal
    assert sum(result.terms.values()) == result.objective
    return result


EVERY = np.arange(4, dtype=np.int64)
SQUARE = problem_of([[0.9, 0.2], [0.4, 0.7]], [2, 2])  # pairs in (lead, rep) order


def test_fit_term_is_the_score_of_the_chosen_pairs() -> None:
    scaled = np.array([9, 2, 4, 7], dtype=np.int64)
    result = solved(SQUARE, {0: 1, 1: 0}, lambda m, x: fit_term(SQUARE, x, EVERY, scaled))
    assert result.terms == {TermName.FIT: 2 + 4}
    assert list(result.rep_index) == [1, 0]


def test_coverage_term_counts_routed_leads_at_its_weight() -> None:
    result = solved(SQUARE, {1: 1}, lambda m, x: coverage_term(SQUARE, x, EVERY, 10))
    assert result.terms == {TermName.COVERAGE: 10}


def test_split_term_costs_the_penalty_per_extra_rep() -> None:
    # three leads of one account over two reps: one extra rep; a lone lead costs nothing
    problem = problem_of([[0.5, 0.5]] * 4, [4, 4])
    split = SplitPenalty(np.array([7, 7, 7, 3]), penalty=0.3)
    result = solved(problem, {0: 0, 1: 1, 2: 1, 3: 0},
                    lambda m, x: add_soft_split(m, x, problem, split, penalty=300))
    assert result.terms == {TermName.ACCOUNT_SPLIT: -300}


def test_scaled_band_term_is_total_shortfall_plus_reps_times_the_worst() -> None:
    # loads 3 and 0 against a band [1, 2] for both reps: over 1 and under 1, worst 1,
    # so 1 + 1 + 2 reps × 1 = 4 units at weight 5
    problem = problem_of([[0.5, 0.5]] * 3, [3, 3])
    rows = BandRows(measure=np.ones(6, dtype=np.int64), lower=np.array([1, 1]),
                    upper=np.array([2, 2]), cap=np.array([3, 3]))
    model, x = model_with(problem, {0: 0, 1: 0, 2: 0})
    total, offs = add_soft_band(model, x, problem, rows, weight=5)
    worst = add_soft_band_worst(model, offs, rows, weight=5)
    result = solve_terms(model, x, problem, [total, worst], SETTINGS)
    assert result.terms == {TermName.FAIRNESS_BAND: -5 * 4}  # both parts, one name
    assert result.objective == -5 * 4


def test_unit_band_term_prices_each_unit_out_of_band_convexly() -> None:
    # rep 0 takes 4 leads against a band [1, 2]: 2 units over cost 1 + 2; rep 1 takes none
    # against [1, 2]: 1 unit under costs 1; total 4 at weight 3
    problem = problem_of([[0.5, 0.5]] * 4, [4, 4])
    rows = BandRows(measure=np.ones(8, dtype=np.int64), lower=np.array([1, 1]),
                    upper=np.array([2, 2]), cap=np.array([4, 4]))
    tables = [cpsat_module._convex_band_table(1, 2, 4)] * 2
    assert tables[0] == [1, 0, 0, 1, 3]
    result = solved(problem, {0: 0, 1: 0, 2: 0, 3: 0},
                    lambda m, x: add_soft_band_units(m, x, problem, rows.measure, tables, rows,
                                                     weight=3))
    assert result.terms == {TermName.FAIRNESS_BAND: -3 * 4}


def test_terms_over_the_same_booleans_merge_and_sum_to_the_objective() -> None:
    scaled = np.array([9, 2, 4, 7], dtype=np.int64)
    result = solved(SQUARE, {0: 0, 1: 1}, lambda m, x: fit_term(SQUARE, x, EVERY, scaled),
                    lambda m, x: coverage_term(SQUARE, x, EVERY, 100))
    assert result.terms == {TermName.FIT: 16, TermName.COVERAGE: 200}
    assert result.objective == 216


@pytest.mark.parametrize(("terms", "raises"), [
    ([(1, INT_LIMIT - 1)], False),
    ([(1, INT_LIMIT)], True),
    ([(-2, INT_LIMIT // 4), (2, INT_LIMIT // 4)], True),  # a cost counts at its size
    ([(2**40, 2**20), (-(2**40), 2**20)], False),
])
def test_objective_range_is_checked_on_the_weighted_sum(
    terms: list[tuple[int, int]], raises: bool,
) -> None:
    if raises:
        with pytest.raises(SolverError, match="objective too large for CP-SAT"):
            check_objective_range(terms)
    else:
        check_objective_range(terms)


def test_a_term_beyond_int64_is_refused_before_solving() -> None:
    model, x = model_with(SQUARE, {})
    huge = Term(TermName.FIT, x, [1, 1, 1, 1], INT_LIMIT, 2)
    with pytest.raises(SolverError, match="objective too large"):
        solve_terms(model, x, SQUARE, [huge], SETTINGS)


@st.composite
def gap_cases(draw: st.DrawFn) -> tuple[RoutingProblem, LoadBand | None, SplitPenalty | None]:
    n, m = draw(st.integers(2, 7)), draw(st.integers(2, 3))
    score = draw(st.lists(st.lists(st.integers(0, 9), min_size=m, max_size=m),
                          min_size=n, max_size=n))
    # whole efforts take the exact integer band model, fractional ones the scaled one
    sizes = [1.0, 2.0] if draw(st.booleans()) else [1.0, 1.5, 2.0]
    effort = draw(st.lists(st.lists(st.sampled_from(sizes), min_size=m, max_size=m),
                           min_size=n, max_size=n))
    problem = problem_of([[s / 10 for s in row] for row in score],
                         [float(draw(st.integers(1, 4))) for _ in range(m)], effort)
    band = None
    kind = draw(st.sampled_from(["none", "effort", "effort", "value"]))
    if kind != "none":
        band = LoadBand(np.full(m, 1.0), np.full(m, 2.0), on_score=kind == "value")
    split = None
    if draw(st.booleans()):
        split = SplitPenalty(np.array(draw(st.lists(st.integers(-1, 2), min_size=n,
                                                    max_size=n))), penalty=0.25)
    return problem, band, split


@settings(max_examples=60, deadline=None)
@given(gap_cases())
def test_every_model_family_reads_terms_that_sum_to_its_objective(
    case: tuple[RoutingProblem, LoadBand | None, SplitPenalty | None],
) -> None:
    """Plain, split, integral-band and scaled-band models: the read terms add up to
    CP-SAT's objective value, and the fit term is the solution's scaled score."""
    problem, band, split = case
    seen: list[Solved] = []
    real = cpsat_module.solve_terms

    def spy(*args: Any, **kwargs: Any) -> Solved:
        result = real(*args, **kwargs)
        seen.append(result)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cpsat_module, "solve_terms", spy)
        answer = solve_cpsat(problem, SETTINGS, band=band, split=split)
    for result in seen:
        if result.found:
            assert sum(result.terms.values()) == result.objective
    if answer.found:
        assert answer.terms[TermName.FIT] == answer.objective_scaled
        chosen = problem.pair_lead * problem.n_reps + problem.pair_rep
        picked = np.isin(chosen, np.flatnonzero(answer.rep_index >= 0) * problem.n_reps
                         + answer.rep_index[answer.rep_index >= 0])
        assert answer.objective_scaled == int(answer.scaled.values[picked].sum())
    if answer.proven_optimal and split is not None and band is None and split.grouped().any():
        # at the optimum each extra rep the model counts is one the assignment uses
        extra = sum(count - 1 for count in split.splits(answer.rep_index).values())
        penalty = int(np.rint(split.penalty * answer.scaled.scale))
        assert answer.terms[TermName.ACCOUNT_SPLIT] == -penalty * extra


@settings(max_examples=25, deadline=None)
@given(gap_cases())
def test_solve_terms_are_the_fit_the_split_and_the_band_cost(
    case: tuple[RoutingProblem, LoadBand | None, SplitPenalty | None],
) -> None:
    """Whatever engine each part goes to: ``FIT`` is the objective, ``ACCOUNT_SPLIT`` the
    penalty for each extra rep a group uses, ``FAIRNESS_BAND`` what the band took from
    the free solve (never a gain)."""
    problem, band, split = case
    free = solve(problem, options=SolveOptions(time_limit_s=10.0), split=split)
    result = free if band is None else solve(
        problem, options=SolveOptions(time_limit_s=10.0), band=band, split=split, warm=free)
    assert result.terms[TermName.FIT] == pytest.approx(result.objective)
    grouped = split is not None and bool(split.grouped().any())
    assert (TermName.ACCOUNT_SPLIT in result.terms) == grouped
    if grouped:
        assert split is not None
        extra = sum(count - 1 for count in split.splits(result.rep_index).values())
        assert result.terms[TermName.ACCOUNT_SPLIT] == pytest.approx(-split.penalty * extra)
    if band is not None:
        given_up = (free.objective + free.terms.get(TermName.ACCOUNT_SPLIT, 0.0)
                    - result.objective - result.terms.get(TermName.ACCOUNT_SPLIT, 0.0))
        assert result.terms[TermName.FAIRNESS_BAND] == pytest.approx(-max(given_up, 0.0))


def test_solve_reports_fit_and_the_split_penalty_in_conversions() -> None:
    # two leads of one account, each rep has room for one: the account must split
    problem = problem_of([[0.9, 0.3], [0.8, 0.4]], [1, 1])
    result = solve(problem, split=SplitPenalty(np.array([0, 0]), penalty=0.25))
    assert result.terms[TermName.FIT] == pytest.approx(result.objective)
    assert result.terms[TermName.FIT] == pytest.approx(0.9 + 0.4)
    assert result.terms[TermName.ACCOUNT_SPLIT] == pytest.approx(-0.25)
    assert TermName.FAIRNESS_BAND not in result.terms


def test_band_cost_is_the_fit_given_up_against_the_free_solve() -> None:
    # both leads prefer R0; a band of one lead per rep moves L1 to R1 (0.8 → 0.6)
    problem = problem_of([[0.9, 0.5], [0.8, 0.6]], [2, 2])
    free = solve(problem, options=SolveOptions())
    band = LoadBand(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    banded = solve(problem, options=SolveOptions(), band=band, warm=free)
    assert list(banded.rep_index) == [0, 1]
    assert banded.terms[TermName.FAIRNESS_BAND] == pytest.approx(-0.2)
    assert banded.terms[TermName.FIT] == pytest.approx(1.5)
    assert TermName.FAIRNESS_BAND not in solve(problem, options=SolveOptions(), band=band).terms


def test_band_cost_is_never_a_gain() -> None:
    # a reference that stopped short of its optimum can score below the banded solve
    assert band_cost({TermName.FIT: 2.0}, {TermName.FIT: 1.5}) == 0.0
    assert band_cost({TermName.FIT: 1.0, TermName.ACCOUNT_SPLIT: -0.5},
                     {TermName.FIT: 1.7}) == pytest.approx(-1.2)


def test_terms_add_up_over_parts_and_read_as_words() -> None:
    total = add_terms([{TermName.FIT: 1.0, TermName.ACCOUNT_SPLIT: -0.5},
                       {TermName.FIT: 2.0, TermName.FAIRNESS_BAND: -0.8}])
    assert total == {TermName.FIT: 3.0, TermName.ACCOUNT_SPLIT: -0.5,
                     TermName.FAIRNESS_BAND: -0.8}
    assert describe_costs(total) == ["fairness band cost 0.8 conversions",
                                     "account split cost 0.5 conversions"]
    assert describe_costs({TermName.FIT: 3.0, TermName.FAIRNESS_BAND: 0.0}) == []


def _route(leads: dict[str, object], reps: dict[str, object],
           score: list[list[float]], policy: dict[str, object]) -> PolicyOutcome:
    lead_table, rep_table = load_leads(pd.DataFrame(leads)), load_reps(pd.DataFrame(reps))
    problem = problem_from_matrix(lead_table, rep_table, np.asarray(score, dtype=float))
    return route_with_policy(problem, lead_table, rep_table, parse_policy(policy))


def test_policy_outcome_and_rep_summary_report_the_band_cost() -> None:
    # the free solve gives a all four leads (3.6); an exact band of two each moves the
    # two leads b fits best (0.3, 0.4 instead of 0.9, 0.9): 1.1 conversions
    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    score = [[0.9, 0.1], [0.9, 0.2], [0.9, 0.3], [0.9, 0.4]]
    fair = _route({"lead_id": list("wxyz")}, reps, score, {"fairness": {"band": 0.0}})
    assert fair.terms[TermName.FIT] == pytest.approx(fair.objective) == pytest.approx(2.5)
    assert fair.terms[TermName.FAIRNESS_BAND] == pytest.approx(-1.1)
    assert fair.summary.costs == ["fairness band cost 1.1 conversions"]
    free = _route({"lead_id": list("wxyz")}, reps, score, {})
    assert free.summary.costs == [] and free.terms[TermName.FIT] == pytest.approx(3.6)


def test_policy_reports_the_split_penalty_in_revenue_units() -> None:
    leads = {"lead_id": ["x", "y"], "account_id": ["acme", "acme"], "value": [1.0, 1.0]}
    reps = {"rep_id": ["a", "b"], "capacity": [5, 5]}
    out = _route(leads, reps, [[0.9, 0.1], [0.1, 0.8]],
                 {"objective": "expected_revenue",
                  "accounts": {"keep_together": "soft", "split_penalty": 0.3}})
    assert out.terms[TermName.ACCOUNT_SPLIT] == pytest.approx(-0.3)
    assert out.summary.costs == ["account split cost 0.3 revenue"]


def test_route_summary_line_names_each_cost(tmp_path: object) -> None:
    from pathlib import Path

    from solver.app.commands.route import print_summary

    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    score = [[0.9, 0.1], [0.9, 0.2], [0.9, 0.3], [0.9, 0.4]]
    fair = _route({"lead_id": list("wxyz")}, reps, score, {"fairness": {"band": 0.0}})
    buffer = io.StringIO()
    print_summary(Console(file=buffer, width=200), fair, Path("out.csv"))
    assert "objective terms: fairness band cost 1.1 conversions" in buffer.getvalue()
