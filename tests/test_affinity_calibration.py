"""Calibration, reliability and the honest out-of-time validation report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import AffinityModel, validate
from models.calibration import expected_calibration_error, fit_calibration, reliability_table
from models.synthetic import SyntheticWorld, WorldConfig
from models.validation import split_history

CONFIG = WorldConfig(n_reps=16, n_new_reps=0, n_accounts=600, n_history=12_000, seed=4)


def test_ece_and_reliability_on_hand_made_numbers() -> None:
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55, 0.55])
    bins = reliability_table(y, p, n_bins=10)
    assert [b.count for b in bins] == [2, 2, 2]
    # bins: (0.05 vs 0) (0.55 vs 0.5) (0.95 vs 1) -> weighted |gap| = (0.1 + 0.1 + 0.1) / 6
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(0.05)
    assert expected_calibration_error(y, np.where(y == 1, 0.999, 0.001)) < 0.002


def test_calibration_maps_fix_a_distorted_score() -> None:
    rng = np.random.default_rng(0)
    true_logit = rng.normal(-1, 1.2, size=40_000)
    y = (rng.uniform(size=true_logit.size) < 1 / (1 + np.exp(-true_logit))).astype(np.int64)
    raw = 3.0 * true_logit + 2.0  # over-confident and biased
    assert expected_calibration_error(y, 1 / (1 + np.exp(-raw))) > 0.1
    for kind in ("sigmoid", "isotonic"):
        mapped = fit_calibration(kind, raw, y)(raw)
        assert expected_calibration_error(y, mapped) < 0.02, kind
    with pytest.raises(ValueError, match="calibration must be"):
        fit_calibration("beta", raw, y)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return SyntheticWorld(CONFIG)


def test_model_is_calibrated_on_fresh_logged_data(world: SyntheticWorld) -> None:
    model = AffinityModel().fit(world.history(), world.reps)
    fresh = SyntheticWorld(WorldConfig(**{**CONFIG.__dict__, "n_history": 40_000}))
    # same reps and truth (same seed), outcomes drawn again from the known truth
    rows = fresh.history().iloc[-20_000:]
    p = model.predict_proba(rows)[:, 1]
    assert expected_calibration_error(rows["converted"], p) < 0.03
    assert abs(p.mean() - rows["converted"].mean()) < 0.02


def test_out_of_time_report_finds_the_planted_signal(world: SyntheticWorld) -> None:
    report = validate(AffinityModel(), world.history(), world.reps)
    assert report.split.startswith("out of time on assigned_at")
    assert report.n_train + report.n_test == CONFIG.n_history
    assert report.model.log_loss < report.baseline.log_loss < report.prior_log_loss
    assert report.model.auc > report.baseline.auc + 0.03
    assert report.has_rep_signal and report.verdict.startswith("Rep-specific signal found")
    assert sum(b.count for b in report.reliability) == report.n_test


def test_no_signal_is_said_plainly() -> None:
    flat = SyntheticWorld(WorldConfig(**{**CONFIG.__dict__, "effect_size": 0.0}))
    report = validate(AffinityModel(), flat.history(), flat.reps)
    assert not report.has_rep_signal
    assert report.verdict.startswith("No rep-specific signal")


def test_split_is_out_of_time_or_says_it_is_random(world: SyntheticWorld) -> None:
    history = world.history()
    train, test, split = split_history(history, 0.25, 0)
    assert train["assigned_at"].max() < test["assigned_at"].min()
    assert len(test) == pytest.approx(0.25 * len(history), abs=2)
    no_time = history.drop(columns="assigned_at")
    train, test, split = split_history(no_time, 0.25, 0)
    assert split.startswith("random (seed 0)") and len(test) == 3000
    blanks = history.assign(assigned_at=pd.NaT)
    assert split_history(blanks, 0.25, 0)[2].startswith("random")
    with pytest.raises(ValueError, match="test_fraction"):
        split_history(history, 1.0, 0)
