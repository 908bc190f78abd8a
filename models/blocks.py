"""Interaction blocks of the affinity model, and the rule that chooses them from the data.

A *block* is a group of pair features that enters or leaves the model as a whole. The
candidates are built generically from the tables' columns (:func:`candidate_blocks`):

* ``rep_id × <lead column>``: how each rep does on each value of that lead column;
* ``<rep column> × <lead column>``: what generalises through a rep attribute;
* ``match: <lead column> in <rep column>``: one coefficient for "same value".

Main effects (lead columns, rep identity, rep attributes) and limits are always in.

Why choose: with every block in (the previous default) a 40-rep world has ~1,100 columns,
~840 of them rep identity × lead column, and most carry no signal; their fitted noise
scrambles which rep looks best for each lead. :func:`select_blocks` gives a block its own
(light) penalty only when adding it lowers the out-of-fold log loss by more than
``threshold`` standard errors of that gain (paired over rows, so the noise is measured,
not assumed): first each block alone against the main effects (screening), then greedily,
best first, against the blocks already kept - so a block that only repeats a kept one does
not enter. A match block (one column) is tried before the product blocks (it is a special
case of ``<rep column> × <lead column>``, with 1 column instead of ~25).

Every other block then enters as ONE *shared* group under a heavy penalty (300 to 1,000
times the reference), chosen by cross-validation, unless that group raises the
out-of-fold log loss by more than ``_SHARED_REJECT_SE`` standard errors - a two-level
group-wise ridge. Why not keep/drop alone: on weak signal no single true block clears its
own noise at 4,000 rows, yet together they order reps better than main effects alone
(measured on ``models.synthetic_family``, 4,000 rows, 5 seeds: "mixed, weak" capture
0.209 with keep/drop, 0.342 with the shared group and match-first; "mixed, uneven reps"
0.481 -> 0.585; the other worlds within ±0.02; ``benchmarks/README.md``). The shared
group is judged by log loss with a *negative* threshold because its gain is too small to
measure there; a clearly harmful group (seen at 20,000 rows) is still dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from models.features import FeatureSchema, rowwise_kron

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
SHARED_CS = (0.001, 0.0003)  # C of the shared group (the reference C is 0.3: x300, x1000)
_SHARED_REJECT_SE = 2.0  # the shared group is dropped when it loses > 2 SE of log loss
_NEWTON_MAX_WIDTH = 600  # widest design solved by Newton-Cholesky (measured: faster up to here)
_NEWTON_FINAL_MAX_WIDTH = 1_500  # same, for the warm-started fit on all rows (see fit_final)


@dataclass(frozen=True)
class Block:
    """Pair features ``u[:, lead_index] ⊗ v[:, rep_index]`` (a product block), or for a
    match the single column ``Σ_k u[:, lead_index[k]] * v[:, rep_index[k]]``."""

    name: str
    lead_index: IntArray
    rep_index: IntArray
    match: bool = False
    identity: bool = False  # rep identity block: scaled by the cold-start shrinkage

    @property
    def width(self) -> int:
        return 1 if self.match else len(self.lead_index) * len(self.rep_index)

    def columns(self, u: FloatArray, v: FloatArray, scale: float) -> sp.csr_matrix:
        if self.match:
            col = (u[:, self.lead_index] * v[:, self.rep_index]).sum(axis=1)
            return sp.csr_matrix(col.reshape(-1, 1))
        left = sp.csr_matrix(u[:, self.lead_index])
        right = sp.csr_matrix(v[:, self.rep_index] * scale)
        return rowwise_kron(left, right)

    def add_to(self, w: FloatArray, coef: FloatArray, scale: float) -> None:
        """Fold this block's fitted coefficients into the bilinear matrix ``W``."""
        if self.match:
            w[self.lead_index, self.rep_index] += coef[0]
        else:
            shape = (len(self.lead_index), len(self.rep_index))
            w[np.ix_(self.lead_index, self.rep_index)] += coef.reshape(shape) * scale


@dataclass(frozen=True)
class BlockChoice:
    """The outcome of :func:`select_blocks`: blocks with their own C (in entry order),
    blocks of the shared group (one common C), and the log of every comparison."""

    own: dict[str, float]
    shared: dict[str, float]
    log: tuple[BlockScore, ...]

    def all_blocks(self) -> dict[str, float]:
        return {**self.own, **self.shared}


@dataclass(frozen=True)
class BlockScore:
    """One step of the selection: the out-of-fold log-loss gain of adding ``name``
    (positive: better) and its standard error; ``kept`` says whether it entered."""

    name: str
    stage: str  # "screen" (alone vs main effects), "forward" (vs blocks kept so far) or
    # "shared" (every block not kept, as one group under a heavy common penalty)
    gain: float
    se: float
    kept: bool
    C: float = float("nan")  # the block's own inverse penalty in this comparison


