"""The reps page: each rep's load today against its caps, its share against the fairness
target, ramp, availability and recent follow-up, computed the way a batch computes them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, select

from solver.app.service import _capacity as cap
from solver.app.service import _schema as t
from solver.app.service import _state as state
from solver.policy import Policy, adaptive_factors, ramp_factors

DEFAULT_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True, kw_only=True)
class RepRow:
    rep_id: str
    capacity: float
    capacity_week: float | None
    cap_factor: float  # adaptive cap factor (1 without [sla.adaptive_caps])
    day_load: float
    week_load: float
    share: float | None  # of today's effort given to available reps
    target: float | None
    band: tuple[float, float] | None  # fairness band around the target
    ramp: float
    active: bool
    weight: float
    availability: str  # "available" or why not
    shift: str
    timezone: str
    absences: list[tuple[datetime, datetime]]
    assigned_recent: int
    follow_up_rate: float | None
    converted: int
    outcomes: int
    expiries: int

    @property
    def band_state(self) -> str:
        if self.share is None or self.band is None:
            return ""
        low, high = self.band
        return "under" if self.share < low else "over" if self.share > high else "within"


def rep_rows(conn: Connection, policy: Policy, now: datetime) -> list[RepRow]:
    reps = state.reps_frame(conn)
    if reps.empty:
        return []
    spans = cap.windows(reps, now)
    day, week = cap.window_loads(
        reps, spans, lambda starts: state.effort_by_rep_windows(conn, starts))
    adaptive = policy.sla.adaptive_caps if policy.sla is not None else None
    lookback = timedelta(days=adaptive.lookback_days) if adaptive else DEFAULT_LOOKBACK
    follow = state.follow_up(conn, now, lookback)
    recent: dict[str, dict[str, Any]] = {
        str(row["rep_id"]): {str(k): v for k, v in row.items()}
        for row in follow.to_dict("records")}
    factors = adaptive_factors(reps, follow, adaptive)
    why_not = cap.available(reps, state.absent_reps(conn, now), now)
    ramp = ramp_factors(_dated(reps), policy.ramp, pd.Timestamp(now))
    targets = _targets(reps, why_not, ramp)
    total_day = float(sum(load for load, why in zip(day, why_not, strict=True) if why is None))
    band = policy.fairness.band if policy.fairness is not None else None
    absences = upcoming_absences(conn, now)
    rows = []
    for j, record in enumerate(reps.to_dict("records")):
        rep = {str(k): v for k, v in record.items()}
        rep_id = str(rep["rep_id"])
        target = targets[j]
        stats = recent.get(rep_id)
        assigned = int(stats["assigned"]) if stats is not None else 0
        expired = int(stats["expired"]) if stats is not None else 0
        rows.append(RepRow(
            rep_id=rep_id, capacity=float(rep["capacity"]),
            capacity_week=_number(rep["capacity_week"]),
            cap_factor=float(factors.factor[j]), day_load=float(day[j]),
            week_load=float(week[j]),
            share=float(day[j]) / total_day if total_day > 0 and target is not None else None,
            target=target,
            band=((target * (1 - band), target * (1 + band))
                  if band is not None and target is not None else None),
            ramp=float(ramp[j]), active=bool(rep["active"]), weight=float(rep["weight"]),
            availability=why_not[j] or "available", shift=_shift(rep),
            timezone=str(rep["timezone"]), absences=absences.get(rep_id, []),
            assigned_recent=assigned,
            follow_up_rate=1.0 - expired / assigned if assigned else None,
            converted=int(stats["converted"]) if stats is not None else 0,
            outcomes=int(stats["outcomes"]) if stats is not None else 0, expiries=expired))
    return rows


def _targets(reps: pd.DataFrame, why_not: list[str | None], ramp: Any) -> list[float | None]:
    """Weighted share target among the reps available now (ramp scales the weight)."""
    weights = [float(w) * float(r) if why is None else 0.0
               for w, r, why in zip(reps["weight"], ramp, why_not, strict=True)]
    total = sum(weights)
    return [w / total if total > 0 and w > 0 else None for w in weights]


def _dated(reps: pd.DataFrame) -> pd.DataFrame:
    return reps.assign(start_date=pd.to_datetime(reps["start_date"]))


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _shift(rep: dict[str, Any]) -> str:
    start, end = rep.get("work_start"), rep.get("work_end")
    if not start or not end or isinstance(start, float):
        return "any time"
    return f"{start}–{end}"


def upcoming_absences(conn: Connection, now: datetime) -> dict[str, list[tuple[datetime,
                                                                               datetime]]]:
    """Absences not yet over, per rep, soonest first."""
    a = t.absences.c
    rows = conn.execute(select(a.rep_id, a.starts_at, a.ends_at)
                        .where(and_(a.ends_at > now)).order_by(a.starts_at)).all()
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for rep_id, starts, ends in rows:
        out.setdefault(str(rep_id), []).append((starts, ends))
    return out
