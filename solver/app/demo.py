"""The embedded default job behind ``make demo`` / ``leadroute demo``.

A seeded synthetic world (known true conversion probabilities), an affinity model fitted
on its logged history, one batch of new leads, and every strategy routed on that batch.
Because the world's truth is known, the table compares strategies by *true* expected
conversions, not by the model's own opinion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from models import AffinityModel, save_model
from models.synthetic import SyntheticWorld, WorldConfig
from solver import RoutingProblem, gini, problem_from_matrix, rep_loads, share_deviation
from solver.app._io import write_csv_atomic
from solver.contract_tables import load_leads, load_reps
from solver.strategies import STRATEGIES, strategy_from_name

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    out: Path
    seed: int = 0
    n_leads: int = 400
    n_history: int = 20_000
    # Total rep capacity as a multiple of the batch's effort: below 1 some leads must wait.
    capacity_ratio: float = 1.1


@dataclass(frozen=True)
class StrategyRow:
    strategy: str
    assigned: int
    expected_conversions: float
    share_deviation: float
    gini: float
    seconds: float


@dataclass(frozen=True)
class DemoReport:
    rows: tuple[StrategyRow, ...]
    files: tuple[Path, ...]
    n_leads: int
    n_reps: int
    validation: str


def _batch_reps(reps: pd.DataFrame, leads: pd.DataFrame, ratio: float) -> pd.DataFrame:
    """Capacities sized to the batch so they bind, split by rep weight."""
    batch = reps.copy()
    active = batch["active"].astype(bool)
    share = batch["weight"].where(active, 0.0) / batch["weight"].where(active, 0.0).sum()
    batch["capacity"] = np.ceil(share * leads["effort"].sum() * ratio)
    return batch


def _evaluate(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64], truth: FloatArray,
    weights: FloatArray,
) -> tuple[int, float, float, float]:
    assigned = np.flatnonzero(rep_index >= 0)
    conversions = float(truth[assigned, rep_index[assigned]].sum())
    loads = rep_loads(problem, rep_index)
    return len(assigned), conversions, share_deviation(loads, weights), gini(loads[weights > 0])


def run_demo(config: DemoConfig, progress: Callable[[str], None]) -> DemoReport:
    out = config.out
    progress(f"building a synthetic world (seed {config.seed})")
    world = SyntheticWorld(WorldConfig(seed=config.seed, n_history=config.n_history))
    history = world.history()
    leads = load_leads(world.leads(config.n_leads, seed=config.seed + 1))
    reps = load_reps(_batch_reps(world.reps, leads, config.capacity_ratio))

    progress(f"fitting the affinity model on {len(history):,} logged assignments")
    model = AffinityModel().fit(history, world.reps)
    scores = model.score_matrix(leads, reps)
    truth = world.true_probability(leads, reps)

    problem = problem_from_matrix(leads, reps, scores)
    weights = np.where(reps["active"].to_numpy(bool), reps["weight"].to_numpy(float), 0.0)
    rows: list[StrategyRow] = []
    best_assignments = pd.DataFrame()
    for name in STRATEGIES:
        progress(f"routing with {name}")
        strategy = strategy_from_name(name, reps=reps, shared={"seed": config.seed})
        outcome = strategy.assign(problem)
        n, conv, dev, g = _evaluate(problem, outcome.result.rep_index, truth, weights)
        rows.append(StrategyRow(name, n, conv, dev, g, outcome.result.wall_time_s))
        if name == "optimal":
            best_assignments = outcome.result.assignments(problem)

    files = (
        write_csv_atomic(history, out / "history.csv"),
        write_csv_atomic(world.reps, out / "reps.csv"),
        write_csv_atomic(leads, out / "leads.csv"),
        write_csv_atomic(reps, out / "batch_reps.csv"),
        write_csv_atomic(best_assignments, out / "assignments.csv"),
        save_model(model, out / "model.joblib"),
    )
    validation = getattr(model, "validation_summary_", "")
    return DemoReport(tuple(rows), files, len(leads), len(reps), str(validation))


def format_ratio(value: float, base: float) -> str:
    return "n/a" if base <= 0 or math.isnan(base) else f"{value / base - 1:+.1%}"
