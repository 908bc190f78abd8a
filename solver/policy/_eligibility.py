"""Eligibility rules evaluated on candidate pairs (vectorised; works dense or sparse)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import InputError, PolicyError
from solver.policy._model import AtMostRule, ContainsRule, EqualsRule, ListRule, RepFilter

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def _column(table: pd.DataFrame, column: str, what: str) -> pd.Series:
    if column not in table.columns:
        raise PolicyError(f"rule needs column '{column}' in the {what} table, which has none")
    return table[column]


def _text(series: pd.Series) -> npt.NDArray[np.object_]:
    return series.astype(str).str.strip().str.lower().to_numpy(dtype=object)


# The reps' side of a rule is the same from one call to the next while the reps do not
# change (instant routing evaluates the rules for one lead at a time): it is kept for the
# last few distinct rep columns, keyed on their values, and shared read-only.
_REP_SIDE_CACHE: Final = 16
_Key = tuple[Any, tuple[object, ...]]  # a column's dtype and values


def _column_key(series: pd.Series) -> _Key | None:
    """The column's dtype and values; None when a value cannot be a key (a list)."""
    key = (series.dtype, tuple(series.tolist()))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _rep_text(series: pd.Series) -> npt.NDArray[np.object_]:
    key = _column_key(series)
    return _text(series) if key is None else _cached_rep_text(key)


@lru_cache(maxsize=_REP_SIDE_CACHE)
def _cached_rep_text(key: _Key) -> npt.NDArray[np.object_]:
    dtype, values = key
    out = _text(pd.Series(list(values), dtype=dtype))
    out.flags.writeable = False
    return out


def _rep_tokens(series: pd.Series) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Each rep's ``;``-separated list as (rep position, token) rows."""
    key = _column_key(series)
    return _rep_tokens_of(series) if key is None else _cached_rep_tokens(key)


@lru_cache(maxsize=_REP_SIDE_CACHE)
def _cached_rep_tokens(key: _Key
                       ) -> tuple[IntArray, npt.NDArray[np.object_]]:
    dtype, values = key
    rep_index, tokens = _rep_tokens_of(pd.Series(list(values), dtype=dtype))
    tokens.flags.writeable = False
    rep_index.flags.writeable = False
    return rep_index, tokens


def _rep_tokens_of(column: pd.Series) -> tuple[IntArray, npt.NDArray[np.object_]]:
    lists = column.fillna("").astype(str).str.lower().str.split(";")
    tokens = lists.explode().str.strip().to_numpy(dtype=object)
    rep_index = np.repeat(np.arange(len(column)), lists.map(len).to_numpy(dtype=np.int64))
    return rep_index.astype(np.int64, copy=False), tokens


def equals_mask(rule: EqualsRule, leads: pd.DataFrame, reps: pd.DataFrame,
                pair_lead: IntArray, pair_rep: IntArray) -> BoolArray:
    lead_values = _text(_column(leads, rule.lead, "leads"))
    rep_values = _rep_text(_column(reps, rule.rep, "reps"))
    codes, _ = pd.factorize(np.concatenate([lead_values, rep_values]))
    lead_codes, rep_codes = codes[: len(lead_values)], codes[len(lead_values):]
    return np.asarray(lead_codes[pair_lead] == rep_codes[pair_rep])


def contains_mask(rule: ContainsRule, leads: pd.DataFrame, reps: pd.DataFrame,
                  pair_lead: IntArray, pair_rep: IntArray) -> BoolArray:
    lead_values = _text(_column(leads, rule.lead, "leads"))
    rep_index, tokens = _rep_tokens(_column(reps, rule.rep, "reps"))
    codes, uniques = pd.factorize(np.concatenate([lead_values, tokens]))
    lead_codes, token_codes = codes[: len(lead_values)], codes[len(lead_values):]
    width = len(uniques) + 1
    have = rep_index.astype(np.int64) * width + token_codes
    want = pair_rep * width + lead_codes[pair_lead]
    return np.isin(want, have)


def at_most_mask(rule: AtMostRule, leads: pd.DataFrame, reps: pd.DataFrame,
                 pair_lead: IntArray, pair_rep: IntArray) -> BoolArray:
    def numbers(series: pd.Series, what: str) -> npt.NDArray[np.float64]:
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & series.notna() & (series.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            # bad data, not a bad policy: located like every table error
            raise InputError(
                f"rule '{rule.lead} <= {rule.rep}' needs a number, got "
                f"{series.iloc[row - 1]!r}", source=f"{what} table", row=row,
                column=str(series.name))
        return values.to_numpy(dtype=float)

    lead_values = numbers(_column(leads, rule.lead, "leads"), "leads")[pair_lead]
    rep_values = numbers(_column(reps, rule.rep, "reps"), "reps")[pair_rep]
    # A missing number on either side sets no limit.
    return np.isnan(lead_values) | np.isnan(rep_values) | (lead_values <= rep_values)


def list_mask(rule: ListRule, leads: pd.DataFrame, reps: pd.DataFrame,
              pair_lead: IntArray, pair_rep: IntArray) -> BoolArray:
    matched = np.isin(_text(_column(leads, rule.attribute, "leads")),
                      [v.strip().lower() for v in rule.values])[pair_lead]
    listed = reps["rep_id"].astype(str).isin(rule.reps).to_numpy()[pair_rep]
    if rule.kind == "allow":
        return ~matched | listed
    return ~(matched & listed)


def rule_mask(rule: EqualsRule | ContainsRule | AtMostRule | ListRule, leads: pd.DataFrame,
              reps: pd.DataFrame, pair_lead: IntArray, pair_rep: IntArray) -> BoolArray:
    evaluate = _EVALUATORS[type(rule)]
    return evaluate(rule, leads, reps, pair_lead, pair_rep)  # type: ignore[operator]


_EVALUATORS = {
    EqualsRule: equals_mask,
    ContainsRule: contains_mask,
    AtMostRule: at_most_mask,
    ListRule: list_mask,
}


def rep_filter_mask(selection: RepFilter | None, reps: pd.DataFrame) -> BoolArray:
    if selection is None:
        return np.ones(len(reps), dtype=bool)
    values = _text(_column(reps, selection.attribute, "reps"))
    return np.isin(values, [v.strip().lower() for v in selection.values])


def lead_class_mask(attribute: str, values: tuple[str, ...], leads: pd.DataFrame) -> BoolArray:
    return np.isin(_text(_column(leads, attribute, "leads")), [v.strip().lower() for v in values])
