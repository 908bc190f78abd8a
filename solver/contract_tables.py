"""Load and validate the contract's tables (leads, reps, scores, history).

Every check reports the source (file name or "leads table"), the 1-based data row and
the column, so a user can open the file and fix it. Reserved columns are converted to
their contract types; every other column is kept as an attribute.

Public: the app layer validates its own tables (the service's outcomes, absences) with
the same readers and column rules (``read_raw``, ``number_column``, ``boolean_column``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from solver._columns import (
    NumberCheck,
    encode_ids,
    first_repeated_pair,
    is_blank,
    numbers,
    read_text_csv,
)
from solver.errors import InputError

__all__ = [
    "HISTORY_COLUMNS",
    "LEAD_COLUMNS",
    "MAX_CAPACITY",
    "MAX_EFFORT",
    "MAX_VALUE",
    "MAX_WEIGHT",
    "REP_COLUMNS",
    "SCORE_COLUMNS",
    "NumberRule",
    "TableSource",
    "boolean_column",
    "keep_attributes",
    "load_history",
    "load_leads",
    "load_reps",
    "load_scores",
    "number_column",
    "read_raw",
    "table_label",
]

TableSource = str | Path | pd.DataFrame

_TRUE: Final = frozenset({"true", "1", "yes", "y", "t"})
_FALSE: Final = frozenset({"false", "0", "no", "n", "f"})


@dataclass(frozen=True, kw_only=True)
class NumberRule:
    """How one numeric column is read: its default when absent (None = required) and bounds."""

    column: str
    default: float | None  # None = required
    minimum: float | None = None
    strictly_positive: bool = False
    maximum: float | None = None  # beyond it the engines' integer scaling cannot represent it


# The largest amounts the engines represent exactly after integer scaling (efforts and
# capacities x 1000, scores x 10^6 within int64, summed over a batch): refused beyond them,
# naming the row, instead of overflowing silently inside a solver.
MAX_EFFORT: Final = 1e9
MAX_CAPACITY: Final = 1e12
MAX_VALUE: Final = 1e12
MAX_WEIGHT: Final = 1e6


def table_label(source: TableSource, name: str) -> str:
    """What error messages call ``source``: the file's path, or "<name> table" for a frame."""
    return f"{name} table" if isinstance(source, pd.DataFrame) else str(source)


def read_raw(source: TableSource, name: str, *, allow_empty: bool = False
             ) -> tuple[pd.DataFrame, str]:
    """Read a CSV (all cells as text) or copy a DataFrame; reject input without a header,
    and without data rows unless ``allow_empty`` (a batch with no leads is valid)."""
    label = table_label(source, name)
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError("file not found", source=label)
        try:
            _reject_repeated_header(path, label)
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                                encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise InputError("file is empty (no header row)", source=label) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"not a readable CSV file ({exc})", source=label) from None
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file", source=label) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise InputError("column appears twice in the header", source=label, column=dupes[0])
    if frame.empty and not (allow_empty and len(frame.columns)):
        raise InputError("no data rows", source=label)
    return frame.reset_index(drop=True), label


def _reject_repeated_header(path: Path, label: str) -> None:
    """pandas renames a repeated column to 'name.1'; catch it on the raw header first."""
    # utf-8-sig: a byte-order mark must not hide a repeated first column
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    seen: set[str] = set()
    for name in (h.strip() for h in header):
        if name in seen:
            raise InputError("column appears twice in the header", source=label, column=name)
        seen.add(name)



def _require_columns(frame: pd.DataFrame, label: str, required: tuple[str, ...]) -> None:
    for column in required:
        if column not in frame.columns:
            raise InputError("required column is missing", source=label, column=column)


def _ids(frame: pd.DataFrame, label: str, column: str) -> pd.Series:
    values = frame[column]
    out = []
    for i, value in enumerate(values):
        if is_blank(value):
            raise InputError("empty id", source=label, row=i + 1, column=column)
        out.append(_text_id(value, label, i + 1, column))
    series = pd.Series(out, index=frame.index, dtype=object)
    return series


