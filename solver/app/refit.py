"""``leadroute refit``: a candidate model fitted on the history before a holdout window,
compared with the current model on that window, promoted only when it is not worse.

The candidate keeps the current model's hyperparameters (a ``clone``), so the comparison
is about newer data, not a different learner. What ships is the candidate that was
compared (fitted before the window), so the figures printed are the figures of the
promoted file. The candidate's rows are weighted exactly as ``leadroute fit`` weighs them
(:class:`models.propensity_weights.Weighting`: clipped inverse propensities when the
history was logged with exploration). Promotion keeps the previous file as
``<stem>.v<N><suffix>`` next to it, then replaces the model atomically: a crash leaves
either the old or the new model in place, never a half-written one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.base import clone

from models import AffinityModel, build_metadata, save_model
from models.persistence import load_model_file
from models.propensity_weights import Weighting
from models.tables import read_history
from models.validation import metrics
from solver.contract_tables import load_reps
from solver.errors import InputError


@dataclass(frozen=True)
class ModelScore:
    log_loss: float
    auc: float


@dataclass(frozen=True)
class RefitResult:
    cutoff: pd.Timestamp
    n_train: int
    n_holdout: int
    current: ModelScore | None  # None: no current model yet
    candidate: ModelScore
    promoted: bool
    kept_as: Path | None  # where the previous model went
    notes: tuple[str, ...]


def split_at_holdout(history: pd.DataFrame, holdout_days: float, label: str
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    if "assigned_at" not in history.columns:
        raise InputError("missing: refit holds out the latest days by assigned_at",
                         source=label, column="assigned_at")
    stamps = pd.to_datetime(history["assigned_at"], errors="coerce", utc=True)
    missing = stamps.isna().to_numpy()
    if missing.any():
        raise InputError("empty assigned_at: refit holds out by time", source=label,
                         row=int(np.flatnonzero(missing)[0]) + 1, column="assigned_at")
    cutoff = stamps.max() - pd.Timedelta(days=holdout_days)
    early = (stamps <= cutoff).to_numpy()
    if early.all() or not early.any():
        raise InputError(f"no rows {'after' if early.all() else 'before'} the holdout cut "
                         f"at {cutoff.isoformat()} ({holdout_days:g} days before the "
                         "latest assigned_at)", source=label, column="assigned_at")
    return history[early], history[~early], cutoff


def score(model: AffinityModel, holdout: pd.DataFrame) -> ModelScore:
    y = pd.to_numeric(holdout["converted"]).to_numpy(dtype=int)
    found = metrics(y, model.predict_proba(holdout)[:, 1])
    return ModelScore(log_loss=found.log_loss, auc=found.auc)


def refit_model(history_path: Path, reps_path: Path, model_path: Path, *,
                holdout_days: float = 14.0, tolerance: float = 0.0, seed: int = 0,
                weighting: Weighting | None = None) -> RefitResult:
    history, reps = read_history(history_path), load_reps(reps_path)
    train, holdout, cutoff = split_at_holdout(history, holdout_days, str(history_path))
    # weights of the whole file (so a bad propensity is named by its file row), then the
    # candidate's rows
    row_weights = (weighting or Weighting()).weights(history, source=str(history_path))
    notes: list[str] = [row_weights.note]
    current: AffinityModel | None = None
    if model_path.exists():
        current, meta = load_model_file(model_path)
        seen = meta.training_period[1] if meta.training_period else None
        if seen is not None and pd.Timestamp(seen, tz="UTC") > cutoff:
            notes.append(f"the current model was trained on data up to {seen}, inside the "
                         "holdout window: its figures are optimistic")
    else:
        notes.append(f"no current model at {model_path}: the candidate becomes the first")
    template = clone(current) if current is not None else AffinityModel(random_state=seed)
    weights = None if row_weights.weights is None else row_weights.weights[train.index]
    candidate = template.fit(train, reps, weights)
    candidate_score = score(candidate, holdout)
    current_score = score(current, holdout) if current is not None else None
    promoted = (current_score is None
                or candidate_score.log_loss <= current_score.log_loss + tolerance)
    kept_as = None
    if promoted:
        kept_as = keep_previous(model_path) if current is not None else None
        save_model(candidate, model_path, build_metadata(candidate))
    return RefitResult(cutoff=cutoff, n_train=len(train), n_holdout=len(holdout),
                       current=current_score, candidate=candidate_score, promoted=promoted,
                       kept_as=kept_as, notes=tuple(notes))


def keep_previous(model_path: Path) -> Path:
    """Copy the model to the next free ``<stem>.v<N><suffix>`` (never overwriting one)."""
    pattern = re.compile(rf"^{re.escape(model_path.stem)}\.v(\d+){re.escape(model_path.suffix)}$")
    taken = [int(m.group(1)) for p in model_path.parent.iterdir()
             if (m := pattern.match(p.name))]
    target = model_path.with_name(f"{model_path.stem}.v{max(taken, default=0) + 1}"
                                  f"{model_path.suffix}")
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copy2(model_path, tmp)
    tmp.replace(target)
    return target


def print_refit(console: Console, result: RefitResult) -> None:
    console.print(f"refit: {result.n_holdout} rows after {result.cutoff.isoformat()} held "
                  f"out; the candidate was fitted on the {result.n_train} rows before")
    table = Table(title="out-of-time comparison")
    for column in ("model", "log loss", "AUC"):
        table.add_column(column, justify="left" if column == "model" else "right")
    if result.current is not None:
        table.add_row("current", f"{result.current.log_loss:.4f}", f"{result.current.auc:.3f}")
    table.add_row("candidate", f"{result.candidate.log_loss:.4f}",
                  f"{result.candidate.auc:.3f}")
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
    if result.promoted:
        kept = f"; previous kept as {result.kept_as}" if result.kept_as else ""
        console.print(f"promoted: the candidate is not worse on the holdout{kept}")
    else:
        console.print("not promoted: the candidate is worse on the holdout; the current "
                      "model stays")
