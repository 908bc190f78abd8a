"""Run the quick benchmarks one after the other (``make bench``); each prints its own table.

The long runs (100,000 × 1,000 sparse, scipy at 10,000 × 200, gapb-gapd with 60 s per
instance) are left to the individual scripts: see benchmarks/README.md.

    .venv/bin/python benchmarks/run_all.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK: list[list[str]] = [
    ["bench_core_speed.py", "--sizes", "100x20", "1000x100", "10000x200", "--lsa-max-gb", "0.5"],
    ["bench_orlib.py", "--only", "gapa", "assignp800", "assignp1500", "assignp3000",
     "assignp5000", "--time-limit", "10"],
    ["bench_strategies.py", "--sizes", "500x100"],
    ["bench_demo_route.py"],
]


def main() -> int:
    failed = []
    for command in QUICK:
        script = HERE / command[0]
        if not script.is_file():
            print(f"## {command[0]}: not present, skipped\n")
            continue
        print(f"## {' '.join(command)}", flush=True)
        started = time.perf_counter()
        run = subprocess.run([sys.executable, str(script), *command[1:]], cwd=HERE.parent)
        print(f"## {command[0]}: exit {run.returncode} after "
              f"{time.perf_counter() - started:.1f} s\n", flush=True)
        if run.returncode != 0:
            failed.append(command[0])
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
