"""Latency of instant routing: ``POST /leads?instant=true`` with one lead, on loopback,
200 reps, the store on SQLite and on PostgreSQL, first with nothing else running (the
baseline), then with batches running in the background the whole time.

A uvicorn server is started in this process on 127.0.0.1 for each store (as in
``bench_service_load.py``); the background batches run in a separate process, as
``leadroute worker`` would: each round queues ``--batch-leads`` leads and routes them with
the optimal strategy (so prices are refreshed and instant requests meet a batch planning,
committing and re-checking the room they took). Prints p50/p99 per phase, how many batches
overlapped the loaded phase, and p99 against the 100 ms target. The machine may be shared:
compare the loaded figures with the baseline of the same run.

    .venv/bin/python benchmarks/bench_instant_latency.py [--requests 300] [--reps 200]
        [--batch-leads 300] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from bench_service_load import REGIONS, TOKEN, _drop, _leads, _pg_schema_url, _reps, _Server

from solver.app.service import BatchSettings, Store, StoreSettings, ingest_leads, run_batch
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


def run_store(label: str, url: str, args: argparse.Namespace) -> list[dict[str, object]]:
    store = Store(StoreSettings(url=url, lock_timeout_s=60))
    app = create_app(store, _settings(), api_token=TOKEN, deliver_webhooks=False)
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, object]] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with _Server(app) as base, httpx.Client(base_url=base, headers=headers,
                                            timeout=60) as client:
        reps = _reps(args.reps, rng)
        for rep in reps:
            rep["capacity"] = 100_000  # latency, not scarcity, is measured here
        client.put("/reps", json={"reps": reps}).raise_for_status()
        _phase(client, "warm", 20, rng)
        times, assigned = _phase(client, "idle", args.requests, rng)
        rows.append(_row(label, "no load", times, assigned, 0))
        spawn = multiprocessing.get_context("spawn")
        stop, count = spawn.Event(), spawn.Value("i", 0)
        worker = spawn.Process(target=_background_batches,
                               args=(url, args.batch_leads, stop, count))
        worker.start()
        while count.value == 0:  # the worker's first batch is in: batches are now running
            time.sleep(0.05)
        before = count.value
        times, assigned = _phase(client, "busy", args.requests, rng)
        overlapped = count.value - before + 1
        stop.set()
        worker.join(timeout=120)
        rows.append(_row(label, "batches running", times, assigned, overlapped))
    store.dispose()
    return rows


def _row(label: str, phase: str, times: list[float], assigned: int, batches: int
         ) -> dict[str, object]:
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
          f"{os.getloadavg()[0]:.2f} (shared machine: compare with the no-load rows)")
    print(f"{'store':<11}{'phase':<17}{'requests':>9}{'batches':>8}{'p50':>8}{'p99':>8}"
          f"{'max':>8}{'p99/target':>12}{'p99/no load':>13}")
    idle = {row["store"]: row["p99"] for row in rows if row["phase"] == "no load"}
    for row in rows:
        print(f"{row['store']:<11}{row['phase']:<17}{row['requests']:>9}{row['batches']:>8}"
              f"{row['p50'] * 1000:>6.0f}ms{row['p99'] * 1000:>6.0f}ms"
              f"{row['max'] * 1000:>6.0f}ms{row['p99'] / TARGET_P99_S:>12.2f}"
              f"{row['p99'] / idle[row['store']]:>13.2f}")


if __name__ == "__main__":
    main()
