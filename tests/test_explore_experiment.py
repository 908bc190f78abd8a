"""Exploration with exact propensities and holdout experiments ([explore], [experiment])."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from solver._build import problem_from_matrix
from solver.contract_tables import load_leads, load_reps
from solver.policy import PolicyOutcome, parse_policy, route_with_policy
from solver.policy._draws import keyed_uniform
from solver.policy._explore import Candidates, choice_weights, explore_leads
from solver.policy._model import Explore


def _route(leads: dict[str, list[object]], reps: dict[str, list[object]],
           score: list[list[float]] | np.ndarray, policy: dict[str, object]) -> PolicyOutcome:
    lead_table = load_leads(pd.DataFrame(leads))
    rep_table = load_reps(pd.DataFrame(reps))
    problem = problem_from_matrix(lead_table, rep_table, np.asarray(score, dtype=float))
    return route_with_policy(problem, lead_table, rep_table, parse_policy(policy))


THREE_REPS = {"rep_id": ["a", "b", "c"], "capacity": [10, 10, 10]}


def test_no_exploration_keeps_the_optimum_with_propensity_one() -> None:
    out = _route({"lead_id": ["x", "y"]}, THREE_REPS, [[0.9, 0.1, 0.2], [0.1, 0.8, 0.3]],
                 {"explore": {"share": 0.0}})
    assert out.assignments["rep_id"].tolist() == ["a", "b"]
    assert out.assignments["propensity"].tolist() == [1.0, 1.0]


def test_no_policy_section_adds_no_column() -> None:
    out = _route({"lead_id": ["x"]}, THREE_REPS, [[0.9, 0.1, 0.2]], {})
    assert "propensity" not in out.assignments.columns


def test_full_exploration_is_uniform_over_reps_with_room() -> None:
    # c is full (capacity 0), so only a and b can be drawn: each with probability 1/2
    reps = {"rep_id": ["a", "b", "c"], "capacity": [40, 40, 0]}
    out = _route({"lead_id": [f"l{i}" for i in range(40)]}, reps, np.full((40, 3), 0.5),
                 {"explore": {"share": 1.0}})
    assert set(out.assignments["rep_id"]) == {"a", "b"}
    assert np.allclose(out.assignments["propensity"], 0.5)


def test_exploration_reason_names_the_optimisers_rep() -> None:
    leads = {"lead_id": [f"l{i}" for i in range(30)]}
    out = _route(leads, {"rep_id": ["a", "b", "c"], "capacity": [30, 30, 30]},
                 np.tile([0.9, 0.1, 0.1], (30, 1)),
                 {"explore": {"share": 0.5}})
    moved = out.assignments[out.assignments["rep_id"] != "a"]
    assert len(moved) > 0
    assert moved["reason"].str.contains("exploration (epsilon, share 0.5)", regex=False).all()
    assert moved["reason"].str.contains("instead of a").all()
    assert np.allclose(moved["propensity"], 0.5 / 3)  # share × 1/3
    kept = out.assignments[out.assignments["rep_id"] == "a"]
    assert np.allclose(kept["propensity"], 0.5 + 0.5 / 3)


def test_softmax_weights_follow_fit() -> None:
    explore = Explore(method="softmax", temperature=0.1)
    q = choice_weights(explore, np.array([0.3, 0.2, 0.1]))
    assert q == pytest.approx(np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum())


def test_propensities_are_right_by_simulation_under_capacity_coupling() -> None:
    """E[1{rep = a} / propensity] = 1 for every rep a lead can always take: the identity
    inverse-propensity estimators rest on. Capacity couples the leads: rep 1 has room for
    one of the three, so what x may draw depends on the others' draws before it."""
    reps = np.array([0, 1, 2])
    score = np.array([[0.9, 0.5, 0.1], [0.2, 0.9, 0.3], [0.1, 0.4, 0.8]])
    lead_ids = np.array(["x", "y", "z"])
    runs, totals = 4000, np.zeros(3)
    for seed in range(runs):
        explore = Explore(share=0.6, method="softmax", temperature=1.0, seed=seed)
        current = np.array([0, 1, 2])
        remaining = np.array([2.0, 0.0, 2.0])  # after the optimiser's x→0, y→1, z→2

        def move(lead: int, old: int, new: int, current: np.ndarray = current,
                 remaining: np.ndarray = remaining) -> None:
            remaining[old] += 1.0
            remaining[new] -= 1.0
            current[lead] = new

        draws = explore_leads(
            explore, [0, 1, 2], lead_ids, current,
            lambda lead: Candidates(reps=reps, effort=np.ones(3), score=score[lead]),
            remaining, move)
        assert remaining.min() >= 0  # caps hold whatever was drawn
        totals[draws[0].rep] += 1.0 / draws[0].propensity
    # x can always take reps 0 and 2; rep 1 only when y has not kept it
    assert totals[0] / runs == pytest.approx(1.0, abs=0.15)
    assert totals[2] / runs == pytest.approx(1.0, abs=0.15)
    assert totals[1] / runs < 1.0


