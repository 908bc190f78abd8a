"""Probability calibration maps and reliability diagnostics.

The router multiplies probabilities by deal values, so a probability must mean what it
says. The maps here are fitted on *cross-fitted* (out-of-fold) raw logits by the affinity
model and applied to the final model's logits; they are kept as plain arrays so that
scoring a 1,000 × 200 batch costs one vectorised pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-6  # keep probabilities off 0 and 1: one confident miss must not be infinite loss


@dataclass(frozen=True)
class CalibrationMap:
    """``kind`` is ``"sigmoid"`` (Platt on the logit: slope, intercept), ``"isotonic"``
    (monotone steps on the logit, interpolated) or ``"none"`` (plain sigmoid)."""

    kind: str
    slope: float = 1.0
    intercept: float = 0.0
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()

    def __call__(self, logit: FloatArray) -> FloatArray:
        if self.kind == "isotonic":
            p = np.interp(logit, np.asarray(self.knots_x), np.asarray(self.knots_y))
        else:
            p = 1.0 / (1.0 + np.exp(-(self.slope * logit + self.intercept)))
        return np.clip(p, _EPS, 1.0 - _EPS)


def fit_calibration(kind: str, logit: FloatArray, y: npt.NDArray[np.int64],
                    sample_weight: FloatArray | None = None) -> CalibrationMap:
    """Fit a map from raw (out-of-fold) logits to probabilities (weighted rows when the
    model's fit is weighted)."""
    # imported here: applying a map (scoring, ``models.scorer``) must not need scikit-learn
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if kind == "none":
        return CalibrationMap("none")
    if kind == "sigmoid":
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(logit.reshape(-1, 1), y,
                                                             sample_weight=sample_weight)
        return CalibrationMap("sigmoid", float(platt.coef_[0, 0]), float(platt.intercept_[0]))
    if kind == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=_EPS, y_max=1 - _EPS)
        iso.fit(logit, y, sample_weight=sample_weight)
        return CalibrationMap(
            "isotonic",
            knots_x=tuple(float(v) for v in iso.X_thresholds_),
            knots_y=tuple(float(v) for v in iso.y_thresholds_),
        )
    raise ValueError(f"calibration must be 'sigmoid', 'isotonic' or 'none', got {kind!r}")


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed_rate: float


def reliability_table(
    y: npt.ArrayLike, p: npt.ArrayLike, n_bins: int = 10
) -> tuple[ReliabilityBin, ...]:
    """Equal-width bins on [0, 1]; empty bins are left out."""
    yy, pp = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, pp, side="right") - 1, 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = which == b
        if mask.any():
            out.append(ReliabilityBin(float(edges[b]), float(edges[b + 1]), int(mask.sum()),
                                      float(pp[mask].mean()), float(yy[mask].mean())))
    return tuple(out)


def expected_calibration_error(y: npt.ArrayLike, p: npt.ArrayLike, n_bins: int = 10) -> float:
    """Count-weighted mean |observed rate - mean prediction| over equal-width bins."""
    bins = reliability_table(y, p, n_bins)
    total = sum(b.count for b in bins)
    return float(sum(b.count * abs(b.observed_rate - b.mean_predicted) for b in bins) / total)
