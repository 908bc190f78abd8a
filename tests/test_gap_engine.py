"""The GAP engine (``solver._gap_engine``): LP prices and bounds, local search, CP-SAT
neighbourhoods and the gap limit; against brute force on tiny cases and against the exact
weighted CP-SAT model on small ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver._gap_engine as gap_engine
import solver._solve as solve_module
from solver import RoutingProblem, SolveOptions, SolveStatus, solve
from solver._band import LoadBand
from solver._cpsat import CpSatSettings
from solver._gap_bound import lagrangian_value
from solver._gap_engine import solve_gap
from solver._gap_lp import (
    _flow_prices,
    _highs_prices,
    dense_gap,
    effort_units,
    lagrangian_bound,
)
from solver._gap_search import balance, improve, loads, repair

SETTINGS = CpSatSettings(time_limit_s=20.0, seed=0, workers=1)


def random_gap(n: int, m: int, seed: int, per_pair: bool = False,
               slack: float = 1.1) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    if per_pair:
        effort = rng.integers(1, 4, size=(n, m)).astype(float)
    else:
        effort = np.repeat(rng.choice([1.0, 2.0, 3.0], n)[:, None], m, axis=1)
    score = rng.random((n, m))
    capacity = np.ceil(slack * effort.mean(axis=1).sum() / m) * np.ones(m)
    return RoutingProblem.from_dense(score, capacity, effort=effort)


def brute_force(problem: RoutingProblem) -> tuple[int, float]:
    """(maximal coverage, best score at it) over all assignments (-1 = unrouted)."""
    n, m = problem.n_leads, problem.n_reps
    score = np.full((n, m + 1), -np.inf)
    effort = np.full((n, m + 1), np.inf)
    score[problem.pair_lead, problem.pair_rep] = problem.pair_score
    effort[problem.pair_lead, problem.pair_rep] = problem.pair_effort
    score[:, m], effort[:, m] = 0.0, 0.0  # column m: not routed
    best = (-1, -np.inf)
    rows = np.arange(n)
    for choice in itertools.product(range(m + 1), repeat=n):
        reps = np.array(choice)
        if not np.isfinite(score[rows, reps]).all():
            continue
        load = np.bincount(reps, weights=effort[rows, reps], minlength=m + 1)[:m]
        if np.all(load <= problem.capacity + 1e-9):
            key = (int((reps < m).sum()), float(score[rows, reps].sum()))
            best = max(best, key)
    return best


@st.composite
def tiny_gaps(draw: st.DrawFn) -> RoutingProblem:
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    cells = n * m
    eligible = np.array(draw(st.lists(st.booleans(), min_size=cells, max_size=cells)))
    eligible = eligible.reshape(n, m)
    eligible[np.arange(n), draw(st.lists(st.integers(0, m - 1), min_size=n, max_size=n))] = True
    score = np.array(draw(st.lists(st.integers(-5, 9), min_size=cells, max_size=cells)),
                     dtype=float).reshape(n, m) / 3
    effort = np.array(draw(st.lists(st.integers(1, 3), min_size=cells, max_size=cells)),
                      dtype=float).reshape(n, m)
    capacity = np.array(draw(st.lists(st.integers(0, 8), min_size=m, max_size=m)), float)
    return RoutingProblem.from_dense(score, capacity, effort=effort, eligible=eligible)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=tiny_gaps())
def test_engine_matches_brute_force_and_its_bounds_hold(problem: RoutingProblem) -> None:
    coverage, best = brute_force(problem)
    found = solve_gap(problem, SETTINGS, 0.0)
    fits = problem.pair_effort <= problem.capacity[problem.pair_rep]
    coverable = len(np.unique(problem.pair_lead[fits]))
    if coverage < coverable:  # not every lead can be routed: the exact model's job
        assert found is None
        return
    assert found is not None
    assert found.proven
    assert int((found.rep_index >= 0).sum()) == coverage  # coverage first
    value = found.objective_scaled / found.scaled.scale
    assert value == pytest.approx(best, abs=problem.n_leads / found.scaled.scale + 1e-9)
    assert found.bound >= best - 1e-9
    # the knapsack Lagrangian bound is valid for any multipliers and below the LP's
    units, capacity = effort_units(problem)
    gap = dense_gap(problem, None, None, units, capacity)
    assert gap is not None
    values = np.where(gap.candidate, gap.score, -np.inf)
    for u in (np.zeros(gap.shape[0]), np.linspace(-1, 1, gap.shape[0])):
        bound, _ = lagrangian_value(gap, values, u, np.unique(gap.effort[gap.candidate]).tolist())
        assert bound >= best - 1e-9


def test_flow_prices_give_the_lp_bound_of_highs() -> None:
    """The transportation LP's potentials are optimal duals: same bound as HiGHS."""
    problem = random_gap(60, 6, seed=3)
    units, capacity = effort_units(problem)
    gap = dense_gap(problem, None, None, units, capacity)
    assert gap is not None
    flow = _flow_prices(gap, gap.effort[:, 0])
    highs = _highs_prices(gap)
    assert flow is not None and highs is not None
    assert lagrangian_bound(gap, flow.price) == pytest.approx(
        lagrangian_bound(gap, highs.price), rel=1e-7)


