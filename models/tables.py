"""Read a ``history`` CSV (contract table) into typed columns, with located errors.

``models`` cannot use ``solver``'s loaders (layering), and history has columns of its own
(``converted``, ``assigned_at``, ``revenue``, ``propensity``), so it has this small reader.
Numeric-looking attribute columns become numbers; everything else stays text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from models._errors import DataError

_TIMES: Final = ("created_at", "assigned_at")
_NUMBERS: Final = ("value", "effort", "revenue", "propensity")


def read_history(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Typed history: ``converted`` 0/1, timestamps parsed, numbers as floats."""
    if isinstance(source, pd.DataFrame):
        raw, label = source.astype(str).replace({"nan": "", "NaT": "", "None": ""}), "history table"
    else:
        path = Path(source)
        label = str(path)
        if not path.is_file():
            raise DataError("file not found", source=label)
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise DataError("file is empty (no header row)", source=label) from None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"not a readable CSV file ({type(exc).__name__})",
                            source=label) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise DataError("no data rows", source=label)
    for column in ("rep_id", "converted"):
        if column not in raw.columns:
            raise DataError("required column is missing", source=label, column=column)
    out = raw.apply(lambda s: s.str.strip())
    blank_rep = out["rep_id"] == ""
    if blank_rep.any():
        raise DataError("empty id", source=label, row=_first(blank_rep), column="rep_id")
    bad = ~out["converted"].isin(["0", "1"])
    if bad.any():
        row = _first(bad)
        raise DataError(f"expected 0 or 1, got {out['converted'].iloc[row - 1]!r}",
                        source=label, row=row, column="converted")
    out["converted"] = out["converted"].astype("int64")
    for column in _TIMES:
        if column in out.columns:
            text = out[column]
            stamps = pd.to_datetime(text.replace("", None), errors="coerce", format="mixed")
            bad = stamps.isna() & (text != "")
            if bad.any():
                row = _first(bad)
                raise DataError(f"expected an ISO timestamp, got {text.iloc[row - 1]!r}",
                                source=label, row=row, column=column)
            out[column] = stamps
    for column in out.columns:
        if column in (*_TIMES, "converted", "rep_id", "lead_id", "account_id"):
            continue
        text = out[column]
        numbers = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = numbers.isna() & (text != "")
        if column in _NUMBERS and bad.any():
            row = _first(bad)
            raise DataError(f"expected a number, got {text.iloc[row - 1]!r}", source=label,
                            row=row, column=column)
        if not bad.any() and (text != "").any():
            out[column] = numbers.astype(float)
    return out


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1