def _text_id(value: object, label: str, row: int, column: str) -> str:
    """An id as stripped text; control characters (a NUL byte above all, which PostgreSQL
    text cannot store) are refused here rather than by the database."""
    text = str(value).strip()
    if any(ord(char) < 32 for char in text):
        raise InputError("control character (e.g. a NUL byte) in an id", source=label,
                         row=row, column=column)
    return text


def _unique_ids(frame: pd.DataFrame, label: str, column: str) -> pd.Series:
    series = _ids(frame, label, column)
    dup = series.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"duplicate id '{series.iloc[row]}'", source=label, row=row + 1, column=column
        )
    return series


def number_column(frame: pd.DataFrame, label: str, rule: NumberRule) -> pd.Series:
    """Column ``rule.column`` as floats, every cell checked against ``rule`` (located errors)."""
    if rule.column not in frame.columns:
        if rule.default is None:
            raise InputError("required column is missing", source=label, column=rule.column)
        return pd.Series(rule.default, index=frame.index, dtype=float)
    out = np.empty(len(frame), dtype=float)
    for i, value in enumerate(frame[rule.column]):
        if is_blank(value):
            if rule.default is None:
                raise InputError("missing value", source=label, row=i + 1, column=rule.column)
            out[i] = rule.default
            continue
        if isinstance(value, bool):
            raise InputError(
                f"expected a number, got {value!r}", source=label, row=i + 1, column=rule.column
            )
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise InputError(
                f"expected a number, got {value!r}", source=label, row=i + 1, column=rule.column
            ) from None
        if not math.isfinite(number):
            raise InputError(
                f"must be a finite number, got {value!r}",
                source=label,
                row=i + 1,
                column=rule.column,
            )
        if rule.strictly_positive and number <= 0:
            raise InputError(
                f"must be > 0, got {number:g}", source=label, row=i + 1, column=rule.column
            )
        if rule.minimum is not None and number < rule.minimum:
            raise InputError(
                f"must be >= {rule.minimum:g}, got {number:g}",
                source=label,
                row=i + 1,
                column=rule.column,
            )
        if rule.maximum is not None and number > rule.maximum:
            raise InputError(
                f"must be <= {rule.maximum:g}, got {number:g}",
                source=label,
                row=i + 1,
                column=rule.column,
            )
        out[i] = number
    return pd.Series(out, index=frame.index, dtype=float)


def boolean_column(frame: pd.DataFrame, label: str, column: str, default: bool) -> pd.Series:
    """Column ``column`` as booleans (true/false, 1/0, yes/no, y/n, t/f; blank = default)."""
    if column not in frame.columns:
        return pd.Series(default, index=frame.index, dtype=bool)
    out = np.empty(len(frame), dtype=bool)
    for i, value in enumerate(frame[column]):
        if is_blank(value):
            out[i] = default
        elif isinstance(value, bool | np.bool_):
            out[i] = bool(value)
        elif str(value).strip().lower() in _TRUE:
            out[i] = True
        elif str(value).strip().lower() in _FALSE:
            out[i] = False
        else:
            raise InputError(
                f"expected true/false, got {value!r}", source=label, row=i + 1, column=column
            )
    return pd.Series(out, index=frame.index, dtype=bool)


# nanosecond timestamps (pandas) span 1677-2262; stay a day inside for time-zone shifts
_TIMESTAMP_MIN: Final = pd.Timestamp("1678-01-01")
_TIMESTAMP_MAX: Final = pd.Timestamp("2261-12-31")


def _timestamps(frame: pd.DataFrame, label: str, column: str, *, date_only: bool) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    out: list[pd.Timestamp | None] = []
    for i, value in enumerate(frame[column]):
        if is_blank(value):
            out.append(None)
            continue
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            kind = "an ISO date" if date_only else "an ISO timestamp"
            raise InputError(
                f"expected {kind}, got {value!r}", source=label, row=i + 1, column=column
            ) from None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        if not _TIMESTAMP_MIN <= stamp <= _TIMESTAMP_MAX:
            raise InputError(
                f"{value!r} is outside the supported range "
                f"({_TIMESTAMP_MIN.year}-{_TIMESTAMP_MAX.year})",
                source=label, row=i + 1, column=column,
            )
        out.append(stamp.normalize() if date_only else stamp)
    stamps = pd.to_datetime(pd.Series(out, index=frame.index, dtype=object))
    return stamps.astype("datetime64[ns]")


