"""Pair features for the affinity model, inferred from the tables without user code.

A lead becomes a vector ``u`` (constant 1, one-hot categories, standardised numbers) and a
rep a vector ``v`` (constant 1, one-hot rep identity, one-hot categories, multi-hot ``;``
lists, standardised numbers). Every linear pair feature is a product ``u_k * v_l``:

* lead main effects ``u_k * 1`` and rep main effects ``1 * v_l``;
* rep identity × lead attribute (``u_k * [rep = r]``): how *this* rep does on *this* kind
  of lead;
* rep attribute × lead attribute (``u_k * v_l``): what generalises to reps with little or
  no history through team, seniority, region, listed industries...;
* attribute matches: one shared coefficient for "the lead's value is in the rep's
  column" (same ``region``; lead ``industry`` in the rep's ``industries`` list), detected
  when a lead column and a rep column share most of their vocabulary.

So the linear logit of a whole batch is ``U @ W @ V.T``: scoring is two small matrix
products, whatever the number of features. The only features that are not products are
the *limits*: a lead number above a rep's ``max_<...>`` number (``value`` vs
``max_deal_value``), entered as ``[x > max]`` and ``relu(log1p x - log1p max)``.

Columns never used as features: ``lead_id``, ``account_id`` and timestamps (identities
and times), and the history's ``converted``, ``assigned_at``, ``revenue`` (realised
outcome: leakage) and ``propensity`` (a property of the logging policy, not of the pair);
on reps, the run settings ``capacity``, ``active``, ``weight`` and ``start_date``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import InputError as DataError

if TYPE_CHECKING:
    import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

LEAD_NOT_FEATURES: Final = frozenset(
    {"lead_id", "account_id", "created_at", "rep_id", "converted", "assigned_at", "revenue",
     "propensity"}
)
REP_NOT_FEATURES: Final = frozenset({"rep_id", "capacity", "active", "weight", "start_date"})
LIST_SEPARATOR: Final = ";"


@dataclass(frozen=True)
class CategoricalSpec:
    column: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class NumericSpec:
    column: str
    log: bool  # log1p before standardising (heavy right tail, e.g. deal values)
    center: float
    scale: float


@dataclass(frozen=True)
class LinkSpec:
    """A lead column related to a rep column (a match, or a limit)."""

    lead_column: str
    rep_column: str


@dataclass(frozen=True)
class FeatureSchema:
    """What the model learned about the tables' columns; fixed at fit time."""

    lead_categorical: tuple[CategoricalSpec, ...]
    lead_numeric: tuple[NumericSpec, ...]
    rep_ids: tuple[str, ...]  # reps with history: the identity vocabulary
    rep_categorical: tuple[CategoricalSpec, ...]
    rep_lists: tuple[CategoricalSpec, ...]
    rep_numeric: tuple[NumericSpec, ...]
    matches: tuple[LinkSpec, ...]
    limits: tuple[LinkSpec, ...]

    @property
    def lead_columns(self) -> tuple[str, ...]:
        return tuple(s.column for s in self.lead_categorical) + tuple(
            s.column for s in self.lead_numeric
        )

    @property
    def rep_columns(self) -> tuple[str, ...]:
        return (
            tuple(s.column for s in self.rep_categorical)
            + tuple(s.column for s in self.rep_lists)
            + tuple(s.column for s in self.rep_numeric)
        )

    @property
    def lead_width(self) -> int:
        """Length of ``u`` including the constant."""
        return 1 + sum(len(s.categories) for s in self.lead_categorical) + len(self.lead_numeric)

    @property
    def id_slice(self) -> slice:
        return slice(1, 1 + len(self.rep_ids))

    @property
    def attr_slice(self) -> slice:
        start = 1 + len(self.rep_ids)
        width = (
            sum(len(s.categories) for s in self.rep_categorical)
            + sum(len(s.categories) for s in self.rep_lists)
            + len(self.rep_numeric)
        )
        return slice(start, start + width)

    @property
    def rep_width(self) -> int:
        """Length of ``v`` including the constant."""
        return self.attr_slice.stop

    def lead_offsets(self) -> dict[str, int]:
        """Index in ``u`` of each lead column's first entry."""
        out, at = {}, 1
        for spec in self.lead_categorical:
            out[spec.column] = at
            at += len(spec.categories)
        for num in self.lead_numeric:
            out[num.column] = at
            at += 1
        return out

    def rep_offsets(self) -> dict[str, int]:
        """Index in ``v`` of each rep attribute column's first entry."""
        out, at = {}, self.attr_slice.start
        for spec in (*self.rep_categorical, *self.rep_lists):
            out[spec.column] = at
            at += len(spec.categories)
        for num in self.rep_numeric:
            out[num.column] = at
            at += 1
        return out

    def match_index_pairs(self) -> list[tuple[IntArray, IntArray]]:
        """For each match, the (u index, v index) pairs of equal values."""
        lead_at, rep_at = self.lead_offsets(), self.rep_offsets()
        cats = {s.column: s.categories for s in (*self.rep_categorical, *self.rep_lists)}
        lead_cats = {s.column: s.categories for s in self.lead_categorical}
        pairs = []
        for link in self.matches:
            rep_pos = {c: i for i, c in enumerate(cats[link.rep_column])}
            li, ri = [], []
            for i, value in enumerate(lead_cats[link.lead_column]):
                if value in rep_pos:
                    li.append(lead_at[link.lead_column] + i)
                    ri.append(rep_at[link.rep_column] + rep_pos[value])
            pairs.append((np.asarray(li, dtype=np.intp), np.asarray(ri, dtype=np.intp)))
        return pairs

    def describe(self) -> tuple[str, ...]:
        """One human-readable line per column group, stored in the model's metadata."""
        lines = [f"lead category {s.column}: {len(s.categories)} values"
                 for s in self.lead_categorical]
        lines += [f"lead number {s.column}{' (log1p)' if s.log else ''}"
                  for s in self.lead_numeric]
        lines.append(f"rep identity: {len(self.rep_ids)} reps with history")
        lines += [f"rep category {s.column}: {len(s.categories)} values"
                  for s in self.rep_categorical]
        lines += [f"rep list {s.column}: {len(s.categories)} values" for s in self.rep_lists]
        lines += [f"rep number {s.column}{' (log1p)' if s.log else ''}"
                  for s in self.rep_numeric]
        lines += [f"match: lead {m.lead_column} in rep {m.rep_column}" for m in self.matches]
        lines += [f"limit: lead {m.lead_column} above rep {m.rep_column}" for m in self.limits]
        return tuple(lines)


