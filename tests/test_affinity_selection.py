"""The final choice among candidate settings (models.selection): by within-lead AUC of
out-of-fold fits when the history has propensities, by log loss otherwise; and the
warm-started final fit (models.blocks.fit_final) reaches the cold fit's solution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from models import AffinityModel
from models.blocks import Folds, fit_final
from models.selection import (
    BY_LOG_LOSS,
    BY_ROUTING,
    RoutingRows,
    SettingScore,
    best_setting,
    near_best_log_loss,
    oof_within_lead_auc,
    sample_positions,
)
from models.synthetic_family import FamilyWorld, family_config


def _world_history(n: int = 3000) -> tuple[pd.DataFrame, pd.DataFrame]:
    world = FamilyWorld(family_config("region match", n_history=n, seed=1))
    return world.history(), world.reps


def test_history_with_propensities_is_judged_by_within_lead_auc() -> None:
    history, reps = _world_history()
    model = AffinityModel().fit(history, reps)
    assert model.selection_metric_ == BY_ROUTING
    scores = model.selection_scores_
    assert sum(s.chosen for s in scores) == 1
    assert all(0.0 <= s.within_lead_auc <= 1.0 for s in scores)
    winner = next(s for s in scores if s.chosen)
    assert winner.near_best and scores[0].log_loss > 0
    assert winner.within_lead_auc == max(s.within_lead_auc for s in scores if s.near_best)
    assert model.C_ == winner.C
    assert any("within-lead AUC" in line for line in model.describe_fit())


def test_history_without_propensities_falls_back_to_log_loss() -> None:
    history, reps = _world_history()
    model = AffinityModel().fit(history.drop(columns="propensity"), reps)
    assert model.selection_metric_ == BY_LOG_LOSS
    assert all(np.isnan(s.within_lead_auc) for s in model.selection_scores_)
    winner = next(s for s in model.selection_scores_ if s.chosen)
    assert winner.log_loss == min(s.log_loss for s in model.selection_scores_)
    broken = history.assign(propensity=history["propensity"].where(history.index != 5, 0.0))
    assert AffinityModel().fit(broken, reps).selection_metric_ == BY_LOG_LOSS


def test_best_setting_by_routing_among_settings_near_the_best_log_loss() -> None:
    scores = [SettingScore("chosen", 0.1, 0.50, 0.60), SettingScore("chosen", 1.0, 0.49, 0.55),
              SettingScore("all", 0.1, 0.52, 0.60),
              SettingScore("all", 1.0, 0.60, 0.70, near_best=False)]
    assert best_setting(scores, by_routing=True) == 0  # tie on AUC: lower log loss
    assert best_setting(scores, by_routing=False) == 1


def test_near_best_log_loss_uses_the_paired_standard_error() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 1.0, size=2000)
    noisy = base + rng.normal(0.0, 0.05, size=2000)  # same mean loss, within noise
    worse = base + 0.05  # clearly worse on every row
    assert near_best_log_loss([base, noisy, worse]) == [True, True, False]


def test_oof_within_lead_auc_on_a_hand_built_case() -> None:
    """Two folds, two reps, lead vectors [1, x]: each fold's W makes rep 1 better when
    x = 1. Converted rows are exactly those logged to the rep the model ranks first, so
    the within-lead AUC is 1; flipping the model's sign makes it 0."""
    x = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=float)
    u = np.column_stack([np.ones(8), x])
    v = np.eye(2)
    logged = np.array([0, 1, 0, 1, 1, 0, 1, 0], dtype=np.intp)
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    folds = Folds(((np.arange(4, 8), np.arange(4)), (np.arange(4), np.arange(4, 8))), 8)
    rows = RoutingRows(positions=np.arange(8), u=u, v=v, logged=logged,
                       propensity=np.full(8, 0.5), limits=())
    w = np.array([[0.0, 0.0], [-1.0, 1.0]])  # x = 1 favours rep 1, x = 0 rep 0 (tie: 0.5)
    w[0] = [0.1, 0.0]  # x = 0: rep 0 slightly ahead

    def bilinear(sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return sign[0] * w, np.zeros(0)

    assert oof_within_lead_auc([np.ones(1), np.ones(1)], folds, rows, y, bilinear) == 1.0
    assert oof_within_lead_auc([-np.ones(1), -np.ones(1)], folds, rows, y, bilinear) == 0.0


def test_routing_rows_are_bounded_and_seeded() -> None:
    assert len(sample_positions(1000, 40, 0)) == 1000
    few = sample_positions(200_000, 200, 0)
    assert len(few) == 10_000 and np.all(np.diff(few) > 0)
    assert np.array_equal(few, sample_positions(200_000, 200, 0))


def test_warm_started_final_fit_reaches_the_cold_solution() -> None:
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.normal(size=(3000, 20)))
    y = (rng.uniform(size=3000) < 1 / (1 + np.exp(-X @ rng.normal(size=20)))).astype(int)
    cold = LogisticRegression(C=0.3, tol=1e-8, max_iter=1000).fit(X, y)
    start = np.concatenate([cold.intercept_, cold.coef_.ravel()]) + rng.normal(0, 0.1, 21)
    warm = fit_final(X, y, 0.3, 100, start=start)
    plain = fit_final(X, y, 0.3, 100)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-4)
    np.testing.assert_allclose(plain.coef_, cold.coef_, atol=1e-4)
