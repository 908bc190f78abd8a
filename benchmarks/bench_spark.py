"""Spark vs serial: partitioned routing and backtest sweeps at 1x and 4x, wall time (cold
and warm), the speed-up serial/Spark and peak memory of the whole process tree (driver, JVM,
Python workers). Each case runs in its own process, so peaks do not mix.

    .venv/bin/python benchmarks/bench_spark.py            # full table (~15 min, 2 cores)
    .venv/bin/python benchmarks/bench_spark.py --quick    # 1x only
    .venv/bin/python benchmarks/bench_spark.py --workloads sweep

Routing: ``partitioned_batch`` with 16 partitions (8 regions x 2 teams) of ~1,250 leads
at 1x (20,000 leads); 4x keeps the partition size and has 64 partitions (80,000 leads).
Sweep: a synthetic history of 2,000 rows over 20 daily batches at 1x (8,000 rows, 80
batches at 4x), strategies round_robin/greedy/optimal, estimators ips/snips/dr, 200
bootstrap resamples, 3 cross-fitting blocks; timed: the whole ``run_sweep`` (6 model-fit
tasks, at most 16 replay tasks, 9 estimate tasks).

Cold = first run in a fresh process (for Spark: first query after the session started;
session start-up is reported apart); warm = the best of the next $BENCH_SPARK_REPEAT (2)
runs in that process (the machine may be shared: the best run is the least disturbed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPEAT = int(os.environ.get("BENCH_SPARK_REPEAT", "2"))  # warm = the best of these runs


class TreePeak:
    """Peak resident memory of this process and all its descendants (sampled /proc)."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, every_s: float) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, _tree_rss(os.getpid()))
            self._stop.wait(every_s)


def _tree_rss(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(c) for c in handle.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _routing_case(scale: int, engine: str) -> dict[str, Any]:
    from solver._partition import plan_job, route_partitions
    from solver.app.partition_world import partitioned_batch

    batch = partitioned_batch(20_000 * scale, regions=8 * scale, teams=2,
                              reps_per_partition=12, pairs_per_lead=6, seed=scale)
    key = ("region", "team")
    out: dict[str, Any] = {"rows": len(batch.leads), "tasks": 16 * scale}
    if engine == "serial":
        job = plan_job(batch.reps, key)
        run = lambda: route_partitions(batch.leads, job, batch.scores)  # noqa: E731
    else:
        from solver.app.spark import route_spark, spark_session

        started = time.perf_counter()
        spark = spark_session("local[2]")
        spark.sparkContext.setLogLevel("ERROR")
        out["startup_s"] = time.perf_counter() - started
        leads = spark.createDataFrame(batch.leads).cache()
        scores = spark.createDataFrame(batch.scores).cache()
        leads.count(), scores.count()  # inputs in memory, as read from Parquet on a cluster

        def run() -> Any:
            return route_spark(leads, batch.reps, partition_by=key, scores=scores).toPandas()
    times = []
    for _ in range(1 + REPEAT):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    out["cold_s"], out["warm_s"] = times[0], min(times[1:])
    out["assigned"] = int((result["status"] == "assigned").sum())
    return out


def _sweep_case(scale: int, engine: str) -> dict[str, Any]:
    from models.synthetic import SyntheticWorld, WorldConfig
    from solver.app.backtest import BacktestConfig
    from solver.app.sweep import run_sweep, serial_runner, spark_runner

    world = SyntheticWorld(WorldConfig(seed=scale, n_history=2_000 * scale, n_reps=10,
                                       n_new_reps=0, history_days=20 * scale))
    history, reps = world.history(), world.reps.assign(capacity=25.0)
    config = BacktestConfig(strategies=("round_robin", "greedy", "optimal"),
                            estimators=("ips", "snips", "dr"), n_folds=3, n_bootstrap=200)
    out: dict[str, Any] = {"rows": len(history)}
    runner = serial_runner
    if engine == "spark":
        from solver.app.spark import spark_session

        started = time.perf_counter()
        spark = spark_session("local[2]")
        spark.sparkContext.setLogLevel("ERROR")
        out["startup_s"] = time.perf_counter() - started
        runner = spark_runner(spark)
    times = []
    for _ in range(1 + REPEAT):
        started = time.perf_counter()
        result = run_sweep(history, reps, config, runner=runner, max_tasks=16)
        times.append(time.perf_counter() - started)
    out["cold_s"], out["warm_s"] = times[0], min(times[1:])
    out["tasks"] = 6 + result.n_replay_tasks + result.n_estimate_tasks
    out["dr_lift_optimal"] = float(result.lift.query(
        "strategy == 'optimal' and estimator == 'dr'")["lift"].iloc[0])
    return out


def _one(workload: str, scale: int, engine: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    with TreePeak() as peak:
        case = _routing_case if workload == "routing" else _sweep_case
        out = case(scale, engine)
    out["peak_mb"] = peak.peak_bytes / 2**20
    print("RESULT " + json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1x only")
    parser.add_argument("--workloads", default="routing,sweep")
    parser.add_argument("--one", nargs=3, metavar=("WORKLOAD", "SCALE", "ENGINE"))
    args = parser.parse_args()
    if args.one:
        _one(args.one[0], int(args.one[1]), args.one[2])
        return
    rows = []
    for workload in args.workloads.split(","):
        for scale in (1,) if args.quick else (1, 4):
            got = {}
            for engine in ("serial", "spark"):
                done = subprocess.run(
                    [sys.executable, __file__, "--one", workload, str(scale), engine],
                    env={**os.environ, "BENCH_SPARK_REPEAT": str(REPEAT)},
                    capture_output=True, text=True, cwd=ROOT, check=False)
                line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
                if not line:
                    print(done.stderr[-2000:], file=sys.stderr)
                    raise SystemExit(f"{workload} {scale}x {engine} failed")
                got[engine] = json.loads(line[0][len("RESULT "):])
            rows.append((workload, scale, got))
            _print(rows[-1:], header=len(rows) == 1)
    _print(rows, header=True)


def _print(rows: list[tuple[str, int, dict[str, Any]]], header: bool) -> None:
    if header:
        print("| workload | size | rows | engine | start-up s | cold s | warm s | "
              "speed-up (serial warm / spark warm) | peak MB |")
        print("|---|---|---|---|---|---|---|---|---|")
    for workload, scale, got in rows:
        ratio = got["serial"]["warm_s"] / got["spark"]["warm_s"]
        for engine in ("serial", "spark"):
            r = got[engine]
            start = f"{r['startup_s']:.1f}" if "startup_s" in r else "-"
            print(f"| {workload} | {scale}x | {r['rows']} | {engine} | {start} | "
                  f"{r['cold_s']:.1f} | {r['warm_s']:.1f} | "
                  f"{ratio:.2f} | {r['peak_mb']:.0f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
