"""Who can take leads right now, and how much room each rep has left in its windows.

Windows are local to each rep's time zone: the day starts at local midnight, the week on
local Monday. Effort given earlier in the window counts against the caps and, for
fairness, is carried into the batch as the window's prior load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Windows:
    day_start: list[datetime]  # naive UTC, per rep
    week_start: list[datetime]


def windows(reps: pd.DataFrame, now: datetime) -> Windows:
    by_zone: dict[str, tuple[datetime, datetime]] = {}  # reps share a few time zones
    for zone in set(map(str, reps["timezone"])):
        local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        monday = midnight - timedelta(days=local.weekday())
        by_zone[zone] = (midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None),
                         monday.astimezone(ZoneInfo("UTC")).replace(tzinfo=None))
    starts = [by_zone[str(zone)] for zone in reps["timezone"]]
    return Windows([day for day, _ in starts], [week for _, week in starts])


def available(reps: pd.DataFrame, absent: set[str], now: datetime) -> list[str | None]:
    """Per rep: None when available now, else why not."""
    out: list[str | None] = []
    for rep_id, active, zone, start, end in zip(
            reps["rep_id"], reps["active"], reps["timezone"], reps["work_start"],
            reps["work_end"], strict=True):
        if not bool(active):
            out.append("inactive")
        elif rep_id in absent:
            out.append("out of office")
        elif _clock_text(start) and _clock_text(end) and not _on_shift(
                str(zone), _clock_text(start), _clock_text(end), now):
            out.append(f"off shift (works {start}–{end} {zone})")
        else:
            out.append(None)
    return out


def _clock_text(value: object) -> str:
    """An "HH:MM" cell, or "" for no hours: a rep without hours reads back as None, or
    NaN when pandas builds the column next to reps that have hours."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _on_shift(zone: str, work_start: str, work_end: str, now: datetime) -> bool:
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
    start = time.fromisoformat(work_start)
    end = time.fromisoformat(work_end)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return True  # a shift from a time to the same time is around the clock
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # a night shift crosses midnight


def window_loads(reps: pd.DataFrame, spans: Windows,
                 effort_since: Callable[[list[datetime]], dict[datetime, dict[str, float]]]
                 ) -> tuple[FloatArray, FloatArray]:
    """Effort each rep received since its local day start and since its week start;
    ``effort_since`` answers every distinct window start at once (one query)."""
    rep_ids = [str(r) for r in reps["rep_id"]]
    found = effort_since(sorted({*spans.day_start, *spans.week_start}))
    loads = []
    for starts in (spans.day_start, spans.week_start):
        loads.append(np.array([found.get(start, {}).get(rep, 0.0)
                               for rep, start in zip(rep_ids, starts, strict=True)],
                              dtype=float).reshape(len(rep_ids)))
    return loads[0], loads[1]