def candidate_blocks(schema: FeatureSchema) -> tuple[Block, ...]:
    """Every interaction block the tables' columns allow, in a fixed order."""
    lead_at = schema.lead_offsets()
    lead_cols = [(s.column, np.arange(lead_at[s.column], lead_at[s.column] + len(s.categories)))
                 for s in schema.lead_categorical]
    lead_cols += [(s.column, np.array([lead_at[s.column]])) for s in schema.lead_numeric]
    rep_at = schema.rep_offsets()
    rep_cols = [(s.column, np.arange(rep_at[s.column], rep_at[s.column] + len(s.categories)))
                for s in (*schema.rep_categorical, *schema.rep_lists)]
    rep_cols += [(s.column, np.array([rep_at[s.column]])) for s in schema.rep_numeric]
    ids = np.arange(schema.id_slice.start, schema.id_slice.stop)
    out: list[Block] = []
    for lead_name, lead_idx in lead_cols:
        if len(ids):
            out.append(Block(f"rep_id × {lead_name}", lead_idx.astype(np.intp),
                             ids.astype(np.intp), identity=True))
        for rep_name, rep_idx in rep_cols:
            out.append(Block(f"{rep_name} × {lead_name}", lead_idx.astype(np.intp),
                             rep_idx.astype(np.intp)))
    for link, (li, ri) in zip(schema.matches, schema.match_index_pairs(), strict=True):
        if len(li):
            out.append(Block(f"match: {link.lead_column} in {link.rep_column}", li, ri,
                             match=True))
    return tuple(out)


def resolve_blocks(rule: str | Sequence[str], candidates: Sequence[Block]) -> tuple[Block, ...]:
    """``"all"`` / ``"none"``, or an explicit list of block names (must all exist)."""
    if rule == "all":
        return tuple(candidates)
    if rule == "none":
        return ()
    names = [rule] if isinstance(rule, str) else list(rule)
    by_name = {b.name: b for b in candidates}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown interaction block(s) {unknown}; the tables allow "
                         f"{sorted(by_name)}")
    return tuple(by_name[n] for n in names)


@dataclass(frozen=True)
class Folds:
    """Fixed train/test index pairs, shared by every comparison (paired differences)."""

    splits: tuple[tuple[IntArray, IntArray], ...]
    n_rows: int


def logistic(C: float, max_iter: int, width: int, *, warm_start: bool = False,
             tol: float = 1e-4) -> LogisticRegression:
    """L2 logistic regression; Newton-Cholesky while the design is narrow enough for a
    dense Hessian (a few Newton steps instead of hundreds of L-BFGS ones)."""
    solver = "newton-cholesky" if width <= _NEWTON_MAX_WIDTH else "lbfgs"
    return LogisticRegression(C=C, solver=solver, max_iter=max_iter, tol=tol,
                              warm_start=warm_start)


