"""Baseline strategies side by side against the optimiser on structured random instances.

Instances look like a sales floor: reps in regions with a few skills, leads eligible for
the reps of their region holding their product skill (plus an "any region" overflow
share), scores = rep skill + lead quality + noise, total capacity below total demand so
capacity binds. Prints per strategy: coverage, total score, its ratio to the optimiser's,
and wall time.

    .venv/bin/python benchmarks/bench_strategies.py [--sizes 500x100,10000x200] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from solver import RoutingProblem, SolveResult
from solver.strategies import STRATEGIES, Strategy, strategy_from_name


@dataclass(frozen=True)
class Instance:
    n_leads: int
    n_reps: int
    regions: int = 8
    products: int = 4
    overflow: float = 0.05  # share of leads any rep may take
    load: float = 1.15  # total effort / total capacity
    mixed_effort: bool = False  # enterprise leads cost 3 (CP-SAT) instead of all 1 (flow)


def build(spec: Instance, seed: int) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    n, m = spec.n_leads, spec.n_reps
    rep_region = rng.integers(0, spec.regions, m)
    rep_skills = rng.random((m, spec.products)) < 0.6
    rep_skills[np.arange(m), rng.integers(0, spec.products, m)] = True
    lead_region = rng.integers(0, spec.regions, n)
    lead_product = rng.integers(0, spec.products, n)
    # Sparse eligibility without an n × m matrix: reps grouped by (region, skill).
    pair_lead: list[np.ndarray] = []
    pair_rep: list[np.ndarray] = []
    for region in range(spec.regions):
        for product in range(spec.products):
            reps = np.flatnonzero((rep_region == region) & rep_skills[:, product])
            leads = np.flatnonzero((lead_region == region) & (lead_product == product))
            pair_lead.append(np.repeat(leads, len(reps)))
            pair_rep.append(np.tile(reps, len(leads)))
    anywhere = np.flatnonzero(rng.random(n) < spec.overflow)
    extra = rng.integers(0, m, (len(anywhere), 3))
    pair_lead.append(np.repeat(anywhere, 3))
    pair_rep.append(extra.ravel())
    pl = np.concatenate(pair_lead)
    pr = np.concatenate(pair_rep)
    key = np.unique(pl * m + pr)
    pl, pr = key // m, key % m
    skill = rng.normal(0.0, 0.08, (m, spec.products))
    quality = rng.beta(2, 8, n)
    score = np.clip(quality[pl] + skill[pr, lead_product[pl]] + rng.normal(0, 0.05, len(pl)),
                    0.0, 1.0)
    effort = np.where(rng.random(n) < 0.1, 3.0, 1.0) if spec.mixed_effort else np.ones(n)
    capacity = rng.gamma(4.0, 1.0, m)
    capacity = np.floor(capacity / capacity.sum() * effort.sum() / spec.load)
    return RoutingProblem.from_pairs(
        lead_ids=np.arange(n).astype(str),
        rep_ids=np.array([f"rep{j}" for j in range(m)]),
        capacity=capacity,
        pair_lead=pl,
        pair_rep=pr,
        pair_score=np.round(score, 4),
        pair_effort=effort[pl],
    )


def run(problem: RoutingProblem, strategies: dict[str, Strategy]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    outcomes: dict[str, tuple[SolveResult, float]] = {}
    for name, strategy in strategies.items():
        started = time.perf_counter()
        result = strategy.assign(problem, None).result
        outcomes[name] = (result, time.perf_counter() - started)
    best, _ = outcomes["optimal"]
    for name, (result, seconds) in outcomes.items():
        ratio = result.objective / best.objective if best.objective else float("nan")
        rows.append((
            name,
            f"{result.n_assigned / max(problem.n_leads, 1):.1%}",
            f"{result.objective:.1f}",
            f"{ratio:.3f}",
            f"{seconds:.3f}",
            result.status.value,
        ))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500x100,10000x200")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mixed-effort", action="store_true",
                        help="10%% of leads cost 3 capacity units (CP-SAT instead of flow)")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args()
    shared = {"seed": args.seed, "time_limit_s": args.time_limit}
    names = [s for s in args.strategies.split(",") if s]
    if "optimal" not in names:
        names.append("optimal")
    strategies = {name: strategy_from_name(name, shared=shared) for name in names}
    header = ("strategy", "coverage", "score", "vs optimal", "time s", "status")
    for size in args.sizes.split(","):
        n, m = (int(x) for x in size.split("x"))
        problem = build(Instance(n, m, mixed_effort=args.mixed_effort), args.seed)
        print(f"\n{n} leads x {m} reps, {problem.n_pairs} candidate pairs "
              f"({problem.n_pairs / max(n, 1):.1f} per lead), total capacity "
              f"{problem.capacity.sum():.0f}, seed {args.seed}"
              f"{', mixed effort' if args.mixed_effort else ''}")
        rows = [header, *run(problem, strategies)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                            for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


if __name__ == "__main__":
    main()
