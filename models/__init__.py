"""Learned fit scores for routing: the affinity model P(convert | lead, rep), its data and
its validation. Below the app layer: of ``solver`` it uses only the core's errors
(``solver.errors``) and table loaders, never ``solver.app``."""

from models.affinity import AffinityModel
from models.persistence import ModelMetadata, build_metadata, load_affinity_model, save_model
from models.validation import Metrics, ValidationReport, validate
from solver.errors import InputError as DataError
from solver.errors import ModelError

__all__ = [
    "AffinityModel",
    "DataError",
    "Metrics",
    "ModelError",
    "ModelMetadata",
    "ValidationReport",
    "build_metadata",
    "load_affinity_model",
    "save_model",
    "validate",
]
