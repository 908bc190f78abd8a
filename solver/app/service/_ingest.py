"""Validate incoming leads and reps (CSV files or DataFrames) into store rows.

The contract's loaders check the reserved columns (with file, row and column in every
error); the service adds its own rep columns: ``capacity_week``, ``timezone``,
``work_start``/``work_end`` ("HH:MM" local time). Every other column is an attribute that
rules and the affinity model may use, stored as JSON.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from solver.app.service._store import as_utc
from solver.contract_tables import MAX_CAPACITY, TableSource, load_leads, load_reps, read_raw
from solver.errors import InputError

SERVICE_REP_COLUMNS: Final = ("capacity_week", "timezone", "work_start", "work_end")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _label(source: TableSource, name: str) -> str:
    return f"{name} table" if isinstance(source, pd.DataFrame) else str(source)


def _attributes(row: pd.Series, skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in skip or value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        out[str(key)] = value.item() if hasattr(value, "item") else value
    return out


def lead_rows(source: TableSource, now: datetime) -> list[dict[str, Any]]:
    """Validated leads as ``lr_leads`` rows (status pending); missing created_at = now."""
    return validated_leads(source, now)[0]


def validated_leads(source: TableSource, now: datetime
                    ) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """``lead_rows`` and the loader's table they come from (instant routing routes that
    table as it is, instead of validating the stored rows a second time)."""
    table = load_leads(source)
    reserved = {"lead_id", "account_id", "value", "effort", "created_at"}
    rows = []
    for _, lead in table.iterrows():
        created = lead["created_at"]
        rows.append({
            "lead_id": str(lead["lead_id"]),
            # pandas reads a blank id back as NaN: stored (and routed) as none
            "account_id": None if pd.isna(lead["account_id"]) else str(lead["account_id"]),
            "value": float(lead["value"]),
            "effort": float(lead["effort"]),
            "created_at": now if pd.isna(created)
            else as_utc(pd.Timestamp(created).to_pydatetime()),
            "attributes": _attributes(lead, reserved),
            "status": "pending",
            "attempts": 0,
            "reason": "waiting for the next batch",
            "updated_at": now,
        })
    return rows, table


def rep_rows(source: TableSource, now: datetime) -> list[dict[str, Any]]:
    """Validated reps as ``lr_reps`` rows."""
    label = _label(source, "reps")
    raw, _ = read_raw(source, "reps")
    table = load_reps(raw.drop(columns=[c for c in SERVICE_REP_COLUMNS if c in raw.columns]))
    reserved = {"rep_id", "capacity", "active", "weight", "start_date"}
    rows = []
    for position, (_, rep) in enumerate(table.iterrows()):
        extra = raw.iloc[position]
        row_number = position + 1
        start = rep["start_date"]
        rows.append({
            "rep_id": str(rep["rep_id"]),
            "capacity": float(rep["capacity"]),
            "capacity_week": _optional_capacity(extra, label, row_number),
            "active": bool(rep["active"]),
            "weight": float(rep["weight"]),
            "start_date": None if pd.isna(start) else pd.Timestamp(start).date(),
            "timezone": _timezone(extra, label, row_number),
            "work_start": _clock(extra, "work_start", label, row_number),
            "work_end": _clock(extra, "work_end", label, row_number),
            "attributes": _attributes(rep, reserved),
            "updated_at": now,
        })
        if (rows[-1]["work_start"] is None) != (rows[-1]["work_end"] is None):
            raise InputError("give both work_start and work_end, or neither", source=label,
                             row=row_number, column="work_end")
    return rows


def _cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _optional_capacity(row: pd.Series, label: str, number: int) -> float | None:
    text = _cell(row, "capacity_week")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", source=label, row=number,
                         column="capacity_week") from None
    if not math.isfinite(value) or value < 0 or value > MAX_CAPACITY:
        raise InputError(f"must be a number from 0 to {MAX_CAPACITY:g}", source=label,
                         row=number, column="capacity_week")
    return value


def _timezone(row: pd.Series, label: str, number: int) -> str:
    text = _cell(row, "timezone") or "UTC"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {text!r} (use e.g. Europe/Paris)", source=label,
                         row=number, column="timezone") from None
    return text


def _clock(row: pd.Series, column: str, label: str, number: int) -> str | None:
    text = _cell(row, column)
    if not text:
        return None
    if not _CLOCK.match(text):
        raise InputError(f"not a HH:MM time: {text!r}", source=label, row=number,
                         column=column)
    return text
