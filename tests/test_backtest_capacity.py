"""Backtest realism: capacity per batch from the logged loads, and a warning per strategy
when a rep's load goes beyond anything logged (hand-built arrays, no model fits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solver import InputError
from solver.app.backtest import BacktestConfig, _extrapolation_note, busiest_logged_batch


def test_busiest_logged_batch_per_rep() -> None:
    actions = np.array([0, 0, 1, 0, 1, 1])
    batch = np.array([0, 0, 0, 1, 1, 1])
    effort = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 3.0])
    out = busiest_logged_batch(actions, batch, effort, 3)
    assert out[:2].tolist() == [3.0, 4.0]  # rep 0: batch 0 (1+2); rep 1: batch 1 (1+3)
    assert np.isnan(out[2])  # never logged


def test_a_strategy_beyond_the_logged_loads_is_flagged() -> None:
    reps = pd.DataFrame({"rep_id": ["a", "b"]})
    batch = np.array([0, 0, 0, 1])
    effort = np.ones(4)
    busiest = np.array([2.0, 1.0])
    piled = _extrapolation_note("by_score", np.array([0, 0, 0, 1]), batch, effort, busiest, reps)
    assert len(piled) == 1 and "by_score" in piled[0] and "a takes 3" in piled[0]
    within = _extrapolation_note("rr", np.array([0, 1, 0, 1]), batch, effort, busiest, reps)
    assert within == []


def test_capacity_source_is_checked() -> None:
    assert BacktestConfig(strategies=("round_robin",)).capacity == "logged"
    with pytest.raises(InputError, match="capacity must be one of"):
        BacktestConfig(strategies=("round_robin",), capacity="infinite")
