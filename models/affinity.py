"""``AffinityModel``: P(convert | lead, rep) learned from history, scored as a matrix.

Choice of learner, by measured out-of-time log loss (``benchmarks/bench_affinity_learners.py``:
synthetic world, ``WorldConfig()`` defaults - 20,000 history rows, 40 reps - fitted on the
first 80 % of ``assigned_at``, scored on the last 20 %; mean over seeds 0, 1, 2):

==========================================  ========  ======  =====  ======
learner                                     log loss  Brier   AUC    fit s
==========================================  ========  ======  =====  ======
true probabilities (the floor)              0.5555    0.1880  0.748
lead-only baseline (rep_features=False)     0.6073    0.2099  0.662    0.4
logistic, main effects only                 0.5761    0.1962  0.719    1.0
logistic + every block, C=0.1 (previous)    0.5652    0.1920  0.735    2.6
logistic + interactions, isotonic           0.5672    0.1921  0.734    2.8
HistGradientBoosting (before the fix)       0.5750    0.1962  0.719   64.7
==========================================  ========  ======  =====  ======

The HistGradientBoosting learner (``learner="hgb"``, later with a categorical rep id and
early stopping) was retired (issue 16): on the audit's two worlds it captured 0.67 / 0.28
of the oracle's gain over round robin where the logistic model with blocks chosen from the
data got 0.905 / 0.62, at ~150 s per fit. ``learner="hgb"`` now raises an error naming
``"logistic"``.

(Fit seconds on the shared 2-core machine while other jobs ran: compare, don't quote.)

(That table is the *previous* default, every interaction block under one fixed ``C=0.1``.)
On worlds whose reps do not list their strengths (:mod:`models.synthetic_family`) most of
those ~1,100 columns carry no signal and their fitted noise scrambles which rep looks best
for each lead. So the interaction blocks are now chosen from the data
(:mod:`models.blocks`: a block gets its own penalty only when it lowers out-of-fold log
loss by more than its standard error; every other block shares one heavy penalty) and
``C`` by cross-validation at fit time, the
final choice judged by within-lead ranking when the history has propensities
(:mod:`models.selection`); ``benchmarks/bench_affinity_family.py`` measures what that does
to routed conversions. On the Maven CRM export the model does not beat the lead-only baseline
(``benchmarks/bench_affinity_maven.py``): that data has no rep-specific signal to find.

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
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from models.blocks import (
    Block,
    BlockScore,
    Folds,
    PathFit,
    candidate_blocks,
    fit_final,
    oof_path,
    resolve_blocks,
    row_log_loss,
    select_blocks,
    weighted_mean,
    weights_of,
)
from models.calibration import CalibrationMap, fit_calibration
from models.features import (
    FeatureSchema,
    encode_leads,
    encode_reps,
    infer_schema,
    limit_matrix,
    limit_rows,
)
from models.scorer import PairScorer
from models.selection import (
    BY_LOG_LOSS,
    BY_ROUTING,
    RoutingRows,
    SettingScore,
    best_setting,
    near_best_log_loss,
    oof_within_lead_auc,
    sample_positions,
)
from solver.errors import InputError as DataError
from solver.errors import ModelError

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[str, int, int], None]  # (stage, step, of_steps)
_LEARNERS = ("logistic",)
_RETIRED_LEARNERS = {"hgb": "HistGradientBoosting was not competitive on the synthetic "
                     "family (benchmarks/README.md)"}
_CALIBRATIONS = ("sigmoid", "isotonic", "none")
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)  # inverse L2 strengths tried by cross-validation
_SCREEN_C = 0.3  # C of the base model in block selection (reference of block penalties)
_BLOCK_C_GRID = (0.3, 0.1, 0.03)  # each block's own C, chosen in screening
_FALLBACK_C = 0.1  # when one outcome is too rare to cross-validate
_TUNING_ROWS = 40_000  # rows of blocks, C and calibration choices (seeded sample above)


@dataclass(frozen=True)
class _Encoded:
    """Training or scoring rows, encoded: lead vectors, rep vectors, limit features."""

    u: FloatArray
    v: FloatArray
    limits: FloatArray
    history: pd.DataFrame | None = None  # the rows as a table (fit on tables only)

    def take(self, rows: npt.NDArray[np.intp]) -> _Encoded:
        return _Encoded(self.u[rows], self.v[rows], self.limits[rows])


@dataclass(frozen=True)
class _Setting:
    """A candidate of the final choice: a block set, each block with its own C."""

    label: str
    blocks: dict[str, float]


@dataclass(frozen=True)
class _Choice:
    """The winning setting, its C, and its cross-validated path (None: nothing tuned)."""

    setting: _Setting
    C: float
    path: PathFit | None = None
    k: int = 0  # index of C in the path's grid


@dataclass(frozen=True)
class _Tuning:
    rows: npt.NDArray[np.intp]  # indices into the training rows
    folds: Folds  # splits of ``rows`` (positions 0..len(rows)-1)


def _no_progress(stage: str, step: int, of_steps: int) -> None:
    del stage, step, of_steps


class AffinityModel(ClassifierMixin, BaseEstimator):
    """Calibrated P(convert | lead, rep).

    Parameters
    ----------
    learner : {"logistic"}
        Regularised logistic regression on the pair features (see the module docstring
        for the measurement). ``"hgb"`` (HistGradientBoosting) was retired.
    C : float or None
        Inverse L2 strength of the logistic learner; ``None`` (default) chooses it at fit
        time over ``C_GRID`` by cross-validation (the choice is ``C_``): by within-lead
        AUC among the values near the best out-of-fold log loss when the history has
        ``propensity``, else by log loss (``selection_metric_``, ``selection_scores_``).
    rep_shrinkage : float
        Relative L2 penalty on rep-identity terms (> 1: reps are pulled harder toward reps
        with the same attributes; this is what makes sparse and new reps sensible).
    rep_features : bool
        False gives the lead-only baseline: P(convert | lead), the same for every rep.
    blocks : "auto", "all", "none" or a tuple of block names
        Which interaction blocks enter (see :mod:`models.blocks`): ``"auto"`` (default)
        gives a block its own penalty only when it lowers out-of-fold log loss by more
        than ``block_threshold`` standard errors, and puts every other block in one shared
        group under a heavy penalty (unless that group clearly hurts); ``"all"`` is the
        previous default (every block); ``"none"`` main effects only; names pick blocks
        by hand (e.g. the true structure of a synthetic world). The choice is ``blocks_``
        and ``shared_blocks_``, the log ``block_scores_``.
    block_threshold : float
        Standard errors of gain a block must clear to get its own penalty under
        ``blocks="auto"``.
    calibration : {"sigmoid", "isotonic", "none"}
    cv : int
        Folds of the cross-fitted calibration.
    max_categories : int
        Most frequent values kept per categorical column; rarer ones count as unseen.
    max_iter : int
        Iterations of the logistic solver.
    random_state : int
        Seeds fold assignment and the tuning sample.

    Use ``fit(history, reps)`` on contract tables, then ``score_matrix(leads, reps)``.
    ``fit(X, y)`` / ``predict_proba(X)`` on numeric pair rows is the plain scikit-learn
    classifier API (lead-only features; used by ``parametrize_with_checks``).
    """

    def __init__(
        self,
        *,
        learner: str = "logistic",
        C: float | None = None,
        rep_shrinkage: float = 1.0,
        rep_features: bool = True,
        blocks: str | tuple[str, ...] = "auto",
        block_threshold: float = 1.0,
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
        self.blocks = blocks
        self.block_threshold = block_threshold
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
        sample_weight: npt.ArrayLike | None = None,
        *,
        progress: Progress | None = None,
    ) -> AffinityModel:
        """``fit(history, reps)``: the history table (outcome in ``converted``) and the
        reps table. Or, scikit-learn style, ``fit(X, y)`` on pair rows and labels.

        The arguments are named ``X, y`` because scikit-learn's conventions require it;
        a DataFrame ``y`` with a ``rep_id`` column is what selects the table mode.
        ``sample_weight`` (one per history row, e.g. clipped inverse propensities from
        :mod:`models.propensity_weights`) weighs every internal fit: block selection,
        the choice of C, the final fit and the calibration map.
        ``progress(stage, step, of_steps)`` is called as the fit advances."""
        self._check_params()
        report = progress or _no_progress
        if isinstance(y, pd.DataFrame):
            if not isinstance(X, pd.DataFrame):
                raise TypeError("history must be a DataFrame when reps is a reps table")
            labels, encoded = self._prepare_tables(X, y)
        else:
            labels, encoded = self._prepare_arrays(X, y)
        weights = None if sample_weight is None else _check_sample_weight(
            sample_weight, encoded.u, dtype=np.float64, ensure_non_negative=True)
        self.weighted_ = weights is not None
        self._fit_encoded(encoded, labels, report, weights)
        return self

    def _check_params(self) -> None:
        if self.learner in _RETIRED_LEARNERS:
            raise ValueError(f"learner={self.learner!r} was retired "
                             f"({_RETIRED_LEARNERS[self.learner]}); use learner='logistic' "
                             "(the default)")
        if self.learner not in _LEARNERS:
            raise ValueError(f"learner must be one of {_LEARNERS}, got {self.learner!r}")
        if self.calibration not in _CALIBRATIONS:
            raise ValueError(
                f"calibration must be one of {_CALIBRATIONS}, got {self.calibration!r}"
            )
        if self.C is not None and not self.C > 0:
            raise ValueError(f"C must be > 0 or None (chosen by cross-validation), "
                             f"got {self.C!r}")
        if isinstance(self.blocks, str) and not self.blocks.strip():
            raise ValueError("blocks must be 'auto', 'all', 'none' or block names")
        if not self.block_threshold >= 0:
            raise ValueError(f"block_threshold must be >= 0, got {self.block_threshold!r}")
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
        return y, replace(self._encode_rows(history, reps_for_rows, source), history=history)

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

    def _fit_encoded(self, data: _Encoded, y: npt.NDArray[np.int64], report: Progress,
                     sw: FloatArray | None) -> None:
        n_pos = int(y.sum())
        if n_pos == 0 or n_pos == len(y):
            raise DataError("history needs both outcomes (converted 0 and 1); got one class",
                            source="history table", column="converted")
        self._fit_logistic(data, y, self._tuning(y), report, sw)

    def _tuning(self, y: npt.NDArray[np.int64]) -> _Tuning | None:
        """Rows and folds of every data-driven choice (blocks, C, calibration): all rows up
        to ``_TUNING_ROWS`` (a seeded sample above), or None when one outcome is too rare
        to cross-validate."""
        k = int(self.cv)
        if min(int(y.sum()), len(y) - int(y.sum())) < 2 * k:
            return None
        rows = np.arange(len(y))
        if len(y) > _TUNING_ROWS:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(len(y), _TUNING_ROWS, replace=False))
        splitter = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
        splits = tuple((tr, te) for tr, te in splitter.split(rows, y[rows]))
        return _Tuning(rows, Folds(splits, len(rows)))

    def _fit_logistic(self, data: _Encoded, y: npt.NDArray[np.int64], tuning: _Tuning | None,
                      report: Progress, sw: FloatArray | None) -> None:
        candidates = candidate_blocks(self.schema_) if self.rep_features else ()
        self._candidates = {b.name: b for b in candidates}
        report("choosing interaction blocks", 1, 3)
        chosen = self._choose_blocks(candidates, data, y, tuning, sw)
        report("choosing C by cross-validation", 2, 3)
        choice = self._choose_setting(self._settings(chosen), data, y, tuning, sw)
        self._set_blocks(choice.setting.blocks)
        self.C_ = choice.C
        report("fitting on all rows", 3, 3)
        start = None if choice.path is None else choice.path.warm_start(choice.k)
        self.estimator_ = _Learner(fit_final(self._design(data), y, self.C_,
                                             int(self.max_iter), start=start,
                                             sample_weight=sw))
        self.n_iter_ = self.estimator_.n_iter
        self._set_calibration(None if choice.path is None else choice.path.logits[choice.k],
                              y, tuning, sw)
        self.coef_matrix_, self.limit_coef_ = self._bilinear(self._coefficients(),
                                                             self._block_specs)

    def _set_blocks(self, chosen: dict[str, float]) -> None:
        """``blocks_``: blocks in on their own evidence (or given); ``shared_blocks_``: the
        rest, in under one heavy common penalty (:func:`models.blocks.select_blocks`)."""
        shared: frozenset[str] = getattr(self, "_shared", frozenset())
        self.blocks_ = tuple(n for n in chosen if n not in shared)
        self.shared_blocks_ = tuple(n for n in chosen if n in shared)
        # group-wise ridge: a block with its own C_b enters scaled by sqrt(C_b / C_ref)
        self.block_penalties_ = tuple((n, _SCREEN_C / c) for n, c in chosen.items())
        self._block_specs = tuple(self._candidates[n] for n in chosen)

    def _settings(self, chosen: dict[str, float]) -> tuple[_Setting, ...]:
        """Candidate block sets of the final choice (each crossed with the C grid). Only
        the blocks the data chose: adding every block (the previous default's structure)
        as a second candidate was measured on the synthetic family (5 seeds) and dropped -
        no gain on "mixed, weak" at 4,000 rows (0.209 vs 0.215) and a loss on "numeric
        effects" (0.700 vs 0.765), where the noisy within-lead AUC sometimes preferred it."""
        return (_Setting("chosen", chosen),)

    def _choose_blocks(self, candidates: tuple[Block, ...], data: _Encoded,
                       y: npt.NDArray[np.int64], tuning: _Tuning | None,
                       sw: FloatArray | None) -> dict[str, float]:
        """Block name -> its own C (``_SCREEN_C`` when not chosen by the data). Candidate
        columns are built on the tuning rows only (all blocks, at most ``_TUNING_ROWS``)."""
        self.block_scores_: tuple[BlockScore, ...] = ()
        self._shared: frozenset[str] = frozenset()
        if not self.rep_features:
            return {}  # the lead-only twin has no interaction blocks to name
        if self.blocks != "auto":
            return {b.name: _SCREEN_C for b in resolve_blocks(self.blocks, candidates)}
        if tuning is None or not candidates:
            return {}
        rows = tuning.rows
        sub = data.take(rows)
        choice = select_blocks(
            self._base_design(sub),
            [(b, b.columns(sub.u, sub.v, self._scale(b))) for b in candidates], y[rows],
            tuning.folds,
            C=_SCREEN_C, block_cs=_BLOCK_C_GRID, threshold=float(self.block_threshold),
            max_iter=int(self.max_iter), sample_weight=weights_of(sw, rows))
        self.block_scores_, self._shared = choice.log, frozenset(choice.shared)
        return choice.all_blocks()

    def _penalty_scale(self, name: str) -> float:
        return float(1.0 / np.sqrt(dict(self.block_penalties_)[name]))

    def _choose_setting(self, settings: tuple[_Setting, ...], data: _Encoded,
                        y: npt.NDArray[np.int64], tuning: _Tuning | None,
                        sw: FloatArray | None) -> _Choice:
        """Cross-validate every setting along the C grid (or the given C) and keep the best
        by within-lead AUC among those near the best log loss when the history has
        propensities, else by log loss (:mod:`models.selection`). Sets
        ``C_scores_`` (the winning block set's C path), ``selection_scores_`` (every
        candidate) and ``selection_metric_``."""
        self.C_scores_: tuple[tuple[float, float], ...] = ()
        self.selection_scores_: tuple[SettingScore, ...] = ()
        self.selection_metric_ = "none (too few rows of one outcome to cross-validate)"
        if tuning is None:
            return _Choice(settings[0], float(self.C) if self.C is not None else _FALLBACK_C)
        rows, sub = tuning.rows, data.take(tuning.rows)
        tuning_sw = weights_of(sw, rows)
        routing = self._routing_rows(data, tuning)
        scores, fits, row_losses = [], [], []
        for setting in settings:
            grid = self._c_grid(setting)
            self._set_blocks(setting.blocks)
            path = oof_path(self._design(sub), y[rows], tuning.folds, grid, int(self.max_iter),
                            sample_weight=tuning_sw)
            for k, c in enumerate(grid):
                auc = float("nan") if routing is None else oof_within_lead_auc(
                    path.coefs[k], tuning.folds, routing, y[rows],
                    lambda coef: self._bilinear(coef, self._block_specs))
                row_losses.append(row_log_loss(y[rows], path.logits[k]))
                scores.append(SettingScore(setting.label, float(c),
                                           weighted_mean(row_losses[-1], tuning_sw), auc))
                fits.append(_Choice(setting, float(c), path, k))
        scores = [replace(s, near_best=near) for s, near
                  in zip(scores, near_best_log_loss(row_losses), strict=True)]
        by_routing = routing is not None and all(np.isfinite(s.within_lead_auc) for s in scores)
        best = best_setting(scores, by_routing=by_routing)
        self.selection_metric_ = BY_ROUTING if by_routing else BY_LOG_LOSS
        self.selection_scores_ = tuple(replace(s, chosen=i == best) for i, s in enumerate(scores))
        self.C_scores_ = tuple((s.C, s.log_loss) for s in scores
                               if s.blocks == scores[best].blocks)
        return fits[best]

    def _c_grid(self, setting: _Setting) -> tuple[float, ...]:
        del setting  # one grid for every block set today
        return C_GRID if self.C is None else (float(self.C),)

    def _routing_rows(self, data: _Encoded, tuning: _Tuning) -> RoutingRows | None:
        """The tuning rows (a bounded sample) against every rep with history, for the
        within-lead metric; None without usable propensities or rep features."""
        frame = data.history
        if frame is None or not self.rep_features or self.reps_ is None:
            return None
        propensity = _propensities(frame)
        if propensity is None:
            return None
        schema: FeatureSchema = self.schema_
        seen = self.reps_[self.reps_["rep_id"].isin(schema.rep_ids)].reset_index(drop=True)
        positions = sample_positions(len(tuning.rows), len(seen), int(self.random_state))
        rows = tuning.rows[positions]
        leads = frame.iloc[rows].reset_index(drop=True)
        logged = pd.Index(seen["rep_id"]).get_indexer(
            pd.Index(leads["rep_id"].astype(str).str.strip()))
        return RoutingRows(
            positions=positions, u=data.u[rows], v=encode_reps(schema, seen, "reps table"),
            logged=logged, propensity=propensity[rows],
            limits=tuple(limit_matrix(schema, leads, seen, "history table", "reps table")))

    def _set_calibration(self, oof: FloatArray | None, y: npt.NDArray[np.int64],
                         tuning: _Tuning | None, sw: FloatArray | None) -> None:
        kind = self.calibration if oof is not None and tuning is not None else "none"
        if kind == "none" or oof is None or tuning is None:
            self.calibration_ = CalibrationMap("none")
        else:
            self.calibration_ = fit_calibration(kind, oof, y[tuning.rows],
                                                weights_of(sw, tuning.rows))

    # --- the design and its bilinear form -------------------------------------------------
    def _id_scale(self) -> float:
        return 1.0 / float(np.sqrt(self.rep_shrinkage))

    def _scale(self, block: Block) -> float:
        return self._id_scale() if block.identity else 1.0

    def _base_design(self, data: _Encoded) -> sp.csr_matrix:
        """Main effects and limits: always in. Interaction blocks are appended after."""
        schema: FeatureSchema = self.schema_
        return sp.hstack([sp.csr_matrix(data.u[:, 1:]),
                          sp.csr_matrix(data.v[:, schema.id_slice] * self._id_scale()),
                          sp.csr_matrix(data.v[:, schema.attr_slice]),
                          sp.csr_matrix(data.limits)], format="csr")

    def _design(self, data: _Encoded) -> sp.csr_matrix | FloatArray:
        parts = [self._base_design(data)]
        parts += [b.columns(data.u, data.v, self._scale(b)) * self._penalty_scale(b.name)
                  for b in self._block_specs]
        return sp.hstack(parts, format="csr")

    def _coefficients(self) -> FloatArray:
        lr: LogisticRegression = self.estimator_.model
        return np.concatenate([lr.intercept_, lr.coef_.ravel()])

    def _bilinear(self, full: FloatArray, specs: tuple[Block, ...]
                  ) -> tuple[FloatArray, FloatArray]:
        """Coefficients ``[intercept, coef...]`` of the design with blocks ``specs`` (at
        the current penalties) as ``W`` (lead × rep) and the limit weights."""
        schema: FeatureSchema = self.schema_
        coef = full[1:]
        p = schema.lead_width - 1
        ids, attr = schema.id_slice, schema.attr_slice
        n_ids, n_attr = ids.stop - ids.start, attr.stop - attr.start
        n_limits = 2 * len(schema.limits) if self.rep_features else 0
        w = np.zeros((schema.lead_width, max(schema.rep_width, 1)))
        w[0, 0] = full[0]
        w[1:, 0] = coef[:p]
        at = p
        w[0, ids] = coef[at:at + n_ids] * self._id_scale()
        at += n_ids
        w[0, attr] = coef[at:at + n_attr]
        at += n_attr
        limit_coef = coef[at:at + n_limits].copy()
        at += n_limits
        for block in specs:
            block.add_to(w, coef[at:at + block.width],
                         self._scale(block) * self._penalty_scale(block.name))
            at += block.width
        return w, limit_coef

    def describe_fit(self) -> tuple[str, ...]:
        """What the fit chose, one line each: printed by ``leadroute fit``, stored with
        the model."""
        check_is_fitted(self, "estimator_")
        weighted = (("fitted with per-row sample weights",)
                    if getattr(self, "weighted_", False) else ())
        rule = self.blocks if isinstance(self.blocks, str) else "given by name"
        if getattr(self, "legacy_format_", False):
            return (f"saved by an older leadroute: blocks {rule}, C = {self.C_:g} (fixed)",)
        shared = set(getattr(self, "shared_blocks_", ()))
        kept = [f"{n} (penalty ×{f:g})" for n, f in self.block_penalties_ if n not in shared]
        lines = [f"interaction blocks ({rule}): "
                 + (", ".join(kept) if kept else "none (main effects only)")]
        if shared:
            factor = dict(self.block_penalties_)[next(iter(shared))]
            lines.append(f"  + {len(shared)} other blocks under one shared penalty "
                         f"(×{factor:g})")
        if self.block_scores_:
            rejected = sum(1 for s in self.block_scores_ if s.stage == "screen" and not s.kept)
            lines.append(f"  {len(self.block_scores_)} comparisons, {rejected} blocks rejected "
                         f"at screening (threshold {self.block_threshold:g} SE)")
        how = "cross-validated" if self.C is None else "given"
        lines.append(f"C = {self.C_:g} ({how}), rep_shrinkage = {self.rep_shrinkage:g}")
        metric = getattr(self, "selection_metric_", "")
        if metric:
            lines.append(f"final choice among {len(self.selection_scores_)} settings "
                         f"(block set × C) by {metric}")
        return (*lines, *weighted)

    # --- scoring ------------------------------------------------------------------------
    def score_matrix(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """Calibrated P(convert) for every lead × rep pair: shape ``(len(leads), len(reps))``.

        Reps unknown at fit time are scored from their attributes (cold start)."""
        return self.pair_scorer().score_matrix(leads, reps)

    def pair_scorer(self) -> PairScorer:
        """The scoring part of the fitted model (:mod:`models.scorer`: no scikit-learn)."""
        check_is_fitted(self, "estimator_")
        if not self.fitted_on_tables_:
            raise ModelError("score_matrix needs a model fitted with fit(history, reps)")
        return PairScorer(schema=self.schema_, rep_features=bool(self.rep_features),
                          coef_matrix=self.coef_matrix_, limit_coef=self.limit_coef_,
                          calibration=self.calibration_)

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
            return _two_columns(self.calibration_(self._row_logits(data)))
        else:
            X_arr = validate_data(self, X, reset=False)
            u = encode_leads(self.schema_, _array_frame(X_arr), "X")
            data = _Encoded(u, np.ones((len(u), 1)), np.zeros((len(u), 0)))
        p = self.calibration_(self.estimator_.decision_function(self._design(data)))
        return np.column_stack([1.0 - p, p])

    def _row_logits(self, data: _Encoded) -> FloatArray:
        """Logits of aligned (lead, rep) rows from the bilinear form ``u W v'`` + limits:
        the same numbers as scoring a matrix, without rebuilding the design."""
        logit = np.einsum("ij,ij->i", data.u @ self.coef_matrix_, data.v)
        if data.limits.shape[1]:
            logit = logit + data.limits @ self.limit_coef_
        return np.asarray(logit, dtype=float)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Models saved before interaction blocks were chosen from the data: their
        bilinear coefficients still score; their parameters are mapped to today's."""
        if "estimator_" in state and "blocks" not in state:
            state = dict(state)
            state["blocks"] = "all" if state.pop("interactions", True) else "none"
            state.setdefault("block_threshold", 1.0)
            for name in ("blocks_", "shared_blocks_", "block_scores_", "block_penalties_",
                         "C_scores_", "_block_specs", "selection_scores_"):
                state.setdefault(name, ())
            state.setdefault("C_", state.get("C") or _FALLBACK_C)
            state["legacy_format_"] = True
        super().__setstate__(state)

    def predict(self, X: pd.DataFrame | npt.ArrayLike) -> npt.NDArray[np.generic]:
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]


class _Learner:
    """A fitted-on-demand base learner with a raw-logit ``decision_function``;
    silences only the solver's convergence chatter (the tolerance is strict on purpose)."""

    def __init__(self, model: LogisticRegression) -> None:
        self.model = model

    def fit(self, X: sp.csr_matrix | FloatArray, y: npt.NDArray[np.int64],
            sample_weight: FloatArray | None = None) -> _Learner:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(X, y, sample_weight=sample_weight)
        return self

    @property
    def n_iter(self) -> int:
        return int(np.max(self.model.n_iter_))

    def decision_function(self, X: sp.csr_matrix | FloatArray) -> FloatArray:
        return np.asarray(self.model.decision_function(X), dtype=float).ravel()



def _two_columns(p: FloatArray) -> FloatArray:
    return np.column_stack([1.0 - p, p])


def _labels(values: pd.Series, source: str) -> npt.NDArray[np.int64]:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = ~numbers.isin([0, 1]).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"expected 0 or 1, got {values.iloc[row]!r}", source=source,
                        row=row + 1, column="converted")
    return numbers.to_numpy(dtype=np.int64)


def _propensities(history: pd.DataFrame) -> FloatArray | None:
    """The logging propensities when every row has one in (0, 1], else None."""
    if "propensity" not in history.columns:
        return None
    values = pd.to_numeric(history["propensity"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(values).all() and (values > 0).all() and (values <= 1).all()):
        return None
    return values


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
