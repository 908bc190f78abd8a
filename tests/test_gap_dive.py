"""Column generation and diving (``solver._gap_dive``): the knapsack tables against brute
force, the Lagrangian bound valid at any duals, and dives that end within the loads and
floors, at most the bound's distance from the exact CP-SAT optimum."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver._cpsat import CpSatSettings
from solver._gap_dive import (
    _backtrack,
    _Dive,
    _favourites,
    _knapsack_tables,
    _Master,
    _price,
    dive,
    dive_applies,
)
from solver._gap_engine import _solve_restricted
from solver._gap_lp import DenseGap

SETTINGS = CpSatSettings(time_limit_s=30.0, seed=0, workers=1)


def _type_d(n: int, m: int, seed: int, floor: float = 0.0, room: float = 0.9,
            heavy_is_cheap: bool = True) -> tuple[DenseGap, np.ndarray]:
    """Efforts 1-30 per pair, cheap pairs heavy (OR-Library type D in small), capacity
    ``room`` × the mean load of a row's average effort (binding at 0.9: the cheap pairs
    are the heavy ones), floors ``floor`` × capacity: a dense part and its integer values
    (to maximise). ``heavy_is_cheap=False``: light pairs are cheap, so floors bind."""
    rng = np.random.default_rng(seed)
    effort = rng.integers(1, 31, size=(n, m))
    cost = 31 - effort if heavy_is_cheap else effort
    values = -cost - rng.integers(0, 5, size=(n, m))
    capacity = int(np.ceil(room * effort.mean() * n / m))
    upper = np.full(m, capacity, dtype=np.int64)
    gap = DenseGap(score=values.astype(float), effort=effort.astype(np.int64),
                   pair=np.arange(n * m).reshape(n, m),
                   lower=np.full(m, int(floor * capacity), np.int64),
                   upper=upper, rows=np.arange(n))
    return gap, values.astype(np.int64)


def _optimum(gap: DenseGap, values: np.ndarray) -> tuple[np.ndarray, int]:
    """The exact optimum by the engine's CP-SAT model on every cell (proven)."""
    search = SimpleNamespace(settings=SETTINGS, target=lambda: math.inf)
    assign, optimal = _solve_restricted(gap, values, gap.candidate, None, search, 30.0)
    assert assign is not None and optimal
    return assign, int(values[np.arange(gap.shape[0]), assign].sum())


def _finish(gap: DenseGap, values: np.ndarray):
    """The engine's finish: the free rows among the free reps by CP-SAT."""
    search = SimpleNamespace(settings=SETTINGS, target=lambda: math.inf)
    n, m = gap.shape

    def finish(assign, free_reps, seconds):
        keep = np.zeros((n, m), dtype=bool)
        fixed = np.flatnonzero(assign >= 0)
        keep[fixed, assign[fixed]] = True
        keep[np.ix_(assign < 0, free_reps)] = True
        return _solve_restricted(gap, values, keep, None, search, seconds)[0]
    return finish


def _within(gap: DenseGap, assign: np.ndarray) -> bool:
    load = np.bincount(assign, weights=gap.effort[np.arange(len(assign)), assign],
                       minlength=gap.shape[1])
    return bool(np.all(assign >= 0) and np.all(load <= gap.upper)
                and np.all(load >= gap.lower))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("floored", [False, True])
def test_knapsack_tables_match_brute_force(seed: int, floored: bool) -> None:
    rng = np.random.default_rng(seed)
    n, m, top = 8, 3, 25
    profit = rng.normal(size=(n, m))
    effort = rng.integers(1, 9, size=(n, m))
    table, take = _knapsack_tables(profit, effort, top, np.full(m, floored))
    for rep in range(m):
        best = np.full(top + 1, -np.inf)
        for subset in itertools.product([False, True], repeat=n):
            chosen = np.array(subset)
            load = int(effort[chosen, rep].sum())
            if load <= top:
                best[load] = max(best[load], float(profit[chosen, rep].sum()))
        if floored:  # every exact load is right: a floor may need an unprofitable row
            np.testing.assert_allclose(table[rep], best)
        else:  # the best within the capacity is right
            assert table[rep].max() == pytest.approx(best.max())
        load = int(np.argmax(table[rep]))
        chosen = _backtrack(take[:, rep], effort[:, rep], load)
        assert int(effort[chosen, rep].sum()) == load
        assert float(profit[chosen, rep].sum()) == pytest.approx(table[rep, load])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), floor=st.sampled_from([0.0, 0.5]),
       scale=st.floats(0.0, 3.0))
def test_the_bound_holds_at_any_duals(seed: int, floor: float, scale: float) -> None:
    gap, values = _type_d(7, 3, seed, floor=floor, room=1.2)
    feasible = [a for a in itertools.product(range(3), repeat=7) if _within(gap, np.array(a))]
    if not feasible:
        return
    optimum = max(int(values[np.arange(7), list(a)].sum()) for a in feasible)
    norm = float(np.abs(values).max())
    search = _Dive(gap, values / norm, deadline=math.inf)
    dual = np.random.default_rng(seed).normal(scale=scale, size=7)
    priced = _price(search, dual, np.ones(3, bool), np.ones(7, bool))
    assert priced.bound * norm >= optimum - 1e-6


