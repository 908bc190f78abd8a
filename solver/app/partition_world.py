"""A seeded, partitioned lead batch (region × team) for tests, benchmarks and demos.

Every partition has its own reps; one rep per region is shared by two teams with its
capacity split explicitly (one row per partition). Scores are listed pairs within the
lead's partition only, so the batch decomposes by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, kw_only=True)
class PartitionedBatch:
    leads: pd.DataFrame  # lead_id, account_id, value, effort, region, team
    reps: pd.DataFrame  # rep_id, capacity, region, team (shared reps: one row per team)
    scores: pd.DataFrame  # lead_id, rep_id, score


def partitioned_batch(
    n_leads: int = 2_000,
    *,
    regions: int = 4,
    teams: int = 2,
    reps_per_partition: int = 8,
    pairs_per_lead: int = 5,
    seed: int = 0,
    mixed_effort: bool = False,
) -> PartitionedBatch:
    """Capacity covers about 90 % of each partition's effort, so capacity binds."""
    rng = np.random.default_rng(seed)
    region = rng.integers(0, regions, n_leads)
    team = rng.integers(0, teams, n_leads)
    effort = rng.choice([1.0, 2.0, 3.0], n_leads, p=[0.7, 0.2, 0.1]) if mixed_effort else (
        np.ones(n_leads))
    leads = pd.DataFrame({
        "lead_id": [f"L{i:07d}" for i in range(n_leads)],
        # one lead in ten belongs to an account (of about two leads, within a partition)
        "account_id": [f"A{r}-{t}-{a}" if a < n_leads // 20 else None for r, t, a in
                       zip(region, team, rng.integers(0, n_leads // 2 + 1, n_leads),
                           strict=True)],
        "value": np.round(rng.lognormal(8.0, 1.0, n_leads), 2),
        "effort": effort,
        "region": [f"r{r}" for r in region],
        "team": [f"t{t}" for t in team],
    })
    rep_rows = []
    members: dict[tuple[int, int], list[str]] = {}
    for r in range(regions):
        for t in range(teams):
            here = (region == r) & (team == t)
            load = float(effort[here].sum())
            names = [f"R{r}-{t}-{k}" for k in range(reps_per_partition)]
            if teams > 1 and t < 2:
                names[-1] = f"R{r}-shared"  # one rep split between teams 0 and 1
            members[(r, t)] = names
            per_rep = max(np.floor(0.9 * load / reps_per_partition), 1.0)
            rep_rows += [{"rep_id": name, "capacity": per_rep, "region": f"r{r}",
                          "team": f"t{t}"} for name in names]
    reps = pd.DataFrame(rep_rows)
    k = min(pairs_per_lead, reps_per_partition)
    lead_rows = np.repeat(np.arange(n_leads), k)
    chosen = np.argsort(rng.random((n_leads, reps_per_partition)), axis=1)[:, :k].ravel()
    scores = pd.DataFrame({
        "lead_id": leads["lead_id"].to_numpy()[lead_rows],
        "rep_id": [members[(int(region[i]), int(team[i]))][j]
                   for i, j in zip(lead_rows, chosen, strict=True)],
        "score": np.round(rng.beta(2.0, 8.0, len(lead_rows)), 4),
    })
    return PartitionedBatch(leads=leads, reps=reps, scores=scores)


@dataclass(frozen=True)
class HashScorer:
    """A deterministic stand-in for a fitted model: score in [0, 1) from the ids alone.
    Picklable by reference, so it travels to Spark workers like a real model."""

    salt: int = 0

    def __call__(self, leads: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
        lead = np.array([sum(map(ord, str(x))) * 7919 for x in leads["lead_id"]])
        rep = np.array([sum(map(ord, str(r))) * 104729 for r in reps["rep_id"]])
        return ((lead[:, None] + rep[None, :] + self.salt) % 997) / 997.0
