"""Backtest sweeps as tasks: the plan stays within its task budget, stateful strategies
replay in order in one task, and the result equals the serial backtest's numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from models.synthetic import SyntheticWorld, WorldConfig
from solver._sweep import plan_replay
from solver.app import cli
from solver.app.backtest import BacktestConfig, run_backtest
from solver.app.sweep import run_sweep

CONFIG = BacktestConfig(strategies=("round_robin", "greedy", "optimal"),
                        estimators=("ips", "snips", "dr"), n_folds=3, n_bootstrap=50, seed=3)


def small_world(seed: int = 3, n_history: int = 600, days: int = 6
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    world = SyntheticWorld(WorldConfig(seed=seed, n_history=n_history, n_reps=6,
                                       n_new_reps=0, history_days=days))
    reps = world.reps.copy()
    reps["capacity"] = 30.0
    return world.history(), reps


def test_plan_keeps_stateful_strategies_whole_and_the_budget() -> None:
    plan = plan_replay(("round_robin", "greedy", "optimal"), n_batches=100, max_tasks=21)
    tasks = plan.groupby("task")["strategy"].agg(["unique", "size"])
    assert plan["task"].nunique() <= 21
    assert all(len(u) == 1 for u in tasks["unique"])
    assert (plan[plan["strategy"] == "round_robin"]["task"].nunique()) == 1
    assert plan[plan["strategy"] == "optimal"]["task"].nunique() == 10
    for _, rows in plan.groupby("strategy"):
        assert sorted(rows["batch"]) == list(range(100))  # every batch exactly once


def test_sweep_equals_the_serial_backtest() -> None:
    history, reps = small_world()
    expected = run_backtest(history, reps, CONFIG)
    got = run_sweep(history, reps, CONFIG, max_tasks=5)
    assert got.n_replay_tasks == 5
    pd.testing.assert_frame_equal(got.estimates, expected.estimates)
    pd.testing.assert_frame_equal(got.lift, expected.lift)


def test_sweep_command_writes_the_backtest_numbers(tmp_path: Path) -> None:
    history, reps = small_world(seed=5, n_history=300, days=4)
    history.to_csv(tmp_path / "history.csv", index=False)
    reps.to_parquet(tmp_path / "reps.parquet", index=False)
    result = CliRunner().invoke(cli.app, [
        "sweep", "--history", str(tmp_path / "history.csv"), "--reps",
        str(tmp_path / "reps.parquet"), "--out", str(tmp_path / "sweep"), "--strategies",
        "round_robin,greedy", "--estimators", "ips,dr", "--folds", "2", "--n-bootstrap", "20",
        "--max-tasks", "3"])
    assert result.exit_code == 0, result.output
    assert "3 replay and 4 estimate tasks" in result.output
    lift = pd.read_csv(tmp_path / "sweep" / "lift.csv")
    assert list(lift.columns) == ["strategy", "estimator", "lift", "ci_low", "ci_high"]
    assert len(lift) == 4