def keep_attributes(frame: pd.DataFrame, reserved: frozenset[str]) -> pd.DataFrame:
    """Extra columns stay; numeric-looking text columns become numbers for rules."""
    extra = frame[[c for c in frame.columns if c not in reserved]].copy()
    for column in extra.columns:
        series = extra[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            text = series.astype(str).str.strip()
            non_blank = text[text != ""]
            converted = pd.to_numeric(non_blank, errors="coerce")
            if len(non_blank) and converted.notna().all():
                extra[column] = pd.to_numeric(text.where(text != ""), errors="coerce")
            else:
                extra[column] = text
    return extra


LEAD_COLUMNS: Final = frozenset({"lead_id", "account_id", "value", "effort", "created_at"})
REP_COLUMNS: Final = frozenset({"rep_id", "capacity", "active", "weight", "start_date"})
SCORE_COLUMNS: Final = frozenset({"lead_id", "rep_id", "score", "effort"})


def load_leads(source: TableSource) -> pd.DataFrame:
    """Validated leads: ``lead_id, account_id, value, effort, created_at`` + attributes."""
    raw, label = read_raw(source, "leads", allow_empty=True)
    _require_columns(raw, label, ("lead_id",))
    out = pd.DataFrame(index=raw.index)
    out["lead_id"] = _unique_ids(raw, label, "lead_id")
    if "account_id" in raw.columns:
        out["account_id"] = [
            None if is_blank(v) else _text_id(v, label, i + 1, "account_id")
            for i, v in enumerate(raw["account_id"])
        ]
    else:
        out["account_id"] = None
    out["value"] = number_column(
        raw, label, NumberRule(column="value", default=1.0, minimum=0.0, maximum=MAX_VALUE)
    )
    out["effort"] = number_column(
        raw, label,
        NumberRule(column="effort", default=1.0, strictly_positive=True, maximum=MAX_EFFORT),
    )
    out["created_at"] = _timestamps(raw, label, "created_at", date_only=False)
    return pd.concat([out, keep_attributes(raw, LEAD_COLUMNS)], axis=1)


def load_reps(source: TableSource) -> pd.DataFrame:
    """Validated reps: ``rep_id, capacity, active, weight, start_date`` + attributes."""
    raw, label = read_raw(source, "reps")
    _require_columns(raw, label, ("rep_id", "capacity"))
    out = pd.DataFrame(index=raw.index)
    out["rep_id"] = _unique_ids(raw, label, "rep_id")
    out["capacity"] = number_column(
        raw, label,
        NumberRule(column="capacity", default=None, minimum=0.0, maximum=MAX_CAPACITY),
    )
    out["active"] = boolean_column(raw, label, "active", default=True)
    out["weight"] = number_column(
        raw, label,
        NumberRule(column="weight", default=1.0, strictly_positive=True, maximum=MAX_WEIGHT),
    )
    out["start_date"] = _timestamps(raw, label, "start_date", date_only=True)
    return pd.concat([out, keep_attributes(raw, REP_COLUMNS)], axis=1)


def load_scores(
    source: TableSource, *, lead_ids: pd.Series, rep_ids: pd.Series
) -> pd.DataFrame:
    """Validated pair scores ``lead_id, rep_id, score, effort`` (effort NaN = lead's).

    A million rows load in well under a second: the CSV is read by pyarrow and checked
    column by column (see ``solver._columns``); errors still name file, row and column."""
    # no leads, no pairs: a header-only scores file goes with an empty batch
    raw, label = _read_scores(source, allow_empty=len(lead_ids) == 0)
    _require_columns(raw, label, ("lead_id", "rep_id", "score"))
    known_leads, known_reps = pd.Index(lead_ids), pd.Index(rep_ids)
    # same order of checks as the other loaders: blank ids, then unknown ids, then pairs
    leads_in = encode_ids(raw["lead_id"], label=label, column="lead_id")
    reps_in = encode_ids(raw["rep_id"], label=label, column="rep_id")
    lead_codes = leads_in.positions(known_leads, label=label, what="lead")
    rep_codes = reps_in.positions(known_reps, label=label, what="rep")
    again = first_repeated_pair(lead_codes, rep_codes, len(known_reps))
    if again is not None:
        raise InputError(
            f"pair ({known_leads[lead_codes[again]]}, {known_reps[rep_codes[again]]}) "
            "listed twice", source=label, row=again + 1, column="rep_id",
        )
    out = pd.DataFrame({
        "lead_id": pd.Series(known_leads.to_numpy(dtype=object)[lead_codes], dtype=object),
        "rep_id": pd.Series(known_reps.to_numpy(dtype=object)[rep_codes], dtype=object),
        "score": numbers(raw, NumberCheck(column="score", default=None), label=label),
    })
    if "effort" in raw.columns:
        effort = numbers(raw, NumberCheck(column="effort", default=math.nan), label=label)
        bad = ~(np.isnan(effort) | (effort > 0))
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(
                f"must be > 0, got {effort[row]:g}", source=label, row=row + 1, column="effort"
            )
        out["effort"] = effort
    else:
        out["effort"] = math.nan
    return out


def _read_scores(source: TableSource, *, allow_empty: bool = False
                 ) -> tuple[pd.DataFrame, str]:
    """The scores table as text: pyarrow for files (a million rows is common), the
    general reader for DataFrames and for files pyarrow refuses (it names the problem)."""
    if isinstance(source, pd.DataFrame):
        return read_raw(source, "scores", allow_empty=allow_empty)
    label = table_label(source, "scores")
    path = Path(source)
    if not path.is_file():
        raise InputError("file not found", source=label)
    try:
        _reject_repeated_header(path, label)
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", source=label) from None
    frame = read_text_csv(path, header) if header else None
    if frame is None or frame.empty:
        return read_raw(source, "scores", allow_empty=allow_empty)
    return frame, label


HISTORY_COLUMNS: Final = frozenset(
    {"lead_id", "account_id", "value", "effort", "created_at", "rep_id", "converted",
     "assigned_at", "revenue", "propensity"}
)


def load_history(source: TableSource) -> pd.DataFrame:
    """Validated history: lead columns + ``rep_id, converted, assigned_at, revenue,
    propensity``; attributes kept (numeric-looking ones as numbers)."""
    raw, label = read_raw(source, "history")
    _require_columns(raw, label, ("rep_id", "converted"))
    out = pd.DataFrame(index=raw.index)
    if "lead_id" in raw.columns:
        out["lead_id"] = _ids(raw, label, "lead_id")
    if "account_id" in raw.columns:
        out["account_id"] = [None if is_blank(v) else str(v).strip() for v in raw["account_id"]]
    out["rep_id"] = _ids(raw, label, "rep_id")
    converted = number_column(raw, label, NumberRule(column="converted", default=None))
    bad = ~converted.isin([0.0, 1.0])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"expected 0 or 1, got {raw['converted'].iloc[row]!r}",
            source=label, row=row + 1, column="converted",
        )
    out["converted"] = converted.astype(np.int64)
    out["value"] = number_column(raw, label, NumberRule(column="value", default=1.0, minimum=0.0))
    out["effort"] = number_column(
        raw, label, NumberRule(column="effort", default=1.0, strictly_positive=True)
    )
    for column in ("created_at", "assigned_at"):
        if column in raw.columns:
            out[column] = _timestamps(raw, label, column, date_only=False)
    if "revenue" in raw.columns:
        out["revenue"] = number_column(raw, label, NumberRule(column="revenue", default=math.nan))
    if "propensity" in raw.columns:
        propensity = number_column(raw, label, NumberRule(column="propensity", default=math.nan))
        bad = ~(propensity.isna() | ((propensity > 0) & (propensity <= 1)))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"must be in (0, 1], got {propensity.iloc[row]:g}",
                source=label, row=row + 1, column="propensity",
            )
        out["propensity"] = propensity
    return pd.concat([out, keep_attributes(raw, HISTORY_COLUMNS)], axis=1)
