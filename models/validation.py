"""Honest validation of an affinity model: out of time, against a lead-only baseline.

The split is on ``assigned_at``: the model is fitted on the earliest ``1 - test_fraction``
of the history and scored on the rest, the way it will be used. When the history has no
usable ``assigned_at`` the fallback is a seeded random split, and the report says so.

The lead-only baseline is the same estimator with ``rep_features=False``: it knows
everything about the lead and nothing about the rep. The gap between the two is the
rep-specific signal routing can exploit; when that gap is not clearly positive (paired
per-row log-loss difference within two standard errors of zero) the report says so in
a plain sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from models.affinity import AffinityModel, Progress
from models.calibration import ReliabilityBin, expected_calibration_error, reliability_table
from models.routing_metrics import RoutingMetrics, routing_metrics
from solver.errors import InputError as DataError

Truth = Callable[[pd.DataFrame, pd.DataFrame], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Metrics:
    log_loss: float
    brier: float
    auc: float  # NaN when the test set has one class
    ece: float


@dataclass(frozen=True)
class ValidationReport:
    split: str  # how train and test were separated, in words
    n_train: int
    n_test: int
    test_rate: float  # observed conversion rate in the test rows
    model: Metrics
    baseline: Metrics  # lead-only model (no rep information)
    prior_log_loss: float  # constant = training conversion rate
    log_loss_gain: float  # baseline - model, per row (positive: the model is better)
    log_loss_gain_se: float  # standard error of that gain (paired, per row)
    reliability: tuple[ReliabilityBin, ...]  # of the model on the test rows
    routing: RoutingMetrics | None = None  # within-lead ranking and routed value
    routing_note: str = ""  # why routing metrics are missing, when they are

    @property
    def has_rep_signal(self) -> bool:
        return self.log_loss_gain > 2.0 * self.log_loss_gain_se

    @property
    def verdict(self) -> str:
        if self.has_rep_signal:
            return (
                f"Rep-specific signal found: out of time the model's log loss is "
                f"{self.log_loss_gain:.4f} below the lead-only baseline "
                f"(± {self.log_loss_gain_se:.4f}); routing by these scores should beat "
                "rep-blind assignment."
            )
        return (
            "No rep-specific signal: out of time the model does not beat the lead-only "
            f"baseline (log-loss gain {self.log_loss_gain:.4f} ± {self.log_loss_gain_se:.4f}); "
            "routing by these scores will not beat round robin on conversions."
        )


def metrics(y: npt.ArrayLike, p: npt.ArrayLike) -> Metrics:
    yy, pp = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    auc = float(roc_auc_score(yy, pp)) if len(np.unique(yy)) == 2 else float("nan")
    return Metrics(
        log_loss=float(log_loss(yy, pp, labels=[0, 1])),
        brier=float(brier_score_loss(yy, pp)),
        auc=auc,
        ece=expected_calibration_error(yy, pp),
    )


def split_history(
    history: pd.DataFrame, test_fraction: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Out-of-time split on ``assigned_at``; seeded random split as the stated fallback."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    history = history.reset_index(drop=True)
    stamps = (pd.to_datetime(history["assigned_at"], errors="coerce")
              if "assigned_at" in history.columns else None)
    if stamps is not None and stamps.notna().all() and stamps.nunique() > 1:
        order = np.argsort(stamps.to_numpy(), kind="stable")
        cut = int(round(len(history) * (1.0 - test_fraction)))
        # never split one timestamp across train and test
        boundary = stamps.iloc[order[cut - 1]]
        train_mask = (stamps <= boundary).to_numpy()
        if train_mask.all():
            train_mask = (stamps < boundary).to_numpy()
        train, test = history[train_mask], history[~train_mask]
        split = (f"out of time on assigned_at: train up to {boundary.isoformat()}, "
                 f"test after it")
    else:
        rng = np.random.default_rng(random_state)
        test_mask = np.zeros(len(history), dtype=bool)
        test_mask[rng.permutation(len(history))[: int(round(len(history) * test_fraction))]] = True
        train, test = history[~test_mask], history[test_mask]
        split = (f"random (seed {random_state}): assigned_at missing or incomplete, "
                 "so an out-of-time split was not possible")
    if train.empty or test.empty:
        raise DataError("too few rows to split into train and test", source="history table")
    return train, test, split


def validate(
    estimator: AffinityModel,
    history: pd.DataFrame,
    reps: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    random_state: int = 0,
    progress: Progress | None = None,
    truth: Truth | None = None,
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> ValidationReport:
    """Fit clones of ``estimator`` (and its lead-only twin) on the early history,
    score the late history, and compare. ``progress`` is passed to both fits.
    ``truth(leads, reps)`` (synthetic worlds) adds the rank correlation with the truth.
    ``sample_weight`` (one per history row) weighs both fits on their training rows."""
    train, test, split = split_history(history, test_fraction, random_state)
    weights = None if sample_weight is None else np.asarray(sample_weight)[train.index]
    model = clone(estimator).fit(train, reps, weights, progress=progress)
    baseline = clone(estimator).set_params(rep_features=False).fit(
        train, reps, weights, progress=progress
    )
    y = pd.to_numeric(test["converted"]).to_numpy(dtype=int)
    p_model = model.predict_proba(test)[:, 1]
    p_base = baseline.predict_proba(test)[:, 1]
    gain_rows = _row_log_loss(y, p_base) - _row_log_loss(y, p_model)
    prior = float(pd.to_numeric(train["converted"]).mean())
    routing, note = _routing(model, test, reps, y, truth)
    return ValidationReport(
        split=split,
        n_train=len(train),
        n_test=len(test),
        test_rate=float(y.mean()),
        model=metrics(y, p_model),
        baseline=metrics(y, p_base),
        prior_log_loss=float(log_loss(y, np.full(len(y), prior), labels=[0, 1])),
        log_loss_gain=float(gain_rows.mean()),
        log_loss_gain_se=float(gain_rows.std(ddof=1) / np.sqrt(len(y))) if len(y) > 1 else 0.0,
        reliability=reliability_table(y, p_model),
        routing=routing,
        routing_note=note,
    )


def _routing(model: AffinityModel, test: pd.DataFrame, reps: pd.DataFrame,
             y: npt.NDArray[np.int_], truth: Truth | None) -> tuple[RoutingMetrics | None, str]:
    """Routing metrics over the held-out rows whose rep had training history."""
    if "propensity" not in test.columns:
        return None, "no propensity column: the routed value cannot be estimated"
    propensity = pd.to_numeric(test["propensity"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(propensity).all() and (propensity > 0).all()):
        return None, "propensity missing or not positive on some rows: no routed value"
    ids = reps["rep_id"].astype(str).str.strip()
    candidates = reps[ids.isin(model.schema_.rep_ids).to_numpy()].reset_index(drop=True)
    logged = pd.Index(candidates["rep_id"].astype(str).str.strip()).get_indexer(
        pd.Index(test["rep_id"].astype(str).str.strip()))
    keep = logged >= 0
    if keep.sum() < 2 or len(candidates) < 2:
        return None, "too few held-out rows with a rep known at training"
    rows = test[keep].reset_index(drop=True)
    scores = model.score_matrix(rows, candidates)
    true = truth(rows, candidates) if truth is not None else None
    return routing_metrics(scores, logged[keep], y[keep], propensity[keep], true), ""


def _row_log_loss(y: npt.NDArray[np.int_], p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return np.asarray(-(y * np.log(q) + (1 - y) * np.log(1 - q)), dtype=np.float64)
