"""Routing-relevant validation: does the model rank reps *within a lead*, and what would
routing by it have converted?

Pooled log loss / AUC barely separate models that rank reps for one lead differently; a
router only uses that ranking. On held-out logged rows, with the logging propensities:

* **within-lead AUC** - for each row, the percentile of the logged rep's score among the
  lead's candidate reps (0 = the model's worst rep, 1 = its best); the AUC of that
  percentile against the outcome, each row weighted ``(1 / m) / propensity`` so the logged
  reps count as if drawn uniformly. 0.5: the model's within-lead order says nothing (a
  lead-only model scores exactly 0.5); above 0.5: leads convert more with the reps it
  ranks higher.
* **routed value** - the model's own assignment of the held-out leads (greedy on each
  lead's score above its mean, each rep capped at 1.25 x its logged held-out load),
  valued by self-normalised inverse propensity weighting (SNIPS) over the rows where
  it agrees with the log; next to it, the same estimate for a uniformly random rep
  (round robin) and the logged policy's observed rate.
* with the truth known (synthetic worlds): mean per-lead Spearman correlation of the
  predicted and the true probabilities over the reps.

Candidate reps are those the training history has: the log has no support elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
CAPACITY_SLACK = 1.25


@dataclass(frozen=True)
class RoutingMetrics:
    within_lead_auc: float
    routed_value: float  # SNIPS estimate of the conversion rate of the model's assignment
    routed_value_se: float
    uniform_value: float  # SNIPS estimate for a uniformly random candidate rep
    logged_value: float  # the observed conversion rate of the held-out rows
    n_agree: int  # held-out rows where the model's assignment equals the logged rep
    truth_spearman: float | None = None  # mean per-lead rank correlation with the truth


def within_lead_percentile(scores: FloatArray, logged: IntArray) -> FloatArray:
    """Percentile of each row's logged rep among that row's scores (ties share)."""
    mine = scores[np.arange(len(logged)), logged][:, None]
    below = (scores < mine).sum(axis=1)
    ties = (scores == mine).sum(axis=1) - 1
    return np.asarray((below + 0.5 * ties) / max(scores.shape[1] - 1, 1), dtype=float)


def within_lead_auc(scores: FloatArray, logged: IntArray, y: npt.NDArray[np.int_],
                    propensity: FloatArray) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    weight = (1.0 / scores.shape[1]) / propensity
    return float(roc_auc_score(y, within_lead_percentile(scores, logged), sample_weight=weight))


def greedy_assignment(scores: FloatArray, capacity: npt.NDArray[np.int_]) -> IntArray:
    """Each lead to a rep, best relative score first, each rep at most ``capacity`` leads;
    leads left over (capacity exhausted) go to the rep with the most room."""
    n, m = scores.shape
    relative = scores - scores.mean(axis=1, keepdims=True)
    order = np.argsort(-relative, axis=None, kind="stable")
    room = capacity.astype(np.int64).copy()
    out = np.full(n, -1, dtype=np.intp)
    done = 0
    for flat in order:
        i, j = divmod(int(flat), m)
        if out[i] < 0 and room[j] > 0:
            out[i] = j
            room[j] -= 1
            done += 1
            if done == n:
                break
    for i in np.flatnonzero(out < 0):
        out[i] = int(np.argmax(room))
        room[out[i]] -= 1
    return out


def snips(match_weight: FloatArray, y: npt.NDArray[np.int_]) -> tuple[float, float]:
    """Self-normalised IPS value and its delta-method standard error."""
    total = match_weight.sum()
    if total <= 0:
        return float("nan"), float("nan")
    value = float((match_weight * y).sum() / total)
    se = float(np.sqrt(((match_weight * (y - value)) ** 2).sum()) / total)
    return value, se


def mean_spearman(predicted: FloatArray, truth: FloatArray) -> float:
    """Mean over rows of the Spearman correlation across columns (0 for a constant row)."""
    a, b = rankdata(predicted, axis=1), rankdata(truth, axis=1)
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    rho = np.where(denom > 0, (a * b).sum(axis=1) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(rho.mean())


def routing_metrics(scores: FloatArray, logged: IntArray, y: npt.NDArray[np.int_],
                    propensity: FloatArray, truth: FloatArray | None = None) -> RoutingMetrics:
    """All of the above for held-out rows: ``scores`` (rows × candidate reps), the logged
    rep's column per row, outcomes and logging propensities."""
    m = scores.shape[1]
    load = np.bincount(logged, minlength=m)
    capacity = np.maximum(np.ceil(CAPACITY_SLACK * load), 1).astype(np.int64)
    assigned = greedy_assignment(scores, capacity)
    agree = assigned == logged
    routed, routed_se = snips(agree / propensity, y)
    uniform, _ = snips(np.full(len(y), 1.0 / m) / propensity, y)
    return RoutingMetrics(
        within_lead_auc=within_lead_auc(scores, logged, y, propensity),
        routed_value=routed, routed_value_se=routed_se, uniform_value=uniform,
        logged_value=float(np.mean(y)), n_agree=int(agree.sum()),
        truth_spearman=None if truth is None else mean_spearman(scores, truth),
    )
