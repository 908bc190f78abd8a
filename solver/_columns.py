"""Vectorised column checks for large tables (the scores table has a row per pair).

Clean data never meets a Python loop: ids become codes into a known id list, numbers are
parsed by pyarrow. Only rows that look wrong (unparsable, non-finite, out of range) are
re-checked one by one with Python's own ``float`` so the error names the first bad row
and says what is wrong with it, in the same words as the small tables' loaders.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import InputError

# pyarrow (the ``spark`` extra; pandas uses it when present) reads and parses a million
# rows in a fraction of a second; without it pandas does the same work, slower.
HAVE_ARROW = importlib.util.find_spec("pyarrow") is not None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class NumberCheck:
    """``default``: value of a blank cell (None = blank is an error)."""

    column: str
    default: float | None
    minimum: float | None = None
    strictly_positive: bool = False


def read_text_csv(path: Path, header: Sequence[str]) -> pd.DataFrame | None:
    """Every cell as text (pyarrow strings), header names stripped; None without pyarrow
    or when it refuses the file (ragged rows, bad UTF-8, ...), so the caller's own reader
    can say what is wrong in its words. ``header``: the raw header names, already read."""
    if not HAVE_ARROW:
        return None
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:
        table = pa_csv.read_csv(
            path,
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError):
        return None
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _stripped_text(values: pd.Series) -> pd.Series | None:
    """The column as stripped text (missing = ""), or None when it holds something other
    than text (numbers, bools: then the caller checks cell by cell)."""
    if values.dtype == object:
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
    elif not pd.api.types.is_string_dtype(values.dtype):
        return None
    return values.fillna("").str.strip()


@dataclass(frozen=True)
class EncodedIds:
    """A column of ids as ``uniques[indices]`` (stripped text, none blank)."""

    indices: IntArray
    uniques: npt.NDArray[np.object_]
    column: str

    def positions(self, known: pd.Index, *, label: str, what: str) -> IntArray:
        """Position of each row's id in ``known``; the first unknown id raises."""
        codes = known.get_indexer(pd.Index(self.uniques)).astype(np.int64)[self.indices]
        unknown = codes < 0
        if unknown.any():
            row = int(np.argmax(unknown))
            raise InputError(
                f"unknown {what} '{self.uniques[self.indices[row]]}' (not in the {what}s table)",
                source=label, row=row + 1, column=self.column,
            )
        return codes


def encode_ids(values: pd.Series, *, label: str, column: str) -> EncodedIds:
    """Ids as codes (no per-row Python on text columns); the first blank id raises."""
    text = _stripped_text(values)
    if text is not None:  # hashing in C (pyarrow's dictionary encoding for arrow strings)
        codes, found = pd.factorize(text)
        indices, uniques = codes.astype(np.int64), np.asarray(found, dtype=object)
        blank = (uniques == "")[indices]
    else:  # DataFrame cells of other types (numbers as ids, None, NaN)
        blank = np.fromiter((is_blank(v) for v in values), dtype=bool, count=len(values))
        strings = pd.Series([str(v).strip() for v in values], dtype=object)
        codes, found = pd.factorize(strings.where(~blank, ""))
        indices, uniques = codes.astype(np.int64), np.asarray(found, dtype=object)
    if blank.any():
        raise InputError("empty id", source=label, row=int(np.argmax(blank)) + 1,
                         column=column)
    return EncodedIds(indices, uniques, column)


def is_blank(value: object) -> bool:
    """None, NaN, NaT, pd.NA or whitespace-only text (DataFrames carry all of them)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def numbers(frame: pd.DataFrame, check: NumberCheck, *, label: str) -> FloatArray:
    """The column as floats (blank = ``check.default``); the first bad row raises."""
    if check.column not in frame.columns:
        if check.default is None:
            raise InputError("required column is missing", source=label, column=check.column)
        return np.full(len(frame), check.default, dtype=float)
    values = frame[check.column]
    parsed, blank = _fast_floats(values)
    default = math.nan if check.default is None else check.default
    parsed = np.where(blank, default, parsed)
    suspect = ~np.isfinite(parsed) & ~(blank & (check.default is not None))
    if check.strictly_positive:
        suspect |= parsed <= 0
    if check.minimum is not None:
        suspect |= parsed < check.minimum
    for row in np.flatnonzero(suspect).tolist():  # empty on clean data
        parsed[row] = _one_number(values.iloc[row], check, label=label, row=row + 1)
    return parsed


def _fast_floats(values: pd.Series) -> tuple[FloatArray, BoolArray]:
    """(floats with NaN where not parsed, blank mask). Only plain numbers and text
    take the fast path; anything else (bools, objects) is left for the row check."""
    text = _stripped_text(values)
    if text is not None:
        blank = (text == "").to_numpy(dtype=bool)
        parsed = _arrow_floats(text) if HAVE_ARROW else None
        if parsed is None:  # some cell is no plain number (located later), or no pyarrow
            coerced = pd.to_numeric(text.where(~blank), errors="coerce")
            parsed = np.asarray(coerced.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        return parsed, blank
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        parsed = values.to_numpy(dtype=float, na_value=np.nan)
        return parsed, np.isnan(parsed)
    # mixed objects (DataFrame input): every cell goes through the row check
    return np.full(len(values), np.nan), np.zeros(len(values), dtype=bool)


def _arrow_floats(text: pd.Series) -> FloatArray | None:
    """pyarrow's float parser (blank cells → NaN); None if any cell is no plain number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(text)
    try:
        parsed = pc.cast(pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array),
                         pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=float)


def _one_number(value: object, check: NumberCheck, *, label: str, row: int) -> float:
    """One cell, with the messages of the small tables' loaders."""
    column = check.column
    if is_blank(value):
        if check.default is None:
            raise InputError("missing value", source=label, row=row, column=column)
        return check.default
    if isinstance(value, bool | np.bool_):
        raise InputError(f"expected a number, got {value!r}", source=label, row=row,
                         column=column)
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {value!r}", source=label, row=row,
                         column=column) from None
    if not math.isfinite(number):
        raise InputError(f"must be a finite number, got {value!r}", source=label, row=row,
                         column=column)
    if check.strictly_positive and number <= 0:
        raise InputError(f"must be > 0, got {number:g}", source=label, row=row, column=column)
    if check.minimum is not None and number < check.minimum:
        raise InputError(f"must be >= {check.minimum:g}, got {number:g}", source=label,
                         row=row, column=column)
    return number


def first_repeated_pair(first: IntArray, second: IntArray, width: int) -> int | None:
    """0-based row of the first (first, second) key seen before, else None."""
    key = first * max(width, 1) + second
    if np.all(key[1:] > key[:-1]):  # files written lead by lead: no sort needed
        return None
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if len(repeated) == 0:
        return None
    return int(order[repeated + 1].min())