def oof_logits(design: sp.csr_matrix, y: npt.NDArray[np.int64], folds: Folds, C: float,
               max_iter: int, sample_weight: FloatArray | None = None) -> FloatArray:
    """Out-of-fold logits of an L2 logistic regression with inverse strength ``C``."""
    out = np.zeros(folds.n_rows)
    for train, test in folds.splits:
        model = logistic(C, max_iter, design.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(design[train], y[train], sample_weight=weights_of(sample_weight, train))
        out[test] = model.decision_function(design[test])
    return out


@dataclass(frozen=True)
class PathFit:
    """Cross-validated fits along a C grid: out-of-fold logits per C, and per C and fold
    the fitted ``[intercept, coef...]`` (fold models: routing metrics and warm starts)."""

    logits: list[FloatArray]
    coefs: list[list[FloatArray]]  # [grid index][fold index]

    def warm_start(self, k: int) -> FloatArray:
        """Mean over folds of grid value ``k``'s coefficients: a start for the final fit."""
        return np.asarray(np.mean(self.coefs[k], axis=0), dtype=float)


def oof_path(design: sp.csr_matrix, y: npt.NDArray[np.int64], folds: Folds,
             grid: Sequence[float], max_iter: int, *,
             sample_weight: FloatArray | None = None) -> PathFit:
    """Out-of-fold logits for each C of ``grid``; each fold's solver is warm-started from
    the previous C (solutions along the path are close)."""
    out = [np.zeros(folds.n_rows) for _ in grid]
    coefs: list[list[FloatArray]] = [[] for _ in grid]
    order = np.argsort(grid)
    for train, test in folds.splits:
        model = logistic(1.0, max_iter, design.shape[1], warm_start=True)
        for k in order:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.set_params(C=float(grid[k])).fit(
                    design[train], y[train], sample_weight=weights_of(sample_weight, train))
            out[k][test] = model.decision_function(design[test])
            coefs[k].append(np.concatenate([model.intercept_, model.coef_.ravel()]))
    return PathFit(out, coefs)


def fit_final(design: sp.csr_matrix, y: npt.NDArray[np.int64], C: float, max_iter: int, *,
              start: FloatArray | None = None,
              sample_weight: FloatArray | None = None) -> LogisticRegression:
    """The fit on all rows. Newton-Cholesky up to ``_NEWTON_FINAL_MAX_WIDTH`` columns, from
    ``start`` (``[intercept, coef...]``, e.g. the mean of the tuning folds' fits) when given:
    measured on 200,000 rows x 1,086 columns, 3 Newton steps from the fold mean took 11 s
    where L-BFGS from zero took 27 s and stopped less converged."""
    solver = "newton-cholesky" if design.shape[1] <= _NEWTON_FINAL_MAX_WIDTH else "lbfgs"
    model = LogisticRegression(C=C, solver=solver, max_iter=max_iter, tol=1e-5,
                               warm_start=start is not None)
    if start is not None:  # scikit-learn's warm start reads these attributes
        model.coef_ = start[1:].reshape(1, -1).copy()
        model.intercept_ = start[:1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(design, y, sample_weight=sample_weight)
    return model


def row_log_loss(y: npt.NDArray[np.int64], logit: FloatArray) -> FloatArray:
    """Per-row log loss of logits (numerically stable)."""
    return np.asarray(np.logaddexp(0.0, logit) - y * logit, dtype=np.float64)


def weights_of(sample_weight: FloatArray | None, rows: IntArray) -> FloatArray | None:
    """The rows' weights, or None for an unweighted fit."""
    return None if sample_weight is None else sample_weight[rows]


def weighted_mean(values: FloatArray, sample_weight: FloatArray | None) -> float:
    """Mean of per-row values, weighted when the fit is (inverse-propensity weights)."""
    return float(np.average(values, weights=sample_weight))


def _gain(before: FloatArray, after: FloatArray,
          sample_weight: FloatArray | None = None) -> tuple[float, float]:
    diff = before - after
    if sample_weight is None:
        return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))
    # weighted mean and the sandwich standard error of a ratio estimator
    total = float(sample_weight.sum())
    mean = float(np.dot(sample_weight, diff) / total)
    return mean, float(np.sqrt(np.sum((sample_weight * (diff - mean)) ** 2)) / total)


@dataclass
class _FoldState:
    """The current model's logits on one fold's training and held-out rows."""

    train: IntArray
    test: IntArray
    offset_train: FloatArray
    offset_test: FloatArray


def newton_block(x: sp.csr_matrix, y: npt.NDArray[np.int64], offset: FloatArray, C: float,
                 steps: int = 2, sample_weight: FloatArray | None = None) -> FloatArray:
    """Ridge-logistic coefficients of a block given the current logits ``offset``: Newton
    steps from zero. The blocks are one-hot products, so ``X'WX`` is (nearly) diagonal and
    a sparse solve is cheap even for thousands of columns."""
    beta = np.zeros(x.shape[1])
    ridge = sp.identity(x.shape[1], format="csc") / C
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(offset + x @ beta)))
        grad = x.T @ (w * (y - p)) - beta / C
        hess = (x.T @ x.multiply((w * p * (1.0 - p))[:, None])).tocsc() + ridge
        beta = beta + np.atleast_1d(spsolve(hess, grad))
    return beta


def _trial(state: list[_FoldState], cols: sp.csr_matrix, y: npt.NDArray[np.int64], C: float,
           sample_weight: FloatArray | None = None
           ) -> tuple[FloatArray, list[tuple[FloatArray, FloatArray]]]:
    """Held-out row losses with the block added to the current model, fold by fold, and
    the block's contribution to each fold's logits (train, test)."""
    loss = np.zeros(len(y))
    parts = []
    for f in state:
        beta = newton_block(cols[f.train], y[f.train], f.offset_train, C,
                            sample_weight=weights_of(sample_weight, f.train))
        add_train, add_test = cols[f.train] @ beta, cols[f.test] @ beta
        loss[f.test] = row_log_loss(y[f.test], f.offset_test + add_test)
        parts.append((add_train, add_test))
    return loss, parts


