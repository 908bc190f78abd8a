"""Backtest sweeps on any engine: the serial backtest's numbers, from few parallel tasks.

Stages (each engine-agnostic; an engine only maps a function over groups of a task table):

1. load, batch, cross-fit the affinity model (its 2 × folds fits are tasks) and the
   propensities exactly as :func:`solver.app.backtest.run_backtest` does (same helpers,
   same seeds);
2. replay tasks (:mod:`solver._sweep`): strategies × batches cut into at most
   ``max_tasks`` tasks;
3. estimate tasks: one per strategy × estimator, each with the estimator's own seeded
   bootstrap resamples (so intervals equal the serial ones to the last digit).

``run_sweep(..., runner=spark_runner(spark))`` returns the same ``estimates`` and ``lift``
tables as ``run_backtest`` with the same config; fairness, loads and the HTML report stay
with the serial command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models import AffinityModel
from models.policy_eval import Estimate, LoggedBandit, TargetPolicy, estimator_from_name
from solver.app.backtest import (
    BacktestConfig,
    IntArray,
    _on_policy,
    _row,
    apply_capacity,
    batches_and_folds,
    busiest_logged_batch,
    load_backtest_tables,
    logged_bandit,
    propensity_notes,
)
from solver.replay import ReplayContext, plan_replay, replay_task, targets_from

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Runner = Callable[[pd.DataFrame, Callable[[pd.DataFrame], pd.DataFrame], str], pd.DataFrame]

FIT_SCHEMA = "task long, which long, row long, rep long, score double"
REPLAY_SCHEMA = "task long, strategy string, row long, rep long"
ESTIMATE_SCHEMA = ("task long, strategy string, estimator string, value double, "
                   "ci_low double, ci_high double, n_effective double, lift double, "
                   "lift_low double, lift_high double")


def serial_runner(tasks: pd.DataFrame, fn: Callable[[pd.DataFrame], pd.DataFrame],
                  schema: str) -> pd.DataFrame:
    """The reference engine: every task in turn, in task order."""
    parts = [fn(group) for _, group in tasks.groupby("task", sort=True)]
    return pd.concat(parts, ignore_index=True)


def spark_runner(spark: SparkSession) -> Runner:
    """Each task is one ``applyInPandas`` group; the context travels in the closure
    (PySpark broadcasts a large pickled function once per stage)."""
    from solver.app.spark import quiet_pandas3_warning

    def run(tasks: pd.DataFrame, fn: Callable[[pd.DataFrame], pd.DataFrame],
            schema: str) -> pd.DataFrame:
        quiet_pandas3_warning()
        n = int(tasks["task"].nunique())
        frame = spark.createDataFrame(tasks).repartition(max(n, 1), "task")

        def apply(group: pd.DataFrame) -> pd.DataFrame:  # typed: PySpark reads the hints
            return fn(group)

        return frame.groupBy("task").applyInPandas(apply, schema).toPandas()

    return run


@dataclass(frozen=True, eq=False)
class SweepInputs:
    context: ReplayContext
    data: LoggedBandit
    rewards_hat: np.ndarray
    n_batches: int
    notes: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class SweepResult:
    estimates: pd.DataFrame  # as BacktestResult.estimates
    lift: pd.DataFrame  # as BacktestResult.lift
    targets: dict[str, IntArray]  # strategy → global rep index per history row (−1 none)
    n_replay_tasks: int
    n_estimate_tasks: int
    notes: tuple[str, ...]


def _fit_task(task: pd.DataFrame, *, history: pd.DataFrame, reps: pd.DataFrame,
              folds: IntArray) -> pd.DataFrame:
    """One model of the cross-fitting (as ``_cross_fitted_scores`` fits it): trained on
    one half of the other time blocks, scoring the held-out block; long format."""
    blocks = sorted(set(folds.tolist()))
    parts = []
    for item in task.to_dict("records"):
        fold, which = int(item["fold"]), int(item["which"])
        held = folds == fold
        others = [b for b in blocks if b != fold]
        halves = (others[0::2], others[1::2]) if len(others) > 1 else (others, others)
        train = np.isin(folds, halves[which])
        model = AffinityModel().fit(history[train].reset_index(drop=True), reps)
        matrix = np.asarray(model.score_matrix(history[held].reset_index(drop=True), reps),
                            dtype=float)
        rows = np.flatnonzero(held)
        parts.append(pd.DataFrame({
            "task": int(item["task"]), "which": which,
            "row": np.repeat(rows, matrix.shape[1]).astype(np.int64),
            "rep": np.tile(np.arange(matrix.shape[1]), len(rows)).astype(np.int64),
            "score": matrix.ravel()}))
    return pd.concat(parts, ignore_index=True)


def _cross_fit(history: pd.DataFrame, reps: pd.DataFrame, folds: IntArray, runner: Runner
               ) -> tuple[np.ndarray, np.ndarray]:
    """``run_backtest``'s cross-fitting, its 2 × blocks model fits run as tasks."""
    blocks = sorted(set(folds.tolist()))
    jobs = pd.DataFrame([(2 * i + which, fold, which) for i, fold in enumerate(blocks)
                         for which in (0, 1)], columns=["task", "fold", "which"])
    fitted = runner(jobs, partial(_fit_task, history=history, reps=reps, folds=folds),
                    FIT_SCHEMA)
    out = (np.zeros((len(history), len(reps))), np.zeros((len(history), len(reps))))
    for which, target in enumerate(out):
        part = fitted[fitted["which"] == which]
        target[part["row"].to_numpy(np.int64), part["rep"].to_numpy(np.int64)] = (
            part["score"].to_numpy(float))
    return out