# --- inference ----------------------------------------------------------------------------
def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _is_time(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series) or isinstance(
        series.dtype, pd.PeriodDtype
    )


def _top_categories(values: pd.Series, max_categories: int) -> tuple[str, ...]:
    text = values.dropna().astype(str)
    text = text[text.str.strip() != ""]
    counts = text.value_counts(sort=False)
    # most frequent first, ties by name: deterministic
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(sorted(str(name) for name, _ in order[:max_categories]))


def _numeric_spec(column: str, values: pd.Series) -> NumericSpec | None:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    lo, hi = np.quantile(x, [0.05, 0.95])
    use_log = bool(x.min() >= 0 and hi > 20 * max(lo, 1.0))
    if use_log:
        x = np.log1p(x)
    scale = float(x.std())
    return NumericSpec(column, use_log, float(x.mean()), scale if scale > 0 else 1.0)


def _split_lists(values: pd.Series) -> pd.Series:
    return values.dropna().astype(str).str.split(LIST_SEPARATOR).explode().str.strip()


def infer_schema(
    lead_rows: pd.DataFrame,
    reps: pd.DataFrame | None,
    rep_ids: Sequence[str],
    *,
    max_categories: int,
) -> FeatureSchema:
    """Decide, from the training data, which columns become which features."""
    lead_cat: list[CategoricalSpec] = []
    lead_num: list[NumericSpec] = []
    for column in lead_rows.columns:
        if column in LEAD_NOT_FEATURES or _is_time(lead_rows[column]):
            continue
        series = lead_rows[column]
        if _is_numeric(series):
            spec = _numeric_spec(str(column), series)
            if spec is not None:
                lead_num.append(spec)
        else:
            cats = _top_categories(series, max_categories)
            if len(cats) >= 2:  # a constant column carries nothing
                lead_cat.append(CategoricalSpec(str(column), cats))
    rep_cat: list[CategoricalSpec] = []
    rep_list: list[CategoricalSpec] = []
    rep_num: list[NumericSpec] = []
    if reps is not None:
        for column in reps.columns:
            if column in REP_NOT_FEATURES or _is_time(reps[column]):
                continue
            series = reps[column]
            if _is_numeric(series):
                spec = _numeric_spec(str(column), series)
                if spec is not None:
                    rep_num.append(spec)
            elif series.dropna().astype(str).str.contains(LIST_SEPARATOR, regex=False).any():
                cats = _top_categories(_split_lists(series), max_categories)
                if cats:
                    rep_list.append(CategoricalSpec(str(column), cats))
            else:
                cats = _top_categories(series, max_categories)
                if len(cats) >= 2:
                    rep_cat.append(CategoricalSpec(str(column), cats))
    matches = []
    for lead in lead_cat:
        for rep in (*rep_cat, *rep_list):
            shared = set(lead.categories) & set(rep.categories)
            if len(shared) >= 2 and len(shared) >= 0.5 * len(rep.categories):
                matches.append(LinkSpec(lead.column, rep.column))
    limits = [
        LinkSpec(lead.column, rep.column)
        for lead in lead_num
        for rep in rep_num
        if rep.column.startswith("max_") and rep.column.endswith(lead.column)
    ]
    return FeatureSchema(
        tuple(lead_cat), tuple(lead_num), tuple(sorted(rep_ids)), tuple(rep_cat),
        tuple(rep_list), tuple(rep_num), tuple(matches), tuple(limits),
    )


