"""Re-assigning a few reps at a time (``solver._gap_lns``): sub-problems free exactly the
chosen reps' rows, results stay within the loads and band floors, never get worse, and a
start one exchange away from the optimum is repaired."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from solver import RoutingProblem
from solver._cpsat import CpSatSettings
from solver._gap_engine import _solve_restricted
from solver._gap_lns import _freed, reassign_reps
from solver._gap_lp import DenseGap, dense_gap, effort_units, lp_prices
from solver._gap_search import balance, loads, repair, within_band

SETTINGS = CpSatSettings(time_limit_s=20.0, seed=0, workers=1)


def _gap(problem: RoutingProblem, lower: int = 0) -> DenseGap:
    units, capacity = effort_units(problem)
    floor = np.full(problem.n_reps, lower, dtype=np.int64)
    gap = dense_gap(problem, floor, capacity, units, capacity)
    assert gap is not None
    return gap


def _exact(gap: DenseGap, values: np.ndarray):
    search = SimpleNamespace(settings=SETTINGS, target=lambda: math.inf)

    def solve(keep, hint, seconds):
        return _solve_restricted(gap, values, keep, hint, search, seconds)
    return solve


def _tight(n: int, m: int, seed: int) -> RoutingProblem:
    """Per-pair efforts 1-9, capacities ~10% above the mean load (type-D like)."""
    rng = np.random.default_rng(seed)
    effort = rng.integers(1, 10, size=(n, m)).astype(float)
    score = -(10 - effort) * rng.integers(1, 4, size=(n, m))  # cheap pairs are heavy ones
    capacity = np.full(m, np.ceil(1.1 * effort.mean() * n / m))
    return RoutingProblem.from_dense(score.astype(float), capacity, effort=effort)


def test_a_sub_problem_frees_exactly_the_chosen_reps_rows() -> None:
    gap = _gap(_tight(6, 4, seed=0))
    assign = np.array([0, 1, 2, 3, 0, 1])
    keep = _freed(gap, assign, np.array([0, 2]))
    for row, rep in enumerate(assign):
        if rep in (0, 2):
            assert keep[row].tolist() == [True, False, True, False]
        else:
            assert keep[row].sum() == 1 and keep[row, rep]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lower", [0, 12])
def test_never_worse_and_within_loads_and_floors(seed: int, lower: int) -> None:
    gap = _gap(_tight(40, 6, seed), lower=lower)
    prices = lp_prices(gap)
    assert prices is not None
    start = balance(gap, repair(gap, prices.fraction))
    if not within_band(gap, start):
        pytest.skip("no band-feasible start to improve on this seed")
    values = np.where(gap.candidate, gap.score, -1e9).round().astype(np.int64)
    rows = np.arange(gap.shape[0])
    result = reassign_reps(gap, values, start, solve=_exact(gap, values),
                           deadline=float("inf"), seed=seed, good_enough=math.inf)
    assert within_band(gap, result.assign)
    assert np.all(loads(gap, result.assign) >= lower)
    assert result.value == int(values[rows, result.assign].sum())
    assert result.value >= int(values[rows, start].sum())
    assert result.solves > 0


def test_a_start_one_exchange_from_the_optimum_is_repaired() -> None:
    # three reps of capacity 2; each row has one clearly best rep
    score = np.array([[9, 0, 0], [9, 0, 0], [0, 9, 0], [0, 9, 0], [0, 0, 9], [0, 0, 9]],
                     dtype=float)
    problem = RoutingProblem.from_dense(score, np.full(3, 2.0), effort=np.ones((6, 3)))
    gap = _gap(problem)
    values = gap.score.round().astype(np.int64)
    start = np.array([1, 0, 0, 1, 2, 2])  # rows 0 and 2 exchanged between reps 0 and 1
    result = reassign_reps(gap, values, start, solve=_exact(gap, values),
                           deadline=float("inf"), seed=0, good_enough=math.inf)
    assert result.assign.tolist() == [0, 0, 1, 1, 2, 2]
    assert result.value == 54


def test_it_stops_at_good_enough_and_at_the_deadline() -> None:
    gap = _gap(_tight(30, 5, seed=3))
    prices = lp_prices(gap)
    assert prices is not None
    start = balance(gap, repair(gap, prices.fraction))
    values = np.where(gap.candidate, gap.score, -1e9).round().astype(np.int64)
    rows = np.arange(gap.shape[0])
    value = int(values[rows, start].sum())
    reached = reassign_reps(gap, values, start, solve=_exact(gap, values),
                            deadline=float("inf"), seed=0, good_enough=value)
    assert reached.solves == 0 and reached.assign.tolist() == start.tolist()
    late = reassign_reps(gap, values, start, solve=_exact(gap, values), deadline=0.0,
                         seed=0, good_enough=math.inf)
    assert late.solves == 0 and late.value == value
