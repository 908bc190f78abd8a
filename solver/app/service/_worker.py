"""The scheduled loop behind ``leadroute worker``: a batch (on a turn with nothing to
route, fresh forecast prices for instant routing), then due webhooks, then sleep.

A run that finds another run holding the lock skips its turn instead of queueing up;
a failed batch is reported and the loop goes on (the transaction left nothing behind).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from solver.app.service._batch import BatchReport, BatchSettings, run_batch
from solver.app.service._notify import deliver_due
from solver.app.service._prices import refresh_forecast
from solver.app.service._store import Store
from solver.errors import BatchBusyError, InputError, LeadrouteError

log = logging.getLogger(__name__)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def parse_duration(text: str, *, option: str = "--every") -> float:
    """``"60s"``, ``"5m"``, ``"1h"``, ``"250ms"`` or plain seconds → seconds."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"{option}: not a positive duration: {text!r} (e.g. 60s, 5m)",
                         source="command line")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    every_s: float = 60.0
    max_runs: int | None = None  # None = until stopped


def run_worker(store: Store, batch: BatchSettings, worker: WorkerSettings, *,
               on_event: Callable[[str], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> list[BatchReport]:
    """Batches until ``max_runs`` or Ctrl-C. Each batch logs itself (``_observe``); the
    worker's own events (skips, failures, webhooks) go to ``on_event`` or, by default,
    to this module's logger."""
    emit = on_event or log.info
    reports: list[BatchReport] = []
    runs = 0
    while worker.max_runs is None or runs < worker.max_runs:
        started = time.monotonic()
        runs += 1
        try:
            report = run_batch(store, batch, wait=False)
            reports.append(report)
            if on_event is not None:
                on_event(f"batch {report.batch_id}: {report.assigned} assigned, "
                         f"{report.nurture} nurture, {report.still_pending} waiting, "
                         f"{report.expired} expired")
            if report.routed == 0:  # idle: keep instant routing's prices current
                _refresh_prices(store, batch, emit)
        except BatchBusyError:
            emit("another run holds the routing lock; skipped this turn")
        except (LeadrouteError, SQLAlchemyError) as exc:
            # the transaction rolled back; the next turn tries again (a database restart,
            # a policy error fixed in place) instead of the worker dying
            (on_event or log.warning)(f"batch failed, nothing written: {_first_line(exc)}")
        try:
            delivery = deliver_due(store)
        except SQLAlchemyError as exc:
            (on_event or log.warning)(f"webhook delivery skipped: {_first_line(exc)}")
        else:
            if delivery.delivered or delivery.failed or delivery.retrying:
                emit(f"webhooks: {delivery.delivered} delivered, {delivery.retrying} "
                     f"retrying, {delivery.failed} failed")
        if worker.max_runs is not None and runs >= worker.max_runs:
            break
        sleep(max(worker.every_s - (time.monotonic() - started), 0.0))
    return reports


def _refresh_prices(store: Store, batch: BatchSettings, on_event: Callable[[str], None]
                    ) -> None:
    try:
        refresh_forecast(store, batch)
    except (LeadrouteError, SQLAlchemyError) as exc:  # the batch's prices stay in force
        on_event(f"forecast prices skipped: {_first_line(exc)}")