# tight capacities (type D), and light pairs cheap with floors that bind (balanced loads)
SHAPES = [(0.0, 0.9, True), (0.8, 1.3, False)]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("floor", "room", "heavy_is_cheap"), SHAPES,
                         ids=["tight", "floors"])
def test_a_dive_ends_within_loads_and_near_the_optimum(seed: int, floor: float, room: float,
                                                       heavy_is_cheap: bool) -> None:
    gap, values = _type_d(40, 5, seed, floor=floor, room=room, heavy_is_cheap=heavy_is_cheap)
    assert dive_applies(gap)
    _, optimum = _optimum(gap, values)
    result = dive(gap, values, start=None, deadline=math.inf, finish=_finish(gap, values))
    assert result.assign is not None
    assert _within(gap, result.assign)
    found = int(values[np.arange(40), result.assign].sum())
    assert found <= optimum <= result.bound + 1e-6
    # measured within 0.3% of the optimum on these: a broken dive lands far lower
    assert found >= optimum - 0.01 * abs(optimum)


def test_a_seeded_dive_lands_near_its_seed() -> None:
    gap, values = _type_d(40, 5, 0)
    start, optimum = _optimum(gap, values)
    result = dive(gap, values, start=start, deadline=math.inf, finish=_finish(gap, values))
    assert result.assign is not None and _within(gap, result.assign)
    assert optimum <= result.bound + 1e-6
    assert int(values[np.arange(40), result.assign].sum()) >= optimum - 0.01 * abs(optimum)


def test_a_dive_past_its_deadline_returns_no_assignment() -> None:
    gap, values = _type_d(40, 5, 0)
    result = dive(gap, values, start=None, deadline=0.0, finish=_finish(gap, values))
    assert result.assign is None


def _master(weights: list[float]) -> _Master:
    count = len(weights)
    return _Master(value=0.0, weight=np.array(weights), columns=np.arange(10, 10 + count),
                   row_dual=np.zeros(3), threshold=np.zeros(2), uncovered=0.0)


def test_favourites_come_by_weight_and_skip_tried_and_unused_columns() -> None:
    master = _master([0.2, 0.0, 0.7, 0.5, 0.6])
    assert _favourites(master, [], None, 1) == [12]
    assert _favourites(master, [], None, 3) == [12, 14, 13]
    assert _favourites(master, [12, 14], None, 5) == [13, 10]  # 11 has no weight
    assert _favourites(master, [10, 12, 13, 14], None, 2) == []


def test_a_drawn_favourite_is_one_of_the_three_heaviest() -> None:
    master = _master([0.2, 0.05, 0.7, 0.5, 0.6])
    rng = np.random.default_rng(0)
    drawn = {_favourites(master, [], rng, 1)[0] for _ in range(200)}
    assert drawn == {12, 13, 14}


def test_several_descents_return_their_best(monkeypatch: pytest.MonkeyPatch) -> None:
    gap, values = _type_d(40, 5, 0)
    found: list[tuple[int, dict[str, object], bytes]] = []
    original = _Dive.descend

    def recorded(self: _Dive, finish, **kwargs):
        assign = original(self, finish, **kwargs)
        if assign is not None:
            found.append((int(values[np.arange(40), assign].sum()), kwargs, assign.tobytes()))
        return assign

    monkeypatch.setattr(_Dive, "descend", recorded)
    result = dive(gap, values, start=None, deadline=math.inf, finish=_finish(gap, values),
                  descents=4)
    assert len(found) == 4 and result.assign is not None and _within(gap, result.assign)
    assert int(values[np.arange(40), result.assign].sum()) == max(v for v, _, _ in found)
    kinds = [(kwargs["lookahead"], kwargs["rng"] is not None) for _, kwargs, _ in found]
    assert kinds == [(3, False), (1, True), (1, True), (1, True)]
    # every distinct assignment once, best first
    assert {assign.tobytes() for assign in result.assigns} == {key for _, _, key in found}
    assert len(result.assigns) == len({key for _, _, key in found})
    ranked = [int(values[np.arange(40), assign].sum()) for assign in result.assigns]
    assert ranked == sorted(ranked, reverse=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_strong_descent_compares_children_and_ends_near_the_optimum(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    gap, values = _type_d(40, 5, seed)
    _, optimum = _optimum(gap, values)
    search = _Dive(gap, values / float(np.abs(values).max()), deadline=math.inf)
    search.root(None)
    children = []
    original = _Dive._converge_child
    monkeypatch.setattr(_Dive, "_converge_child",
                        lambda self, master, child: children.append(child.column)
                        or original(self, master, child))
    assign = search.descend(_finish(gap, values), lookahead=3)
    assert assign is not None and _within(gap, assign)
    strong = len(children)
    assert int(values[np.arange(40), assign].sum()) >= optimum - 0.01 * abs(optimum)
    children.clear()
    # no time to spare (the reserve exceeds it): one child per node, as a plain descent
    assert search.descend(_finish(gap, values), lookahead=3, reserve=math.inf) is not None
    assert 0 < len(children) < strong
