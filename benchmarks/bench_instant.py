"""Instant routing vs batches vs greedy vs round robin on a day's stream of leads.

A synthetic world's leads arrive over one day against 40 reps whose daily capacity
binds (total capacity ≈ the day's effort / ``--tightness``). Every strategy sees the
leads in arrival order and only what has arrived:
- round robin and greedy best fit, lead by lead;
- one-minute batches: the optimiser on each minute's leads with the capacity left;
- instant (bid prices): each lead at once to argmax fit − capacity price, prices
  refreshed every ``--reprice-every`` leads from a forecast batch of recent arrivals;
- the offline optimum of the whole day (hindsight: not achievable, the ceiling).
Each is scored by expected conversions under the world's TRUE probabilities, with
scores from the oracle (the true probabilities) and from a fitted affinity model.
Prints the share of the batch optimiser's gain over round robin that instant keeps
(target ≥ 0.90) and each strategy's wall time. Run: `.venv/bin/python
benchmarks/bench_instant.py [--leads 600] [--seeds 3]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from models import AffinityModel
from models.synthetic import SyntheticWorld, WorldConfig
from solver._build import problem_from_matrix
from solver._solve import SolveOptions
from solver.contract_tables import load_leads, load_reps
from solver.policy import Policy, PolicyOutcome, route_with_policy
from solver.policy._instant import StreamSettings, arrival_order, route_stream
from solver.strategies import GreedyBestFit, Optimal, RoundRobin


def _batches(problem, leads, reps, policy, options, minutes: float) -> PolicyOutcome:
    """Optimal batches of ``minutes`` with the capacity left after earlier batches."""
    from solver.policy._instant import _loads, _merged, _with_room

    created = pd.to_datetime(leads["created_at"])
    bucket = ((created - created.min()).dt.total_seconds() // (60 * minutes)).to_numpy()
    order = arrival_order(leads)
    used = np.zeros(problem.n_reps)
    factor = np.ones(problem.n_reps)
    parts = []
    for value in np.unique(bucket[order]):
        chunk = order[bucket[order] == value]
        sub = _with_room(problem, chunk, used, factor)
        out = route_with_policy(sub, leads.iloc[chunk].reset_index(drop=True), reps, policy,
                                options=options)
        used += _loads(sub, out)
        parts.append(out)
    return _merged(problem, order, parts)


def _value(outcome: PolicyOutcome, truth: np.ndarray, rep_pos: dict[str, int]) -> float:
    rows = outcome.assignments
    got = rows["rep_id"].map(rep_pos).fillna(-1).to_numpy(dtype=int)
    mask = got >= 0
    return float(truth[np.flatnonzero(mask), got[mask]].sum())


def run(n_leads: int, seed: int, tightness: float, reprice_every: int) -> list[dict[str, object]]:
    world = SyntheticWorld(WorldConfig(seed=seed, n_history=8_000))
    leads = load_leads(world.leads(n_leads, seed=seed + 10))
    reps = world.reps.copy()
    reps["capacity"] = np.ceil(leads["effort"].sum() / tightness / len(reps))
    reps = load_reps(reps)
    truth = world.true_probability(leads, reps)
    model = AffinityModel().fit(world.history(), world.reps)
    rep_pos = {r: j for j, r in enumerate(reps["rep_id"])}
    policy, options = Policy(), SolveOptions(time_limit_s=5.0, seed=0)
    rows: list[dict[str, object]] = []
    for scores_name, scores in (("oracle", truth), ("model", model.score_matrix(leads, reps))):
        problem = problem_from_matrix(leads, reps, scores)
        runs = {
            "round robin": lambda p=problem: route_with_policy(
                p, leads, reps, policy, strategy=RoundRobin(), options=options),
            "greedy": lambda p=problem: route_with_policy(
                p, leads, reps, policy, strategy=GreedyBestFit(), options=options),
            "1-min batches": lambda p=problem: _batches(p, leads, reps, policy, options, 1.0),
            "instant": lambda p=problem: route_stream(
                p, leads, reps, policy, options=options,
                settings=StreamSettings(reprice_every=reprice_every)),
            "offline optimum": lambda p=problem: route_with_policy(
                p, leads, reps, policy, strategy=Optimal(time_limit_s=10.0), options=options),
        }
        for name, call in runs.items():
            started = time.perf_counter()
            outcome = call()
            rows.append({"seed": seed, "scores": scores_name, "strategy": name,
                         "conversions": _value(outcome, truth, rep_pos),
                         "routed": int((outcome.assignments["status"] == "assigned").sum()),
                         "seconds": time.perf_counter() - started})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tightness", type=float, default=1.2,
                        help="day's effort / total capacity")
    parser.add_argument("--reprice-every", type=int, default=25)
    args = parser.parse_args()
    table = pd.DataFrame([row for seed in range(args.seeds)
                          for row in run(args.leads, seed, args.tightness, args.reprice_every)])
    pd.set_option("display.width", 120)
    mean = table.groupby(["scores", "strategy"], sort=False)[
        ["conversions", "routed", "seconds"]].mean()
    print(mean.round(3).to_string())
    for scores in ("oracle", "model"):
        per = table[table["scores"] == scores].pivot(index="seed", columns="strategy",
                                                     values="conversions")
        gain = per["1-min batches"] - per["round robin"]
        kept = (per["instant"] - per["round robin"]) / gain
        greedy = (per["greedy"] - per["round robin"]) / gain
        print(f"{scores} scores: instant keeps {kept.mean():.3f} of the 1-min batches' gain "
              f"over round robin (min {kept.min():.3f}; target 0.90 "
              f"{'met' if kept.min() >= 0.9 else 'MISSED'}); greedy keeps "
              f"{greedy.mean():.3f}; offline optimum / batches "
              f"{(per['offline optimum'] / per['1-min batches']).mean():.3f}")


if __name__ == "__main__":
    main()
