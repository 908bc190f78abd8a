"""Backtest sweeps as independent tasks: the replay of strategies × history batches, cut
into few tasks, each a pure pandas-in, pandas-out call any engine can run.

A strategy that carries state from batch to batch (rotations) replays all its batches in
one task, in order; the scored strategies (optimal, greedy, cherry picking) carry none,
so their batches are split into contiguous chunks. Every batch is routed exactly as the
serial backtest routes it (same reps active that day, same seed and time limit), so the
targets are identical whichever engine runs the tasks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._solve import SolveOptions
from solver.policy import Policy
from solver.routing import NO_POLICY, build_strategy, route
from solver.strategies import (
    Strategy,
    StrategyState,
    strategy_from_name,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TASK_COLUMNS: Final = ("task", "strategy", "batch")
RESULT_COLUMNS: Final = ("task", "strategy", "row", "rep")


@dataclass(frozen=True, kw_only=True, eq=False)
class ReplayContext:
    """What every replay task reads (shipped once to each worker)."""

    history: pd.DataFrame  # validated history rows (lead columns, ``lead_id``)
    reps: pd.DataFrame  # validated reps
    scores: FloatArray  # history rows × reps: the strategies' cross-fitted scores
    batch: IntArray  # batch number of every history row
    stamps: pd.Series | None  # ``assigned_at`` (dates the reps active in each batch)
    policy: Policy | None = None
    seed: int = 0
    time_limit_s: float = 2.0


def is_stateless(name: str) -> bool:
    return strategy_from_name(name).stateless


def plan_replay(strategies: tuple[str, ...], n_batches: int, max_tasks: int = 200
                ) -> pd.DataFrame:
    """One row per (task, strategy, batch); at most ``max_tasks`` tasks (at least one per
    strategy). Each task costs a fixed overhead on an engine (~30 ms on Spark), so the
    budget should stay at a few hundred."""
    stateless = [s for s in strategies if is_stateless(s)]
    spare = max(max_tasks - (len(strategies) - len(stateless)), len(stateless))
    chunks = max(1, min(n_batches, spare // max(len(stateless), 1)))
    rows: list[tuple[int, str, int]] = []
    task = 0
    for name in strategies:
        parts = np.array_split(np.arange(n_batches), chunks if name in stateless else 1)
        for part in parts:
            if len(part) == 0:
                continue
            rows += [(task, name, int(b)) for b in part]
            task += 1
    return pd.DataFrame(rows, columns=list(TASK_COLUMNS))


def replay_batch(
    history: pd.DataFrame, reps: pd.DataFrame, start_dates: pd.Series, rows: IntArray,
    day: pd.Timestamp | None, scores: npt.NDArray[np.float64], policy: Policy | None,
    strategy: Strategy, state: StrategyState | None, options: SolveOptions,
) -> tuple[IntArray, StrategyState | None]:
    """Route one replayed batch (history ``rows``) with the reps active that day (not
    yet started = inactive); returns each row's rep as a global index (−1 = unrouted)
    and the strategy's state for the next batch. The one replay step of the backtest and
    of the sweep's tasks."""
    active = reps["active"].to_numpy(bool).copy()
    if day is not None:
        active &= (start_dates.isna() | (start_dates <= day.normalize())).to_numpy()
    reps_now = reps[active].reset_index(drop=True)
    leads_now = history.iloc[rows].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = route(leads=leads_now, reps=reps_now, scores=scores[np.ix_(rows, active)],
                        policy=policy or NO_POLICY, strategy=strategy, state=state,
                        options=options)
    local, state = outcome.rep_index, outcome.state
    global_index = np.flatnonzero(active)
    return np.where(local >= 0, global_index[np.maximum(local, 0)], -1), state


def replay_task(task: pd.DataFrame, context: ReplayContext) -> pd.DataFrame:
    """Replay one task's batches (one strategy, ascending batches, state carried) and
    return ``task, strategy, row, rep``: the global rep index (−1 = unrouted) of every
    history row in those batches."""
    names = task["strategy"].unique()
    if len(names) != 1:
        raise ValueError(f"a replay task covers one strategy, got {list(names)}")
    name = str(names[0])
    options = SolveOptions(time_limit_s=context.time_limit_s, seed=context.seed)
    strategy = build_strategy(name, context.reps, options)
    reps = context.reps
    start_dates = pd.to_datetime(reps["start_date"])
    state = None
    rows_out: list[IntArray] = []
    reps_out: list[IntArray] = []
    for b in sorted(int(x) for x in task["batch"].unique()):
        rows = np.flatnonzero(context.batch == b)
        if len(rows) == 0:
            continue
        day = (pd.Timestamp(context.stamps.iloc[rows[0]]) if context.stamps is not None
               else None)
        routed, state = replay_batch(context.history, reps, start_dates, rows, day,
                                     context.scores, context.policy, strategy, state, options)
        rows_out.append(rows.astype(np.int64))
        reps_out.append(routed)
    all_rows = np.concatenate(rows_out) if rows_out else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({
        "task": np.full(len(all_rows), int(task["task"].iloc[0]), dtype=np.int64),
        "strategy": name,
        "row": all_rows,
        "rep": np.concatenate(reps_out) if reps_out else np.zeros(0, dtype=np.int64),
    })


def targets_from(results: pd.DataFrame, strategies: tuple[str, ...], n_rows: int
                 ) -> dict[str, IntArray]:
    """Reassemble each strategy's target (global rep index per history row)."""
    out: dict[str, IntArray] = {}
    for name in strategies:
        part = results[results["strategy"] == name]
        target = np.full(n_rows, -1, dtype=np.int64)
        target[part["row"].to_numpy(dtype=np.int64)] = part["rep"].to_numpy(dtype=np.int64)
        out[name] = target
    return out
