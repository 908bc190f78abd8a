"""Capacity prices for instant routing: stored after each batch solve, estimated from a
forecast when there is no recent batch, read back by ``POST /leads?instant=true``.

A batch's prices are its rep summary's shadow prices (the LP dual of each rep's remaining
capacity). With no batch in the last ``MAX_AGE`` the worker, on a turn with no pending lead,
prices a forecast instead: the leads that arrived in the last 24 hours (the most recent
``FORECAST_SAMPLE``) stand in for the rest of today, and each rep's remaining capacity is
scaled to that sample by ``sample size / expected arrivals``, where expected arrivals =
yesterday's (UTC) lead count minus today's so far (at least the sample size). The scaling is
done by dividing the sample's efforts by the same factor (the same constraint) and the
duals are brought back to units of real effort. Without either, instant routing picks
the best fit weighted by free capacity (``PriceSource.NONE``); every reason says which.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, delete, func, select

from solver.app.service import _schema as t
from solver.app.service._rep_cache import has_no_reps
from solver.app.service._routing import BatchSettings, Routed, route
from solver.app.service._store import Store, as_utc, utcnow
from solver.strategies import GreedyBestFit, PriceSource

MAX_AGE = timedelta(hours=1)  # older prices are ignored: the day's scarcity has moved
FORECAST_SAMPLE = 300
_SOURCE_NAME = {PriceSource.BATCH: "batch", PriceSource.FORECAST: "forecast"}


@dataclass(frozen=True)
class Prices:
    by_rep: dict[str, float]
    source: PriceSource
    computed_at: datetime | None = None


def batch_prices(routed: Routed) -> dict[str, float]:
    """The finite shadow prices of a routed batch (an LP too large to price has none)."""
    summary = routed.outcome.rep_summary
    prices = summary["shadow_price"].to_numpy(dtype=float)
    return {str(rep): float(price) for rep, price in
            zip(summary["rep_id"].astype(str), prices, strict=True) if np.isfinite(price)}


def save_prices(conn: Connection, prices: dict[str, float], source: PriceSource,
                batch_id: str | None, now: datetime) -> None:
    """Replace the stored prices (only the latest are kept); no prices: keep the old."""
    if not prices:
        return
    conn.execute(delete(t.rep_prices))
    conn.execute(t.rep_prices.insert(), [
        {"rep_id": rep, "price": price, "source": _SOURCE_NAME[source],
         "batch_id": batch_id, "computed_at": now} for rep, price in prices.items()])


def latest_prices(conn: Connection, now: datetime) -> Prices:
    """The stored prices if computed within ``MAX_AGE`` of ``now``, else none."""
    rows = conn.execute(select(t.rep_prices.c.rep_id, t.rep_prices.c.price,
                               t.rep_prices.c.source, t.rep_prices.c.computed_at)).all()
    if not rows:
        return Prices({}, PriceSource.NONE)
    computed = max(row.computed_at for row in rows)
    if not now - MAX_AGE <= computed <= now + MAX_AGE:  # stale, or a clock far ahead
        return Prices({}, PriceSource.NONE)
    source = (PriceSource.FORECAST if rows[0].source == "forecast" else PriceSource.BATCH)
    return Prices({str(row.rep_id): float(row.price) for row in rows}, source, computed)


def refresh_forecast(store: Store, settings: BatchSettings, *,
                     now: datetime | None = None) -> Prices:
    """Price a forecast of the rest of today (module docstring) and store it, unless a
    batch priced the reps within ``MAX_AGE``. Returns the prices now in force."""
    now = as_utc(now) if now is not None else utcnow()
    with store.read() as conn:
        current = latest_prices(conn, now)
        if current.source is PriceSource.BATCH:
            return current
        sample, expected = _forecast_sample(conn, now)
        if not sample or has_no_reps(conn):
            return current
        scale = len(sample) / max(expected, len(sample))
        routed = route(conn, _forecast_settings(settings), _scaled(sample, scale), now)
        conn.rollback()
    prices = {rep: price / scale for rep, price in batch_prices(routed).items()}
    with store.write() as conn:
        save_prices(conn, prices, PriceSource.FORECAST, None, now)
    return Prices(prices, PriceSource.FORECAST, now)


def _forecast_sample(conn: Connection, now: datetime) -> tuple[list[dict[str, Any]], int]:
    """The last day's most recent leads, and the arrivals still expected today."""
    query = (select(t.leads).where(and_(t.leads.c.created_at >= now - timedelta(days=1),
                                        t.leads.c.created_at <= now))
             .order_by(t.leads.c.created_at.desc()).limit(FORECAST_SAMPLE))
    sample = [dict(row) for row in conn.execute(query).mappings()]
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = _count(conn, today - timedelta(days=1), today)
    return sample, yesterday - _count(conn, today, now)


def _count(conn: Connection, since: datetime, until: datetime) -> int:
    return int(conn.execute(select(func.count()).where(and_(
        t.leads.c.created_at >= since, t.leads.c.created_at < until))).scalar() or 0)


def _scaled(sample: list[dict[str, Any]], scale: float) -> list[dict[str, Any]]:
    """Pending copies under fresh ids (a lead's past reps must not bar its stand-in),
    efforts divided by ``scale`` (= capacities multiplied by it)."""
    return [{**lead, "lead_id": f"forecast:{lead['lead_id']}", "status": "pending",
             "effort": float(lead["effort"]) / scale} for lead in sample]


def _forecast_settings(settings: BatchSettings) -> BatchSettings:
    """Prices come from the summary's LP, not the routing: the cheapest strategy does;
    fairness, exploration and experiments do not price capacity."""
    policy = settings.policy.model_copy(update={"fairness": None, "explore": None,
                                                "experiment": None})
    return replace(settings, policy=policy, routing=GreedyBestFit())
