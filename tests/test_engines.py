"""Hand-built cases, one per constraint or behaviour of the engines (``solver.solve``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

import solver._solve as solve_module
from solver import (
    SCORE_SCALE,
    Engine,
    InputError,
    LeadStatus,
    RoutingProblem,
    SolveOptions,
    SolverError,
    SolveResult,
    SolveStatus,
    greedy_best_fit,
    route_pairs,
    scale_scores,
    solve,
)
from solver._band import LoadBand
from solver._cpsat import CpSatSolution
from solver._explain import NO_ELIGIBLE_REP, SOLVER_TIMEOUT
from solver._scaling import INT_LIMIT, ScaledScores

NEG = -np.inf  # marks an ineligible pair in the dense helpers below


def dense(score: list[list[float]], capacity: list[float],
          effort: list[float] | list[list[float]] | None = None) -> RoutingProblem:
    """Score matrix with ``-inf`` for ineligible pairs."""
    s = np.asarray(score, dtype=float)
    eligible = np.isfinite(s)
    return RoutingProblem.from_dense(
        np.where(eligible, s, 0.0), capacity, effort=effort, eligible=eligible,
        lead_ids=[f"L{i}" for i in range(s.shape[0])],
        rep_ids=[f"R{j}" for j in range(s.shape[1])],
    )


def check_invariants(problem: RoutingProblem, result: SolveResult) -> None:
    """What every result must satisfy, whatever the engine."""
    n = problem.n_leads
    assert result.rep_index.shape == (n,)
    assert len(result.lead_status) == len(result.reasons) == n
    assert all(reason.strip() for reason in result.reasons)
    loads = np.zeros(problem.n_reps)
    total = 0.0
    starts = problem.lead_pair_bounds()
    for lead, rep in enumerate(result.rep_index):
        assigned = result.lead_status[lead] is LeadStatus.ASSIGNED
        assert assigned == (rep >= 0)
        if rep < 0:
            continue
        lo, hi = starts[lead], starts[lead + 1]
        reps = problem.pair_rep[lo:hi]
        assert rep in reps, "assigned to an ineligible rep"
        pair = lo + int(np.searchsorted(reps, rep))
        loads[rep] += problem.pair_effort[pair]
        total += problem.pair_score[pair]
    assert np.all(loads <= problem.capacity + 1e-9)
    assert result.objective == pytest.approx(total, abs=1e-9)
    table = result.assignments(problem)
    assert table["lead_id"].tolist() == list(problem.lead_ids)


# -- capacity, eligibility, inactive reps ----------------------------------------------
def test_capacity_is_respected_and_the_best_leads_win() -> None:
    problem = dense([[0.9], [0.2], [0.7]], [2])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.rep_index.tolist() == [0, -1, 0]
    assert result.reasons[1] == "capacity exhausted: the only eligible rep is full"
    assert result.engines == (Engine.MIN_COST_FLOW,)
    assert result.status is SolveStatus.OPTIMAL


def test_fractional_capacity_rounds_down_to_whole_leads() -> None:
    problem = dense([[1.0], [2.0], [3.0]], [2.9])
    result = solve(problem)
    assert result.n_assigned == 2
    assert result.rep_index.tolist() == [-1, 0, 0]


def test_eligibility_is_respected_even_against_a_higher_score() -> None:
    # L0 may only go to R1, although R0 has room and would score nothing.
    problem = dense([[NEG, 0.1], [0.5, 0.9], [NEG, NEG]], [5, 1])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.rep_index.tolist() == [1, 0, -1]
    assert result.reasons[2] == NO_ELIGIBLE_REP
    assert result.reasons[0] == "only eligible rep"


def test_inactive_rep_receives_nothing() -> None:
    leads = pd.DataFrame({"lead_id": ["a", "b", "c"]})
    reps = pd.DataFrame({"rep_id": ["busy", "away"], "capacity": [1, 5],
                         "active": ["true", "false"]})
    scores = pd.DataFrame({"lead_id": ["a", "a", "b", "c"],
                           "rep_id": ["busy", "away", "away", "away"],
                           "score": [0.1, 0.9, 0.9, 0.9]})
    outcome = route_pairs(leads, reps, scores)
    table = outcome.assignments.set_index("lead_id")
    assert table.loc["a", "rep_id"] == "busy"
    assert (table["rep_id"] != "away").all()
    assert table.loc["b", "status"] == "unassigned"
    assert table.loc["b", "reason"] == NO_ELIGIBLE_REP


def test_zero_capacity_rep_takes_nothing() -> None:
    problem = dense([[0.9, 0.1], [0.8, NEG]], [0, 1])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.rep_index.tolist() == [1, -1]
    assert result.reasons[1] == "capacity exhausted: the only eligible rep is full"


# -- coverage first, negative scores -----------------------------------------------------
def test_coverage_first_beats_a_higher_total_score() -> None:
    # Score alone: L0→R0 (10) and L1 unassigned. Coverage first: L0→R1, L1→R0 (total 2).
    problem = dense([[10.0, 1.0], [1.0, NEG]], [1, 1])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.rep_index.tolist() == [1, 0]
    assert result.objective == pytest.approx(2.0)
    assert result.reasons[0].startswith("preferred rep R0 (score 10) at capacity")


def test_coverage_first_in_cp_sat_too() -> None:
    # Same shape, made GAP-shaped by a per-pair effort.
    problem = dense([[10.0, 1.0], [1.0, NEG]], [1, 1], effort=[[1.0, 1.0], [0.5, 1.0]])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.engines == (Engine.CP_SAT,)
    assert result.rep_index.tolist() == [1, 0]


@pytest.mark.parametrize("effort", [None, [[1.0, 2.0], [1.5, 1.0], [1.0, 1.0]]],
                         ids=["flow", "cp-sat"])
def test_negative_scores_are_costs_and_every_lead_still_routed(
    effort: list[list[float]] | None,
) -> None:
    cost = np.array([[4.0, 1.0], [2.0, 8.0], [3.0, 5.0]])
    problem = dense((-cost).tolist(), [2, 2], effort=effort)
    result = solve(problem)
    check_invariants(problem, result)
    assert result.n_assigned == 3  # a cost never makes leaving a lead unrouted better
    best = min(
        cost[0, a] + cost[1, b] + cost[2, c]
        for a in (0, 1) for b in (0, 1) for c in (0, 1)
        if _fits([a, b, c], cost.shape, effort, [2, 2])
    )
    assert result.objective == pytest.approx(-best)


def _fits(choice: list[int], shape: tuple[int, int], effort: list[list[float]] | None,
          capacity: list[float]) -> bool:
    e = np.ones(shape) if effort is None else np.asarray(effort)
    loads = np.zeros(shape[1])
    for lead, rep in enumerate(choice):
        loads[rep] += e[lead, rep]
    return bool(np.all(loads <= np.asarray(capacity) + 1e-9))


# -- engine choice ---------------------------------------------------------------------
def test_per_pair_effort_goes_to_cp_sat() -> None:
    # Knapsack-like: R0 (capacity 3) fits L0+L1 (1+2) or L2 alone (3).
    problem = dense([[5.0, 1.0], [5.0, 1.0], [9.0, 1.0]], [3, 1],
                    effort=[[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.engines == (Engine.CP_SAT,)
    assert result.status is SolveStatus.OPTIMAL
    # R1 holds one lead, so R0 must hold two: only L0 + L1 (effort 1 + 2) fit in 3.
    assert result.rep_index.tolist() == [0, 0, 1]
    assert result.objective == pytest.approx(11.0)
    assert result.gap == pytest.approx(0.0)


def test_per_lead_effort_also_goes_to_cp_sat() -> None:
    problem = dense([[1.0], [1.0], [1.0]], [3], effort=[2.0, 1.0, 1.0])
    result = solve(problem)
    assert result.engines == (Engine.CP_SAT,)
    assert result.n_assigned == 2


def test_uniform_effort_per_rep_stays_on_min_cost_flow() -> None:
    # R0's pairs all cost 2, R1's all cost 1: transportation-shaped, R0 holds 2 leads.
    problem = dense([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]], [4.5, 1],
                    effort=[[2.0, 1.0]] * 4)
    result = solve(problem)
    check_invariants(problem, result)
    assert result.engines == (Engine.MIN_COST_FLOW,)
    assert result.rep_index.tolist() == [0, 0, -1, 1]


def test_mixed_problem_splits_into_flow_and_cp_sat_components() -> None:
    # Component A: L0, L1 with R0 (uniform effort). Component B: L2, L3 with R1, R2 (GAP).
    score = [[0.9, NEG, NEG], [0.5, NEG, NEG], [NEG, 0.6, 0.4], [NEG, 0.7, 0.2]]
    effort = [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]]
    problem = dense(score, [1, 2, 1], effort=effort)
    result = solve(problem)
    check_invariants(problem, result)
    assert result.engines == (Engine.MIN_COST_FLOW, Engine.CP_SAT)
    assert result.engine == "min_cost_flow+cp_sat"
    # A: R0 takes its best lead. B: L2 (effort 2) and L3 cannot both sit on R1.
    assert result.rep_index.tolist() == [0, -1, 2, 1]
    assert result.objective == pytest.approx(0.9 + 0.4 + 0.7)


def test_no_candidate_pairs_at_all() -> None:
    problem = dense([[NEG, NEG]], [1, 1])
    result = solve(problem)
    assert result.engines == (Engine.NONE,)
    assert result.status is SolveStatus.OPTIMAL
    assert result.reasons == (NO_ELIGIBLE_REP,)
    assert result.objective == 0.0


# -- reasons and objective ---------------------------------------------------------------
@pytest.mark.parametrize("effort", [None, "pair"], ids=["flow", "cp-sat"])
def test_every_unassigned_lead_has_a_reason(effort: str | None) -> None:
    rng = np.random.default_rng(7)
    score = rng.random((12, 3))
    score[rng.random((12, 3)) < 0.3] = NEG
    e = rng.choice([1.0, 2.0], size=(12, 3)) if effort else None
    problem = dense(score.tolist(), [2, 1, 3], effort=e)
    result = solve(problem)
    check_invariants(problem, result)
    starts = problem.lead_pair_bounds()
    for lead in np.flatnonzero(result.rep_index < 0):
        reason = result.reasons[lead]
        if starts[lead] == starts[lead + 1]:
            assert reason == NO_ELIGIBLE_REP
        else:
            assert reason.startswith("capacity exhausted")
    assert (result.rep_index < 0).any()


def test_objective_recomputed_equals_reported_in_both_units() -> None:
    rng = np.random.default_rng(3)
    problem = dense(rng.normal(size=(20, 4)).tolist(), [5, 5, 5, 2])
    result = solve(problem)
    check_invariants(problem, result)
    table = result.assignments(problem)
    assert table["score"].sum() == pytest.approx(result.objective, abs=1e-9)
    assert result.objective_scaled / result.score_scale == pytest.approx(
        result.objective, abs=problem.n_leads / result.score_scale
    )
    assert result.bound == result.objective and result.gap == 0.0


# -- integer scaling ---------------------------------------------------------------------
def test_scale_scores_keeps_six_decimals_by_default() -> None:
    scaled = scale_scores(np.array([0.7, -0.1234567, 2.0]), multiplier=10)
    assert scaled.scale == SCORE_SCALE
    assert scaled.values.tolist() == [700_000, -123_457, 2_000_000]
    assert scaled.unscale(int(scaled.values.sum())) == pytest.approx(2.576543)


def test_scale_scores_rescales_when_int64_would_overflow() -> None:
    scores = np.array([1e12, -3e11, 5.0])
    scaled = scale_scores(scores, multiplier=1000)
    assert scaled.scale < SCORE_SCALE
    assert np.abs(scaled.values).max() * 1000 < INT_LIMIT
    assert scaled.values[0] / scaled.scale == pytest.approx(1e12)


def test_scale_scores_refuses_what_cannot_fit() -> None:
    with pytest.raises(SolverError, match="overflow 64-bit integer costs"):
        scale_scores(np.array([1e17]), multiplier=1000)


def test_huge_scores_are_solved_with_a_smaller_scale() -> None:
    problem = dense([[3e12, 1e12], [2e12, 2.5e12]], [1, 1])
    result = solve(problem)
    check_invariants(problem, result)
    assert result.score_scale < SCORE_SCALE
    assert result.rep_index.tolist() == [0, 1]
    assert result.objective == pytest.approx(5.5e12)


@pytest.mark.parametrize("effort", [None, [[1.0, 2.0], [1.0, 1.0]]], ids=["flow", "cp-sat"])
def test_solve_refuses_scores_that_overflow(effort: list[list[float]] | None) -> None:
    problem = dense([[1e18, 1.0], [1.0, 1.0]], [1, 2], effort=effort)
    with pytest.raises(SolverError, match="overflow"):
        solve(problem)


# -- time limits -------------------------------------------------------------------------
def hard_gap(n: int = 120, m: int = 12, seed: int = 5) -> RoutingProblem:
    """A tight random GAP: CP-SAT cannot prove it in a few milliseconds."""
    rng = np.random.default_rng(seed)
    effort = rng.integers(5, 26, size=(n, m)).astype(float)
    score = rng.integers(10, 51, size=(n, m)).astype(float)
    capacity = np.floor(0.8 * effort.sum(axis=0) / m)
    return dense(score.tolist(), capacity.tolist(), effort=effort.tolist())


def test_cp_sat_timeout_still_returns_every_lead_with_a_reason() -> None:
    problem = hard_gap()
    result = solve(problem, options=SolveOptions(time_limit_s=0.05))
    assert result.engines == (Engine.CP_SAT,)
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.NO_SOLUTION)
    check_invariants(problem, result)
    if result.status is SolveStatus.FEASIBLE:
        assert result.gap >= 0.0
        assert result.bound >= result.objective
        # the hint alone is feasible, so the solution is at least as covering as greedy
        assert result.n_assigned >= int((greedy_best_fit(problem) >= 0).sum())


def test_no_solution_in_time_marks_the_gap_leads_as_timed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When CP-SAT finds nothing, the flow part is kept and the rest says why."""

    def nothing(problem: RoutingProblem, *args: object, **kwargs: object) -> CpSatSolution:
        scaled = ScaledScores(np.zeros(problem.n_pairs, dtype=np.int64), SCORE_SCALE)
        return CpSatSolution(np.full(problem.n_leads, -1, dtype=np.int64), False, False,
                             scaled, 0, float("inf"))

    monkeypatch.setattr(solve_module, "solve_cpsat", nothing)
    monkeypatch.setattr(solve_module, "solve_gap", lambda *args, **kwargs: None)
    score = [[0.9, NEG, NEG], [NEG, 0.6, 0.4], [NEG, 0.7, 0.2], [NEG, NEG, NEG]]
    effort = [[1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    problem = dense(score, [1, 2, 1], effort=effort)
    result = solve(problem)
    check_invariants(problem, result)
    assert result.status is SolveStatus.NO_SOLUTION
    assert result.rep_index.tolist() == [0, -1, -1, -1]
    assert result.reasons[1:] == (SOLVER_TIMEOUT, SOLVER_TIMEOUT, NO_ELIGIBLE_REP)
    assert result.bound == float("inf") and result.gap == float("inf")


# -- determinism -------------------------------------------------------------------------
@pytest.mark.parametrize("effort", [None, "pair"], ids=["flow", "cp-sat"])
def test_same_seed_same_output(effort: str | None) -> None:
    rng = np.random.default_rng(11)
    n, m = 24, 4
    # many ties: scores on a coarse grid, so only a deterministic engine repeats itself
    score = rng.integers(0, 3, size=(n, m)).astype(float)
    e = rng.choice([1.0, 2.0, 3.0], size=(n, m)) if effort else None
    problem = dense(score.tolist(), [14, 14, 14, 5], effort=e)
    options = SolveOptions(seed=42, time_limit_s=30)
    first = solve(problem, options=options)
    second = solve(problem, options=options)
    assert first.status is SolveStatus.OPTIMAL
    np.testing.assert_array_equal(first.rep_index, second.rep_index)
    assert first.reasons == second.reasons
    pd.testing.assert_frame_equal(first.assignments(problem), second.assignments(problem))


def test_subproblem_keeps_ids_and_pairs() -> None:
    problem = dense([[1.0, 2.0], [NEG, 3.0], [4.0, NEG]], [1, 1])
    sub, kept = problem.subproblem(np.array([1, 2]), np.array([1]))
    assert sub.lead_ids.tolist() == ["L1", "L2"]
    assert sub.rep_ids.tolist() == ["R1"]
    assert kept.tolist() == [2]
    assert sub.pair_score.tolist() == [3.0]


def test_from_pairs_sorts_any_order_and_leaves_the_callers_arrays_alone() -> None:
    rng = np.random.default_rng(1)
    lead = np.repeat(np.arange(30), 4)
    rep = np.tile(np.arange(4), 30)
    score = rng.random(120)
    shuffled = rng.permutation(120)
    kwargs = {"lead_ids": np.arange(30).astype(str), "rep_ids": list("abcd"),
              "capacity": np.full(4, 8.0)}
    ordered = RoutingProblem.from_pairs(pair_lead=lead, pair_rep=rep, pair_score=score,
                                        **kwargs)
    mixed = RoutingProblem.from_pairs(pair_lead=lead[shuffled], pair_rep=rep[shuffled],
                                      pair_score=score[shuffled], **kwargs)
    for name in ("pair_lead", "pair_rep", "pair_score", "pair_effort"):
        np.testing.assert_array_equal(getattr(ordered, name), getattr(mixed, name))
    np.testing.assert_array_equal(ordered.pair_score, score)
    assert lead.flags.writeable and score.flags.writeable  # no aliasing of caller data
    with pytest.raises(InputError, match="sorted by lead, rep and unique"):
        RoutingProblem.from_pairs(pair_lead=[0, 0], pair_rep=[1, 1], pair_score=[1.0, 2.0],
                                  lead_ids=["x"], rep_ids=["a", "b"], capacity=[1.0, 1.0])
    with pytest.raises(InputError, match="rep index out of range"):
        RoutingProblem.from_pairs(pair_lead=[0, 1], pair_rep=[0, 2], pair_score=[1.0, 2.0],
                                  lead_ids=["x", "y"], rep_ids=["a", "b"], capacity=[1.0, 1.0])


def _two_territories() -> tuple[RoutingProblem, npt.NDArray[np.float64], LoadBand]:
    """Two territories of 80 leads × 6 reps, efforts 1 or 2: two CP-SAT components."""
    rng = np.random.default_rng(7)
    n, m = 160, 12
    score = rng.random((n, m))
    territory = (np.arange(n) >= n // 2)[:, None] == (np.arange(m) >= m // 2)[None, :]
    effort = rng.choice([1.0, 2.0], size=(n, m))
    problem = RoutingProblem.from_dense(score, capacity=np.full(m, 14.0),
                                        eligible=territory, effort=effort)
    return problem, effort, LoadBand(lower=np.full(m, 12.0), upper=np.full(m, 13.0))


@pytest.mark.parametrize("band", [False, True])
def test_large_cp_sat_components_solved_apart_give_the_joint_optimum(
        band: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    problem, effort, band_limits = _two_territories()
    m = problem.n_reps
    limits = band_limits if band else None
    options = SolveOptions(time_limit_s=60, seed=0)
    apart = solve(problem, options=options, band=limits)
    monkeypatch.setattr(solve_module, "_OWN_MODEL_LEADS", 10**9)  # one model for both
    joint = solve(problem, options=options, band=limits)
    assert apart.status is joint.status is SolveStatus.OPTIMAL
    assert int((apart.rep_index >= 0).sum()) == int((joint.rep_index >= 0).sum())
    assert apart.objective == pytest.approx(joint.objective, abs=1e-6)
    if limits is not None:
        loads = np.bincount(apart.rep_index[apart.rep_index >= 0], minlength=m,
                            weights=effort[np.flatnonzero(apart.rep_index >= 0),
                                           apart.rep_index[apart.rep_index >= 0]])
        joint_loads = np.bincount(joint.rep_index[joint.rep_index >= 0], minlength=m,
                                  weights=effort[np.flatnonzero(joint.rep_index >= 0),
                                                 joint.rep_index[joint.rep_index >= 0]])
        assert limits.shortfall(loads).sum() == pytest.approx(
            limits.shortfall(joint_loads).sum())


@pytest.mark.parametrize("band", [False, True])
def test_components_on_threads_give_the_same_answer_as_one_by_one(band: bool) -> None:
    problem, _, limits = _two_territories()
    answers = [solve(problem, options=SolveOptions(seed=0, threads=threads),
                     band=limits if band else None)
               for threads in (1, 2)]
    assert answers[0].engines == answers[1].engines == (Engine.CP_SAT, Engine.CP_SAT)
    np.testing.assert_array_equal(answers[0].rep_index, answers[1].rep_index)
    assert answers[0].reasons == answers[1].reasons


def test_a_warm_start_reaches_the_same_banded_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    problem, effort, limits = _two_territories()
    options = SolveOptions(seed=0)
    free = solve(problem, options=options)
    cold = solve(problem, options=options, band=limits)
    passed: list[bool] = []
    real = solve_module.solve_cpsat

    def spy(*args: object, **kwargs: object) -> CpSatSolution:
        passed.append(kwargs.get("max_coverage") is not None)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solve_module, "solve_cpsat", spy)
    warm = solve(problem, options=options, band=limits, warm=free)
    assert passed == [True, True]  # both components skipped their unbanded first pass

    def shortfall(result: SolveResult) -> float:
        on = np.flatnonzero(result.rep_index >= 0)
        loads = np.bincount(result.rep_index[on], weights=effort[on, result.rep_index[on]],
                            minlength=problem.n_reps)
        return float(limits.shortfall(loads).sum())

    assert warm.status is cold.status is SolveStatus.OPTIMAL
    assert warm.n_assigned == cold.n_assigned == free.n_assigned
    assert shortfall(warm) == pytest.approx(shortfall(cold))
    assert warm.objective == pytest.approx(cold.objective, abs=1e-6)
    # a warm start that is not proven optimal says nothing about coverage: not used
    passed.clear()
    unproven = dataclasses.replace(free, status=SolveStatus.FEASIBLE)
    solve(problem, options=options, band=limits, warm=unproven)
    assert passed == [False, False]


@pytest.mark.parametrize("n", [28, 56], ids=["short-of-leads", "too-many-leads"])
@pytest.mark.parametrize("seed", range(2))
def test_cp_sat_band_model_matches_the_min_cost_flow_optimum(
        seed: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit efforts: both engines minimise the same convex band penalty (the k-th unit out
    of band costs k) after coverage, then maximise the score. Forcing CP-SAT must give
    the flow's coverage, penalty and score. The band cannot hold (28 leads for a floor of
    5 × 7; 56 leads for a ceiling of 5 × 9), so the penalty's convexity decides."""
    rng = np.random.default_rng(seed)
    m = 5
    score = rng.random((n, m)) + np.linspace(0.0, 0.6, m)[None, :]  # popular reps
    eligible = rng.random((n, m)) < 0.8
    problem = RoutingProblem.from_dense(score, capacity=rng.integers(10, 16, m).astype(float),
                                        eligible=eligible)
    limits = LoadBand(lower=np.full(m, 6.5), upper=np.full(m, 9.0))

    def penalty(result: SolveResult) -> int:
        loads = np.bincount(result.rep_index[result.rep_index >= 0], minlength=m)
        under = np.maximum(7 - loads, 0)
        over = np.maximum(loads - 9, 0)
        return int((under * (under + 1) // 2 + over * (over + 1) // 2).sum())

    flow = solve(problem, options=SolveOptions(seed=0), band=limits)
    monkeypatch.setattr(solve_module, "_gap_shaped_reps",
                        lambda problem, split=None: np.ones(problem.n_reps, dtype=bool))
    sat = solve(problem, options=SolveOptions(seed=0), band=limits)
    assert flow.engines == (Engine.MIN_COST_FLOW,) and Engine.CP_SAT in sat.engines
    assert sat.status is flow.status is SolveStatus.OPTIMAL
    assert sat.n_assigned == flow.n_assigned
    assert penalty(flow) > 0
    assert penalty(sat) == penalty(flow)
    assert sat.objective == pytest.approx(flow.objective, abs=1e-5)


def test_band_on_score_shares_expected_value_and_skips_reps_without_pairs() -> None:
    # both leads prefer their own rep (0.5 and 0.6), but a value ceiling of 0.5 per rep
    # makes the crossed assignment (0.2 + 0.1) the only one inside the band; rep 2 has no
    # candidate pairs at all and must not break the per-component solve
    score = np.array([[0.5, 0.1, 0.0], [0.2, 0.6, 0.0]])
    eligible = np.array([[True, True, False], [True, True, False]])
    problem = RoutingProblem.from_dense(score, capacity=np.full(3, 2.0), eligible=eligible)
    value_band = LoadBand(lower=np.zeros(3), upper=np.full(3, 0.5), on_score=True)
    crossed = solve(problem, options=SolveOptions(seed=0), band=value_band)
    assert crossed.status is SolveStatus.OPTIMAL and crossed.engines == (Engine.CP_SAT,)
    assert crossed.rep_index.tolist() == [1, 0]
    free = solve(problem, options=SolveOptions(seed=0))
    assert free.rep_index.tolist() == [0, 1]