@pytest.mark.parametrize("per_pair", [False, True], ids=["lead-effort", "pair-effort"])
@pytest.mark.parametrize("seed", [0, 1])
def test_engine_reaches_the_exact_cp_sat_optimum(per_pair: bool, seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_gap(30, 4, seed=seed, per_pair=per_pair)
    ours = solve(problem, options=SolveOptions(time_limit_s=20))
    monkeypatch.setattr(solve_module, "solve_gap", lambda *args, **kwargs: None)
    exact = solve(problem, options=SolveOptions(time_limit_s=20))
    assert exact.status is ours.status is SolveStatus.OPTIMAL
    assert ours.n_assigned == exact.n_assigned == problem.n_leads
    assert ours.objective == pytest.approx(exact.objective, abs=1e-4)


def test_band_is_kept_and_matches_the_exact_banded_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    problem = random_gap(24, 4, seed=5, slack=1.3)
    total = float(problem.pair_effort.reshape(24, 4)[:, 0].sum())
    band = LoadBand(lower=np.full(4, 0.9 * total / 4), upper=np.full(4, 1.1 * total / 4))
    ours = solve(problem, options=SolveOptions(time_limit_s=20), band=band)
    monkeypatch.setattr(solve_module, "solve_gap", lambda *args, **kwargs: None)
    exact = solve(problem, options=SolveOptions(time_limit_s=20), band=band)
    assert ours.status is exact.status is SolveStatus.OPTIMAL
    assert ours.objective == pytest.approx(exact.objective, abs=1e-4)
    effort = problem.pair_effort.reshape(24, 4)[:, 0]
    load = np.bincount(ours.rep_index, weights=effort, minlength=4)
    assert np.all(load >= np.ceil(band.lower - 1e-9)) and np.all(load <= band.upper + 1e-9)


def _stage_calls(monkeypatch: pytest.MonkeyPatch, stage: str) -> list[tuple[int, int]]:
    """Records the shape of each part a stage of ``_Search`` runs on (``reassign_reps``:
    the rep-set search, ``dive``: the column-generation dive)."""
    calls: list[tuple[int, int]] = []
    original = getattr(gap_engine._Search, stage)

    def recorded(self: gap_engine._Search, share: float, *rest: object) -> object:
        calls.append(self.gap.shape)
        return original(self, share, *rest)

    monkeypatch.setattr(gap_engine._Search, stage, recorded)
    return calls


def _few_rows_per_rep(n: int, m: int, seed: int) -> RoutingProblem:
    """A backtest's daily batch: fewer than two rows per rep, per-pair efforts, small
    capacities, heavier pairs scoring more (so the first neighbourhood does not prove it)."""
    rng = np.random.default_rng(seed)
    effort = rng.integers(1, 4, size=(n, m)).astype(float)
    score = rng.random((n, m)) * 0.2 + 0.1 * effort
    return RoutingProblem.from_dense(score, rng.integers(2, 4, size=m).astype(float),
                                     effort=effort)


@pytest.mark.parametrize("problem", [random_gap(40, 6, seed=0), random_gap(30, 5, seed=1),
                                     _few_rows_per_rep(10, 8, seed=0),
                                     _few_rows_per_rep(12, 10, seed=1)],
                         ids=["bound-40x6", "bound-30x5", "few-rows-10x8", "few-rows-12x10"])
def test_a_proof_within_reach_skips_the_rep_set_search(
        problem: RoutingProblem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proving the optimum (gap 0), the rep-set search runs only when neither the knapsack
    bound proves the incumbent nor the part is small enough for the exact stage (each of
    these batches ran it before, ~0.8 s of a backtest's batch for nothing); nor does the
    dive."""
    calls = _stage_calls(monkeypatch, "reassign_reps")
    dives = _stage_calls(monkeypatch, "dive")
    ours = solve(problem, options=SolveOptions(time_limit_s=20))
    assert calls == dives == []
    monkeypatch.setattr(solve_module, "solve_gap", lambda *args, **kwargs: None)
    exact = solve(problem, options=SolveOptions(time_limit_s=20))
    assert ours.status is exact.status is SolveStatus.OPTIMAL
    assert ours.objective == pytest.approx(exact.objective, abs=1e-4)


def _small_type_d() -> RoutingProblem:
    """Efforts 1-60 per pair (more effort classes than the knapsack bound takes), five
    rows per rep, capacities binding: OR-Library type D in small."""
    rng = np.random.default_rng(4)
    effort = rng.integers(1, 61, size=(40, 8)).astype(float)
    score = -(61 - effort) * rng.uniform(0.9, 1.1, size=(40, 8))  # cheap pairs are heavy
    capacity = np.full(8, np.ceil(0.8 * effort.mean() * 40 / 8))
    return RoutingProblem.from_dense(score, capacity, effort=effort)


def test_the_rep_set_search_still_runs_on_tight_parts_without_a_knapsack_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    problem = _small_type_d()
    calls = _stage_calls(monkeypatch, "reassign_reps")
    dives = _stage_calls(monkeypatch, "dive")
    result = solve(problem, options=SolveOptions(time_limit_s=5))
    assert result.n_assigned == problem.n_leads
    assert dives == [(40, 8)]  # first the dive, then the search from its assignment
    assert calls == [(40, 8)]
    assert result.gap < 0.01  # proven within 1%: the dive's root bound counts


def test_the_rep_set_search_starts_from_the_dives_best_two(
        monkeypatch: pytest.MonkeyPatch) -> None:
    dived: list[tuple[np.ndarray, ...]] = []
    starts: list[np.ndarray] = []
    original_dive, original_search = gap_engine.dive, gap_engine.reassign_reps

    def dive(*args, **kwargs):
        result = original_dive(*args, **kwargs)
        dived.append(result.assigns)
        return result

    def search(gap, values, assign, **kwargs):
        starts.append(assign)
        return original_search(gap, values, assign, **kwargs)

    monkeypatch.setattr(gap_engine, "dive", dive)
    monkeypatch.setattr(gap_engine, "reassign_reps", search)
    result = solve(_small_type_d(), options=SolveOptions(time_limit_s=5))
    assert result.n_assigned == 40 and len(dived) == 1
    best_two = dived[0][:gap_engine._LNS_STARTS]
    assert len(best_two) == 2  # the descents differ on this part
    assert [s.tobytes() for s in starts] == [a.tobytes() for a in best_two][:len(starts)]
    if result.status is not SolveStatus.OPTIMAL:  # a proof ends the search early
        assert len(starts) == 2


@pytest.mark.parametrize("dives", [True, False], ids=["dive", "no-dive"])
def test_proving_time_boxes_the_first_neighbourhood_and_gives_it_back_without_a_dive(
        dives: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    shares: list[tuple[int | None, float]] = []
    original = gap_engine._Search.neighbourhood

    def recorded(self: gap_engine._Search, width: int | None, fraction: np.ndarray,
                 share: float) -> None:
        shares.append((width, share))
        original(self, width, fraction, share)

    monkeypatch.setattr(gap_engine._Search, "neighbourhood", recorded)
    if not dives:
        monkeypatch.setattr(gap_engine, "_DIVE_MIN_GAP", 1.0)  # the incumbent is near enough
    solve(_small_type_d(), options=SolveOptions(time_limit_s=5))
    first, rest = gap_engine._FIRST_SHARE_PROVING, gap_engine._STAGE_SHARE[0] - \
        gap_engine._FIRST_SHARE_PROVING
    if dives:
        assert shares[0] == (2, first) and (2, rest) not in shares
    else:
        assert shares[:2] == [(2, first), (2, pytest.approx(rest))]


@pytest.mark.parametrize("limit", [0.0, 0.002, 0.05])
def test_gap_is_reported_and_the_limit_stops_the_search(limit: float) -> None:
    problem = random_gap(120, 12, seed=7)
    result = solve(problem, options=SolveOptions(time_limit_s=20, gap_limit=limit))
    assert result.n_assigned == problem.n_leads
    assert np.isfinite(result.bound) and result.bound >= result.objective - 1e-9
    expected = (result.bound - result.objective) / abs(result.bound)
    assert result.gap == pytest.approx(max(expected, 0.0), abs=1e-12)
    if result.status is SolveStatus.OPTIMAL:
        assert result.gap == 0.0
    else:
        assert result.gap <= limit + 1e-9  # stopped at the limit, well before the time limit


def test_a_timed_out_engine_still_returns_every_lead_with_a_reason() -> None:
    problem = random_gap(200, 10, seed=2)
    result = solve(problem, options=SolveOptions(time_limit_s=0.01))
    assert len(result.reasons) == problem.n_leads and all(result.reasons)
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL,
                             SolveStatus.NO_SOLUTION)
    assert result.bound >= result.objective - 1e-9


def test_local_search_keeps_the_band_and_never_gets_worse() -> None:
    problem = random_gap(80, 8, seed=4)
    units, capacity = effort_units(problem)
    lower = np.full(8, 10, dtype=np.int64)
    gap = dense_gap(problem, lower, capacity, units, capacity)
    assert gap is not None
    flow = _flow_prices(gap, gap.effort[:, 0])
    assert flow is not None
    start = balance(gap, repair(gap, flow.fraction))
    rows = np.arange(gap.shape[0])
    better = improve(gap, start, deadline=float("inf"))
    assert gap.score[rows, better].sum() >= gap.score[rows, start].sum() - 1e-12
    load = loads(gap, better)
    assert np.all(load <= gap.upper)
    if np.all(loads(gap, start) >= lower):
        assert np.all(load >= lower)

