"""Save and load fitted affinity models (joblib) with the metadata a user needs to trust them.

A model file holds ``{"format": ..., "metadata": ModelMetadata, "model": AffinityModel}``.
Loading refuses - with :class:`models.ModelError`, one line - a file that is missing, is
not a leadroute model, was written by another scikit-learn minor version (pickled
estimators are not portable across those), or whose stored feature schema does not match
the model inside it. Only load model files you trust: joblib files are pickles.
"""

from __future__ import annotations

import hashlib
import os
import platform
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted

from models.affinity import AffinityModel
from models.validation import ValidationReport
from solver.errors import ModelError

FORMAT = "leadroute-affinity-model/1"


@dataclass(frozen=True)
class LibraryVersions:
    python: str
    sklearn: str
    numpy: str
    pandas: str
    joblib: str

    @staticmethod
    def current() -> LibraryVersions:
        return LibraryVersions(platform.python_version(), sklearn.__version__,
                               np.__version__, pd.__version__, joblib.__version__)


@dataclass(frozen=True)
class ModelMetadata:
    format: str
    versions: LibraryVersions
    lead_columns: tuple[str, ...]  # columns the leads table must have
    rep_columns: tuple[str, ...]  # columns the reps table must have (besides rep_id)
    schema: tuple[str, ...]  # human-readable feature schema
    schema_digest: str
    training_rows: int
    training_period: tuple[str, str] | None  # first and last assigned_at
    hyperparameters: tuple[tuple[str, str], ...]
    validation: ValidationReport | None  # out-of-time metrics, when computed
    structure: tuple[str, ...] = ()  # what the fit chose: blocks, penalties, C


def schema_digest(model: AffinityModel) -> str:
    return hashlib.sha256(repr(model.schema_).encode()).hexdigest()[:16]


def build_metadata(
    model: AffinityModel, validation: ValidationReport | None = None
) -> ModelMetadata:
    check_is_fitted(model, "estimator_")
    return ModelMetadata(
        format=FORMAT,
        versions=LibraryVersions.current(),
        lead_columns=model.schema_.lead_columns,
        rep_columns=model.schema_.rep_columns,
        schema=model.schema_.describe(),
        schema_digest=schema_digest(model),
        training_rows=int(model.training_rows_),
        training_period=model.training_period_,
        hyperparameters=tuple((k, repr(v)) for k, v in sorted(model.get_params().items())),
        validation=validation,
        structure=model.describe_fit(),
    )


def save_model(
    model: AffinityModel, path: str | Path, metadata: ModelMetadata | None = None
) -> Path:
    """Write the model atomically (temp file + rename); returns the path."""
    if not isinstance(model, AffinityModel):
        raise TypeError(f"expected an AffinityModel, got {type(model).__name__}")
    meta = metadata if metadata is not None else build_metadata(model)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        joblib.dump({"format": FORMAT, "metadata": meta, "model": model}, tmp, compress=3)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_model_file(path: str | Path) -> tuple[AffinityModel, ModelMetadata]:
    """Model and metadata, after every compatibility check."""
    source = Path(path)
    if not source.is_file():
        raise ModelError(f"{source}: model file not found")
    try:
        with warnings.catch_warnings():
            # a pickle from another sklearn version: refuse below with a clear message
            warnings.simplefilter("ignore")
            payload = joblib.load(source)
    except Exception as exc:  # unpickling can fail in many ways; all mean "not loadable"
        raise ModelError(f"{source}: not a readable model file ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{source}: not a leadroute affinity model file (expected {FORMAT})")
    meta, model = payload["metadata"], payload["model"]
    if not isinstance(meta, ModelMetadata) or not isinstance(model, AffinityModel):
        raise ModelError(f"{source}: model file content is damaged")
    saved, here = meta.versions.sklearn, sklearn.__version__
    if saved.split(".")[:2] != here.split(".")[:2]:
        raise ModelError(
            f"{source}: saved with scikit-learn {saved}, this is {here}; refit the model "
            "with `leadroute fit`"
        )
    if model.learner == "hgb":
        raise ModelError(f"{source}: an hgb model saved by an older leadroute (that learner "
                         "was retired); refit it with `leadroute fit` (learner logistic)")
    if schema_digest(model) != meta.schema_digest:
        raise ModelError(f"{source}: feature schema in the metadata does not match the model")
    return model, meta


def load_affinity_model(path: str | Path) -> AffinityModel:
    """The fitted model in ``path``; raises :class:`models.ModelError` if unusable."""
    return load_model_file(path)[0]