def test_exploration_is_reproducible_and_independent_of_row_order() -> None:
    n = 30
    leads = {"lead_id": [f"l{i}" for i in range(n)]}
    score = np.random.default_rng(0).uniform(size=(n, 3))
    policy = {"explore": {"share": 0.4, "seed": 7}}
    first = _route(leads, THREE_REPS, score, policy).assignments.set_index("lead_id")
    again = _route(leads, THREE_REPS, score, policy).assignments.set_index("lead_id")
    pd.testing.assert_frame_equal(first, again)
    order = np.arange(n)[::-1]
    flipped = _route({"lead_id": [f"l{i}" for i in order]}, THREE_REPS, score[order], policy)
    pd.testing.assert_frame_equal(first, flipped.assignments.set_index("lead_id").loc[
        first.index])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 1.0),
       capacity=st.lists(st.integers(0, 4), min_size=2, max_size=4), n=st.integers(1, 12))
def test_exploration_never_breaks_a_cap_or_loses_a_lead(
        seed: int, share: float, capacity: list[int], n: int) -> None:
    rng = np.random.default_rng(seed)
    reps = {"rep_id": [f"r{j}" for j in range(len(capacity))], "capacity": capacity}
    effort = rng.integers(1, 3, size=n).tolist()
    out = _route({"lead_id": [f"l{i}" for i in range(n)], "effort": effort}, reps,
                 rng.uniform(size=(n, len(capacity))),
                 {"explore": {"share": share, "seed": seed}}).assignments
    assert sorted(out["lead_id"]) == sorted(f"l{i}" for i in range(n))
    loads = pd.Series(effort, index=[f"l{i}" for i in range(n)]).groupby(
        out.set_index("lead_id")["rep_id"]).sum()
    for rep, cap in zip(reps["rep_id"], capacity, strict=True):
        assert loads.get(rep, 0) <= cap
    assigned = out["status"] == "assigned"
    assert ((out.loc[assigned, "propensity"] > 0) & (out.loc[assigned, "propensity"] <= 1)).all()
    assert out.loc[~assigned, "propensity"].isna().all()


# -- holdout experiments -----------------------------------------------------------------
def _experiment(share: float = 0.3, unit: str = "lead") -> dict[str, object]:
    return {"experiment": {"name": "q1-fit-vs-rr", "control": "round_robin",
                           "share": share, "unit": unit}}


def test_holdout_routes_the_control_arm_by_the_control_strategy() -> None:
    n = 200
    leads = {"lead_id": [f"l{i}" for i in range(n)]}
    score = np.tile([0.9, 0.1, 0.1], (n, 1))  # the optimiser sends everyone to a
    out = _route(leads, {"rep_id": ["a", "b", "c"], "capacity": [n] * 3}, score,
                 _experiment()).assignments
    control = out[out["arm"] == "control"]
    treated = out[out["arm"] == "treatment"]
    assert 0.2 < len(control) / n < 0.4
    assert (treated["rep_id"] == "a").all()
    assert control["rep_id"].nunique() == 3  # round robin spreads them
    assert (out["propensity"] == 1.0).all()


def test_holdout_arm_is_stable_across_batches_and_by_account() -> None:
    leads = {"lead_id": [f"l{i}" for i in range(60)],
             "account_id": [f"acc{i // 3}" for i in range(60)]}
    reps = {"rep_id": ["a", "b"], "capacity": [100, 100]}
    first = _route(leads, reps, np.full((60, 2), 0.5), _experiment(0.5, "account"))
    arms = first.assignments.assign(account=leads["account_id"]).groupby("account")["arm"]
    assert (arms.nunique() == 1).all()  # a whole account is in one arm
    later = _route({"lead_id": ["new"], "account_id": ["acc4"]}, reps, [[0.5, 0.5]],
                   _experiment(0.5, "account"))
    assert later.assignments["arm"].iloc[0] == arms.first()["acc4"]


def test_keyed_uniform_is_fixed_by_its_keys() -> None:
    assert keyed_uniform(1, "x") == keyed_uniform(1, "x")
    assert keyed_uniform(1, "x") != keyed_uniform(2, "x")
    draws = [keyed_uniform("s", i) for i in range(4000)]
    assert 0.47 < float(np.mean(draws)) < 0.53


@pytest.mark.parametrize(("section", "match"), [
    ({"experiment": {"name": "e", "control": "optimal"}}, "control must be a baseline"),
    ({"experiment": {"name": "e", "control": "nope"}}, "control must be a baseline"),
    ({"experiment": {"name": "e", "share": 0.0}}, "greater than 0"),
    ({"experiment": {"name": "", "share": 0.5}}, "at least 1 character"),
    ({"experiment": {"name": "e", "unit": "rep"}}, "'lead' or 'account'"),
    ({"explore": {"share": 1.5}}, "less than or equal to 1"),
    ({"explore": {"method": "thompson"}}, "'epsilon' or 'softmax'"),
    ({"explore": {"temperature": 0}}, "greater than 0"),
    ({"explore": {"shares": 0.1}}, "explore.shares: unknown key"),
])
def test_bad_explore_and_experiment_sections(section: dict[str, object], match: str) -> None:
    with pytest.raises((ValidationError, ValueError), match=match):
        parse_policy(section)
