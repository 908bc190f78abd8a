"""Baseline routing strategies through the same contract as the optimiser.

Each strategy is a small frozen dataclass (config in fields) with
``assign(problem, state) -> StrategyOutcome``; ``STRATEGIES`` maps names to classes and
``strategy_from_name`` builds one from a name and validated config.
"""

from solver.strategies._base import Strategy, StrategyOutcome
from solver.strategies._bid_price import BidPrice, PriceSource
from solver.strategies._registry import STRATEGIES, strategy_config_keys, strategy_from_name
from solver.strategies._rotation import (
    LoadBalancing,
    RoundRobin,
    RulesFirstMatch,
    WeightedRoundRobin,
)
from solver.strategies._scored import CherryPicking, GreedyBestFit, Optimal
from solver.strategies._state import RotationState, StrategyState

__all__ = [
    "STRATEGIES",
    "BidPrice",
    "CherryPicking",
    "GreedyBestFit",
    "LoadBalancing",
    "Optimal",
    "PriceSource",
    "RotationState",
    "RoundRobin",
    "RulesFirstMatch",
    "Strategy",
    "StrategyOutcome",
    "StrategyState",
    "WeightedRoundRobin",
    "strategy_config_keys",
    "strategy_from_name",
]
