"""Within-lead ranking and routed-value metrics against known answers (hand-built cases)."""

from __future__ import annotations

import numpy as np

from models.routing_metrics import (
    greedy_assignment,
    mean_spearman,
    routing_metrics,
    snips,
    within_lead_auc,
    within_lead_percentile,
)


def test_percentile_of_the_logged_rep() -> None:
    scores = np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    assert np.allclose(within_lead_percentile(scores, np.array([2, 0])), [1.0, 0.5])
    assert np.allclose(within_lead_percentile(scores, np.array([0, 1])), [0.0, 0.5])


def test_within_lead_auc_known_answers() -> None:
    scores = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]])
    logged = np.array([0, 1, 1, 0])
    y = np.array([1, 0, 1, 0])  # converted exactly when the logged rep was the model's best
    p = np.full(4, 0.5)
    assert within_lead_auc(scores, logged, y, p) == 1.0
    assert within_lead_auc(scores, logged, 1 - y, p) == 0.0
    assert within_lead_auc(np.ones((4, 2)), logged, y, p) == 0.5  # lead-only: no order


def test_greedy_assignment_respects_capacity() -> None:
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.6]])
    out = greedy_assignment(scores, np.array([2, 1]))
    assert out.tolist() == [0, 0, 1]  # lead 2 is least worse off without rep 0
    assert np.bincount(greedy_assignment(scores, np.array([1, 1])), minlength=2).tolist() \
        in ([2, 1], [1, 2])


def test_snips_known_answer() -> None:
    value, se = snips(np.array([2.0, 0.0, 2.0, 4.0]), np.array([1, 1, 0, 1]))
    assert value == (2 + 4) / 8
    assert se > 0
    assert np.isnan(snips(np.zeros(3), np.array([1, 0, 1]))[0])


def test_spearman_with_the_truth() -> None:
    truth = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    assert mean_spearman(truth * 2, truth) == 1.0
    assert mean_spearman(-truth, truth) == -1.0
    assert mean_spearman(np.ones((2, 3)), truth) == 0.0


def test_routed_value_of_a_perfect_ranker_beats_uniform() -> None:
    """Uniform logging over 4 reps; rep (lead mod 4) converts always, the others never.
    A model that knows it routes every lead to its converting rep: value 1; uniform 0.25."""
    rng = np.random.default_rng(0)
    n, m = 4000, 4
    good = np.arange(n) % m
    logged = rng.integers(0, m, size=n)
    y = (logged == good).astype(int)
    scores = np.eye(m)[good]
    metrics = routing_metrics(scores, logged, y, np.full(n, 1 / m), truth=scores)
    assert metrics.routed_value == 1.0
    assert abs(metrics.uniform_value - 0.25) < 0.03
    assert metrics.within_lead_auc == 1.0
    assert metrics.truth_spearman == 1.0
