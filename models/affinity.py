"""``AffinityModel``: P(convert | lead, rep) learned from history, scored as a matrix.

Choice of learner, by measured out-of-time log loss (``benchmarks/bench_affinity_learners.py``:
synthetic world, ``WorldConfig()`` defaults - 20,000 history rows, 40 reps - fitted on the
first 80 % of ``assigned_at``, scored on the last 20 %; mean over seeds 0, 1, 2):

=========================================  ========  ======  =====  ======
learner                                    log loss  Brier   AUC    fit s
=========================================  ========  ======  =====  ======
true probabilities (the floor)             0.5555    0.1880  0.748
lead-only baseline (rep_features=False)    0.6073    0.2099  0.662    0.4
logistic, main effects only                0.5761    0.1962  0.719    1.0
**logistic + interactions (default)**      0.5652    0.1920  0.735    2.6
logistic + interactions, isotonic          0.5672    0.1921  0.734    2.8
HistGradientBoosting (learner="hgb")       0.5750    0.1962  0.719   64.7
=========================================  ========  ======  =====  ======

(Fit seconds on the shared 2-core machine while other jobs ran: compare, don't quote.)

(``C=0.1`` and ``rep_shrinkage=1`` were picked on a small grid, C in {0.03, 0.1, 0.3, 1}
x shrinkage in {1, 4, 16}, by the same out-of-time log loss on seed 0; differences
within the grid were under 0.005.) On the Maven CRM export neither learner beats the
lead-only baseline (``benchmarks/bench_affinity_maven.py``): that data has no
rep-specific signal to find.

The regularised logistic model with rep × lead-attribute interactions wins, and is also
the one that scores fast: its logit is bilinear, ``U @ W @ V.T`` (see
:mod:`models.features`), so a 1,000 × 200 batch costs two small matrix products.

Cold start is built into the parameterisation rather than bolted on: every rep-identity
term is an L2-penalised *deviation* from what the rep's attributes (team, seniority,
region, listed industries, numbers) predict, and ``rep_shrinkage`` makes those identity
terms ``rep_shrinkage`` times more expensive than attribute terms. A rep with little
history is pulled toward reps like them; a rep with none (unknown ``rep_id``) is scored
from attributes and the global rate alone - empirical-Bayes shrinkage in ridge form.

Calibration is cross-fitted: out-of-fold logits from ``cv`` folds fit a sigmoid (Platt)
or isotonic map, which is applied to the model refitted on all rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from models._errors import DataError, ModelError
from models.calibration import CalibrationMap, fit_calibration
from models.features import (
    FeatureSchema,
    encode_leads,
    encode_reps,
    infer_schema,
    limit_matrix,
    limit_rows,
    rowwise_kron,
)

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[str, int, int], None]  # (stage, step, of_steps)
_LEARNERS = ("logistic", "hgb")
_CALIBRATIONS = ("sigmoid", "isotonic", "none")


@dataclass(frozen=True)
class _Encoded:
    """Training or scoring rows, encoded: lead vectors, rep vectors, limit features."""

    u: FloatArray
    v: FloatArray
    limits: FloatArray


def _no_progress(stage: str, step: int, of_steps: int) -> None:
    del stage, step, of_steps


class AffinityModel(ClassifierMixin, BaseEstimator):
    """Calibrated P(convert | lead, rep).

    Parameters
    ----------
    learner : {"logistic", "hgb"}
        Regularised logistic regression on the pair features (default, see the module
        docstring for the measurement), or HistGradientBoosting on the same features.
    C : float
        Inverse L2 strength of the logistic learner.
    rep_shrinkage : float
        Relative L2 penalty on rep-identity terms (> 1: reps are pulled harder toward reps
        with the same attributes; this is what makes sparse and new reps sensible).
    rep_features : bool
        False gives the lead-only baseline: P(convert | lead), the same for every rep.
    interactions : bool
        Include rep × lead-attribute and rep-attribute × lead-attribute interactions.
    calibration : {"sigmoid", "isotonic", "none"}
    cv : int
        Folds of the cross-fitted calibration.
    max_categories : int
        Most frequent values kept per categorical column; rarer ones count as unseen.
    max_iter : int
        Iterations of the logistic solver or boosting rounds of the hgb learner.
    random_state : int
        Seeds fold assignment and the hgb learner.

    Use ``fit(history, reps)`` on contract tables, then ``score_matrix(leads, reps)``.
    ``fit(X, y)`` / ``predict_proba(X)`` on numeric pair rows is the plain scikit-learn
    classifier API (lead-only features; used by ``parametrize_with_checks``).
    """

    def __init__(
        self,
        learner: str = "logistic",
        C: float = 0.1,
        rep_shrinkage: float = 1.0,
        rep_features: bool = True,
        interactions: bool = True,
        calibration: str = "sigmoid",
        cv: int = 3,
        max_categories: int = 30,
        max_iter: int = 300,
        random_state: int = 0,
    ) -> None:
        self.learner = learner
        self.C = C
        self.rep_shrinkage = rep_shrinkage
        self.rep_features = rep_features
        self.interactions = interactions
        self.calibration = calibration
        self.cv = cv
        self.max_categories = max_categories
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # P(convert) is binary by nature
        return tags

    # --- fitting ------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame | npt.ArrayLike,
        y: pd.DataFrame | npt.ArrayLike | None = None,
        *,
        progress: Progress | None = None,
    ) -> AffinityModel:
        """``fit(history, reps)``: the history table (outcome in ``converted``) and the
        reps table. Or, scikit-learn style, ``fit(X, y)`` on pair rows and labels.

        The arguments are named ``X, y`` because scikit-learn's conventions require it;
        a DataFrame ``y`` with a ``rep_id`` column is what selects the table mode.
        ``progress(stage, step, of_steps)`` is called as the fit advances."""
        self._check_params()
        report = progress or _no_progress
        if isinstance(y, pd.DataFrame):
            if not isinstance(X, pd.DataFrame):
                raise TypeError("history must be a DataFrame when reps is a reps table")
            labels, encoded = self._prepare_tables(X, y)
        else:
            labels, encoded = self._prepare_arrays(X, y)
        self._fit_encoded(encoded, labels, report)
        return self

    def _check_params(self) -> None:
        if self.learner not in _LEARNERS:
            raise ValueError(f"learner must be one of {_LEARNERS}, got {self.learner!r}")
        if self.calibration not in _CALIBRATIONS:
            raise ValueError(
                f"calibration must be one of {_CALIBRATIONS}, got {self.calibration!r}"
            )
        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C!r}")
        if not self.rep_shrinkage > 0:
            raise ValueError(f"rep_shrinkage must be > 0, got {self.rep_shrinkage!r}")
        if int(self.cv) < 2:
            raise ValueError(f"cv must be >= 2, got {self.cv!r}")
        if int(self.max_categories) < 1 or int(self.max_iter) < 1:
            raise ValueError("max_categories and max_iter must be >= 1")

    def _prepare_tables(
        self, history: pd.DataFrame, reps: pd.DataFrame
    ) -> tuple[npt.NDArray[np.int64], _Encoded]:
        source = "history table"
        for column in ("rep_id", "converted"):
            if column not in history.columns:
                raise DataError("required column is missing", source=source, column=column)
        if "rep_id" not in reps.columns:
            raise DataError("required column is missing", source="reps table", column="rep_id")
        if len(history) == 0:
            raise DataError("no data rows", source=source)
        history = history.reset_index(drop=True)
        y = _labels(history["converted"], source)
        rep_ids = reps["rep_id"].astype(str).str.strip()
        if rep_ids.duplicated().any():
            row = int(np.flatnonzero(rep_ids.duplicated().to_numpy())[0])
            raise DataError(f"duplicate id '{rep_ids.iloc[row]}'", source="reps table",
                            row=row + 1, column="rep_id")
        rows = pd.Index(rep_ids).get_indexer(pd.Index(history["rep_id"].astype(str).str.strip()))
        if (rows < 0).any():
            row = int(np.flatnonzero(rows < 0)[0])
            raise DataError(f"rep '{history['rep_id'].iloc[row]}' is not in the reps table",
                            source=source, row=row + 1, column="rep_id")
        self.fitted_on_tables_ = True
        seen = sorted(set(rep_ids.iloc[np.unique(rows)]))
        self.schema_ = infer_schema(
            history, reps if self.rep_features else None, seen if self.rep_features else (),
            max_categories=int(self.max_categories),
        )
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(self.schema_.lead_columns)
        self.reps_: pd.DataFrame | None = reps.reset_index(drop=True).assign(
            rep_id=rep_ids.to_numpy()
        )
        self.training_rows_ = len(history)
        self.training_period_ = _period(history)
        reps_for_rows = self.reps_.iloc[rows].reset_index(drop=True)
        return y, self._encode_rows(history, reps_for_rows, source)

    def _prepare_arrays(
        self, X: npt.ArrayLike, y: npt.ArrayLike | None
    ) -> tuple[npt.NDArray[np.int64], _Encoded]:
        if y is None:
            raise ValueError(
                "AffinityModel requires y to be passed, but the target y is None: "
                "call fit(history, reps) with tables or fit(X, y) with labels"
            )
        X_arr, y_arr = validate_data(self, X, y)
        check_classification_targets(y_arr)
        classes = np.unique(y_arr)
        if len(classes) != 2:
            raise ValueError(
                f"Only binary classification is supported (converted or not); "
                f"y has {len(classes)} class(es)"
            )
        self.classes_ = classes
        self.fitted_on_tables_ = False
        frame = _array_frame(X_arr)
        self.schema_ = infer_schema(frame, None, (), max_categories=int(self.max_categories))
        self.reps_ = None
        self.training_rows_ = len(frame)
        self.training_period_ = None
        u = encode_leads(self.schema_, frame, "X")
        return (y_arr == classes[1]).astype(np.int64), _Encoded(
            u, np.ones((len(u), 1)), np.zeros((len(u), 0))
        )

    def _encode_rows(
        self, rows: pd.DataFrame, reps_for_rows: pd.DataFrame, source: str
    ) -> _Encoded:
        u = encode_leads(self.schema_, rows, source)
        if not self.rep_features:
            return _Encoded(u, np.ones((len(u), 1)), np.zeros((len(u), 0)))
        v = encode_reps(self.schema_, reps_for_rows, "reps table")
        return _Encoded(u, v, limit_rows(self.schema_, rows, reps_for_rows, source))

    def _fit_encoded(self, data: _Encoded, y: npt.NDArray[np.int64], report: Progress) -> None:
        n_pos = int(y.sum())
        if n_pos == 0 or n_pos == len(y):
            raise DataError("history needs both outcomes (converted 0 and 1); got one class",
                            source="history table", column="converted")
        design = self._design(data)
        folds = int(self.cv)
        steps = folds + 1
        kind = self.calibration
        if kind != "none" and min(n_pos, len(y) - n_pos) < 2 * folds:
            kind = "none"  # too few of one outcome to cross-fit a calibration map
        oof = np.zeros(len(y))
        # one learner, warm-started from fold to fold and into the final fit: the folds'
        # solutions are close to each other, so later fits need a fraction of the steps
        learner = self._new_learner()
        if kind != "none":
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            for k, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
                report("cross-fitting calibration", k + 1, steps)
                learner.fit(design[train], y[train])
                oof[test] = learner.decision_function(design[test])
        report("fitting on all rows", steps, steps)
        self.estimator_ = learner.fit(design, y)
        self.n_iter_ = learner.n_iter
        self.calibration_ = fit_calibration(kind, oof, y) if kind != "none" else CalibrationMap(
            "none"
        )
        self._unpack_coefficients()

    def _new_learner(self) -> _Learner:
        if self.learner == "hgb":
            return _Learner(HistGradientBoostingClassifier(
                max_iter=int(self.max_iter), learning_rate=0.1, max_leaf_nodes=31,
                l2_regularization=1.0, early_stopping=False, random_state=self.random_state,
            ))
        return _Learner(LogisticRegression(C=float(self.C), max_iter=int(self.max_iter),
                                           tol=1e-5, warm_start=True))

    # --- the design and its bilinear form -------------------------------------------------
    def _blocks(self) -> tuple[float, bool]:
        identity_scale = 1.0 / float(np.sqrt(self.rep_shrinkage))
        return identity_scale, bool(self.interactions and self.rep_features)

    def _design(self, data: _Encoded) -> sp.csr_matrix | FloatArray:
        schema: FeatureSchema = self.schema_
        u = data.u[:, 1:]
        if self.learner == "hgb":
            parts = [u]
            if data.v.shape[1] > 1:
                parts += [data.v[:, 1:], *self._match_columns(data), data.limits]
            return np.column_stack(parts)
        scale, interact = self._blocks()
        v_ids = data.v[:, schema.id_slice] * scale
        v_attr = data.v[:, schema.attr_slice]
        blocks = [sp.csr_matrix(u), sp.csr_matrix(v_ids), sp.csr_matrix(v_attr)]
        if interact:
            u_sparse = sp.csr_matrix(u)
            blocks.append(rowwise_kron(u_sparse, sp.csr_matrix(v_ids)))
            blocks.append(rowwise_kron(u_sparse, sp.csr_matrix(v_attr)))
        blocks += [sp.csr_matrix(np.column_stack(self._match_columns(data))
                                 if schema.matches else np.zeros((len(u), 0))),
                   sp.csr_matrix(data.limits)]
        return sp.hstack(blocks, format="csr")

    def _match_columns(self, data: _Encoded) -> list[FloatArray]:
        if data.v.shape[1] <= 1:
            return []
        return [
            (data.u[:, li] * data.v[:, ri]).sum(axis=1)
            for li, ri in self.schema_.match_index_pairs()
        ]

    def _unpack_coefficients(self) -> None:
        """Turn the logistic coefficients into ``W`` (lead × rep) and limit weights."""
        if self.learner != "logistic":
            return
        schema: FeatureSchema = self.schema_
        lr: LogisticRegression = self.estimator_.model
        coef = lr.coef_.ravel()
        p = schema.lead_width - 1
        ids = schema.id_slice
        attr = schema.attr_slice
        n_ids, n_attr = ids.stop - ids.start, attr.stop - attr.start
        scale, interact = self._blocks()
        w = np.zeros((schema.lead_width, max(schema.rep_width, 1)))
        w[0, 0] = lr.intercept_[0]
        at = 0
        w[1:, 0] = coef[at:at + p]
        at += p
        w[0, ids] = coef[at:at + n_ids] * scale
        at += n_ids
        w[0, attr] = coef[at:at + n_attr]
        at += n_attr
        if interact:
            w[1:, ids] = coef[at:at + p * n_ids].reshape(p, n_ids) * scale
            at += p * n_ids
            w[1:, attr] = coef[at:at + p * n_attr].reshape(p, n_attr)
            at += p * n_attr
        if self.rep_features:
            for li, ri in schema.match_index_pairs():
                w[li, ri] += coef[at]
                at += 1
        self.coef_matrix_ = w
        self.limit_coef_ = coef[at:].copy()

    # --- scoring ------------------------------------------------------------------------
    def score_matrix(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """Calibrated P(convert) for every lead × rep pair: shape ``(len(leads), len(reps))``.

        Reps unknown at fit time are scored from their attributes (cold start)."""
        check_is_fitted(self, "estimator_")
        if not self.fitted_on_tables_:
            raise ModelError("score_matrix needs a model fitted with fit(history, reps)")
        for name, table in (("leads", leads), ("reps", reps)):
            if not isinstance(table, pd.DataFrame):
                raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
        return self.calibration_(self._logit_matrix(leads, reps))

    def _logit_matrix(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        schema: FeatureSchema = self.schema_
        u = encode_leads(schema, leads, "leads table")
        if not self.rep_features:
            v = np.ones((len(reps), 1))
            if self.learner == "logistic":
                return np.repeat((u @ self.coef_matrix_[:, :1]), len(reps), axis=1)
        else:
            v = encode_reps(schema, reps, "reps table")
        if self.learner == "logistic":
            logit = u @ self.coef_matrix_ @ v.T
            limits = limit_matrix(schema, leads, reps, "leads table", "reps table")
            for k, (over, gap) in enumerate(limits):
                logit += self.limit_coef_[2 * k] * over + self.limit_coef_[2 * k + 1] * gap
            return np.asarray(logit)
        n, m = len(u), len(v)
        limits = limit_matrix(schema, leads, reps, "leads table", "reps table")
        lim = (np.stack([a for pair in limits for a in pair], axis=-1).reshape(n * m, -1)
               if limits else np.zeros((n * m, 0)))
        pairs = _Encoded(np.repeat(u, m, axis=0), np.tile(v, (n, 1)), lim)
        return self.estimator_.decision_function(self._design(pairs)).reshape(n, m)

    def predict_proba(self, X: pd.DataFrame | npt.ArrayLike) -> FloatArray:
        """P(class) for pair rows: ``[:, 1]`` is P(convert). After ``fit(history, reps)``,
        ``X`` is a history-like table (lead columns + ``rep_id`` of a rep known at fit)."""
        check_is_fitted(self, "estimator_")
        if self.fitted_on_tables_:
            if not isinstance(X, pd.DataFrame):
                raise TypeError("X must be a DataFrame of lead columns + rep_id")
            known_reps = self.reps_
            assert known_reps is not None  # always set by fit(history, reps)
            rows = X.reset_index(drop=True)
            if "rep_id" not in rows.columns:
                raise DataError("required column is missing", source="pairs table",
                                column="rep_id")
            idx = pd.Index(known_reps["rep_id"]).get_indexer(pd.Index(rows["rep_id"].astype(str)))
            if (idx < 0).any():
                row = int(np.flatnonzero(idx < 0)[0])
                raise DataError(
                    f"rep '{rows['rep_id'].iloc[row]}' was not in the reps table at fit; "
                    "use score_matrix(leads, reps) to score new reps",
                    source="pairs table", row=row + 1, column="rep_id",
                )
            data = self._encode_rows(rows, known_reps.iloc[idx].reset_index(drop=True),
                                     "pairs table")
        else:
            X_arr = validate_data(self, X, reset=False)
            u = encode_leads(self.schema_, _array_frame(X_arr), "X")
            data = _Encoded(u, np.ones((len(u), 1)), np.zeros((len(u), 0)))
        p = self.calibration_(self.estimator_.decision_function(self._design(data)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame | npt.ArrayLike) -> npt.NDArray[np.generic]:
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]


class _Learner:
    """A fitted-on-demand base learner with a raw-logit ``decision_function``;
    silences only the solver's convergence chatter (the tolerance is strict on purpose)."""

    def __init__(self, model: LogisticRegression | HistGradientBoostingClassifier) -> None:
        self.model = model

    def fit(self, X: sp.csr_matrix | FloatArray, y: npt.NDArray[np.int64]) -> _Learner:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(X, y)
        return self

    @property
    def n_iter(self) -> int:
        return int(np.max(self.model.n_iter_))

    def decision_function(self, X: sp.csr_matrix | FloatArray) -> FloatArray:
        return np.asarray(self.model.decision_function(X), dtype=float).ravel()


def _labels(values: pd.Series, source: str) -> npt.NDArray[np.int64]:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = ~numbers.isin([0, 1]).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"expected 0 or 1, got {values.iloc[row]!r}", source=source,
                        row=row + 1, column="converted")
    return numbers.to_numpy(dtype=np.int64)


def _period(history: pd.DataFrame) -> tuple[str, str] | None:
    if "assigned_at" not in history.columns:
        return None
    stamps = pd.to_datetime(history["assigned_at"], errors="coerce").dropna()
    if stamps.empty:
        return None
    return (stamps.min().isoformat(), stamps.max().isoformat())


def _array_frame(X: npt.NDArray[np.generic]) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(X, dtype=float),
                        columns=[f"x{i}" for i in range(np.shape(X)[1])])
