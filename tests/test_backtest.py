"""The backtest end to end, and its intervals against the synthetic world's truth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.synthetic import SyntheticWorld, WorldConfig
from solver import InputError
from solver.app.backtest import BacktestConfig, run_backtest

# CP-SAT (the optimal strategy) reaches these daily batches' optimum or close to it well
# within 0.5 s and spends the rest of the default 2 s proving it. Nothing below depends on
# the replayed assignment being optimal: the truth is computed on whatever assignment was
# replayed (seeds 0-3: 34 of 36 intervals cover at 0.5 s as at 2 s; no-signal mean lift
# -0.023 vs -0.019; strong-signal DR lift +0.117 [+0.069, +0.170] vs +0.120 [+0.069,
# +0.170]). The rest of the time is fixed costs (six affinity fits per world, a solve per
# batch), not rows, so the statistical worlds keep their 1,500 rows and their power.
TIME_LIMIT_S = 0.5


def _world(
    seed: int, effect: float = 1.0, explore: float = 0.2, n_history: int = 1500,
    history_days: int = 10,
) -> tuple[SyntheticWorld, pd.DataFrame, pd.DataFrame]:
    world = SyntheticWorld(WorldConfig(seed=seed, n_history=n_history, n_reps=8,
                                       n_new_reps=0, history_days=history_days,
                                       effect_size=effect, explore=explore))
    reps = world.reps.copy()
    # per daily batch: binding for the best reps (150 leads a day in the 1,500-row world)
    reps["capacity"] = 30.0 * n_history / history_days / 150
    return world, world.history(), reps


def _true_value(world: SyntheticWorld, history: pd.DataFrame, reps: pd.DataFrame,
                assigned: pd.DataFrame) -> float:
    truth = world.true_probability(history, reps)
    index = pd.Series(np.arange(len(reps)), index=reps["rep_id"])
    routed = assigned["rep_id"] != ""
    columns = index.loc[assigned.loc[routed, "rep_id"]].to_numpy()
    return float(truth[np.flatnonzero(routed.to_numpy()), columns].sum() / len(history))


def test_intervals_cover_the_truth_across_seeds() -> None:
    covered, total = 0, 0
    # 8 seeds (72 intervals): with 4 (36) the count's binomial noise (~6%) let a change of
    # the fit model alone move it across the bar (h16's blocks: 25/36 on seeds 0-3, 59/72
    # on 0-7; the previous model 30/36 and 65/72); the bar itself is unchanged
    for seed in range(8):
        world, history, reps = _world(seed)
        config = BacktestConfig(strategies=("round_robin", "greedy", "optimal"),
                                estimators=("ips", "snips", "dr"), n_folds=3,
                                n_bootstrap=200, seed=seed, time_limit_s=TIME_LIMIT_S)
        result = run_backtest(history, reps, config)
        for strategy, assigned in result.assignments.items():
            truth = _true_value(world, history, reps, assigned)
            rows = result.estimates[result.estimates["strategy"] == strategy]
            covered += int(((rows["ci_low"] <= truth) & (truth <= rows["ci_high"])).sum())
            total += len(rows)
    # 90% intervals: well above 70% of 72 must cover (fails if estimators are biased)
    assert covered / total >= 0.7, f"coverage {covered}/{total}"


def test_no_signal_means_no_systematic_lift_for_the_optimiser() -> None:
    # with no rep-specific signal every routing converts alike: across seeds the
    # optimiser's estimated lift must centre on zero (a biased pipeline drifts away)
    lifts = []
    for seed in (7, 8, 9):
        # a logging policy that explores enough for importance weights to stay moderate
        _, history, reps = _world(seed, effect=0.0, explore=0.6)
        config = BacktestConfig(strategies=("optimal",), estimators=("dr",), n_folds=3,
                                n_bootstrap=50, time_limit_s=TIME_LIMIT_S)
        lifts.append(float(run_backtest(history, reps, config).lift["lift"].iloc[0]))
    assert abs(np.mean(lifts)) < 0.04, lifts


def test_strong_signal_shows_a_positive_lift() -> None:
    _, history, reps = _world(3, effect=1.5, explore=0.6)
    config = BacktestConfig(strategies=("optimal",), estimators=("dr",), n_folds=3,
                            n_bootstrap=200, time_limit_s=TIME_LIMIT_S)
    lift = run_backtest(history, reps, config).lift
    assert (lift["ci_low"] > 0).all(), lift


def test_cli_writes_every_output(tmp_path: Path) -> None:
    # the outputs' shape, not the estimates' quality: a small world is enough
    _, history, reps = _world(1, n_history=400, history_days=4)
    history.to_csv(tmp_path / "history.csv", index=False)
    reps.to_csv(tmp_path / "reps.csv", index=False)
    out = tmp_path / "bt"
    code = "from solver.app.cli import main; main()"
    run = subprocess.run(
        [sys.executable, "-c", code, "backtest", "--history", str(tmp_path / "history.csv"),
         "--reps", str(tmp_path / "reps.csv"), "--strategies", "round_robin,optimal",
         "--n-bootstrap", "50", "--folds", "3", "--time-limit", str(TIME_LIMIT_S),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    estimates = pd.read_csv(out / "estimates.csv")
    assert list(estimates.columns) == ["strategy", "estimator", "value", "ci_low", "ci_high",
                                       "n_effective"]
    # every strategy's rows, the logged policy's first, in the estimators' order
    order = ["replay", "ips", "snips", "dm", "dr"]
    assert estimates["strategy"].tolist() == [
        s for s in ("logged", "round_robin", "optimal") for _ in order]
    assert estimates["estimator"].tolist() == order * 3
    assert list(pd.read_csv(out / "lift.csv").columns) == ["strategy", "estimator", "lift",
                                                           "ci_low", "ci_high"]
    for name in ("round_robin", "optimal"):
        table = pd.read_csv(out / f"assignments_{name}.csv")
        assert list(table.columns) == ["lead_id", "rep_id"] and len(table) == len(history)
    assert {"share_deviation", "gini"} <= set(pd.read_csv(out / "fairness.csv").columns)
    report = (out / "report.html").read_text()
    assert "data:image/png;base64," in report and "What to conclude" in report
    # the direct method's interval holds the reward model fixed, and the report says so
    assert "the dm interval is conditional on the reward model" in report
    assert report.count("<td>conditional on the reward model</td>") == 3
    assert "dm: the interval is conditional on the reward model" in run.stdout


def test_bad_inputs(tmp_path: Path) -> None:
    _, history, reps = _world(2)
    with pytest.raises(InputError, match="rep 'R000' is not in the reps table"):
        run_backtest(history, reps[reps["rep_id"] != "R000"],
                     BacktestConfig(strategies=("greedy",)))
    with pytest.raises(Exception, match="unknown strategy|valid"):
        run_backtest(history, reps, BacktestConfig(strategies=("psychic",)))
    broken = history.copy()
    broken.loc[3, "converted"] = 2
    with pytest.raises(InputError, match="row 4, column 'converted'"):
        run_backtest(broken, reps, BacktestConfig(strategies=("greedy",)))
