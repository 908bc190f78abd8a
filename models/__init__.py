"""Learned fit scores for routing: the affinity model P(convert | lead, rep), its data and
its validation. Below the app layer: never imports ``solver``."""

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
