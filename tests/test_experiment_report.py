"""Holdout report statistics (known answers, coverage by simulation) and its command."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.policy_eval import EvaluationError, Verdict, asymptotic_cs, experiment_report


def test_confidence_sequence_by_hand() -> None:
    values = np.array([0.0, 1.0, 0.0, 1.0])  # mean 0.5, sample variance 1/3
    cs = asymptotic_cs(values, alpha=0.05)
    log_term = -2 * math.log(0.05)
    rho2 = (log_term + math.log(log_term + 1)) / 4
    v = 4 * (1 / 3) * rho2 + 1
    radius = math.sqrt(2 * v / (16 * rho2) * math.log(math.sqrt(v) / 0.05))
    assert (cs.low, cs.high) == pytest.approx((0.5 - radius, 0.5 + radius))
    assert cs.verdict is Verdict.UNDECIDED


def test_verdicts_follow_the_interval() -> None:
    control = np.repeat([True, False], 2000)
    converted = np.concatenate([np.zeros(2000), np.ones(2000)])
    report = experiment_report(control, converted, control_share=0.5)
    assert report.always_valid.verdict is Verdict.TREATMENT_BETTER
    flipped = experiment_report(~control, converted, control_share=0.5)
    assert flipped.always_valid.verdict is Verdict.CONTROL_BETTER


def test_report_counts_rates_and_plan() -> None:
    control = np.array([True] * 100 + [False] * 300)
    converted = np.array([1.0] * 10 + [0.0] * 90 + [1.0] * 45 + [0.0] * 255)
    report = experiment_report(control, converted, control_share=0.25, mde=0.05,
                               revenue=converted * 100)
    assert (report.control_n, report.treatment_n) == (100, 300)
    assert report.conversion.control_rate == pytest.approx(0.10)
    assert report.conversion.test_rate == pytest.approx(0.15)
    assert report.always_valid.estimate == pytest.approx(45 / 400 / 0.75 - 10 / 400 / 0.25)
    assert report.needed_per_arm is not None and report.needed_per_arm > 300
    assert report.revenue is not None and report.revenue.difference == pytest.approx(5.0)


def test_always_valid_interval_covers_at_every_look() -> None:
    """Over 200 simulated experiments, peeking every 200 leads, the sequence misses the
    true lift at some look in at most ~α of them (a fixed-horizon interval would not)."""
    rng = np.random.default_rng(3)
    share, lift, misses = 0.2, 0.03, 0
    for _ in range(200):
        control = rng.uniform(size=4000) < share
        converted = (rng.uniform(size=4000) < np.where(control, 0.10, 0.10 + lift))
        pseudo = converted * (~control) / (1 - share) - converted * control / share
        missed = False
        for n in range(200, 4001, 200):
            cs = asymptotic_cs(pseudo[:n].astype(float), alpha=0.05, planned_n=4000)
            missed |= not cs.low <= lift <= cs.high
        misses += missed
    assert misses / 200 <= 0.08


@pytest.mark.parametrize(("control", "converted", "share", "match"), [
    ([True, False], [1, 2], 0.5, "converted must be 0 or 1"),
    ([True, True], [1, 0], 0.5, "both arms need outcomes"),
    ([True, False], [1, 0], 1.0, "control share must be in"),
    ([True], [1, 0], 0.5, "one outcome per lead"),
])
def test_bad_report_inputs(control: list[bool], converted: list[float], share: float,
                           match: str) -> None:
    with pytest.raises(EvaluationError, match=match):
        experiment_report(np.array(control), np.array(converted, dtype=float),
                          control_share=share)


def _leadroute(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from solver.app.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def _files(tmp_path: Path, arms: list[str]) -> tuple[Path, Path]:
    policy = tmp_path / "policy.toml"
    policy.write_text('[experiment]\nname = "fit-vs-rr"\ncontrol = "round_robin"\n'
                      'share = 0.5\n')
    history = tmp_path / "history.csv"
    n = len(arms)
    pd.DataFrame({"lead_id": [f"l{i}" for i in range(n)], "rep_id": "a",
                  "converted": [(i // 2) % 2 for i in range(n)], "arm": arms}).to_csv(
        history, index=False)
    return policy, history


def test_report_command_prints_the_verdict(tmp_path: Path) -> None:
    policy, history = _files(tmp_path, ["control", "treatment"] * 50)
    run = _leadroute("experiment", "report", "--history", str(history), "--policy", str(policy))
    assert run.returncode == 0, run.stderr
    assert "experiment fit-vs-rr" in run.stdout
    assert "no verdict yet" in run.stdout


def test_report_command_names_a_bad_arm(tmp_path: Path) -> None:
    policy, history = _files(tmp_path, ["control", "treatment", "holdout"])
    run = _leadroute("experiment", "report", "--history", str(history), "--policy", str(policy))
    assert run.returncode == 2
    assert "row 3" in run.stderr and "arm" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_backtest_says_where_propensities_came_from() -> None:
    from models.policy_eval import LoggedBandit
    from solver.app.backtest import (
        ESTIMATED_PROPENSITY_NOTE,
        LOGGED_PROPENSITY_NOTE,
        NO_OVERLAP_NOTE,
        propensity_notes,
    )

    def data(propensities: list[float], estimated: bool = False) -> LoggedBandit:
        n = len(propensities)
        return LoggedBandit(actions=np.zeros(n, dtype=np.int64), rewards=np.zeros(n),
                            propensities=np.array(propensities), n_actions=2,
                            estimated_propensity=estimated)

    assert propensity_notes(data([0.5, 0.9], estimated=True)) == [ESTIMATED_PROPENSITY_NOTE]
    assert propensity_notes(data([0.95, 0.0125, 1.0])) == [LOGGED_PROPENSITY_NOTE]
    assert propensity_notes(data([1.0, 1.0])) == [LOGGED_PROPENSITY_NOTE, NO_OVERLAP_NOTE]
