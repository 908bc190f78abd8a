"""OR-Library benchmark: the router's engines against published optima.

Runs gapa-gapd (Chu & Beasley GAP, minimisation, CP-SAT) and assignp800-5000 (sparse linear
assignment, minimisation, min-cost flow); optionally gap1-12 and assign100-800 too
(``--all``; those are also proven in ``tests/test_orlib.py``). For each instance it prints the
known optimum, the value found (in the file's own sense), the relative gap to the optimum,
the engine's status and proven gap, and the wall time. CP-SAT gets ``--time-limit`` seconds
per instance and may stop without proving optimality on the hard type-D instances: the
table says so rather than hiding it.

    .venv/bin/python benchmarks/bench_orlib.py [--time-limit 60] [--all] [--only gapd]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator

import orlib_instances as orlib

from solver import SolveOptions, solve


def _instances(files: list[str]) -> Iterator[orlib.Instance]:
    for file in files:
        if file.startswith("gap"):
            yield from orlib.gap_instances(file)
        else:
            yield orlib.assign_instance(file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="seconds per instance for CP-SAT (default 60)")
    parser.add_argument("--all", action="store_true",
                        help="also gap1-12 and assign100-800 (the test's instances)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="file names to run, e.g. gapa assignp800")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        folder = orlib.data_dir()
    except orlib.DataMissing as exc:
        print(f"skipped: {exc}")
        return 0
    files = list(orlib.GAP_LARGE) + list(orlib.ASSIGN_SPARSE)
    if args.all:
        files = list(orlib.GAP_SMALL) + files[:4] + list(orlib.ASSIGN_DENSE) + files[4:]
    if args.only:
        files = args.only
    present = [
        f for f in files
        if (folder / ("gap" if f.startswith("gap") else "assign") / f"{f}.txt").is_file()
    ]
    for missing in sorted(set(files) - set(present)):
        print(f"# {missing}: file not present, skipped")

    print(f"# data {folder}; time limit {args.time_limit:g} s per instance; seed {args.seed}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    header = (f"{'instance':<22} {'sense':>5} {'optimum':>8} {'found':>8} {'gap':>7} "
              f"{'status':>9} {'proven gap':>10} {'engine':>13} {'time s':>7}")
    print(header)
    print("-" * len(header))
    hits = total = 0
    options = SolveOptions(time_limit_s=args.time_limit, seed=args.seed)
    for inst in _instances(present):
        started = time.perf_counter()
        result = solve(inst.problem, options=options)
        elapsed = time.perf_counter() - started
        complete = result.n_assigned == inst.problem.n_leads
        found = inst.value_of(result.objective) if complete else float("nan")
        gap = abs(found - inst.optimum) / inst.optimum
        star = "" if inst.proven else "*"
        hits += int(complete and round(found) == inst.optimum)
        total += 1
        found_text = f"{found:8.0f}" if complete else f"{'incompl.':>8}"
        print(f"{inst.name:<22} {inst.sense:>5} {inst.optimum:>7}{star:1} {found_text} "
              f"{gap:7.2%} {result.status.value:>9} {result.gap:10.2%} {result.engine:>13} "
              f"{elapsed:7.2f}", flush=True)
    print(f"# {hits}/{total} reached the known optimum; * = best-known value, not proven; "
          "'proven gap' is the engine's own bound gap in score units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