def prepare(history_source: object, reps_source: object, config: BacktestConfig, *,
            runner: Runner = serial_runner) -> SweepInputs:
    """Stage 1: what ``run_backtest`` computes before replaying (the model fits of the
    cross-fitting as tasks through ``runner``, the rest on the driver)."""
    history, reps, rep_pos = load_backtest_tables(history_source, reps_source, config)
    batch, folds, notes = batches_and_folds(history, config)
    n_batches = int(batch.max()) + 1
    scores, rewards_hat = _cross_fit(history, reps, folds, runner)
    data = logged_bandit(history, reps, rep_pos, config)
    notes.extend(propensity_notes(data))
    # the same capacity per batch as run_backtest (issue 16: logged loads by default)
    reps = apply_capacity(reps, busiest_logged_batch(
        data.actions, batch, history["effort"].to_numpy(float), len(reps)), config, notes)
    context = ReplayContext(history=history, reps=reps, scores=scores, batch=batch,
                            stamps=history.get("assigned_at"), policy=config.policy,
                            seed=config.seed, time_limit_s=config.time_limit_s)
    return SweepInputs(context=context, data=data, rewards_hat=rewards_hat,
                       n_batches=n_batches, notes=tuple(notes))


def _estimate_task(task: pd.DataFrame, *, inputs: SweepInputs, targets: dict[str, IntArray],
                   config: BacktestConfig) -> pd.DataFrame:
    rows = []
    for item in task.to_dict("records"):
        estimator = estimator_from_name(str(item["estimator"]),
                                        n_bootstrap=config.n_bootstrap,
                                        alpha=config.alpha, seed=config.seed)
        policy = TargetPolicy.deterministic(targets[str(item["strategy"])],
                                            inputs.data.n_actions)
        value = estimator.estimate(inputs.data, policy, inputs.rewards_hat)
        lift = estimator.lift(inputs.data, policy, inputs.rewards_hat)
        rows.append({"task": int(item["task"]), "strategy": str(item["strategy"]),
                     "estimator": estimator.name, "value": value.value,
                     "ci_low": value.ci_low, "ci_high": value.ci_high,
                     "n_effective": value.n_effective, "lift": lift.value,
                     "lift_low": lift.ci_low, "lift_high": lift.ci_high})
    return pd.DataFrame(rows)


def run_sweep(history_source: object, reps_source: object, config: BacktestConfig, *,
              runner: Runner = serial_runner, max_tasks: int = 200) -> SweepResult:
    inputs = prepare(history_source, reps_source, config, runner=runner)
    return run_prepared(inputs, config, runner=runner, max_tasks=max_tasks)


def run_prepared(inputs: SweepInputs, config: BacktestConfig, *,
                 runner: Runner = serial_runner, max_tasks: int = 200) -> SweepResult:
    """Stages 2 and 3 (the parallel part) on prepared inputs."""
    plan = plan_replay(config.strategies, inputs.n_batches, max_tasks)
    replayed = runner(plan, partial(replay_task, context=inputs.context), REPLAY_SCHEMA)
    targets = targets_from(replayed, config.strategies, len(inputs.context.history))
    pairs = [(s, e) for s in config.strategies for e in config.estimators]
    jobs = pd.DataFrame({"task": np.arange(len(pairs), dtype=np.int64),
                         "strategy": [s for s, _ in pairs], "estimator": [e for _, e in pairs]})
    estimated = runner(jobs, partial(_estimate_task, inputs=inputs, targets=targets,
                                     config=config), ESTIMATE_SCHEMA)
    estimated = estimated.sort_values("task").reset_index(drop=True)
    estimate_rows = [
        _row(str(r["strategy"]), str(r["estimator"]),
             Estimate(float(r["value"]), float(r["ci_low"]), float(r["ci_high"]),
                    float(r["n_effective"])))
        for r in estimated.to_dict("records")]
    on_policy = _on_policy(inputs.data, config)
    logged_rows = [_row("logged", estimator_from_name(
        name, n_bootstrap=config.n_bootstrap, alpha=config.alpha, seed=config.seed).name,
        on_policy) for name in config.estimators]  # as run_backtest: logged rows first
    estimate_rows = logged_rows + estimate_rows
    lift = estimated[["strategy", "estimator", "lift", "lift_low", "lift_high"]].rename(
        columns={"lift_low": "ci_low", "lift_high": "ci_high"})
    return SweepResult(estimates=pd.DataFrame(estimate_rows), lift=lift, targets=targets,
                       n_replay_tasks=int(plan["task"].nunique()),
                       n_estimate_tasks=len(jobs), notes=inputs.notes)
