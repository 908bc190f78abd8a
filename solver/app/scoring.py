"""Bridge between the affinity model (``models``) and the router (``solver``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._errors import ModelError


def score_with_model(
    path: Path, leads: pd.DataFrame, reps: pd.DataFrame
) -> npt.NDArray[np.float64]:
    try:
        from models import load_affinity_model
    except ImportError as exc:  # the affinity model is optional until it lands
        raise ModelError(f"affinity model support is not available: {exc}") from None
    try:
        model = load_affinity_model(path)
        return np.asarray(model.score_matrix(leads, reps), dtype=np.float64)
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: {exc}") from None


def model_scorer(
    path: Path,
) -> Callable[[pd.DataFrame, pd.DataFrame], npt.NDArray[np.float64]]:
    """Load the model once; the returned scorer gives a lead × rep matrix per batch."""
    try:
        from models import load_affinity_model
    except ImportError as exc:
        raise ModelError(f"affinity model support is not available: {exc}") from None
    try:
        model = load_affinity_model(path)
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: {exc}") from None

    def score(leads: pd.DataFrame, reps: pd.DataFrame) -> npt.NDArray[np.float64]:
        return np.asarray(model.score_matrix(leads, reps), dtype=np.float64)

    return score
