"""HiGHS on a restricted GAP neighbourhood (``solver._gap_mip``): against brute force on
tiny cases, against the exact CP-SAT model on small ones, and its exact feasibility check."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_gap_engine import brute_force, random_gap, tiny_gaps

from solver import RoutingProblem
from solver._gap_lp import DenseGap, dense_gap, effort_units
from solver._gap_mip import _feasible, solve_restricted_mip
from solver._scaling import scale_scores


def _dense(problem: RoutingProblem, lower: np.ndarray | None = None) -> tuple[DenseGap, np.ndarray]:
    units, capacity = effort_units(problem)
    gap = dense_gap(problem, lower, None, units, capacity)
    assert gap is not None
    scaled = scale_scores(problem.pair_score, multiplier=4 * (problem.n_leads + 1) ** 2)
    values = np.zeros(gap.shape, dtype=np.int64)
    values[gap.candidate] = scaled.values[gap.pair[gap.candidate]]
    return gap, values


def _value(gap: DenseGap, assign: np.ndarray) -> float:
    return float(gap.score[np.arange(len(assign)), assign].sum())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=tiny_gaps())
def test_every_cell_kept_gives_the_brute_force_optimum(problem: RoutingProblem) -> None:
    coverage, best = brute_force(problem)
    gap, values = _dense(problem)
    found = solve_restricted_mip(gap, values, gap.candidate.copy(), 10.0, 0.0)
    if coverage < gap.shape[0]:  # some row cannot be placed: no full assignment exists
        assert found is None
        return
    assert found is not None
    assert _feasible(gap, np.arange(len(found)), gap.effort[np.arange(len(found)), found],
                     found, len(found))
    assert _value(gap, found) == pytest.approx(best, abs=1e-6)


def test_only_kept_cells_are_used_and_the_result_is_the_restricted_optimum() -> None:
    problem = random_gap(7, 3, seed=11, slack=1.3)
    gap, values = _dense(problem)
    keep = gap.candidate.copy()
    keep[np.arange(gap.shape[0]), np.argmax(gap.score, axis=1)] = False  # no favourite
    found = solve_restricted_mip(gap, values, keep, 10.0, 0.0)
    assert found is not None
    assert keep[np.arange(len(found)), found].all()
    # the same restriction as a problem of its own, solved by brute force
    restricted = RoutingProblem.from_dense(
        np.where(keep, gap.score, 0.0), problem.capacity,
        effort=gap.effort.astype(float), eligible=keep)
    _, best = brute_force(restricted)
    assert _value(gap, found) == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_cases_match_the_exact_cp_sat_model(seed: int) -> None:
    """Every cell kept and no gap allowed: HiGHS's optimum is CP-SAT's (within the
    neighbourhood's relative gap floor)."""
    from solver._cpsat import solve_cpsat
    from solver._cpsat_types import CpSatSettings

    problem = random_gap(40, 5, seed=seed, per_pair=seed == 2)
    gap, values = _dense(problem)
    found = solve_restricted_mip(gap, values, gap.candidate.copy(), 20.0, 0.0)
    exact = solve_cpsat(problem, CpSatSettings(time_limit_s=20.0, seed=0, workers=1))
    assert exact.proven_optimal and found is not None
    assert (exact.rep_index >= 0).all()
    optimum = float(problem.pair_score[np.searchsorted(
        problem.pair_lead * problem.n_reps + problem.pair_rep,
        np.arange(problem.n_leads) * problem.n_reps + exact.rep_index)].sum())
    assert _value(gap, found) == pytest.approx(optimum, rel=2e-5)


def test_a_band_floor_no_assignment_meets_gives_none() -> None:
    problem = random_gap(6, 2, seed=1, slack=2.0)
    gap, values = _dense(problem)
    too_high = replace(gap, lower=np.full(2, int(gap.effort[:, 0].sum())))  # both reps full
    assert solve_restricted_mip(too_high, values, gap.candidate.copy(), 5.0, 0.0) is None


def test_the_exact_check_rejects_a_row_twice_a_missing_row_and_an_overload() -> None:
    problem = random_gap(4, 2, seed=3, slack=1.0)
    gap, _ = _dense(problem)
    efforts = gap.effort[:, 0]
    ok = np.array([0, 1, 0, 1])
    assert _feasible(gap, np.arange(4), efforts, ok, 4) == bool(
        np.all(np.bincount(ok, weights=efforts, minlength=2) <= gap.upper))
    assert not _feasible(gap, np.array([0, 0, 1, 2]), efforts, ok, 4)  # row 0 twice
    assert not _feasible(gap, np.array([0, 1, 2]), efforts[:3], ok[:3], 4)  # row 3 missing
    assert not _feasible(gap, np.arange(4), efforts, np.zeros(4, np.int64), 4) or \
        efforts.sum() <= gap.upper[0]


@pytest.mark.parametrize("seed", [0, 7])  # seeds whose local search stops short of 0.01%
def test_the_engine_with_a_gap_limit_uses_highs_and_stays_within_it_of_the_exact_optimum(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CP-SAT slice made to find nothing: HiGHS's incumbent must carry
    the neighbourhood stage, and the answer stays within the gap limit of the exact
    CP-SAT optimum, with a valid bound."""
    import solver._gap_engine as engine
    import solver._solve as solve_module
    from solver import SolveOptions, SolveStatus, solve

    calls: list[int] = []
    inner = engine.solve_restricted_mip

    def spy(*args: object, **kwargs: object) -> object:
        found = inner(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(0 if found is None else 1)
        return found

    problem = random_gap(120, 12, seed=seed)
    exact = solve(problem, options=SolveOptions(time_limit_s=20))  # the engine proves it, no limit
    assert exact.status is SolveStatus.OPTIMAL
    cp_sat = engine._solve_restricted

    def no_slice(*args: object, deterministic: float | None = None, **kwargs: object
                 ) -> tuple[object, bool]:
        if deterministic is not None:
            return None, False  # the slice finds nothing
        return cp_sat(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_solve_restricted", no_slice)
    monkeypatch.setattr(engine, "solve_restricted_mip", spy)
    ours = solve(problem, options=SolveOptions(time_limit_s=20, gap_limit=1e-4))
    assert calls and calls[0] == 1
    assert ours.n_assigned == problem.n_leads
    assert ours.objective >= exact.objective * (1 - 1e-4) - 1e-9
    assert ours.bound >= exact.objective - 1e-6
    monkeypatch.setattr(solve_module, "solve_gap", lambda *args, **kwargs: None)
    reference = solve(problem, options=SolveOptions(time_limit_s=20))  # the exact weighted model
    assert reference.objective == pytest.approx(exact.objective, abs=1e-4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=tiny_gaps())
def test_scipy_milp_fallback_gives_the_same_optimum(problem: RoutingProblem) -> None:
    """The fallback for a scipy without the bundled HiGHS object: same optimum."""
    from solver._gap_mip import _run_highs, _run_milp

    gap, values = _dense(problem)
    cell_i, cell_j = np.nonzero(gap.candidate)
    if len(cell_i) == 0:  # solve_restricted_mip answers that case itself
        return
    efforts = gap.effort[cell_i, cell_j]
    cost = -values[cell_i, cell_j] / float(max(np.abs(values).max(initial=1), 1))
    direct = _run_highs(gap, cell_i, cell_j, efforts, cost, 10.0, 1e-9, None, None)
    fallback = _run_milp(gap, cell_i, cell_j, efforts, cost, 10.0, 1e-9)
    assert (direct is None) == (fallback is None)
    if direct is not None and fallback is not None:
        assert float(cost @ (direct > 0.5)) == pytest.approx(float(cost @ (fallback > 0.5)),
                                                            abs=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_started_from_a_hint_it_stops_at_the_target_and_never_below_it(seed: int) -> None:
    problem = random_gap(60, 6, seed=seed)
    gap, values = _dense(problem)
    optimum = solve_restricted_mip(gap, values, gap.candidate.copy(), 20.0, 0.0)
    assert optimum is not None
    best = int(values[np.arange(len(optimum)), optimum].sum())
    # a start that is usually not the optimum: the LP rounded and balanced (HiGHS ignores
    # an infeasible one)
    from solver._gap_lp import lp_prices
    from solver._gap_search import balance, repair

    prices = lp_prices(gap)
    assert prices is not None
    hint = balance(gap, repair(gap, prices.fraction))
    target = best - abs(best) // 200  # 0.5% below the optimum
    found = solve_restricted_mip(gap, values, gap.candidate.copy(), 20.0, 0.0, hint=hint,
                                 target=target)
    assert found is not None
    assert _feasible(gap, np.arange(len(found)), gap.effort[np.arange(len(found)), found],
                     found, len(found))
    assert int(values[np.arange(len(found)), found].sum()) >= target
    # a target above the optimum cannot stop it early: it still ends at the optimum
    found = solve_restricted_mip(gap, values, gap.candidate.copy(), 20.0, 0.0,
                                 target=best + 1)
    assert found is not None
    assert int(values[np.arange(len(found)), found].sum()) == best
