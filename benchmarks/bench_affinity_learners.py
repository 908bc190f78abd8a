"""Which learner for the affinity model? Out-of-time log loss on the synthetic world.

Run: .venv/bin/python benchmarks/bench_affinity_learners.py [--seeds 0 1 2]
Fits each candidate on the first 80 % of the history (by assigned_at), scores the last
20 %, and prints log loss, Brier and AUC, with the true probabilities as the floor.

The HistGradientBoosting learner (``learner="hgb"``) that used to be a candidate here was
retired (issue 16): not competitive on the audit's synthetic worlds (capture 0.67 / 0.28
vs 0.905 / 0.62 for the logistic model with blocks chosen from the data, ~150 s per fit).
The previous table with it is in the docstring of :mod:`models.affinity`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from models import AffinityModel
from models.synthetic import SyntheticWorld, WorldConfig
from models.validation import split_history

CANDIDATES: tuple[tuple[str, AffinityModel], ...] = (
    ("lead-only baseline", AffinityModel(rep_features=False)),
    ("logistic, main effects only", AffinityModel(blocks="none")),
    ("logistic, every block, C=0.1 (previous default)", AffinityModel(C=0.1, blocks="all")),
    ("logistic, blocks chosen, C by CV (default)", AffinityModel()),
    ("logistic + interactions, isotonic", AffinityModel(calibration="isotonic")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for seed in args.seeds:
        world = SyntheticWorld(WorldConfig(seed=seed))
        train, test, _ = split_history(world.history(), 0.2, seed)
        y = test["converted"].to_numpy()
        cols = world.reps.set_index("rep_id").index.get_indexer(test["rep_id"])
        truth = world.true_probability(test, world.reps)[np.arange(len(test)), cols]
        rows.setdefault("true probabilities (floor)", []).append(
            (log_loss(y, truth), brier_score_loss(y, truth), roc_auc_score(y, truth), 0.0)
        )
        for name, candidate in CANDIDATES:
            start = time.perf_counter()
            model = candidate.fit(train, world.reps)
            seconds = time.perf_counter() - start
            p = model.predict_proba(test)[:, 1]
            rows.setdefault(name, []).append(
                (log_loss(y, p), brier_score_loss(y, p), roc_auc_score(y, p), seconds)
            )
    print(f"synthetic world, WorldConfig() defaults, seeds {args.seeds}; "
          "out of time: last 20 % of assigned_at held out; mean over seeds")
    print(f"{'learner':38s} {'log loss':>9s} {'Brier':>7s} {'AUC':>6s} {'fit s':>6s}")
    for name, values in rows.items():
        m = np.mean(np.asarray(values), axis=0)
        print(f"{name:38s} {m[0]:9.4f} {m[1]:7.4f} {m[2]:6.3f} {m[3]:6.1f}")


if __name__ == "__main__":
    main()
