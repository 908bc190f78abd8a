"""End to end: ``leadroute route --scores`` against a plain scipy script on the same CSVs.

For each dense size (every rep eligible for every lead, effort 1, capacity
ceil(1.1 n / m)) the benchmark writes leads, reps and scores CSVs once, then times, as
fresh processes and interleaved,
  leadroute  the console script: ``leadroute route --leads --reps --scores --out --quiet``
             (imports, loading and validation, routing, reasons, writing the CSV);
  scipy      ``_scipy_route.py``: pandas reads the same CSVs, builds the score matrix,
             repeats each rep's column once per slot and solves it with
             ``scipy.optimize.linear_sum_assignment``, writes the assignments.
It prints median wall times, the ratio leadroute / scipy (issue 15 targets: <= 1.0 at
1,000 x 100, <= 0.2 at 5,000 x 200) and checks both found the same total score. ``cli
imp.`` is the time a fresh ``python -c "import solver.app.cli"`` takes (what the CLI pays
before reading a file) and ``ratio -imp`` the ratio without it.

``--sparse`` adds the core at 100,000 x 1,000 with 30% of pairs eligible (30M pairs; no
scipy baseline: its replicated matrix would take ~88 GB): ``RoutingProblem.from_pairs``
plus ``solve`` in a fresh process, with the peak resident memory of that phase
(targets: <= 10 s, <= 4 GiB) and the process CPU time of the phase (the solve is
single-threaded: on a loaded machine CPU time is what an idle core would take).
``--imports`` prints what ``leadroute route`` spends importing (``python -X importtime``),
largest first.

    .venv/bin/python benchmarks/bench_route_e2e.py                     # both dense sizes
    .venv/bin/python benchmarks/bench_route_e2e.py --sizes 1000x100 --repeat 5
    .venv/bin/python benchmarks/bench_route_e2e.py --sizes --sparse --imports
    .venv/bin/python benchmarks/bench_route_e2e.py --sizes --sparse --baseline  # + full flow

Timings on a shared machine are noisy: compare the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TARGETS = {"1000x100": 1.0, "5000x200": 0.2}  # leadroute time / scipy time
SPARSE_TARGET = (10.0, 4.0)  # seconds, GiB
GIB = 2**30


def write_instance(n: int, m: int, folder: Path, seed: int = 0) -> None:
    """Latent-factor scores (as in bench_core_speed), one row per (lead, rep)."""
    rng = np.random.default_rng(seed)
    lead_f = rng.normal(size=(n, 6)) / math.sqrt(6)
    rep_f = rng.normal(size=(m, 6))
    logits = lead_f @ rep_f.T + rng.normal(-1.0, 0.5, size=m) + rng.normal(0, 0.3, (n, m))
    score = rng.lognormal(0.0, 0.5, size=n)[:, None] / (1.0 + np.exp(-logits))
    lead_ids = np.array([f"L{i:06d}" for i in range(n)], dtype=object)
    rep_ids = np.array([f"R{j:04d}" for j in range(m)], dtype=object)
    pd.DataFrame({"lead_id": lead_ids}).to_csv(folder / "leads.csv", index=False)
    pd.DataFrame({"rep_id": rep_ids, "capacity": math.ceil(1.1 * n / m)}).to_csv(
        folder / "reps.csv", index=False)
    pd.DataFrame({"lead_id": np.repeat(lead_ids, m), "rep_id": np.tile(rep_ids, n),
                  "score": score.ravel().round(6)}).to_csv(folder / "scores.csv", index=False)


def _leadroute_command(folder: Path) -> list[str]:
    script = Path(sys.executable).with_name("leadroute")
    head = [str(script)] if script.exists() else [
        sys.executable, "-c", "from solver.app.cli import main; main()"]
    return head + ["route", "--leads", str(folder / "leads.csv"),
                   "--reps", str(folder / "reps.csv"), "--scores", str(folder / "scores.csv"),
                   "--out", str(folder / "leadroute.csv"), "--quiet"]


def _scipy_command(folder: Path) -> list[str]:
    return [sys.executable, str(HERE / "_scipy_route.py"), str(folder)]


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def _total_score(path: Path) -> tuple[int, float]:
    table = pd.read_csv(path, keep_default_na=False)
    routed = table[table["rep_id"].astype(str) != ""]
    return len(routed), float(pd.to_numeric(routed["score"]).sum())


def run_dense(label: str, repeat: int) -> str:
    n, m = (int(x) for x in label.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_instance(n, m, folder)
        ours, theirs, imports = [], [], []
        for _ in range(repeat):  # interleaved: all see the same machine load
            ours.append(_timed(_leadroute_command(folder)))
            theirs.append(_timed(_scipy_command(folder)))
            imports.append(_timed([sys.executable, "-c", "import solver.app.cli"]))
        mine, base = _total_score(folder / "leadroute.csv"), _total_score(folder / "scipy.csv")
    t_ours, t_base = statistics.median(ours), statistics.median(theirs)
    t_import = statistics.median(imports)
    ratio = t_ours / t_base
    target = TARGETS.get(label)
    verdict = "" if target is None else (
        f"target <= {target:g}: " + ("met" if ratio <= target else
                                     f"MISSED by {ratio / target:.1f}x"))
    same = "same" if mine[0] == base[0] and math.isclose(mine[1], base[1], rel_tol=1e-6) \
        else f"DIFFERENT ({mine} vs {base})"
    return (f"{label:<10} {n * m:>9} {t_ours:>10.2f} {t_base:>9.2f} {ratio:>7.2f} "
            f"{t_import:>9.2f} {(t_ours - t_import) / t_base:>10.2f}  {same:<5} {verdict}")


def _sparse_child(n: int, m: int, density: float, prune: bool = True
                  ) -> dict[str, float | str]:
    sys.path.insert(0, str(HERE))
    from bench_core_speed import Size, _PhasePeak, generate_pairs

    import solver._flow
    from solver import RoutingProblem, SolveOptions, solve

    if not prune:  # the baseline: one min-cost flow on every pair
        solver._flow.PRUNE_MIN_PAIRS = sys.maxsize

    solve(RoutingProblem.from_dense(np.ones((3, 2)), [2, 2]))  # load OR-Tools first
    size = Size(n, m, density)
    pl, pr, ps = generate_pairs(size, seed=0)
    capacity = np.full(m, float(size.slots))
    with _PhasePeak() as phase:
        cpu = time.process_time()
        started = time.perf_counter()
        problem = RoutingProblem.from_pairs(
            lead_ids=np.arange(n).astype(str), rep_ids=np.arange(m).astype(str),
            capacity=capacity, pair_lead=pl, pair_rep=pr, pair_score=ps)
        del pl, pr, ps
        built = time.perf_counter()
        result = solve(problem, options=SolveOptions())
        done = time.perf_counter()
        cpu = time.process_time() - cpu
    return {"pairs": problem.n_pairs, "build_s": built - started, "solve_s": done - built,
            "cpu_s": cpu,
            "peak": phase.peak, "assigned": result.n_assigned, "status": result.status.value,
            "objective": result.objective}


def run_sparse(prune: bool = True) -> str:
    n, m, density = 100_000, 1_000, 0.3
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); "
            f"from bench_route_e2e import _sparse_child; "
            f"print(json.dumps(_sparse_child({n}, {m}, {density}, {prune})))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if run.returncode != 0:
        return f"100000x1000@0.3 failed: {run.stderr.strip().splitlines()[-1:]}"
    row = json.loads(run.stdout.strip().splitlines()[-1])
    total, gib = row["build_s"] + row["solve_s"], row["peak"] / GIB
    seconds, limit = SPARSE_TARGET
    ok = total <= seconds and gib <= limit
    name = "pruned flow" if prune else "full flow (baseline)"
    return (f"100000x1000@0.3, {name}: {row['pairs']} pairs, build {row['build_s']:.2f} s + solve "
            f"{row['solve_s']:.2f} s = {total:.2f} s (CPU {row['cpu_s']:.2f} s), "
            f"peak {gib:.2f} GiB, "
            f"{row['assigned']}/{n} routed, {row['status']}, objective {row['objective']:.6f}; "
            f"target <= {seconds:g} s, "
            f"<= {limit:g} GiB: " + ("met" if ok else "MISSED"))


def import_profile(top: int = 12) -> list[str]:
    """Cumulative import time of the CLI module (what ``leadroute route`` loads first)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import solver.app.cli"], capture_output=True, text=True)
    rows = []
    for line in run.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    total = max((us for us, _ in rows), default=0)
    # only packages loaded directly by solver modules or the top level are interesting
    lines = [f"import solver.app.cli: {total / 1e6:.2f} s cumulative"]
    shown = sorted((r for r in rows if r[1].count("  ") <= 3), reverse=True)[:top]
    lines += [f"  {us / 1e6:6.2f} s {name.strip()}" for us, name in shown]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["1000x100", "5000x200"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--sparse", action="store_true", help="also 100,000 x 1,000 at 30%%")
    parser.add_argument("--baseline", action="store_true",
                        help="with --sparse: also one min-cost flow on all 30M pairs")
    parser.add_argument("--imports", action="store_true", help="also the import profile")
    args = parser.parse_args(argv)
    print(f"# bench_route_e2e: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} "
          "cores (a shared machine: read the ratios); fresh process per run, interleaved")
    if args.sizes:
        print(f"{'size':<10} {'pairs':>9} {'leadroute':>10} {'scipy':>9} {'ratio':>7} "
              f"{'cli imp.':>9} {'ratio -imp':>10}  score target")
        for label in args.sizes:
            print(run_dense(label, args.repeat), flush=True)
    if args.sparse:
        print(run_sparse(), flush=True)
        if args.baseline:
            print(run_sparse(prune=False), flush=True)
    if args.imports:
        print("\n".join(import_profile()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
