"""Load fairness metrics shared by the demo, the backtest and the reports."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def share_deviation(loads: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """Largest relative gap between a rep's share of the load and its weighted target.

    0.10 means some rep got 10% more (or less) than its weight-proportional share.
    Reps with zero weight are ignored; 0.0 when nothing was assigned.
    """
    load = np.asarray(loads, dtype=float)
    weight = np.asarray(weights, dtype=float)
    keep = weight > 0
    total = load[keep].sum()
    if total <= 0 or not keep.any():
        return 0.0
    target = weight[keep] / weight[keep].sum() * total
    return float(np.max(np.abs(load[keep] - target) / target))


def gini(loads: npt.ArrayLike) -> float:
    """Gini coefficient of the loads: 0 = perfectly even, towards 1 = one rep takes all."""
    load = np.sort(np.asarray(loads, dtype=float))
    n, total = len(load), load.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * np.sum(ranks * load) / (n * total)) - (n + 1) / n)
