"""Ramp-up of new hires: days since ``start_date`` → capacity and share factor."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.policy._model import Ramp


def ramp_factors(
    reps: pd.DataFrame, ramp: Ramp | None, as_of: pd.Timestamp
) -> npt.NDArray[np.float64]:
    """Step function of the schedule; reps without ``start_date`` are fully ramped."""
    factors = np.ones(len(reps))
    if ramp is None or "start_date" not in reps.columns:
        return factors
    start = pd.to_datetime(reps["start_date"])
    days = (as_of.normalize() - start).dt.days.to_numpy(dtype=float)
    thresholds = np.array([d for d, _ in ramp.schedule], dtype=float)
    values = np.array([f for _, f in ramp.schedule], dtype=float)
    known = ~np.isnan(days)
    # before the start date a rep is at the schedule's first step
    step = np.searchsorted(thresholds, np.maximum(days[known], 0.0), side="right") - 1
    factors[known] = values[step]
    return factors
