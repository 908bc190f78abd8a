"""Speed and SLA: minutes from a lead's arrival to its assignment and to its first touch
(accepted or worked), per rep and overall; SLA breaches and re-routes per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, select

from solver.app.service import _schema as t

TOUCHES = ("accepted", "worked")


@dataclass(frozen=True, kw_only=True)
class Speed:
    """``per_rep`` columns: rep_id, assigned, to_assign_median, to_assign_p90, touched,
    to_touch_median, to_touch_p90, breaches (one row per rep plus an ``overall`` row);
    ``daily`` columns: day, breaches, reroutes."""

    since: datetime
    per_rep: pd.DataFrame
    daily: pd.DataFrame


def speed(conn: Connection, now: datetime, window: timedelta) -> Speed:
    since = now - window
    a, lead = t.assignments.c, t.leads.c
    rows = conn.execute(
        select(a.lead_id, a.rep_id, a.event, a.created_at, lead.created_at.label("arrived"))
        .join_from(t.assignments, t.leads, a.lead_id == lead.lead_id)
        .where(a.created_at >= since).order_by(a.id)).all()
    events = pd.DataFrame(rows, columns=["lead_id", "rep_id", "event", "at", "arrived"])
    return Speed(since=since, per_rep=_per_rep(events), daily=_daily(events, since, now))


def _minutes(frame: pd.DataFrame) -> pd.Series:
    return (pd.to_datetime(frame["at"]) - pd.to_datetime(frame["arrived"])
            ).dt.total_seconds() / 60.0


def _per_rep(events: pd.DataFrame) -> pd.DataFrame:
    assigned = events[events["event"] == "assigned"]
    assigned = assigned.assign(minutes=_minutes(assigned))
    # first touch of each lead, credited to the rep who touched it
    touched = events[events["event"].isin(TOUCHES)].drop_duplicates("lead_id")
    touched = touched.assign(minutes=_minutes(touched))
    breaches = events[events["event"] == "expired"]
    columns = ["rep_id", "assigned", "to_assign_median", "to_assign_p90", "touched",
               "to_touch_median", "to_touch_p90", "breaches"]
    reps = sorted(set(assigned["rep_id"].dropna()) | set(touched["rep_id"].dropna())
                  | set(breaches["rep_id"].dropna()))
    out = [_rep_line(str(rep), assigned[assigned["rep_id"] == rep],
                     touched[touched["rep_id"] == rep],
                     int((breaches["rep_id"] == rep).sum())) for rep in reps]
    out.append(_rep_line("overall", assigned, touched, len(breaches)))
    return pd.DataFrame(out, columns=columns)


def _rep_line(rep: str, assigned: pd.DataFrame, touched: pd.DataFrame, breaches: int
              ) -> list[object]:
    def quantile(frame: pd.DataFrame, q: float) -> float | None:
        return float(frame["minutes"].quantile(q)) if len(frame) else None

    return [rep, len(assigned), quantile(assigned, 0.5), quantile(assigned, 0.9), len(touched),
            quantile(touched, 0.5), quantile(touched, 0.9), breaches]


def _daily(events: pd.DataFrame, since: datetime, now: datetime) -> pd.DataFrame:
    days = pd.date_range(pd.Timestamp(since).normalize(), pd.Timestamp(now).normalize(),
                         freq="D")
    day = pd.to_datetime(events["at"]).dt.normalize()
    breaches = events[events["event"] == "expired"].groupby(day).size()
    assigned = events[events["event"] == "assigned"]
    # a re-route: an assignment of a lead that had been assigned before (in the window)
    again = assigned[assigned.duplicated("lead_id")]
    reroutes = again.groupby(day[again.index]).size()
    return pd.DataFrame({
        "day": days,
        "breaches": [int(breaches.get(d, 0)) for d in days],
        "reroutes": [int(reroutes.get(d, 0)) for d in days],
    })
