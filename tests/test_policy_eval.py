"""Off-policy estimators: hand-computed cases, bad inputs, properties, the A/B helper."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.policy_eval import (
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    EvaluationError,
    LoggedBandit,
    Replay,
    TargetPolicy,
    compare_conversions,
    estimator_from_name,
    required_sample_size,
)

# 4 rows, 2 actions; the target always picks action 1
DATA = LoggedBandit(actions=np.array([0, 1, 1, 0]), rewards=np.array([1.0, 1.0, 0.0, 0.0]),
                    propensities=np.array([0.5, 0.25, 0.5, 0.8]), n_actions=2)
TARGET = TargetPolicy.deterministic(np.array([1, 1, 1, 1]), 2)
Q = np.array([[0.4, 0.6], [0.3, 0.7], [0.2, 0.5], [0.1, 0.2]])


def test_ips_by_hand() -> None:
    # weights: 0, 4, 2, 0 -> (0 + 4·1 + 2·0 + 0) / 4 = 1.0
    assert IPS().estimate(DATA, TARGET).value == pytest.approx(1.0)


def test_snips_by_hand() -> None:
    # Σ w r / Σ w = 4 / 6
    assert SNIPS().estimate(DATA, TARGET).value == pytest.approx(4 / 6)


def test_replay_by_hand() -> None:
    # rows 2 and 3 match the target: rewards 1 and 0
    result = Replay().estimate(DATA, TARGET)
    assert result.value == pytest.approx(0.5) and result.n_effective == 2


def test_direct_method_by_hand() -> None:
    assert DirectMethod().estimate(DATA, TARGET, Q).value == pytest.approx(
        (0.6 + 0.7 + 0.5 + 0.2) / 4)


def test_doubly_robust_by_hand() -> None:
    # DM terms + w·(r − q(logged)): rows 2: 4·(1 − 0.7), row 3: 2·(0 − 0.5)
    expected = ((0.6 + 0.7 + 0.5 + 0.2) + 4 * 0.3 + 2 * (-0.5)) / 4
    assert DoublyRobust().estimate(DATA, TARGET, Q).value == pytest.approx(expected)


def test_clipping_caps_weights() -> None:
    assert IPS(clip=2.0).estimate(DATA, TARGET).value == pytest.approx(2 / 4)


def test_interval_contains_the_estimate_and_lift_is_paired() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    data = LoggedBandit(actions=rng.integers(0, 2, n), rewards=rng.binomial(1, 0.3, n) * 1.0,
                        propensities=np.full(n, 0.5), n_actions=2)
    target = TargetPolicy(np.full((n, 2), 0.5))  # the logging policy itself
    estimate = IPS(n_bootstrap=300).estimate(data, target)
    assert estimate.ci_low <= estimate.value <= estimate.ci_high
    lift = IPS(n_bootstrap=300).lift(data, target)
    assert lift.value == pytest.approx(0.0, abs=1e-12)
    # paired: the difference of a policy with itself has a zero-width interval
    assert lift.ci_high - lift.ci_low == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"propensities": np.array([0.5, 0.0, 0.5, 0.5])}, "row 2, column 'propensities'"),
        ({"propensities": np.array([0.5, 1.5, 0.5, 0.5])}, "propensity must be in"),
        ({"rewards": np.array([1.0, np.nan, 0.0, 0.0])}, "row 2, column 'rewards'"),
        ({"rewards": np.array([1.0, 0.0])}, "2 values for 4 logged rows"),
        ({"actions": np.array([0, 1, 2, 0])}, "row 3, column 'actions'"),
    ],
)
def test_bad_logged_data(kwargs: dict[str, np.ndarray], message: str) -> None:
    fields = {"actions": DATA.actions, "rewards": DATA.rewards,
              "propensities": DATA.propensities, "n_actions": 2, **kwargs}
    with pytest.raises(EvaluationError, match=message):
        LoggedBandit(**fields)


def test_bad_target_and_missing_model() -> None:
    with pytest.raises(EvaluationError, match="shape"):
        IPS().estimate(DATA, TargetPolicy(np.ones((3, 2)) / 2))
    with pytest.raises(EvaluationError, match="sum to at most 1"):
        IPS().estimate(DATA, TargetPolicy(np.ones((4, 2))))
    with pytest.raises(EvaluationError, match="needs predicted rewards"):
        DirectMethod().estimate(DATA, TARGET)
    with pytest.raises(EvaluationError, match="unknown estimator 'magic'"):
        estimator_from_name("magic")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(2, 4), st.integers(0, 10_000))
def test_ips_of_the_logging_policy_is_the_mean_reward(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logging = rng.dirichlet(np.ones(k), size=n)
    actions = np.array([rng.choice(k, p=row) for row in logging])
    data = LoggedBandit(actions=actions, rewards=rng.binomial(1, 0.4, n).astype(float),
                        propensities=logging[np.arange(n), actions], n_actions=k)
    target = TargetPolicy(logging)
    assert IPS().estimate(data, target).value == pytest.approx(data.rewards.mean())
    assert SNIPS().estimate(data, target).value == pytest.approx(data.rewards.mean())
    # DR with a perfect-on-logged-rows model collapses to DM + 0 residual
    q = np.repeat(data.rewards[:, None], k, axis=1)
    assert DoublyRobust().estimate(data, target, q).value == pytest.approx(data.rewards.mean())


def test_ips_is_unbiased_over_seeds() -> None:
    truth = np.array([0.2, 0.5, 0.35])
    values = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        actions = rng.integers(0, 3, 300)
        rewards = rng.binomial(1, truth[actions]).astype(float)
        data = LoggedBandit(actions=actions, rewards=rewards,
                            propensities=np.full(300, 1 / 3), n_actions=3)
        target = TargetPolicy.deterministic(np.full(300, 1), 3)
        values.append(IPS(n_bootstrap=10).estimate(data, target).value)
    assert np.mean(values) == pytest.approx(0.5, abs=0.02)


def test_ab_test_and_sample_size() -> None:
    result = compare_conversions(100, 1000, 130, 1000)
    assert result.difference == pytest.approx(0.03)
    assert result.test == "two-proportion z-test"
    assert 0.03 < result.p_value < 0.04  # z = 0.03 / sqrt(.115·.885·.002) = 2.10
    assert result.ci_low < 0.03 < result.ci_high
    small = compare_conversions(1, 10, 6, 10)
    assert small.test == "Fisher exact test"
    # (1.96 + 0.8416)² · (0.1·0.9 + 0.12·0.88) / 0.02² = 3838.7
    assert required_sample_size(0.10, 0.02) == math.ceil(
        (1.959964 + 0.841621) ** 2 * (0.09 + 0.1056) / 0.0004)
    with pytest.raises(EvaluationError, match="conversions <= leads"):
        compare_conversions(5, 4, 1, 10)
    with pytest.raises(EvaluationError, match="within \\(0, 1\\)"):
        required_sample_size(0.99, 0.05)


def test_every_estimator_counts_unrouted_leads_as_zero() -> None:
    # the target routes half the leads (to action 1, converting at 0.5), the rest to
    # nobody: the value per lead is 0.25 for every estimator, not 0.5 per routed lead
    truth = np.array([0.2, 0.5, 0.35])
    n = 300
    policy = np.where(np.arange(n) % 2 == 0, 1, -1)
    q = np.tile(truth, (n, 1))
    values: dict[str, list[float]] = {}
    for seed in range(200):
        rng = np.random.default_rng(seed)
        actions = rng.integers(0, 3, n)
        data = LoggedBandit(actions=actions, rewards=rng.binomial(1, truth[actions]) * 1.0,
                            propensities=np.full(n, 1 / 3), n_actions=3)
        target = TargetPolicy.deterministic(policy, 3)
        for cls in (Replay, IPS, SNIPS, DirectMethod, DoublyRobust):
            estimate = cls(n_bootstrap=10).estimate(data, target, q)
            values.setdefault(cls.name, []).append(estimate.value)
    means = {name: float(np.mean(found)) for name, found in values.items()}
    assert means == pytest.approx(dict.fromkeys(means, 0.25), abs=0.01), means


def test_self_normalised_lift_is_paired_with_the_routed_share() -> None:
    # a target that routes half the rows exactly as logged: SNIPS and replay give half
    # the logged mean on those rows, and the lift interval brackets the lift value
    rng = np.random.default_rng(1)
    n = 1000
    actions = rng.integers(0, 2, n)
    data = LoggedBandit(actions=actions, rewards=rng.binomial(1, 0.4, n) * 1.0,
                        propensities=np.full(n, 0.5), n_actions=2)
    target = TargetPolicy.deterministic(np.where(np.arange(n) < n // 2, actions, -1), 2)
    for estimator in (SNIPS(n_bootstrap=200), Replay(n_bootstrap=200)):
        value = estimator.estimate(data, target)
        assert value.value == pytest.approx(data.rewards[: n // 2].mean() / 2)
        assert value.ci_low <= value.value <= value.ci_high
        lift = estimator.lift(data, target)
        assert lift.value == pytest.approx(value.value - data.rewards.mean())
        assert lift.ci_low <= lift.value <= lift.ci_high < 0