def _base_state(base: sp.csr_matrix, y: npt.NDArray[np.int64], folds: Folds, C: float,
                max_iter: int, sample_weight: FloatArray | None = None
                ) -> tuple[list[_FoldState], FloatArray]:
    state, loss = [], np.zeros(len(y))
    for train, test in folds.splits:
        model = logistic(C, max_iter, base.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(base[train], y[train], sample_weight=weights_of(sample_weight, train))
        state.append(_FoldState(train, test, model.decision_function(base[train]),
                                model.decision_function(base[test])))
        loss[test] = row_log_loss(y[test], state[-1].offset_test)
    return state, loss


def select_blocks(
    base: sp.csr_matrix,
    candidates: Sequence[tuple[Block, sp.csr_matrix]],
    y: npt.NDArray[np.int64],
    folds: Folds,
    *,
    C: float,
    block_cs: Sequence[float],
    threshold: float,
    max_iter: int,
    shared_cs: Sequence[float] = SHARED_CS,
    sample_weight: FloatArray | None = None,
) -> BlockChoice:
    """The blocks kept on their own evidence, in entry order, each with its own C
    (group-wise ridge: the value of ``block_cs`` with the best held-out gain); the shared
    group (every other block, one C of ``shared_cs``; empty when rejected); the log.

    Each comparison is cross-validated: on every fold the block is fitted on the training
    rows on top of the current model (its logits as an offset; ridge-Newton steps) and
    scored on the held-out rows; the gain is the mean paired difference of held-out row
    log losses, its noise the standard error of that mean. ``C`` is the base model's.
    ``sample_weight`` (inverse-propensity weights) weighs every fit, mean and error."""
    sw = sample_weight
    state, current = _base_state(base, y, folds, C, max_iter, sw)
    log: list[BlockScore] = []
    screened: list[tuple[float, int, float]] = []
    for k, (block, cols) in enumerate(candidates):
        trials = [(_gain(current, _trial(state, cols, y, c, sw)[0], sw), c) for c in block_cs]
        (gain, se), best_c = max(trials, key=lambda t: t[0][0])
        passed = gain > threshold * se
        log.append(BlockScore(block.name, "screen", gain, se, passed, best_c))
        if passed:
            screened.append((gain / max(se, 1e-12), k, best_c))
    kept: dict[str, float] = {}
    for _, k, block_c in _forward_order(screened, candidates):
        block, cols = candidates[k]
        loss, parts = _trial(state, cols, y, block_c, sw)
        gain, se = _gain(current, loss, sw)
        enters = gain > threshold * se
        log.append(BlockScore(block.name, "forward", gain, se, enters, block_c))
        if enters:
            kept[block.name] = block_c
            current = loss
            _advance(state, parts)
    rest = [candidates[k] for k, (b, _) in enumerate(candidates) if b.name not in kept]
    shared = _shared_group(state, current, rest, y, shared_cs, log, sw) if rest else {}
    return BlockChoice(kept, shared, tuple(log))


def _forward_order(screened: list[tuple[float, int, float]],
                   candidates: Sequence[tuple[Block, sp.csr_matrix]]
                   ) -> list[tuple[float, int, float]]:
    """Match blocks first (one column: the cheapest way to say "same value"; measured, a
    product block such as ``territory × territory`` otherwise often entered in its place
    at 4,000 rows), then by gain / standard error, best first."""
    return sorted(sorted(screened, reverse=True), key=lambda t: not candidates[t[1]][0].match)


def _advance(state: list[_FoldState], parts: list[tuple[FloatArray, FloatArray]]) -> None:
    for f, (add_train, add_test) in zip(state, parts, strict=True):
        f.offset_train = f.offset_train + add_train
        f.offset_test = f.offset_test + add_test


def _shared_group(state: list[_FoldState], current: FloatArray,
                  rest: Sequence[tuple[Block, sp.csr_matrix]], y: npt.NDArray[np.int64],
                  shared_cs: Sequence[float], log: list[BlockScore],
                  sample_weight: FloatArray | None = None) -> dict[str, float]:
    """Every block not kept, as ONE group with one heavy shared penalty (the best of
    ``shared_cs`` by held-out gain): many small effects, each too weak to clear its own
    noise, still order reps. Enters unless it loses more than ``_SHARED_REJECT_SE``
    standard errors of out-of-fold log loss."""
    cols = sp.hstack([c for _, c in rest], format="csr")
    trials = [(_gain(current, _trial(state, cols, y, c, sample_weight)[0], sample_weight), c)
              for c in shared_cs]
    (gain, se), best_c = max(trials, key=lambda t: t[0][0])
    enters = gain > -_SHARED_REJECT_SE * se
    log.append(BlockScore(f"all other blocks ({len(rest)})", "shared", gain, se, enters,
                          best_c))
    return {b.name: best_c for b, _ in rest} if enters else {}
