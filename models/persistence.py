"""Save and load fitted affinity models (joblib) with the metadata a user needs to trust them.

A model file holds ``{"format": FORMAT, "schema_digest": ..., "scorer": PairScorer,
"estimator": bytes}``, the bytes a joblib payload ``{"metadata": ModelMetadata, "model":
AffinityModel}``: the scorer (:mod:`models.scorer`) unpickles without scikit-learn, so
routing with a model (``load_pair_scorer``) starts fast, and the estimator is unpickled
only when asked for (``load_model_file``). Files of the first format (``{"format",
"metadata", "model"}``) still load.

Loading refuses - with :class:`models.ModelError`, one line - a file that is missing, is
not a leadroute model, was written by another scikit-learn minor version (pickled
estimators are not portable across those; the scorer is plain arrays and does not care),
or whose stored feature schema does not match the model inside it. Only load model files
you trust: joblib files are pickles.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
import pandas as pd

from models.features import FeatureSchema
from models.scorer import PairScorer
from solver.errors import ModelError

if TYPE_CHECKING:
    from models.affinity import AffinityModel
    from models.validation import ValidationReport

FORMAT = "leadroute-affinity-model/2"
FORMAT_1 = "leadroute-affinity-model/1"  # metadata and estimator side by side


@dataclass(frozen=True)
class LibraryVersions:
    python: str
    sklearn: str
    numpy: str
    pandas: str
    joblib: str

    @staticmethod
    def current() -> LibraryVersions:
        import sklearn  # only when saving: sklearn is loaded then anyway

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
    return _digest(model.schema_)


def _digest(schema: FeatureSchema) -> str:
    return hashlib.sha256(repr(schema).encode()).hexdigest()[:16]


def build_metadata(
    model: AffinityModel, validation: ValidationReport | None = None
) -> ModelMetadata:
    from sklearn.utils.validation import check_is_fitted

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
    from models.affinity import AffinityModel

    if not isinstance(model, AffinityModel):
        raise TypeError(f"expected an AffinityModel, got {type(model).__name__}")
    meta = metadata if metadata is not None else build_metadata(model)
    # a model fitted on arrays scores feature rows, not lead × rep batches: no scorer
    scorer = model.pair_scorer() if model.fitted_on_tables_ else None
    estimator = io.BytesIO()
    joblib.dump({"metadata": meta, "model": model}, estimator, compress=3)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        joblib.dump({"format": FORMAT, "schema_digest": meta.schema_digest, "scorer": scorer,
                     "estimator": estimator.getvalue()}, tmp, compress=3)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_model_file(path: str | Path) -> tuple[AffinityModel, ModelMetadata]:
    """Model and metadata, after every compatibility check."""
    source = Path(path)
    payload = _read(source)
    if payload["format"] == FORMAT:
        payload = _unpickle(source, payload.get("estimator"))
    return _checked_estimator(source, payload)


def _checked_estimator(source: Path, payload: dict[str, object]
                       ) -> tuple[AffinityModel, ModelMetadata]:
    import sklearn

    from models.affinity import AffinityModel

    meta, model = payload.get("metadata"), payload.get("model")
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


def load_pair_scorer(path: str | Path) -> PairScorer:
    """What scoring batches needs of the model in ``path``, without importing
    scikit-learn (files of the first format: through the estimator)."""
    source = Path(path)
    payload = _read(source)
    if payload["format"] == FORMAT_1:  # already unpickled with its estimator
        return _checked_estimator(source, payload)[0].pair_scorer()
    scorer = payload.get("scorer")
    if scorer is None:
        raise ModelError(f"{source}: the model was fitted on feature arrays, not on "
                         "history and reps tables: it cannot score lead × rep batches")
    if not isinstance(scorer, PairScorer):
        raise ModelError(f"{source}: model file content is damaged")
    if _digest(scorer.schema) != payload.get("schema_digest"):
        raise ModelError(f"{source}: feature schema in the metadata does not match the model")
    return scorer


def _read(source: Path) -> dict[str, object]:
    """The file's top-level payload, of a format this version reads."""
    if not source.is_file():
        raise ModelError(f"{source}: model file not found")
    payload = _unpickle(source, source)
    if payload.get("format") not in (FORMAT, FORMAT_1):
        raise ModelError(f"{source}: not a leadroute affinity model file (expected {FORMAT})")
    return payload


def _unpickle(source: Path, content: object) -> dict[str, object]:
    """A joblib payload from a file or from bytes stored in one."""
    if not isinstance(content, (bytes, Path)):
        raise ModelError(f"{source}: model file content is damaged")
    try:
        with warnings.catch_warnings():
            # a pickle from another sklearn version: refused later with a clear message
            warnings.simplefilter("ignore")
            payload = joblib.load(io.BytesIO(content) if isinstance(content, bytes)
                                  else content)
    except Exception as exc:  # unpickling can fail in many ways; all mean "not loadable"
        raise ModelError(f"{source}: not a readable model file ({type(exc).__name__})") from None
    if not isinstance(payload, dict):
        raise ModelError(f"{source}: not a leadroute affinity model file (expected {FORMAT})")
    return payload
