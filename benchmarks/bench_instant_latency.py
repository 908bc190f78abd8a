"""Latency of instant routing: ``POST /leads?instant=true`` with one lead, on loopback,
200 reps, the store on SQLite and on PostgreSQL, first with nothing else running (the
baseline), then with batches running in the background the whole time.

A uvicorn server is started in this process on 127.0.0.1 for each store (as in
``bench_service_load.py``); the background batches run in a separate process, as
``leadroute worker`` would: each round queues ``--batch-leads`` leads and routes them with
the optimal strategy (so prices are refreshed and instant requests meet a batch planning,
committing and re-checking the room they took). Prints p50/p99 per phase, how many batches
overlapped the loaded phase, and p99 against the 100 ms target; then where a request's time
went: the wait for the store's write lock (held meanwhile by the batch process), the
request's own write transaction up to its commit, and its SQL statements. The machine may be
shared: compare the loaded figures with the baseline of the same run.

    .venv/bin/python benchmarks/bench_instant_latency.py [--requests 300] [--reps 200]
        [--batch-leads 300] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from bench_service_load import REGIONS, TOKEN, _drop, _leads, _pg_schema_url, _reps, _Server
from sqlalchemy import Connection, event

from solver.app.service import (
    BatchSettings,
    Store,
    StoreSettings,
    freeze_startup_objects,
    ingest_leads,
    run_batch,
)
from solver.app.service._api import create_app
from solver.policy import parse_policy

TARGET_P99_S = 0.100
RULES = {"rules": [{"kind": "equals", "lead": "region", "rep": "region"},
                   {"kind": "contains", "lead": "industry", "rep": "industries"}],
         "sla": {"work_within_minutes": 60}}


def _settings() -> BatchSettings:
    return BatchSettings(policy=parse_policy(RULES), time_limit_s=5.0)


def _background_batches(url: str, batch_leads: int, stop: object, count: object) -> None:
    """Queue and route a batch after another until told to stop (a worker's work)."""
    import pandas as pd
    store = Store(StoreSettings(url=url, lock_timeout_s=60))
    freeze_startup_objects()  # as the worker command does once started
    rng = np.random.default_rng(1)
    round_no = 0
    while not stop.is_set():  # type: ignore[attr-defined]
        rows = _leads(10_000 + round_no, batch_leads, rng)
        frame = pd.DataFrame([{"lead_id": r["lead_id"], "value": r["value"],
                               **r["attributes"]} for r in rows])  # type: ignore[dict-item]
        ingest_leads(store, frame)
        run_batch(store, _settings())
        round_no += 1
        with count.get_lock():  # type: ignore[attr-defined]
            count.value += 1  # type: ignore[attr-defined]
    store.dispose()


class _WriteTimer:
    """Times the server's write transactions in this process (the instant requests; the
    batches run in another): the wait for the write lock, the transaction up to its end
    (commit included), and the SQL statements it sent."""

    def __init__(self, store: Store) -> None:
        self.waits: list[float] = []
        self.holds: list[float] = []
        self.statements: list[int] = []
        self._count = 0
        event.listen(store.engine, "before_cursor_execute", self._statement)
        write = store.write

        @contextmanager
        def timed() -> Iterator[Connection]:
            self._count = 0
            start = time.perf_counter()
            with write() as conn:
                locked = time.perf_counter()
                yield conn
            self.waits.append(locked - start)
            self.holds.append(time.perf_counter() - locked)
            self.statements.append(self._count)

        store.write = timed  # type: ignore[method-assign]

    def _statement(self, *_: Any) -> None:
        self._count += 1

    def take(self) -> dict[str, float]:
        """Quantiles of what was timed since the last call, in seconds (and statements)."""
        out = {"wait_p50": float(np.quantile(self.waits, 0.5)),
               "wait_p99": float(np.quantile(self.waits, 0.99)),
               "own_p50": float(np.quantile(self.holds, 0.5)),
               "own_p99": float(np.quantile(self.holds, 0.99)),
               "statements": float(np.median(self.statements))}
        self.reset()
        return out

    def reset(self) -> None:
        self.waits, self.holds, self.statements = [], [], []


def _phase(client: httpx.Client, prefix: str, n: int, rng: np.random.Generator
           ) -> tuple[list[float], int]:
    times: list[float] = []
    assigned = 0
    for i in range(n):
        lead = _leads(0, 1, rng)[0]
        lead["lead_id"] = f"{prefix}-{i:05d}"
        t0 = time.perf_counter()
        answer = client.post("/leads", params={"instant": "true"}, json={"leads": [lead]})
        times.append(time.perf_counter() - t0)
        answer.raise_for_status()
        assigned += answer.json()["leads"][0]["status"] == "assigned"
    return times, assigned


def run_store(label: str, url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    store = Store(StoreSettings(url=url, lock_timeout_s=60))
    timer = _WriteTimer(store)
    app = create_app(store, _settings(), api_token=TOKEN, deliver_webhooks=False)
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with _Server(app) as base, httpx.Client(base_url=base, headers=headers,
                                            timeout=60) as client:
        reps = _reps(args.reps, rng)
        for rep in reps:
            rep["capacity"] = 100_000  # latency, not scarcity, is measured here
        client.put("/reps", json={"reps": reps}).raise_for_status()
        _phase(client, "warm", 20, rng)
        timer.reset()
        times, assigned = _phase(client, "idle", args.requests, rng)
        rows.append(_row(label, "no load", times, assigned, 0) | timer.take())
        spawn = multiprocessing.get_context("spawn")
        stop, count = spawn.Event(), spawn.Value("i", 0)
        worker = spawn.Process(target=_background_batches,
                               args=(url, args.batch_leads, stop, count))
        worker.start()
        while count.value == 0:  # the worker's first batch is in: batches are now running
            time.sleep(0.05)
        before = count.value
        timer.reset()
        try:
            times, assigned = _phase(client, "busy", args.requests, rng)
        finally:  # a failed request must not leave the worker routing forever
            overlapped = count.value - before + 1
            stop.set()
            worker.join(timeout=120)
        rows.append(_row(label, "batches running", times, assigned, overlapped)
                    | timer.take())
    store.dispose()
    return rows


def _row(label: str, phase: str, times: list[float], assigned: int, batches: int
         ) -> dict[str, Any]:
    return {"store": label, "phase": phase, "requests": len(times), "assigned": assigned,
            "batches": batches, "p50": float(np.quantile(times, 0.5)),
            "p99": float(np.quantile(times, 0.99)), "max": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--batch-leads", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg-url", default=os.environ.get(
        "LEADROUTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run_store("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
    found = _pg_schema_url(args.pg_url)
    if isinstance(found, str):
        print(found)
    else:
        url, schema = found
        try:
            rows += run_store("postgresql", url, args)
        finally:
            _drop(args.pg_url, schema)
    print(f"\none lead per request, {args.reps} reps, {len(REGIONS)} regions; background "
          f"batches of {args.batch_leads} leads in another process; load average "
          f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (shared "
          "machine: compare with the no-load rows)")
    print(f"{'store':<11}{'phase':<17}{'requests':>9}{'batches':>8}{'p50':>8}{'p99':>8}"
          f"{'max':>8}{'p99/target':>12}{'p99/no load':>13}")
    idle = {row["store"]: row["p99"] for row in rows if row["phase"] == "no load"}
    for row in rows:
        print(f"{row['store']:<11}{row['phase']:<17}{row['requests']:>9}{row['batches']:>8}"
              f"{row['p50'] * 1000:>6.0f}ms{row['p99'] * 1000:>6.0f}ms"
              f"{row['max'] * 1000:>6.0f}ms{row['p99'] / TARGET_P99_S:>12.2f}"
              f"{row['p99'] / idle[row['store']]:>13.2f}")
    print("\nwhere a request's time went (its write transaction, timed in the server): "
          "waiting for the write lock, then its own work up to the commit; statements sent")
    print(f"{'store':<11}{'phase':<17}{'wait p50':>9}{'wait p99':>9}{'own p50':>9}"
          f"{'own p99':>9}{'statements':>11}")
    for row in rows:
        print(f"{row['store']:<11}{row['phase']:<17}{row['wait_p50'] * 1000:>7.0f}ms"
              f"{row['wait_p99'] * 1000:>7.0f}ms{row['own_p50'] * 1000:>7.0f}ms"
              f"{row['own_p99'] * 1000:>7.0f}ms{row['statements']:>11.0f}")


if __name__ == "__main__":
    main()
