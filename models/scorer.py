"""``PairScorer``: what scoring a batch needs of a fitted ``AffinityModel``, without
scikit-learn.

The fitted model's logit is bilinear (``u @ W @ v.T`` plus the limit terms, see
:mod:`models.features`) and its calibration is a plain map, so scoring needs numpy, pandas
and the feature schema only. Model files keep this part next to the pickled estimator
(:mod:`models.persistence`): ``leadroute route --model`` then starts without importing
scikit-learn, whose import (with scipy.stats) took longer than the whole route of the
demo's batch (measured: 1.6 s of a 3.0 s ``route`` on the 2-core machine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.calibration import CalibrationMap
from models.features import FeatureSchema, encode_leads, encode_reps, limit_matrix

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True, eq=False)
class PairScorer:
    """Calibrated P(convert) for lead × rep pairs. ``coef_matrix``: ``W`` (lead features
    × rep features); ``limit_coef``: two weights per numeric limit (over it, gap to it);
    without ``rep_features`` only ``W``'s first column (the rep-blind logit) is used."""

    schema: FeatureSchema
    rep_features: bool
    coef_matrix: FloatArray
    limit_coef: FloatArray
    calibration: CalibrationMap

    def score_matrix(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """Shape ``(len(leads), len(reps))``; reps unknown at fit time are scored from
        their attributes (cold start)."""
        for name, table in (("leads", leads), ("reps", reps)):
            if not isinstance(table, pd.DataFrame):
                raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
        return self.calibration(self.logit_matrix(leads, reps))

    def logit_matrix(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        u = encode_leads(self.schema, leads, "leads table")
        if not self.rep_features:
            return np.repeat((u @ self.coef_matrix[:, :1]), len(reps), axis=1)
        v = encode_reps(self.schema, reps, "reps table")
        logit = u @ self.coef_matrix @ v.T
        limits = limit_matrix(self.schema, leads, reps, "leads table", "reps table")
        for k, (over, gap) in enumerate(limits):
            logit += self.limit_coef[2 * k] * over + self.limit_coef[2 * k + 1] * gap
        return np.asarray(logit)
