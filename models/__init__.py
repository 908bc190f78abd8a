"""Learned fit scores for routing: the affinity model P(convert | lead, rep), its data and
its validation. Below the app layer: of ``solver`` it uses only the core's errors
(``solver.errors``) and table loaders, never ``solver.app``.

The names below are imported on first use: scoring with a saved model
(``load_pair_scorer``) must not pay for importing scikit-learn (``models.scorer``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from solver.errors import InputError as DataError
from solver.errors import ModelError

if TYPE_CHECKING:
    from models.affinity import AffinityModel
    from models.persistence import (
        ModelMetadata,
        build_metadata,
        load_affinity_model,
        load_pair_scorer,
        save_model,
    )
    from models.scorer import PairScorer
    from models.validation import Metrics, ValidationReport, validate

_HOMES = {
    "AffinityModel": "models.affinity",
    "Metrics": "models.validation",
    "ModelMetadata": "models.persistence",
    "PairScorer": "models.scorer",
    "ValidationReport": "models.validation",
    "build_metadata": "models.persistence",
    "load_affinity_model": "models.persistence",
    "load_pair_scorer": "models.persistence",
    "save_model": "models.persistence",
    "validate": "models.validation",
}

__all__ = [
    "AffinityModel",
    "DataError",
    "Metrics",
    "ModelError",
    "ModelMetadata",
    "PairScorer",
    "ValidationReport",
    "build_metadata",
    "load_affinity_model",
    "load_pair_scorer",
    "save_model",
    "validate",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
