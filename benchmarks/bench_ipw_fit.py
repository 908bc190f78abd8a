"""What inverse-propensity weights do to ``leadroute fit`` on the synthetic world.

The world's history is logged by a region-first policy (``WorldConfig.explore`` = 20 % of
leads to any active rep, the rest to a rep of the lead's region), so pairs across regions
are rare and have small propensities. For each seed: fit the default ``AffinityModel``
unweighted and with ``Weighting()`` (1/propensity clipped at ``--clip``, normalised), both
on the same history, then on fresh leads

* pair log loss against the TRUE probabilities over every (lead, rep) pair, uniformly: the
  distribution routing scores on (IPW targets it);
* the same on the logged policy's pairs (each pair weighted by its logging propensity):
  what the unweighted fit targets;
* routed conversions: a max-score assignment with capacity 1.25 x fair share, valued
  under the true probabilities, as a share of the oracle's over round robin (capture).

Run: .venv/bin/python benchmarks/bench_ipw_fit.py [--seeds 0 1 2] [--history 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import numpy.typing as npt
from bench_affinity_capture import round_robin, route

from models import AffinityModel
from models.propensity_weights import DEFAULT_CLIP, Weighting
from models.synthetic import SyntheticWorld, WorldConfig

FloatArray = npt.NDArray[np.float64]


def pair_log_loss(p_true: FloatArray, p_model: FloatArray, weight: FloatArray) -> float:
    """Cross-entropy of the model against the true probability, pairs weighted."""
    q = np.clip(p_model, 1e-6, 1 - 1e-6)
    loss = -(p_true * np.log(q) + (1 - p_true) * np.log(1 - q))
    return float((loss * weight).sum() / weight.sum())


def one_seed(seed: int, args: argparse.Namespace) -> dict[str, tuple[float, float, float, float]]:
    world = SyntheticWorld(WorldConfig(n_history=args.history, seed=seed))
    history, reps = world.history(), world.reps
    active = reps[reps["active"].astype(bool)].reset_index(drop=True)
    leads = world.leads(args.leads, seed=10_000 + seed)
    truth = world.true_probability(leads, active)
    logging = world.logging_propensity(leads, active)
    capacity = np.full(len(active), int(np.ceil(1.25 * args.leads / len(active))))
    rows = np.arange(args.leads)
    rr = truth[rows, round_robin(args.leads, capacity)].sum()
    oracle = truth[rows, route(truth, capacity)].sum()
    out = {}
    for label, weighting in (("unweighted", Weighting(mode="none")),
                             (f"IPW clip {args.clip:g}", Weighting(clip=args.clip))):
        started = time.perf_counter()
        weights = weighting.weights(history, source="history").weights
        model = AffinityModel().fit(history, reps, weights)
        seconds = time.perf_counter() - started
        scores = model.score_matrix(leads, active)
        routed = truth[rows, route(scores, capacity)].sum()
        out[label] = (pair_log_loss(truth, scores, np.ones_like(truth)),
                      pair_log_loss(truth, scores, logging),
                      float((routed - rr) / (oracle - rr)), seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--clip", type=float, default=DEFAULT_CLIP)
    args = parser.parse_args()
    results = [one_seed(s, args) for s in args.seeds]
    print(f"synthetic world, {args.history} history rows, seeds {args.seeds}: mean ± SE")
    print(f"{'fit':<16} {'log loss, all pairs':>22} {'log loss, logged pairs':>24} "
          f"{'capture':>16} {'fit s':>7}")
    for label in results[0]:
        cols = np.array([r[label] for r in results])
        mean, se = cols.mean(axis=0), cols.std(axis=0, ddof=1) / np.sqrt(len(cols))
        print(f"{label:<16} {mean[0]:>13.4f} ± {se[0]:.4f} {mean[1]:>15.4f} ± {se[1]:.4f} "
              f"{mean[2]:>9.3f} ± {se[2]:.3f} {mean[3]:>7.1f}")
    # per seed and metric: IPW's figure minus the unweighted one
    diffs = np.array([[w - u for u, w in zip(*r.values(), strict=True)] for r in results])
    print("IPW - unweighted, paired per seed: "
          f"all-pairs log loss {diffs[:, 0].mean():+.4f} ± {_se(diffs[:, 0]):.4f}, "
          f"capture {diffs[:, 2].mean():+.3f} ± {_se(diffs[:, 2]):.3f}")


def _se(values: FloatArray) -> float:
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


if __name__ == "__main__":
    main()