# --- encoding ---------------------------------------------------------------------------
def _require(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataError("column used by the affinity model is missing", source=source,
                            column=column)


def _numbers(frame: pd.DataFrame, column: str, source: str) -> FloatArray:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"expected a number, got {raw.iloc[row]!r}", source=source,
                        row=row + 1, column=column)
    return values


def _standardise(spec: NumericSpec, values: FloatArray) -> FloatArray:
    x = np.log1p(np.maximum(values, 0.0)) if spec.log else values
    z = (x - spec.center) / spec.scale
    return np.nan_to_num(z, nan=0.0)  # a missing number sits at the training mean


def _one_hot(out: FloatArray, at: int, spec: CategoricalSpec, values: pd.Series) -> None:
    codes = pd.Index(spec.categories).get_indexer(pd.Index(values.astype(str).str.strip()))
    known = codes >= 0  # unseen or missing value: all zeros (the average category)
    out[np.flatnonzero(known), at + codes[known]] = 1.0


def encode_leads(schema: FeatureSchema, leads: pd.DataFrame, source: str) -> FloatArray:
    """``U``: one row per lead, ``schema.lead_width`` columns, column 0 is the constant."""
    _require(leads, schema.lead_columns, source)
    out = np.zeros((len(leads), schema.lead_width))
    out[:, 0] = 1.0
    at = schema.lead_offsets()
    for spec in schema.lead_categorical:
        _one_hot(out, at[spec.column], spec, leads[spec.column].reset_index(drop=True))
    for num in schema.lead_numeric:
        out[:, at[num.column]] = _standardise(num, _numbers(leads, num.column, source))
    return out


