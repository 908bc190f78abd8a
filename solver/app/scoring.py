"""Bridge between the affinity model (``models``) and the router (``solver``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import ModelError


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
    path: Path, *, blank_missing_attributes: bool = True,
) -> Callable[[pd.DataFrame, pd.DataFrame], npt.NDArray[np.float64]]:
    """Load the model once; the returned scorer gives a lead × rep matrix per batch.

    Leads reaching a service one by one often lack an attribute the model uses; with
    ``blank_missing_attributes`` such a column is added blank (an unknown category, as a
    blank cell would be) instead of failing the whole batch."""
    try:
        from models import load_affinity_model
    except ImportError as exc:
        raise ModelError(f"affinity model support is not available: {exc}") from None
    try:
        model = load_affinity_model(path)
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: {exc}") from None

    categorical = [spec.column for spec in model.schema_.lead_categorical]

    def score(leads: pd.DataFrame, reps: pd.DataFrame) -> npt.NDArray[np.float64]:
        missing = [c for c in categorical if c not in leads.columns]
        if blank_missing_attributes and missing:
            leads = leads.assign(**dict.fromkeys(missing, ""))
        return np.asarray(model.score_matrix(leads, reps), dtype=np.float64)

    return score
