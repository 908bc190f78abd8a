"""Baseline strategies: hand-computed cases per strategy and the contract's invariants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from solver import Engine, InputError, LeadStatus, PolicyError, RoutingProblem, SolveStatus
from solver._problem import EFFORT_TOLERANCE
from solver._result import pair_index_of
from solver.app.cli import app
from solver.strategies import (
    STRATEGIES,
    CherryPicking,
    GreedyBestFit,
    LoadBalancing,
    Optimal,
    RotationState,
    RoundRobin,
    RulesFirstMatch,
    Strategy,
    WeightedRoundRobin,
    strategy_from_name,
)

REPS = ["A", "B", "C"]


def dense(
    n_leads: int,
    capacity: list[float],
    *,
    score: list[list[float]] | None = None,
    eligible: list[list[bool]] | None = None,
    effort: list[float] | None = None,
    reps: list[str] | None = None,
    first_lead: int = 0,
) -> RoutingProblem:
    reps = reps or REPS[: len(capacity)]
    matrix = np.zeros((n_leads, len(reps))) if score is None else np.asarray(score, float)
    return RoutingProblem.from_dense(
        matrix,
        capacity,
        effort=None if effort is None else np.asarray(effort, float),
        eligible=eligible,
        lead_ids=[f"L{first_lead + i}" for i in range(n_leads)],
        rep_ids=reps,
    )


def names(problem: RoutingProblem, rep_index: np.ndarray) -> list[str]:
    return [str(problem.rep_ids[r]) if r >= 0 else "" for r in rep_index]


# -- round robin -----------------------------------------------------------------------
def test_round_robin_rotates_and_continues_in_the_next_batch() -> None:
    first = dense(5, [10, 10, 10])
    out1 = RoundRobin().assign(first, None)
    assert names(first, out1.result.rep_index) == ["A", "B", "C", "A", "B"]
    assert out1.state is not None and out1.state.last_rep_id == "B"
    second = dense(2, [10, 10, 10], first_lead=5)
    out2 = RoundRobin().assign(second, out1.state)
    assert names(second, out2.result.rep_index) == ["C", "A"]
    assert out2.state is not None and out2.state.last_rep_id == "A"
    assert set(out2.result.reasons) == {"round robin: next in rotation"}
    assert out1.result.engines == (Engine.HEURISTIC,)
    assert out1.result.status is SolveStatus.FEASIBLE
    assert out1.result.bound == float("inf")


def test_round_robin_skips_ineligible_and_full_reps() -> None:
    # L0 all -> A; L1 only C -> C (B is skipped, not eligible); L2 all -> A (after C);
    # L3 all: next is B, but B has capacity 0 -> C, one eligible rep ahead full.
    eligible = [[True] * 3, [False, False, True], [True] * 3, [True] * 3]
    problem = dense(4, [5, 0, 5], eligible=eligible)
    out = RoundRobin().assign(problem)
    assert names(problem, out.result.rep_index) == ["A", "C", "A", "C"]
    assert out.result.reasons[1] == "round robin: next in rotation"
    assert out.result.reasons[3] == "round robin: next in rotation (1 eligible rep ahead full)"


def test_round_robin_follows_a_declared_order_and_survives_a_departed_rep() -> None:
    problem = dense(4, [10, 10, 10])
    out = RoundRobin(order=("C", "A")).assign(problem)  # B follows, unlisted
    assert names(problem, out.result.rep_index) == ["C", "A", "B", "C"]
    # The last rep left the team: the cursor (position after C = 1) takes over.
    gone = RotationState(last_rep_id="Z", cursor=1)
    out2 = RoundRobin().assign(dense(2, [10, 10, 10]), gone)
    assert names(problem, out2.result.rep_index) == ["B", "C"]


def test_round_robin_leaves_leads_nobody_can_take_with_reasons() -> None:
    eligible = [[False, False, False], [True, False, False], [True, False, False]]
    problem = dense(3, [1, 1, 1], eligible=eligible)
    out = RoundRobin().assign(problem)
    assert names(problem, out.result.rep_index) == ["", "A", ""]
    assert out.result.lead_status == (
        LeadStatus.UNASSIGNED, LeadStatus.ASSIGNED, LeadStatus.UNASSIGNED
    )
    assert out.result.reasons[0] == "no eligible rep"
    assert out.result.reasons[2].startswith("capacity exhausted")


# -- weighted round robin --------------------------------------------------------------
def test_weighted_round_robin_two_to_one_pattern_across_batches() -> None:
    strategy = WeightedRoundRobin(weights={"A": 2, "B": 1})
    whole = dense(6, [10, 10])
    out = strategy.assign(whole)
    assert names(whole, out.result.rep_index) == ["A", "B", "A", "A", "B", "A"]
    # Running weights: (2,1)->A->(-1,1); (1,2)->B->(1,-1); batch 2 continues from there.
    first = dense(2, [10, 10])
    out1 = strategy.assign(first)
    assert out1.state is not None
    assert dict(out1.state.current_weights) == {"A": 1.0, "B": -1.0}
    second = dense(4, [10, 10], first_lead=2)
    out2 = strategy.assign(second, out1.state)
    assert names(second, out2.result.rep_index) == ["A", "A", "B", "A"]
    assert out2.result.reasons[0] == "weighted round robin: next in weighted rotation (weight 2)"


def test_weighted_round_robin_takes_weights_from_the_reps_table() -> None:
    reps = pd.DataFrame({"rep_id": ["A", "B"], "capacity": [10, 10], "weight": [1.0, 3.0]})
    strategy = strategy_from_name("weighted_round_robin", reps=reps)
    assert isinstance(strategy, WeightedRoundRobin)
    assert dict(strategy.weights) == {"A": 1.0, "B": 3.0}
    problem = dense(4, [10, 10])
    # (1,3)->B->(1,-1); (2,2)->A (tie: rotation order)->(-2,2); (-1,5)->B->(-1,1); (0,4)->B
    assert names(problem, strategy.assign(problem).result.rep_index) == ["B", "A", "B", "B"]


# -- rules first match -----------------------------------------------------------------
def test_rules_first_match_in_declared_order_then_table_order() -> None:
    eligible = [[True] * 3] * 5 + [[False] * 3]
    problem = dense(6, [2, 5, 1], eligible=eligible)
    out = RulesFirstMatch(order=("C", "A")).assign(problem)
    assert names(problem, out.result.rep_index) == ["C", "A", "A", "B", "B", ""]
    assert out.result.reasons[0] == "first match: first eligible rep in rule order"
    assert out.result.reasons[3] == (
        "first match: first eligible rep in rule order with room (2 earlier matching reps full)"
    )
    assert out.result.reasons[5] == "no eligible rep"
    default = RulesFirstMatch().assign(problem)
    assert names(problem, default.result.rep_index) == ["A", "A", "B", "B", "B", ""]


def test_unknown_rep_in_order_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="unknown rep.*'Z'"):
        RulesFirstMatch(order=("A", "Z")).assign(dense(1, [1, 1]))


# -- load balancing --------------------------------------------------------------------
def test_load_balancing_least_loaded_relative_to_capacity() -> None:
    problem = dense(4, [4, 2])
    # A 0/4 = B 0/2 -> A (tie: rep order); .25 vs 0 -> B; .25 vs .5 -> A; .5 = .5 -> A.
    out = LoadBalancing().assign(problem)
    assert names(problem, out.result.rep_index) == ["A", "B", "A", "A"]
    assert out.state is not None and dict(out.state.loads) == {"A": 3.0, "B": 1.0}


def test_load_balancing_with_prior_loads() -> None:
    problem = dense(4, [4, 2])
    # A starts at 2/4: B (0) -> A (.5 = .5, rep order) -> B (.5 < .75) -> A (B is full).
    out = LoadBalancing().assign(problem, RotationState(loads={"A": 2}))
    assert names(problem, out.result.rep_index) == ["B", "A", "B", "A"]
    assert out.result.reasons[0] == "load balancing: least loaded eligible rep (0% of capacity)"
    assert out.state is not None and dict(out.state.loads) == {"A": 4.0, "B": 2.0}


# -- greedy ----------------------------------------------------------------------------
def test_greedy_best_fit_and_the_optimiser_beats_it() -> None:
    problem = dense(2, [1, 1], score=[[0.9, 0.8], [0.7, 0.1]], reps=["A", "B"])
    greedy = GreedyBestFit().assign(problem)
    assert names(problem, greedy.result.rep_index) == ["A", "B"]
    assert greedy.result.objective == pytest.approx(1.0)
    assert greedy.result.reasons[1] == (
        "greedy best fit: preferred rep A (score 0.7) at capacity; next best fit"
    )
    optimal = Optimal().assign(problem)
    assert names(problem, optimal.result.rep_index) == ["B", "A"]
    assert optimal.result.objective == pytest.approx(1.5)


# -- cherry-picking --------------------------------------------------------------------
CHERRY_SCORES = [[0.9, 0.8], [0.5, 0.7], [0.4, 0.1]]


def test_cherry_picking_with_fixed_seeds() -> None:
    problem = dense(3, [1, 2], score=CHERRY_SCORES, reps=["A", "B"])
    # The draws the hand computation below relies on.
    rng0, rng3 = np.random.default_rng(0), np.random.default_rng(3)
    assert [rng0.permutation(2).tolist() for _ in range(2)] == [[0, 1], [0, 1]]
    assert [rng3.permutation(2).tolist() for _ in range(2)] == [[1, 0], [0, 1]]
    # Seed 0, round 1: A takes L0 (.9), B takes L1 (.7); round 2: A full, B takes L2.
    out = CherryPicking(seed=0).assign(problem)
    assert names(problem, out.result.rep_index) == ["A", "B", "B"]
    assert out.result.reasons[2] == "cherry-picked by B in round 2: its best remaining lead " \
        "(score 0.1)"
    # Seed 3, round 1: B takes L0 (.8), A takes L1 (.5); round 2: A full, B takes L2.
    out3 = CherryPicking(seed=3).assign(problem)
    assert names(problem, out3.result.rep_index) == ["B", "A", "B"]
    assert out3.result.objective == pytest.approx(1.4)


# -- registry --------------------------------------------------------------------------
def test_registry_names_every_strategy() -> None:
    assert list(STRATEGIES) == [
        "round_robin", "weighted_round_robin", "rules_first_match", "load_balancing",
        "greedy", "cherry_picking", "optimal",
    ]
    for name, cls in STRATEGIES.items():
        assert cls.name == name
        assert isinstance(strategy_from_name(name), cls)


def test_unknown_strategy_name_lists_the_valid_ones() -> None:
    with pytest.raises(
        PolicyError, match=r"unknown strategy 'best'; valid: round_robin, .*, optimal"
    ):
        strategy_from_name("best")


def test_unknown_or_bad_setting_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"'round_robin' has no setting 'seed'; valid: order"):
        strategy_from_name("round_robin", seed=3)
    with pytest.raises(PolicyError, match="weight of rep 'A'"):
        strategy_from_name("weighted_round_robin", weights={"A": 0})
    with pytest.raises(PolicyError, match="seed"):
        strategy_from_name("cherry_picking", seed=-1)
    # Shared settings go only to the strategies that declare them.
    shared = {"seed": 7, "time_limit_s": 5.0}
    assert strategy_from_name("round_robin", shared=shared) == RoundRobin()
    assert strategy_from_name("cherry_picking", shared=shared) == CherryPicking(seed=7)
    assert strategy_from_name("optimal", shared=shared) == Optimal(time_limit_s=5.0, seed=7)


# -- rotation state --------------------------------------------------------------------
def test_rotation_state_round_trips_through_json() -> None:
    state = RotationState(last_rep_id="B", cursor=2, current_weights={"A": 1, "B": -1},
                          loads={"A": 3.5})
    again = RotationState.from_json(state.to_json())
    assert again == state
    assert json.loads(state.to_json())["version"] == 1
    assert RotationState.from_dict({}) == RotationState()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"pointer": 3}, "unknown key.*'pointer'"),
        ({"cursor": -1}, "cursor must be an integer"),
        ({"loads": {"A": "x"}}, r"loads\['A'\] must be a number"),
        ({"version": 9}, "unsupported version"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_rotation_state_is_an_input_error(data: Any, match: str) -> None:
    with pytest.raises(InputError, match=match):
        RotationState.from_dict(data, source="state.json")


def test_bad_rotation_state_json_names_the_file() -> None:
    with pytest.raises(InputError, match="state.json: not valid JSON"):
        RotationState.from_json("{", source="state.json")


# -- contract invariants on random tiny problems ----------------------------------------
ALL: list[Strategy] = [
    RoundRobin(),
    RoundRobin(order=("r2", "r0")),
    WeightedRoundRobin(weights={"r0": 3, "r1": 1.5}),
    RulesFirstMatch(),
    RulesFirstMatch(order=("r1",)),
    LoadBalancing(),
    GreedyBestFit(),
    CherryPicking(seed=5),
    Optimal(time_limit_s=10),
]


@st.composite
def tiny_problems(draw: st.DrawFn, *, unit_effort: bool = False) -> RoutingProblem:
    n = draw(st.integers(0, 7))
    m = draw(st.integers(3, 4))
    eligible = draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m),
                             min_size=n, max_size=n))
    score = draw(st.lists(st.lists(st.integers(-5, 20), min_size=m, max_size=m),
                          min_size=n, max_size=n))
    capacity = draw(st.lists(st.integers(0, 4), min_size=m, max_size=m))
    effort = [1] * n if unit_effort else draw(
        st.lists(st.sampled_from([1.0, 1.5, 2.0]), min_size=n, max_size=n)
    )
    return RoutingProblem.from_dense(
        np.asarray(score, float).reshape(n, m) / 10,
        np.asarray(capacity, float),
        effort=np.asarray(effort, float),
        eligible=np.asarray(eligible, bool).reshape(n, m),
        rep_ids=[f"r{j}" for j in range(m)],
    )


def check_contract(problem: RoutingProblem, strategy: Strategy) -> None:
    out = strategy.assign(problem, None)
    result = out.result
    rep_index = result.rep_index
    # Every lead exactly once, with a status and a reason.
    assert rep_index.shape == (problem.n_leads,)
    frame = result.assignments(problem)
    assert list(frame["lead_id"]) == list(problem.lead_ids.astype(str))
    assert all(isinstance(r, str) and r for r in result.reasons)
    assert [s is LeadStatus.ASSIGNED for s in result.lead_status] == list(rep_index >= 0)
    # Eligibility: only candidate pairs (raises otherwise); capacity respected.
    pairs = pair_index_of(problem, rep_index)
    chosen = pairs[pairs >= 0]
    loads = np.bincount(problem.pair_rep[chosen], weights=problem.pair_effort[chosen],
                        minlength=problem.n_reps)
    assert np.all(loads <= problem.capacity + 1e-9)
    assert result.objective == pytest.approx(float(problem.pair_score[chosen].sum()))
    # A lead left out really had no eligible rep with room at the end.
    remaining = problem.capacity - loads
    starts = problem.lead_pair_bounds()
    for lead in np.flatnonzero(rep_index < 0):
        lo, hi = starts[lead], starts[lead + 1]
        fits = remaining[problem.pair_rep[lo:hi]] + EFFORT_TOLERANCE >= problem.pair_effort[lo:hi]
        assert not fits.any(), (strategy, lead)
    # Deterministic.
    again = strategy.assign(problem, None)
    assert np.array_equal(again.result.rep_index, rep_index)
    assert again.result.reasons == result.reasons
    assert again.state == out.state


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=tiny_problems())
def test_every_strategy_keeps_the_contract(problem: RoutingProblem) -> None:
    for strategy in ALL:
        check_contract(problem, strategy)


@settings(max_examples=150, deadline=None)
@given(problem=tiny_problems())
def test_optimiser_dominates_every_baseline(problem: RoutingProblem) -> None:
    best = Optimal(time_limit_s=10).assign(problem).result
    assert best.status is SolveStatus.OPTIMAL
    tolerance = 1e-6 * max(problem.n_leads, 1)
    for strategy in ALL:
        other = strategy.assign(problem).result
        assert best.n_assigned >= other.n_assigned, strategy
        if best.n_assigned == other.n_assigned:
            assert best.objective >= other.objective - tolerance, strategy


@settings(max_examples=100, deadline=None)
@given(problem=tiny_problems(unit_effort=True), cut=st.integers(0, 7))
def test_state_carries_rotation_across_batches(problem: RoutingProblem, cut: int) -> None:
    """With room to spare, two batches with the state carried route as one batch does."""
    roomy = RoutingProblem(
        lead_ids=problem.lead_ids, rep_ids=problem.rep_ids,
        capacity=np.full(problem.n_reps, 100.0), pair_lead=problem.pair_lead,
        pair_rep=problem.pair_rep, pair_score=problem.pair_score,
        pair_effort=problem.pair_effort,
    )
    cut = min(cut, roomy.n_leads)
    reps = np.arange(roomy.n_reps)
    head, _ = roomy.subproblem(np.arange(cut), reps)
    tail, _ = roomy.subproblem(np.arange(cut, roomy.n_leads), reps)
    stateful: list[Strategy] = [
        RoundRobin(), RoundRobin(order=("r2", "r0")),
        WeightedRoundRobin(weights={"r0": 3, "r1": 1.5}), LoadBalancing(),
    ]
    for strategy in stateful:
        whole = strategy.assign(roomy)
        first = strategy.assign(head)
        second = strategy.assign(tail, first.state)
        joined = np.concatenate([first.result.rep_index, second.result.rep_index])
        assert np.array_equal(joined, whole.result.rep_index), strategy
        assert second.state == whole.state, strategy


# -- command line ----------------------------------------------------------------------
def _write_batch(folder: Path, leads: list[str]) -> dict[str, Path]:
    paths = {name: folder / f"{name}.csv" for name in ("leads", "reps", "scores")}
    pd.DataFrame({"lead_id": leads}).to_csv(paths["leads"], index=False)
    pd.DataFrame({"rep_id": REPS, "capacity": 10, "weight": [2, 1, 1]}).to_csv(
        paths["reps"], index=False
    )
    pd.DataFrame(
        [(lead, rep, 0.5) for lead in leads for rep in REPS], columns=["lead_id", "rep_id", "score"]
    ).to_csv(paths["scores"], index=False)
    return paths


def _route(paths: dict[str, Path], out: Path, *extra: str) -> Result:
    args = ["route", "--leads", str(paths["leads"]), "--reps", str(paths["reps"]),
            "--scores", str(paths["scores"]), "--out", str(out), "--quiet", *extra]
    return CliRunner().invoke(app, args)


def test_cli_round_robin_continues_through_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "rotation.json"
    first = _write_batch(tmp_path, ["l1", "l2", "l3", "l4", "l5"])
    run = _route(first, tmp_path / "a.csv", "--strategy", "round_robin",
                 "--rotation-state", str(state))
    assert run.exit_code == 0, run.output
    assert list(pd.read_csv(tmp_path / "a.csv")["rep_id"]) == ["A", "B", "C", "A", "B"]
    assert json.loads(state.read_text())["last_rep_id"] == "B"
    second = _write_batch(tmp_path, ["l6", "l7"])
    run = _route(second, tmp_path / "b.csv", "--strategy", "round_robin",
                 "--rotation-state", str(state))
    assert run.exit_code == 0, run.output
    assert list(pd.read_csv(tmp_path / "b.csv")["rep_id"]) == ["C", "A"]
    assert json.loads(state.read_text())["last_rep_id"] == "A"


def test_cli_weighted_round_robin_reads_weights_and_default_is_optimal(tmp_path: Path) -> None:
    paths = _write_batch(tmp_path, ["l1", "l2", "l3", "l4", "l5"])
    run = _route(paths, tmp_path / "w.csv", "--strategy", "weighted_round_robin")
    assert run.exit_code == 0, run.output
    # Weights 2:1:1 -> (2,1,1) A (-2,1,1); (0,2,2) B; (2,-1,3) C; (4,0,0) A; (2,1,1) A.
    assert list(pd.read_csv(tmp_path / "w.csv")["rep_id"]) == ["A", "B", "C", "A", "A"]
    run = _route(paths, tmp_path / "o.csv")
    assert run.exit_code == 0, run.output
    frame = pd.read_csv(tmp_path / "o.csv")
    assert len(frame) == 5 and set(frame["status"]) == {"assigned"}


def test_cli_unknown_strategy_or_bad_state_writes_nothing(tmp_path: Path) -> None:
    paths = _write_batch(tmp_path, ["l1"])
    run = _route(paths, tmp_path / "x.csv", "--strategy", "best")
    assert isinstance(run.exception, PolicyError)
    assert "valid: round_robin" in str(run.exception)
    bad = tmp_path / "bad.json"
    bad.write_text('{"pointer": 1}')
    run = _route(paths, tmp_path / "y.csv", "--strategy", "round_robin",
                 "--rotation-state", str(bad))
    assert isinstance(run.exception, InputError)
    assert str(run.exception).startswith(f"{bad}: unknown key")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()
    assert bad.read_text() == '{"pointer": 1}'
