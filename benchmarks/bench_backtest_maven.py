"""Backtest on the real CRM export (Maven): what would other strategies have converted?

    .venv/bin/python benchmarks/bench_backtest_maven.py [--batch M] [--strategies ...]

Reps' capacity in the export is a monthly deal count, so batches are calendar months.
The export has no propensity column: a logistic model of who got which deal stands in
for the logging policy, and every estimate rests on it (the report says so). Skips with a
message when the data folder is absent ($LEADROUTE_DATA or ../shared/data).
"""

from __future__ import annotations

import argparse
import time

from models.maven import find_maven_dir, load_maven_crm
from solver.app.backtest import BacktestConfig, run_backtest
from solver.app.report import conclusions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", default="M")
    parser.add_argument("--strategies", default="round_robin,load_balancing,greedy,optimal")
    parser.add_argument("--n-bootstrap", type=int, default=300)
    args = parser.parse_args()
    source = find_maven_dir()
    if source is None:
        print("SKIPPED: maven-crm data not found (set LEADROUTE_DATA or place the shared "
              "data at ../shared/data next to the repository)")
        return
    tables = load_maven_crm(source)
    started = time.perf_counter()
    config = BacktestConfig(strategies=tuple(args.strategies.split(",")), batch=args.batch,
                            n_bootstrap=args.n_bootstrap)
    result = run_backtest(tables.history, tables.reps, config)
    print(f"# Maven CRM export: {len(tables.history)} closed deals, {len(tables.reps)} reps, "
          f"batches of one {args.batch!r} period, {time.perf_counter() - started:.1f} s")
    print(result.estimates.round(4).to_string(index=False))
    print()
    print(result.lift.round(4).to_string(index=False))
    print()
    print(result.fairness.round(3).to_string(index=False))
    for line in conclusions(result.lift):
        print(line)
    for note in result.notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
