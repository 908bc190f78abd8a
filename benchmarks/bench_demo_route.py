"""The demo's suggested next step, timed: ``leadroute route --model`` on the demo's batch
(400 leads × 40 reps, efforts 1-3, account groups), each run a fresh process, as a user
types it.

Two model files of the same fitted model, run interleaved in the same session:
  current      the file as ``leadroute fit`` / ``demo`` write it: the scoring part
               (``models.PairScorer``) stored apart, loaded without scikit-learn;
  first format the same model in the first file format (``leadroute-affinity-model/1``):
               scored through the pickled estimator, which imports scikit-learn (and
               scipy.stats) first: what every ``route --model`` paid before.
It prints the median wall times, their ratio, the route's own status line (objective,
bound, gap) and whether the issue's "about a second" holds (issue 15: the demo's
suggested command "finishes in about a second with its gap printed").

    .venv/bin/python benchmarks/bench_demo_route.py                 # builds the demo first
    .venv/bin/python benchmarks/bench_demo_route.py --demo-dir demo-output --repeat 7
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib

from models.persistence import FORMAT_1, load_model_file

BIN = Path(sys.executable).parent
ABOUT_A_SECOND = 1.5  # seconds: what "about a second" is held to here


def _route(demo: Path, model: Path, out: Path, quiet: bool = True) -> list[str]:
    command = [str(BIN / "leadroute"), "route", "--leads", str(demo / "leads.csv"),
               "--reps", str(demo / "batch_reps.csv"), "--model", str(model),
               "--out", str(out)]
    return [*command, "--quiet"] if quiet else command


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def _first_format_copy(model: Path, folder: Path) -> Path:
    estimator, metadata = load_model_file(model)
    copy = folder / "model-first-format.joblib"
    joblib.dump({"format": FORMAT_1, "metadata": metadata, "model": estimator}, copy,
                compress=3)
    return copy


def _demo_dir(given: Path | None, scratch: Path) -> Path:
    if given is not None and (given / "model.joblib").is_file():
        return given
    target = given or scratch / "demo"
    print(f"# building the demo in {target} (leadroute demo, ~20 s)", flush=True)
    subprocess.run([str(BIN / "leadroute"), "demo", "--out", str(target)], check=True,
                   capture_output=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=None,
                        help="an existing `leadroute demo --out` folder (else built)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per model file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        demo = _demo_dir(args.demo_dir, scratch)
        models = {"current": demo / "model.joblib",
                  "first format": _first_format_copy(demo / "model.joblib", scratch)}
        out = scratch / "routed.csv"
        print(f"# load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
              f"{args.repeat} fresh processes per file, interleaved", flush=True)
        times: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(args.repeat):
            for name, model in models.items():
                times[name].append(_timed(_route(demo, model, out)))
        line = subprocess.run(_route(demo, models["current"], out, quiet=False), check=True,
                              capture_output=True, text=True).stdout
    median = {name: statistics.median(runs) for name, runs in times.items()}
    for name, runs in times.items():
        print(f"{name:<13} median {median[name]:5.2f} s  (runs {min(runs):.2f}-{max(runs):.2f} s)")
    print(f"ratio current / first format: {median['current'] / median['first format']:.2f}")
    found = re.search(r"routed .*?(gap [0-9.]+%|bound unproven)", " ".join(line.split()))
    print("route's line: " + (found.group(0) if found else "(no status line printed)"))
    verdict = "met" if median["current"] <= ABOUT_A_SECOND else (
        f"missed by {median['current'] - ABOUT_A_SECOND:.2f} s")
    print(f"target: about a second (<= {ABOUT_A_SECOND:g} s wall): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
