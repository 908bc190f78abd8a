"""Affinity model speed: scoring pairs per second on a 1,000 × 200 batch, and fit time
on 200,000 history rows (targets: >= 1,000,000 pairs/s; < 60 s). The fits also print
CPU seconds of this process (all its threads): on a shared machine wall time mostly
measures the other jobs, CPU time much less so.

Run: .venv/bin/python benchmarks/bench_affinity_speed.py
"""

from __future__ import annotations

import os
import time

from models import AffinityModel
from models.synthetic import SyntheticWorld, WorldConfig


def main() -> None:
    world = SyntheticWorld(WorldConfig(n_reps=200, n_new_reps=10, n_history=20_000, seed=0))
    model = AffinityModel().fit(world.history(), world.reps)
    leads = world.leads(1000, seed=1)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        scores = model.score_matrix(leads, world.reps)
        times.append(time.perf_counter() - start)
    best, median = min(times), sorted(times)[len(times) // 2]
    print(f"score_matrix {scores.shape[0]} x {scores.shape[1]}: best {best * 1e3:.1f} ms "
          f"({scores.size / best:,.0f} pairs/s), median {median * 1e3:.1f} ms "
          f"({scores.size / median:,.0f} pairs/s); target >= 1,000,000 pairs/s")

    big = SyntheticWorld(WorldConfig(n_history=200_000, seed=0))
    history = big.history()
    seconds, cpu = {}, {}
    for label, model in (("default (blocks chosen, C by CV)", AffinityModel()),
                         ("previous default (all blocks, C=0.1)",
                          AffinityModel(C=0.1, blocks="all"))):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.fit(history, big.reps)
        seconds[label] = time.perf_counter() - start
        cpu[label] = time.process_time() - start_cpu
        print(f"fit {label} on {len(history):,} history rows x {len(big.reps)} reps: "
              f"{seconds[label]:.1f} s wall, {cpu[label]:.1f} s CPU; target < 60 s", flush=True)
    first, second = seconds.values()
    print(f"ratio default / previous: {first / second:.2f} (load average "
          f"{os.getloadavg()[0]:.1f} on a shared 2-core machine)")


if __name__ == "__main__":
    main()
