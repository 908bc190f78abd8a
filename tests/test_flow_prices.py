"""Rep prices from the min-cost flow (the LP duals) and the pruned flow they certify."""

from __future__ import annotations

import numpy as np
import pytest

import solver._flow as flow_module
from solver import RoutingProblem, SolveOptions, solve
from solver._flow import capacity_prices, max_coverage_assignment, rep_slots, solve_pruned
from solver._lp import solve_lp_relaxation
from solver._scaling import scale_scores


def _random_problem(seed: int, *, effort: float | None = None,
                    negative: bool = True) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 20)), int(rng.integers(1, 6))
    score = rng.normal(0.5, 0.4 if negative else 0.0, size=(n, m)).round(2)
    if not negative:
        score = rng.random((n, m)).round(2)
    eligible = rng.random((n, m)) < 0.8
    eligible[0, 0] = True
    unit = effort if effort is not None else float(rng.choice([1.0, 2.0]))
    capacity = rng.integers(0, max(2, 2 * n // m), m) * unit
    return RoutingProblem.from_dense(score, capacity, eligible=eligible,
                                     effort=np.full(n, unit))


def _lp_value(problem: RoutingProblem, capacity: np.ndarray) -> float:
    relaxation = solve_lp_relaxation(problem, problem.pair_score, problem.pair_effort,
                                     capacity)
    assert relaxation is not None
    return float(problem.pair_score @ relaxation.x)


@pytest.mark.parametrize("seed", range(40))
def test_flow_prices_are_optimal_lp_duals(seed: int) -> None:
    problem = _random_problem(seed)
    prices = capacity_prices(problem, problem.pair_score, problem.capacity)
    assert prices is not None
    relaxation = solve_lp_relaxation(problem, problem.pair_score, problem.pair_effort,
                                     problem.capacity)
    assert relaxation is not None
    # dual feasible by construction (best lead duals for these prices, prices >= 0) ...
    assert np.all(prices >= -1e-12)
    lead = np.zeros(problem.n_leads)
    np.maximum.at(lead, problem.pair_lead,
                  problem.pair_score - prices[problem.pair_rep] * problem.pair_effort)
    dual_objective = lead.sum() + problem.capacity @ prices
    # ... and with the LP's objective: optimal (strong duality)
    assert dual_objective == pytest.approx(float(problem.pair_score @ relaxation.x), abs=1e-9)
    # HiGHS may return any optimal dual under degeneracy; ours is the smallest one
    assert np.all(prices <= relaxation.capacity_duals + 1e-7)


@pytest.mark.parametrize("seed", range(15))
def test_flow_price_is_the_gain_of_one_more_unit_of_capacity(seed: int) -> None:
    problem = _random_problem(seed, effort=1.0)
    prices = capacity_prices(problem, problem.pair_score, problem.capacity)
    assert prices is not None
    base = _lp_value(problem, problem.capacity)
    for rep in range(problem.n_reps):
        more = problem.capacity.copy()
        more[rep] += 1.0
        assert _lp_value(problem, more) - base == pytest.approx(prices[rep], abs=1e-9)


def test_non_degenerate_price_by_hand() -> None:
    # one rep, one slot, two leads: the slot holds the 0.9 lead; one more slot adds 0.5
    problem = RoutingProblem.from_dense(np.array([[0.9], [0.5]]), [1.0])
    prices = capacity_prices(problem, problem.pair_score, problem.capacity)
    assert prices is not None and prices.tolist() == pytest.approx([0.5])
    # a rep with room to spare is worth nothing at the margin
    roomy = RoutingProblem.from_dense(np.array([[0.9], [0.5]]), [3.0])
    spare = capacity_prices(roomy, roomy.pair_score, roomy.capacity)
    assert spare is not None and spare.tolist() == [0.0]


def test_no_flow_prices_when_the_lp_is_not_a_transportation_problem() -> None:
    mixed = RoutingProblem.from_dense(np.ones((2, 1)), [3.0], effort=np.array([1.0, 2.0]))
    assert capacity_prices(mixed, mixed.pair_score, mixed.capacity) is None
    half = RoutingProblem.from_dense(np.ones((2, 1)), [1.5])
    assert capacity_prices(half, half.pair_score, half.capacity) is None


def _value(problem: RoutingProblem, weight: np.ndarray, rep_index: np.ndarray
           ) -> tuple[int, int]:
    chosen = rep_index[problem.pair_lead] == problem.pair_rep
    return int((rep_index >= 0).sum()), int(weight[chosen].sum())


def test_pruned_flow_equals_the_full_flow_and_re_adds_pairs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rounds: list[int] = []
    original = flow_module._violations

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        rounds.append(len(found))
        return found

    monkeypatch.setattr(flow_module, "_violations", counted)
    decided = 0
    for seed in range(120):
        problem = _random_problem(seed, effort=1.0, negative=False)
        weight = scale_scores(problem.pair_score, multiplier=1000).values
        slots = np.minimum(rep_slots(problem, np.ones(problem.n_reps)),
                           problem.n_leads).astype(np.int64)
        full = max_coverage_assignment(problem.n_leads, problem.n_reps, problem.pair_lead,
                                       problem.pair_rep, weight, slots)
        pruned = solve_pruned(problem, weight, slots, top=1)
        if pruned is not None:  # None: coverage short, the caller solves the full graph
            decided += 1
            assert _value(problem, weight, pruned) == _value(problem, weight, full)
    assert decided >= 20
    assert any(count > 0 for count in rounds)  # some solves had to re-add priced pairs


def test_solve_takes_the_pruned_path_with_the_same_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    score = rng.random((60, 8))
    problem = RoutingProblem.from_dense(score, np.full(8, 9.0), eligible=rng.random((60, 8)) < 0.7)
    full = solve(problem, options=SolveOptions())
    calls: list[int] = []
    original = flow_module.solve_pruned

    def spy(*args: object, **kwargs: object) -> np.ndarray | None:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(out is not None)
        return out

    monkeypatch.setattr(flow_module, "PRUNE_MIN_PAIRS", 1)
    monkeypatch.setattr(flow_module, "PRUNE_TOP_K", 2)
    monkeypatch.setattr(flow_module, "solve_pruned", spy)
    pruned = solve(problem, options=SolveOptions())
    assert calls == [True]
    assert pruned.n_assigned == full.n_assigned
    assert pruned.objective == pytest.approx(full.objective, abs=1e-9)


def test_sampled_prices_choose_the_first_graph_without_changing_the_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_module, "PRUNE_SAMPLE_MIN_LEADS", 16)
    estimates: list[bool] = []
    original = flow_module._sample_prices

    def spy(*args: object) -> np.ndarray | None:
        out = original(*args)  # type: ignore[arg-type]
        estimates.append(out is not None and bool(np.any(out > 0)))
        return out

    monkeypatch.setattr(flow_module, "_sample_prices", spy)
    rng = np.random.default_rng(3)
    for _ in range(5):
        n, m = 80, 10
        # popular reps: a rep bias every lead shares, so raw top-k picks crowd them
        score = rng.random((n, m)) * 0.3 + np.linspace(0.0, 0.7, m)[None, :]
        problem = RoutingProblem.from_dense(score.round(3), np.full(m, 9.0),
                                            eligible=rng.random((n, m)) < 0.8)
        weight = scale_scores(problem.pair_score, multiplier=1000).values
        slots = np.full(m, 9, dtype=np.int64)
        full = max_coverage_assignment(n, m, problem.pair_lead, problem.pair_rep, weight,
                                       slots)
        pruned = solve_pruned(problem, weight, slots, top=2)
        assert pruned is not None
        assert _value(problem, weight, pruned) == _value(problem, weight, full)
    assert any(estimates)  # scarce reps were priced on the sample