def encode_reps(schema: FeatureSchema, reps: pd.DataFrame, source: str) -> FloatArray:
    """``V``: one row per rep, ``schema.rep_width`` columns, column 0 is the constant.
    A rep the model has never seen gets no identity entry: it is scored from its
    attributes alone (the cold-start path)."""
    _require(reps, ("rep_id", *schema.rep_columns), source)
    out = np.zeros((len(reps), schema.rep_width))
    out[:, 0] = 1.0
    ids = pd.Index(schema.rep_ids).get_indexer(pd.Index(reps["rep_id"].astype(str)))
    known = ids >= 0
    out[np.flatnonzero(known), schema.id_slice.start + ids[known]] = 1.0
    at = schema.rep_offsets()
    for spec in schema.rep_categorical:
        _one_hot(out, at[spec.column], spec, reps[spec.column].reset_index(drop=True))
    for spec in schema.rep_lists:
        pos = {c: i for i, c in enumerate(spec.categories)}
        for row, cell in enumerate(reps[spec.column]):
            if isinstance(cell, str):
                for item in cell.split(LIST_SEPARATOR):
                    if item.strip() in pos:
                        out[row, at[spec.column] + pos[item.strip()]] = 1.0
    for num in schema.rep_numeric:
        out[:, at[num.column]] = _standardise(num, _numbers(reps, num.column, source))
    return out


def limit_matrix(
    schema: FeatureSchema,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    lead_source: str,
    rep_source: str,
) -> list[tuple[FloatArray, FloatArray]]:
    """Per limit, ``([x > max], relu(log1p x - log1p max))`` as (n_leads, n_reps) arrays."""
    out = []
    for link in schema.limits:
        x = np.nan_to_num(_numbers(leads, link.lead_column, lead_source), nan=0.0)
        cap = _numbers(reps, link.rep_column, rep_source)
        cap = np.where(np.isnan(cap), np.inf, cap)  # no stated maximum: never over it
        over = (x[:, None] > cap[None, :]).astype(float)
        gap = np.maximum(np.log1p(np.maximum(x, 0))[:, None] - np.log1p(cap)[None, :], 0.0)
        out.append((over, np.nan_to_num(gap, posinf=0.0)))
    return out


def limit_rows(
    schema: FeatureSchema, rows: pd.DataFrame, reps_for_rows: pd.DataFrame, source: str
) -> FloatArray:
    """The limit features of aligned (lead, rep) rows, shape (n_rows, 2 * n_limits)."""
    cols = []
    for link in schema.limits:
        x = np.nan_to_num(_numbers(rows, link.lead_column, source), nan=0.0)
        cap = _numbers(reps_for_rows, link.rep_column, "reps table")
        cap = np.where(np.isnan(cap), np.inf, cap)
        cols.append((x > cap).astype(float))
        gap = np.maximum(np.log1p(np.maximum(x, 0)) - np.log1p(cap), 0.0)
        cols.append(np.nan_to_num(gap, posinf=0.0))
    return np.column_stack(cols) if cols else np.zeros((len(rows), 0))


def rowwise_kron(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Row-wise Kronecker (face-splitting) product: row i is ``kron(a[i], b[i])``,
    column ``x * b.shape[1] + y`` holds ``a[i, x] * b[i, y]``. Sparse and vectorised."""
    import scipy.sparse as sp  # fitting only: scoring (``models.scorer``) starts without it

    n = a.shape[0]
    na, nb = np.diff(a.indptr), np.diff(b.indptr)
    row_of_a = np.repeat(np.arange(n), na)
    per_a = nb[row_of_a]
    total = int(per_a.sum())
    a_idx = np.repeat(np.arange(a.nnz), per_a)
    starts = np.cumsum(per_a) - per_a
    within = np.arange(total) - np.repeat(starts, per_a)
    b_idx = np.repeat(b.indptr[:-1][row_of_a], per_a) + within
    data = a.data[a_idx] * b.data[b_idx]
    cols = a.indices[a_idx].astype(np.int64) * b.shape[1] + b.indices[b_idx]
    indptr = np.concatenate([[0], np.cumsum(na * nb)])
    return sp.csr_matrix((data, cols, indptr), shape=(n, a.shape[1] * b.shape[1]))
