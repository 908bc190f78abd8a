"""Backtest replay's public surface: history batches routed again, strategy by strategy,
as independent tasks any engine can run (the serial backtest, the sweep, Spark). The
implementation lives in ``solver._sweep``."""

from __future__ import annotations

from solver._sweep import ReplayContext, plan_replay, replay_batch, replay_task, targets_from

__all__ = ["ReplayContext", "plan_replay", "replay_batch", "replay_task", "targets_from"]
