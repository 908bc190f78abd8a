"""Bridge between the affinity model (``models``) and the router (``solver``): the one
place a model file becomes a scorer (the ``route`` command, partitioned and Spark runs,
the service)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import ModelError

if TYPE_CHECKING:
    from models import PairScorer


@dataclass(frozen=True)
class ModelScorer:
    """A fitted affinity model's scoring part (``models.PairScorer``) as a
    ``solver.Scorer``: a lead × rep matrix per batch. Picklable, so it travels to Spark
    workers.

    Leads reaching a service one by one often lack an attribute the model uses; with
    ``blank_missing_attributes`` such a column is added blank (an unknown category, as a
    blank cell would be) instead of failing the whole batch."""

    model: PairScorer
    path: Path
    blank_missing_attributes: bool = False
    # the route command reports a scoring failure as a ModelError naming the model file;
    # the service and partitioned runs keep the model's located InputError (the service
    # sets the refused lead aside, a partition names it)
    name_model_in_errors: bool = False

    def __call__(self, leads: pd.DataFrame, reps: pd.DataFrame) -> npt.NDArray[np.float64]:
        if self.blank_missing_attributes:
            missing = [spec.column for spec in self.model.schema.lead_categorical
                       if spec.column not in leads.columns]
            if missing:
                leads = leads.assign(**dict.fromkeys(missing, ""))
        if not self.name_model_in_errors:
            return np.asarray(self.model.score_matrix(leads, reps), dtype=np.float64)
        try:
            return np.asarray(self.model.score_matrix(leads, reps), dtype=np.float64)
        except (ValueError, OSError) as exc:
            raise ModelError(f"{self.path}: {exc}") from None


def model_scorer(path: Path, *, blank_missing_attributes: bool = True,
                 name_model_in_errors: bool = False) -> ModelScorer:
    """Load the model once (a missing ``models`` package or a bad file is a
    ``ModelError`` naming it); the scorer is then called per batch."""
    try:
        from models import load_pair_scorer
    except ImportError as exc:  # the affinity model is optional until it lands
        raise ModelError(f"affinity model support is not available: {exc}") from None
    try:
        model = load_pair_scorer(path)
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path}: {exc}") from None
    return ModelScorer(model, path, blank_missing_attributes, name_model_in_errors)
