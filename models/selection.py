"""The final choice among candidate settings of the affinity model (block set × C), judged
by what routing uses: the order of reps *within a lead*.

Out-of-fold pooled log loss rewards calibration and the lead-only part of the model, which
every setting shares; a router only uses which rep ranks higher for a lead. So when the
history carries logging propensities, each candidate setting is scored by the within-lead
AUC (:func:`models.routing_metrics.within_lead_auc`) of its out-of-fold fits: every tuning
row is scored against every rep with history by the fold model that did not see it, and
the percentile of its logged rep is compared with its outcome, weighted by the inverse
propensity. That metric is noisy on small histories (measured on the synthetic family at
4,000 rows, choosing by it alone was no better than by log loss), so it decides among the
settings whose log loss is within one standard error (paired over rows) of the best: where
log loss cannot tell settings apart, routing quality does. Without propensities the choice
is by out-of-fold log loss, and the fitted model says which rule was used
(``selection_metric_``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.blocks import Folds
from models.routing_metrics import within_lead_auc

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
# coefficients [intercept, coef...] of one fitted design -> (W lead × rep, limit weights)
Bilinear = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
MAX_CELLS = 2_000_000  # rows × reps scored per setting and C (bounds time and memory)
BY_ROUTING = ("within-lead AUC (out of fold, inverse-propensity weighted) among the settings "
              "within one standard error of the best out-of-fold log loss")
BY_LOG_LOSS = "log loss (out of fold; the history has no usable propensity column)"


@dataclass(frozen=True)
class RoutingRows:
    """Tuning rows the within-lead metric is computed on, with every candidate rep."""

    positions: IntArray  # positions within the tuning rows (0 .. n_tuning - 1)
    u: FloatArray  # lead vectors of those rows
    v: FloatArray  # vectors of the candidate reps (reps with history)
    logged: IntArray  # candidate index of each row's logged rep
    propensity: FloatArray  # logging probability of each row's logged rep
    limits: tuple[tuple[FloatArray, FloatArray], ...]  # per limit, (rows, reps) features


@dataclass(frozen=True)
class SettingScore:
    """One candidate setting: its block set, C, and out-of-fold scores."""

    blocks: str  # which block set ("chosen", "all", ...)
    C: float
    log_loss: float
    within_lead_auc: float  # NaN when the history has no propensities
    near_best: bool = True  # log loss within one standard error of the best setting's
    chosen: bool = False


def near_best_log_loss(row_losses: Sequence[FloatArray]) -> list[bool]:
    """Per setting: is its out-of-fold log loss within one standard error (of the paired
    per-row difference) of the best setting's?"""
    best = int(np.argmin([r.mean() for r in row_losses]))
    out = []
    for rows in row_losses:
        diff = rows - row_losses[best]
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        out.append(bool(diff.mean() <= se))
    return out


def oof_within_lead_auc(coefs: Sequence[FloatArray], folds: Folds, rows: RoutingRows,
                        y: npt.NDArray[np.int64], bilinear: Bilinear) -> float:
    """Within-lead AUC of out-of-fold scores: each row scored by the fold model that did
    not train on it (``coefs[f]`` is fold ``f``'s fit); ``y`` are the tuning rows' labels."""
    scores = np.zeros((len(rows.positions), len(rows.v)))
    fold_of = np.empty(folds.n_rows, dtype=np.intp)
    for f, (_, test) in enumerate(folds.splits):
        fold_of[test] = f
    owner = fold_of[rows.positions]
    for f, coef in enumerate(coefs):
        mine = np.flatnonzero(owner == f)
        w, limit_coef = bilinear(coef)
        logit = rows.u[mine] @ w @ rows.v.T
        for k, (over, gap) in enumerate(rows.limits):
            logit += limit_coef[2 * k] * over[mine] + limit_coef[2 * k + 1] * gap[mine]
        scores[mine] = logit
    return within_lead_auc(scores, rows.logged, y[rows.positions], rows.propensity)


def best_setting(scores: Sequence[SettingScore], *, by_routing: bool) -> int:
    """Index of the winner: among the settings near the best log loss, the highest
    within-lead AUC (ties: lower log loss); the lowest log loss without routing metrics."""
    if by_routing:
        near = [i for i, s in enumerate(scores) if s.near_best]
        return int(max(near, key=lambda i: (scores[i].within_lead_auc, -scores[i].log_loss)))
    return int(np.argmin([s.log_loss for s in scores]))


def sample_positions(n_tuning: int, n_reps: int, seed: int) -> IntArray:
    """Tuning-row positions scored by the routing metric: all, or a seeded sample when
    rows × reps would exceed ``MAX_CELLS``."""
    keep = max(MAX_CELLS // max(n_reps, 1), 1)
    if n_tuning <= keep:
        return np.arange(n_tuning)
    return np.sort(np.random.default_rng([seed, 16]).choice(n_tuning, keep, replace=False))
