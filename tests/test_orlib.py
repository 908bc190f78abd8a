"""External truth: the engines reach the published OR-Library optima.

gap1-gap12 (60 GAP problems, maximisation, CP-SAT) and assign100-800 + assignp800 (linear
assignment, minimisation as negative scores, min-cost flow). The instance files live outside
the repository (``$LEADROUTE_DATA/orlib`` or ``<repo>/../shared/data/orlib``); without them
these tests skip and say where they looked. Parsers: ``benchmarks/orlib_instances.py``.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import orlib_instances as orlib  # noqa: E402

from solver import Engine, SolveOptions, SolveStatus, solve  # noqa: E402


@functools.cache
def _folder() -> Path:
    return orlib.data_dir()


def _data() -> Path:
    try:
        return _folder()
    except orlib.DataMissing as exc:
        pytest.skip(str(exc))


@functools.cache
def _gap(file: str) -> list[orlib.Instance]:
    return orlib.gap_instances(file, _folder())


GAP_CASES = [(file, k) for file in orlib.GAP_SMALL for k in range(5)]


@pytest.mark.slow
@pytest.mark.parametrize(("file", "k"), GAP_CASES, ids=[f"{f}-{k + 1}" for f, k in GAP_CASES])
def test_gap_maximisation_optimum(file: str, k: int) -> None:
    _data()
    inst = _gap(file)[k]
    result = solve(inst.problem, options=SolveOptions(time_limit_s=120.0, seed=0))
    assert result.engines == (Engine.CP_SAT,)
    assert result.n_assigned == inst.problem.n_leads  # GAP: every job assigned
    assert result.status is SolveStatus.OPTIMAL
    assert inst.value_of(result.objective) == pytest.approx(inst.optimum, abs=1e-6)
    assert result.gap == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("file", [*orlib.ASSIGN_DENSE, "assignp800"])
def test_linear_assignment_minimisation_optimum(file: str) -> None:
    _data()
    inst = orlib.assign_instance(file, _folder())
    result = solve(inst.problem)
    assert result.engines == (Engine.MIN_COST_FLOW,)
    assert result.status is SolveStatus.OPTIMAL
    assert result.n_assigned == inst.problem.n_leads
    assert inst.value_of(result.objective) == pytest.approx(inst.optimum, abs=1e-6)
    # a perfect matching: every rep (capacity 1) takes exactly one lead
    assert sorted(result.rep_index.tolist()) == list(range(inst.problem.n_reps))


def test_published_optima_agree_with_martinelli_bounds() -> None:
    """The hard-coded optima equal an independent source (lb = ub in Martinelli's table)."""
    bounds = orlib.martinelli_bounds(_data())
    checked = 0
    for file in (*orlib.GAP_SMALL, *orlib.GAP_LARGE):
        for k, inst in enumerate(_gap(file)):
            m, n = inst.problem.n_reps, inst.problem.n_leads
            lb, ub = bounds[orlib.martinelli_name(file, k, m, n)]
            if inst.proven:
                assert lb == ub == inst.optimum, inst.name
            else:
                assert lb <= inst.optimum <= ub, inst.name
            checked += 1
    assert checked == 60 + 24


def test_parsers_read_the_whole_files() -> None:
    folder = _data()
    for file in orlib.GAP_SMALL:
        assert len(orlib.parse_gap(folder / "gap" / f"{file}.txt")) == 5
    n, rows, cols, cost = orlib.parse_assign(folder / "assign" / "assignp800.txt")
    assert n == 800 and rows.min() == cols.min() == 0 and rows.max() == cols.max() == 799
    assert cost.min() >= 1 and cost.max() <= 100
    assert set(orlib.assign_optima(folder)) == {*orlib.ASSIGN_DENSE, *orlib.ASSIGN_SPARSE}


def test_the_dive_bound_is_tighter_than_the_lp_on_type_d() -> None:
    """gapd-1: the column-generation root's bound lies between the LP bound and the
    published optimum (the dive's proof on type D; the LP's is 0.12% below)."""
    _data()
    from solver._gap_dive import dive
    from solver._gap_lp import dense_gap, effort_units, lagrangian_bound, lp_prices
    from solver._gap_search import balance, repair

    inst = _gap("gapd")[0]
    units, capacity = effort_units(inst.problem)
    gap = dense_gap(inst.problem, None, None, units, capacity)
    assert gap is not None
    prices = lp_prices(gap)
    assert prices is not None
    values = gap.score.round().astype("int64")  # minus the integer costs
    start = balance(gap, repair(gap, prices.fraction))  # the engine's first incumbent
    result = dive(gap, values, start=start, deadline=float("inf"),
                  finish=lambda assign, reps, seconds: None)  # the bound only
    lp_cost = -lagrangian_bound(gap, prices.price)
    assert lp_cost < -result.bound <= inst.optimum
    assert -result.bound - lp_cost > 0.5 * (inst.optimum - lp_cost)
