"""End-to-end value of the affinity model on the synthetic world.

For several seeds and effect sizes: fit the model on the logged history, then route fresh
batches three ways - round robin, by model scores, by the true probabilities (oracle) -
and compare expected conversions under the TRUE probabilities. The capture share is
(model - round robin) / (oracle - round robin). Routing is a self-contained
capacity-respecting assignment (scipy linear_sum_assignment over capacity slots).

Run: .venv/bin/python benchmarks/bench_affinity_capture.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from models import AffinityModel
from models.synthetic import SyntheticWorld, WorldConfig

FloatArray = npt.NDArray[np.float64]


def route(scores: FloatArray, capacity: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """Max-score assignment of every lead, each rep taking at most ``capacity`` leads."""
    slots = np.repeat(np.arange(scores.shape[1]), capacity)
    leads, slot = linear_sum_assignment(scores[:, slots], maximize=True)
    out = np.empty(scores.shape[0], dtype=np.intp)
    out[leads] = slots[slot]
    return out


def round_robin(n_leads: int, capacity: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    order = np.concatenate([np.flatnonzero(capacity > k) for k in range(capacity.max())])
    return order[:n_leads]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--effects", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--leads", type=int, default=400)
    args = parser.parse_args()
    print(f"{args.batches} batches of {args.leads} leads per world, 40 reps (4 never seen "
          "in history), capacity 1.25 x fair share; expected conversions per batch")
    print(f"{'effect':>6s} {'seed':>4s} {'round robin':>11s} {'model':>8s} {'oracle':>8s} "
          f"{'capture':>8s}")
    summary: dict[float, list[float]] = {}
    for effect in args.effects:
        for seed in args.seeds:
            world = SyntheticWorld(WorldConfig(effect_size=effect, seed=seed))
            model = AffinityModel().fit(world.history(), world.reps)
            n_reps = len(world.reps)
            capacity = np.full(n_reps, int(np.ceil(1.25 * args.leads / n_reps)))
            totals = np.zeros(3)
            for batch in range(args.batches):
                leads = world.leads(args.leads, seed=1000 + batch)
                truth = world.true_probability(leads, world.reps)
                rows = np.arange(len(leads))
                picks = (round_robin(len(leads), capacity),
                         route(model.score_matrix(leads, world.reps), capacity),
                         route(truth, capacity))
                totals += [truth[rows, p].sum() for p in picks]
            rr, mod, orc = totals / args.batches
            gain = orc - rr
            share = (mod - rr) / gain if gain > 1e-9 else float("nan")
            if np.isfinite(share):
                summary.setdefault(effect, []).append(share)
            shown = f"{share:8.1%}" if np.isfinite(share) else "     n/a"
            print(f"{effect:6.2f} {seed:4d} {rr:11.1f} {mod:8.1f} {orc:8.1f} {shown}")
    print("\nmean capture share of the oracle's gain over round robin:")
    for effect in args.effects:
        shares = summary.get(effect, [])
        text = f"{np.mean(shares):.1%}" if shares else "n/a (no rep signal: nothing to capture)"
        print(f"  effect {effect:.2f}: {text}")


if __name__ == "__main__":
    main()
