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

from solver.policy import AdaptiveCaps

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


@dataclass(frozen=True)
class CapFactors:
    factor: FloatArray
    notes: list[str]  # per rep, "" when the cap was not adapted


def unit_factors(n_reps: int) -> CapFactors:
    """No adaptive caps: every cap as stated."""
    return CapFactors(np.ones(n_reps), [""] * n_reps)


def adaptive_factors(reps: pd.DataFrame, follow_up: pd.DataFrame,
                     settings: AdaptiveCaps | None) -> CapFactors:
    """Cap × (rep's follow-up rate / team's) × (rep's conversion rate / team's)^w, bounded;
    reps with few recent leads keep 1. The conversion rate is shrunk toward the team's
    with ``min_leads`` pseudo-outcomes, so a handful of lucky deals moves little."""
    factor = np.ones(len(reps))
    notes = [""] * len(reps)
    if settings is None or follow_up.empty:
        return CapFactors(factor, notes)
    total = float(follow_up["assigned"].sum())
    team_rate = 1.0 - float(follow_up["expired"].sum()) / total if total else 1.0
    outcomes = float(follow_up["outcomes"].sum())
    team_conversion = float(follow_up["converted"].sum()) / outcomes if outcomes else 0.0
    if team_rate <= 0:
        return CapFactors(factor, notes)
    stats = follow_up.set_index("rep_id")
    prior = float(settings.min_leads)
    for j, rep_id in enumerate(reps["rep_id"]):
        if rep_id not in stats.index:
            continue
        assigned = int(stats.loc[rep_id, "assigned"])
        if assigned < settings.min_leads:
            continue
        rate = 1.0 - int(stats.loc[rep_id, "expired"]) / assigned
        raw = rate / team_rate
        why = f"followed up {rate:.0%} of {assigned} recent leads vs team {team_rate:.0%}"
        if settings.conversion_weight > 0 and team_conversion > 0:
            seen, won = int(stats.loc[rep_id, "outcomes"]), int(stats.loc[rep_id, "converted"])
            shrunk = (won + prior * team_conversion) / (seen + prior)
            raw *= (shrunk / team_conversion) ** settings.conversion_weight
            why += (f"; converted {won} of {seen} worked (shrunk {shrunk:.0%}) vs team "
                    f"{team_conversion:.0%}")
        value = float(np.clip(raw, settings.min_factor, settings.max_factor))
        if abs(value - 1.0) > 1e-9:
            factor[j] = value
            notes[j] = f"cap ×{value:.2f} ({why})"
    return CapFactors(factor, notes)
