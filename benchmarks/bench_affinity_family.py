"""Capture over the family of synthetic worlds (models.synthetic_family): default model,
previous default and a model told the true structure (the ceiling), per world and history size.

For each world, history size and seed: fit the three models on the logged history (round
robin, or uneven logging), route fresh batches by each model's scores with per-rep
capacity 1.25 x fair share, and value every assignment under the TRUE probabilities.
Capture = (model - round robin) / (oracle - round robin); the table shows its mean over
seeds, ± its standard error, and the default's share of the ceiling's capture. A world
without rep-specific signal has nothing to capture: there the table shows expected
conversions per batch above round robin (0 means no harm) and how many blocks were kept.

Run: .venv/bin/python benchmarks/bench_affinity_family.py [--seeds 0 1 2 3 4]
     [--sizes 4000 20000] [--worlds "hidden skill" ...] [--models default ...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
from bench_affinity_capture import round_robin, route

from models import AffinityModel
from models.synthetic_family import FAMILY, FamilyWorld, family_config


@dataclass
class Cell:
    """Per-seed results of one world × size."""

    capture: dict[str, list[float]] = field(default_factory=dict)
    above_rr: dict[str, list[float]] = field(default_factory=dict)
    kept: list[int] = field(default_factory=list)
    fit_s: dict[str, float] = field(default_factory=dict)


def models_for(true_blocks: tuple[str, ...], labels: list[str]) -> dict[str, AffinityModel]:
    every = {"default": AffinityModel(),
             "previous": AffinityModel(C=0.1, blocks="all"),
             "ceiling": AffinityModel(blocks=true_blocks or "none")}
    return {label: every[label] for label in labels}


def one_world(name: str, size: int, seed: int, cell: Cell, args: argparse.Namespace) -> None:
    world = FamilyWorld(family_config(name, n_history=size, seed=seed))
    history = world.history()
    n_reps = len(world.reps)
    capacity = np.full(n_reps, int(np.ceil(1.25 * args.leads / n_reps)))
    batches = [world.leads(args.leads, seed=1000 + b) for b in range(args.batches)]
    truths = [world.true_probability(b, world.reps) for b in batches]
    rows = np.arange(args.leads)
    rr = sum(t[rows, round_robin(args.leads, capacity)].sum() for t in truths)
    oracle = sum(t[rows, route(t, capacity)].sum() for t in truths)
    for label, model in models_for(world.config.true_blocks, args.models).items():
        started = time.perf_counter()
        model.fit(history, world.reps)
        cell.fit_s[label] = cell.fit_s.get(label, 0.0) + time.perf_counter() - started
        if label == "default":
            cell.kept.append(len(model.blocks_))
        got = sum(t[rows, route(model.score_matrix(b, world.reps), capacity)].sum()
                  for b, t in zip(batches, truths, strict=True))
        cell.above_rr.setdefault(label, []).append((got - rr) / args.batches)
        if oracle - rr > 1e-6:
            cell.capture.setdefault(label, []).append((got - rr) / (oracle - rr))


def _mean_se(values: list[float]) -> str:
    if not values:
        return "n/a"
    se = np.std(values, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.3f}±{se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 20000])
    parser.add_argument("--worlds", nargs="+", default=[c.name for c in FAMILY])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--models", nargs="+", choices=["default", "previous", "ceiling"],
                        default=["default", "previous", "ceiling"],
                        help="models to fit (previous and ceiling do not depend on the block "
                             "rule: re-measure only the default after changing it)")
    args = parser.parse_args()
    labels = list(args.models)
    print(f"family capture benchmark: {len(args.seeds)} seeds, {args.batches} batches of "
          f"{args.leads} leads, 40 reps, capacity 1.25 x fair share (shared 2-core machine: "
          "fit seconds are indicative only)")
    header = f"{'world':22s} {'signal':8s} {'rows':>6s} " + " ".join(
        f"{label:>12s}" for label in labels) + f" {'def/ceil':>8s} {'blocks':>6s}"
    print(header)
    fit_totals: dict[str, float] = {}
    for name in args.worlds:
        signal = family_config(name).signal
        for size in args.sizes:
            cell = Cell()
            for seed in args.seeds:
                one_world(name, size, seed, cell, args)
            for label, seconds in cell.fit_s.items():
                fit_totals[label] = fit_totals.get(label, 0.0) + seconds
            source = cell.capture if cell.capture else cell.above_rr
            shown = " ".join(f"{_mean_se(source.get(label, [])):>12s}" for label in labels)
            ratio = (np.mean(source["default"]) / np.mean(source["ceiling"])
                     if cell.capture and "ceiling" in source and "default" in source
                     and np.mean(source["ceiling"]) > 0 else float("nan"))
            unit = "" if cell.capture else "  (conversions/batch above round robin)"
            print(f"{name:22s} {signal:8s} {size:6d} {shown} {ratio:8.2f} "
                  f"{np.mean(cell.kept) if cell.kept else float('nan'):6.1f}{unit}", flush=True)
    print("fit seconds, total: " + ", ".join(f"{k} {v:.0f}" for k, v in fit_totals.items()))


if __name__ == "__main__":
    main()
