"""Speed and memory of the routing core on random structured instances.

For each size (leads × reps, dense or with a fraction of eligible pairs) one fresh
subprocess generates the instance, then measures
  build   ``RoutingProblem.from_dense`` / ``from_pairs`` from the generated arrays,
  solve   ``solver.solve`` (engine choice, min-cost flow, reasons for every lead),
  peak    the process's peak RSS (ru_maxrss) after the solve, and the part of it taken by
          the generated data alone (measured before building),
and, in the same run and on the same instance, two baselines:
  greedy  ``solver.greedy_best_fit``, with its optimality gap (score lost vs the optimum),
  lsa     ``scipy.optimize.linear_sum_assignment`` on the capacity-replicated n × Σslots
          matrix, skipped (and said why) when that matrix would exceed ``--lsa-max-gb``.
Ratios are baseline time / core end-to-end time. Small sizes report the median of
``--repeat`` runs after a warm-up; the big ones run once.

    .venv/bin/python benchmarks/bench_core_speed.py                 # all four sizes
    .venv/bin/python benchmarks/bench_core_speed.py --sizes 100x20 1000x100
    .venv/bin/python benchmarks/bench_core_speed.py --sizes 100000x1000@0.3

Instances: latent-factor conversion probabilities, score = value × sigmoid(u·v + b + noise);
rep capacity = ceil(1.1 n / m) leads, effort 1 (the transportation shape of SOLVER-NOTES.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_SIZES = ("100x20", "1000x100", "10000x200", "100000x1000@0.3")
TARGETS = {  # size -> (seconds end to end, GiB peak) from issue 2
    "1000x100": (0.2, None),
    "100000x1000@0.3": (20.0, 4.0),
}
GIB = 2**30


@dataclass(frozen=True)
class Size:
    n: int
    m: int
    density: float

    @classmethod
    def parse(cls, text: str) -> Size:
        shape, _, density = text.partition("@")
        n, m = (int(x) for x in shape.lower().split("x"))
        return cls(n, m, float(density) if density else 1.0)

    @property
    def label(self) -> str:
        return f"{self.n}x{self.m}" + (f"@{self.density:g}" if self.density < 1 else "")

    @property
    def slots(self) -> int:
        return math.ceil(1.1 * self.n / self.m)


def _latent(size: Size, rng: np.random.Generator) -> tuple[npt.NDArray[np.float64], ...]:
    d = 6
    lead_f = rng.normal(size=(size.n, d)) / math.sqrt(d)
    rep_f = rng.normal(size=(size.m, d))
    rep_bias = rng.normal(-1.0, 0.5, size=size.m)
    value = rng.lognormal(0.0, 0.5, size=size.n)
    return lead_f, rep_f, rep_bias, value


def generate_dense(size: Size, seed: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    lead_f, rep_f, rep_bias, value = _latent(size, rng)
    logits = lead_f @ rep_f.T + rep_bias + rng.normal(0.0, 0.3, size=(size.n, size.m))
    return value[:, None] / (1.0 + np.exp(-logits))


def generate_pairs(size: Size, seed: int) -> tuple[npt.NDArray[Any], ...]:
    """Sparse instance in row chunks: never holds a dense n × m float matrix."""
    rng = np.random.default_rng(seed)
    lead_f, rep_f, rep_bias, value = _latent(size, rng)
    leads, reps, scores = [], [], []
    chunk = max(1, 2_000_000 // size.m)
    for start in range(0, size.n, chunk):
        stop = min(size.n, start + chunk)
        mask = rng.random((stop - start, size.m)) < size.density
        li, rj = np.nonzero(mask)
        li += start
        logit = np.einsum("kd,kd->k", lead_f[li], rep_f[rj]) + rep_bias[rj]
        logit += rng.normal(0.0, 0.3, size=len(li))
        leads.append(li.astype(np.int64))
        reps.append(rj.astype(np.int64))
        scores.append(value[li] / (1.0 + np.exp(-logit)))
    return np.concatenate(leads), np.concatenate(reps), np.concatenate(scores)


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


class _PhasePeak:
    """Peak resident memory during one phase (ru_maxrss only knows the lifetime peak)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as handle:
                self.peak = max(self.peak, int(handle.read().split()[1]) * page)
            self._stop.wait(0.01)

    def __enter__(self) -> _PhasePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _median_time(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def measure(size: Size, repeat: int, lsa_max_gb: float, seed: int) -> dict[str, Any]:
    """Everything for one size, in this (fresh) process."""
    from solver import RoutingProblem, SolveOptions, greedy_best_fit, solve

    # warm-up: load OR-Tools and numpy code paths outside the timings
    solve(RoutingProblem.from_dense(np.ones((3, 2)), [2, 2]))
    capacity = np.full(size.m, float(size.slots))
    row: dict[str, Any] = {"size": size.label, "n": size.n, "m": size.m}

    if size.density >= 1:
        score = generate_dense(size, seed)
        row["rss_data"] = _rss_bytes()

        def build() -> Any:
            return RoutingProblem.from_dense(score, capacity)
    else:
        generated = list(generate_pairs(size, seed))
        row["rss_data"] = _rss_bytes()

        def build() -> Any:
            pl, pr, ps = generated
            return RoutingProblem.from_pairs(
                lead_ids=np.arange(size.n).astype(str), rep_ids=np.arange(size.m).astype(str),
                capacity=capacity, pair_lead=pl, pair_rep=pr, pair_score=ps,
            )

    row["build_s"], problem = _median_time(build, repeat)
    # A routing job holds the problem, not the generator's arrays: free them before solving.
    if size.density < 1:
        generated.clear()
    gc.collect()
    options = SolveOptions(seed=seed)
    with _PhasePeak() as phase:
        row["solve_s"], result = _median_time(lambda: solve(problem, options=options), repeat)
    row["rss_solve_peak"] = phase.peak
    row["rss_peak"] = _rss_bytes()
    row["pairs"] = problem.n_pairs
    row["engine"] = result.engine
    row["status"] = result.status.value
    row["assigned"] = result.n_assigned
    row["objective"] = result.objective

    row["greedy_s"], greedy = _median_time(lambda: greedy_best_fit(problem), repeat)
    chosen = np.flatnonzero(greedy >= 0)
    keys = problem.pair_lead * problem.n_reps + problem.pair_rep
    pos = np.searchsorted(keys, chosen * problem.n_reps + greedy[chosen])
    row["greedy_objective"] = float(problem.pair_score[pos].sum())
    row["greedy_assigned"] = len(chosen)

    lsa_bytes = size.n * size.m * size.slots * 8
    row["lsa_gb"] = lsa_bytes / 1e9
    if size.density < 1:
        row["lsa_skip"] = "sparse instance (the replicated matrix would be dense)"
        if lsa_bytes > lsa_max_gb * 1e9:
            row["lsa_skip"] = f"replicated matrix {lsa_bytes / 1e9:.0f} GB > {lsa_max_gb:g} GB"
    elif lsa_bytes > lsa_max_gb * 1e9:
        row["lsa_skip"] = f"replicated matrix {lsa_bytes / 1e9:.1f} GB > {lsa_max_gb:g} GB"
    else:
        from scipy.optimize import linear_sum_assignment

        cost = -np.repeat(generate_dense(size, seed), size.slots, axis=1)

        def lsa() -> float:
            rows, cols = linear_sum_assignment(cost)
            return float(-cost[rows, cols].sum())

        row["lsa_s"], row["lsa_objective"] = _median_time(lsa, 1 if size.n >= 5000 else repeat)
    return row


def _run_child(size: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", size, "--repeat", str(args.repeat),
           "--lsa-max-gb", str(args.lsa_max_gb), "--seed", str(args.seed)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        return {"size": size, "error": run.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def _fmt_time(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.4f}" if seconds < 1 else f"{seconds:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=list(DEFAULT_SIZES),
                        help="NxM or NxM@density (default: the four sizes of issue 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per small size (median)")
    parser.add_argument("--lsa-max-gb", type=float, default=2.0,
                        help="skip scipy's replicated-matrix baseline above this size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        size = Size.parse(args.child)
        repeat = args.repeat if size.n * size.m <= 2_000_000 else 1
        print(json.dumps(measure(size, repeat, args.lsa_max_gb, args.seed)))
        return 0

    print(f"# bench_core_speed: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} "
          f"cores; one subprocess per size; seed {args.seed}")
    header = (f"{'size':<16} {'pairs':>10} {'build s':>8} {'solve s':>8} {'e2e s':>8} "
              f"{'peak MB':>8} {'solve MB':>8} {'data MB':>8} {'greedy s':>8} {'gr gap':>7} "
              f"{'e2e/gr':>7} "
              f"{'lsa s':>8} {'lsa/e2e':>8}  target")
    print(header)
    print("-" * len(header))
    notes = []
    for text in args.sizes:
        row = _run_child(text, args)
        if "error" in row:
            print(f"{text:<16} failed: {row['error']}")
            continue
        e2e = row["build_s"] + row["solve_s"]
        gap = (row["objective"] - row["greedy_objective"]) / abs(row["objective"])
        lsa_s = row.get("lsa_s")
        if lsa_s is not None and not math.isclose(row["lsa_objective"], row["objective"],
                                                  rel_tol=1e-6):
            notes.append(f"{row['size']}: scipy objective {row['lsa_objective']:.6f} != "
                         f"core {row['objective']:.6f}")
        target = TARGETS.get(row["size"])
        verdict = ""
        if target:
            seconds, gib = target
            # memory target judged on the solve phase: problem + engine, after the
            # generator's arrays are freed (the lifetime peak is printed too)
            ok = e2e < seconds and (gib is None or row["rss_solve_peak"] < gib * GIB)
            verdict = ("met" if ok else "MISSED") + f" (< {seconds:g} s" + (
                f", < {gib:g} GiB)" if gib else ")")
        print(f"{row['size']:<16} {row['pairs']:>10} {_fmt_time(row['build_s']):>8} "
              f"{_fmt_time(row['solve_s']):>8} {_fmt_time(e2e):>8} "
              f"{row['rss_peak'] / 2**20:>8.0f} {row['rss_solve_peak'] / 2**20:>8.0f} "
              f"{row['rss_data'] / 2**20:>8.0f} "
              f"{_fmt_time(row['greedy_s']):>8} {gap:>7.2%} {e2e / row['greedy_s']:>7.1f} "
              f"{_fmt_time(lsa_s):>8} "
              f"{(lsa_s / e2e if lsa_s is not None else float('nan')):>8.1f}  {verdict}",
              flush=True)
        if "lsa_skip" in row:
            notes.append(f"{row['size']}: scipy linear_sum_assignment skipped: {row['lsa_skip']}")
        if row["assigned"] != row["n"] or row["status"] != "optimal":
            notes.append(f"{row['size']}: {row['assigned']}/{row['n']} assigned, "
                         f"status {row['status']}")
        if row["greedy_assigned"] != row["assigned"]:
            notes.append(f"{row['size']}: greedy assigned {row['greedy_assigned']}")
    print("# e2e = build + solve (engine choice, min-cost flow, per-lead reasons); peak = process "
          "peak RSS incl. data; data = RSS after generating the instance")
    print("# gr gap = score the greedy baseline loses vs the optimum; e2e/gr and lsa/e2e are "
          "time ratios measured in this run")
    for note in notes:
        print(f"# {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
