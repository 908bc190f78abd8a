"""Load run of the HTTP service on loopback: ingest + route micro-batches of 100 leads
against 200 reps, with the store on SQLite and on PostgreSQL, in the same run.

A real uvicorn server is started in this process on 127.0.0.1 (a free port) for each store;
a client posts ``--batches`` rounds of (``POST /leads`` with 100 leads, ``POST /route``),
bounded by ``--max-seconds`` per store. Prints throughput (leads routed per second of wall
time) and p50/p99 latency of ``/route`` and ``/leads``, and the ratio of p99 to the 250 ms
target. PostgreSQL is skipped, with the reason, when no server answers.

    .venv/bin/python benchmarks/bench_service_load.py [--batches 60] [--reps 200] [--leads 100]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--fairness 0.2]

Policy: territory (region equals) + skills (industry in the rep's list) rules, a 60-minute
SLA; with ``--fairness B`` also a ±B fairness band (cumulative over the day).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from sqlalchemy import create_engine, text

from solver.app.service import BatchSettings, Store, StoreSettings
from solver.app.service._api import create_app
from solver.policy import parse_policy

REGIONS = ("north", "south", "east", "west")
INDUSTRIES = ("software", "retail", "health", "finance", "energy")
TOKEN = "bench-token"
TARGET_P99_S = 0.250


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    def __init__(self, app: Any) -> None:  # an ASGI app (FastAPI, or the body-limit wrapper)
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _reps(m: int, rng: np.random.Generator) -> list[dict[str, object]]:
    return [{"rep_id": f"R{j:03d}", "capacity": 1000, "attributes": {
        "region": str(rng.choice(REGIONS)),
        "industries": ";".join(rng.choice(INDUSTRIES, 3, replace=False))}} for j in range(m)]


def _leads(round_no: int, n: int, rng: np.random.Generator) -> list[dict[str, object]]:
    return [{"lead_id": f"B{round_no:04d}-{i:03d}", "value": float(rng.integers(1, 50)) * 100,
             "attributes": {"region": str(rng.choice(REGIONS)),
                            "industry": str(rng.choice(INDUSTRIES))}} for i in range(n)]


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else float("nan")


@dataclass(frozen=True)
class StoreRun:
    """One store's figures (seconds; NaN where nothing was timed)."""

    store: str
    batches: int
    routed: int
    assigned: int
    leads_per_s: float
    route_p50: float
    route_p99: float
    ingest_p50: float
    ingest_p99: float
    route_mean: float


def run_store(label: str, url: str, args: argparse.Namespace) -> StoreRun:
    rules = [{"kind": "equals", "lead": "region", "rep": "region"},
             {"kind": "contains", "lead": "industry", "rep": "industries"}]
    raw: dict[str, object] = {"rules": rules, "sla": {"work_within_minutes": 60}}
    if args.fairness is not None:
        raw["fairness"] = {"band": args.fairness}
    settings = BatchSettings(policy=parse_policy(raw), time_limit_s=5.0)
    store = Store(StoreSettings(url=url))
    app = create_app(store, settings, api_token=TOKEN)
    rng = np.random.default_rng(args.seed)
    route_s: list[float] = []
    ingest_s: list[float] = []
    routed = assigned = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with _Server(app) as base, httpx.Client(base_url=base, headers=headers,
                                            timeout=60) as client:
        client.put("/reps", json={"reps": _reps(args.reps, rng)}).raise_for_status()
        client.post("/route").raise_for_status()  # warm-up: imports, first solve
        started = time.perf_counter()
        for round_no in range(args.batches):
            if time.perf_counter() - started > args.max_seconds:
                break
            t0 = time.perf_counter()
            client.post("/leads", json={"leads": _leads(round_no, args.leads, rng)}
                        ).raise_for_status()
            t1 = time.perf_counter()
            report = client.post("/route").raise_for_status().json()
            t2 = time.perf_counter()
            ingest_s.append(t1 - t0)
            route_s.append(t2 - t1)
            routed += int(report["routed"])
            assigned += int(report["assigned"])
        wall = time.perf_counter() - started
    store.dispose()
    return StoreRun(store=label, batches=len(route_s), routed=routed, assigned=assigned,
                    leads_per_s=routed / wall if wall else float("nan"),
                    route_p50=_quantile(route_s, 0.5), route_p99=_quantile(route_s, 0.99),
                    ingest_p50=_quantile(ingest_s, 0.5), ingest_p99=_quantile(ingest_s, 0.99),
                    route_mean=statistics.fmean(route_s) if route_s else float("nan"))


def _pg_schema_url(base: str) -> tuple[str, str] | str:
    try:
        engine = create_engine(base, connect_args={"connect_timeout": 3})
        schema = f"lr_bench_{uuid.uuid4().hex[:8]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL skipped: {str(exc).splitlines()[0]}"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", schema


def _drop(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--leads", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fairness", type=float, default=None)
    parser.add_argument("--pg-url", default=os.environ.get(
        "LEADROUTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(run_store("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", args))
    found = _pg_schema_url(args.pg_url)
    if isinstance(found, str):
        print(found)
    else:
        url, schema = found
        try:
            rows.append(run_store("postgresql", url, args))
        finally:
            _drop(args.pg_url, schema)
    print(f"\n{args.leads} leads per batch, {args.reps} reps, fairness band "
          f"{args.fairness if args.fairness is not None else 'off'}; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'store':<11}{'batches':>8}{'assigned':>10}{'leads/s':>9}{'route p50':>11}"
          f"{'route p99':>11}{'ingest p50':>12}{'ingest p99':>12}{'p99/target':>12}")
    for row in rows:
        print(f"{row.store:<11}{row.batches:>8}{row.assigned:>10}"
              f"{row.leads_per_s:>9.0f}{row.route_p50 * 1000:>9.0f}ms"
              f"{row.route_p99 * 1000:>9.0f}ms{row.ingest_p50 * 1000:>10.0f}ms"
              f"{row.ingest_p99 * 1000:>10.0f}ms"
              f"{row.route_p99 / TARGET_P99_S:>12.2f}")


if __name__ == "__main__":
    main()
