"""Strategies by name: the registry the CLI, the backtest and the service look up."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from solver.errors import PolicyError
from solver.strategies._base import Strategy
from solver.strategies._rotation import (
    LoadBalancing,
    RoundRobin,
    RulesFirstMatch,
    WeightedRoundRobin,
)
from solver.strategies._scored import CherryPicking, GreedyBestFit, Optimal

_CLASSES: tuple[type[Strategy], ...] = (
    RoundRobin,
    WeightedRoundRobin,
    RulesFirstMatch,
    LoadBalancing,
    GreedyBestFit,
    CherryPicking,
    Optimal,
)

STRATEGIES: Mapping[str, type[Strategy]] = MappingProxyType({c.name: c for c in _CLASSES})


def strategy_config_keys(name: str) -> tuple[str, ...]:
    """The config fields a strategy accepts (its dataclass fields)."""
    return tuple(f.name for f in dataclasses.fields(_class_of(name)))  # type: ignore[arg-type]


def strategy_from_name(
    name: str,
    /,
    *,
    reps: pd.DataFrame | None = None,
    shared: Mapping[str, Any] | None = None,
    **config: Any,
) -> Strategy:
    """Build a strategy from its registry name and config.

    ``config``: the strategy's own fields; an unknown key is a ``PolicyError``.
    ``shared``: settings offered to every strategy (``seed``, ``time_limit_s``, ...);
    each takes the ones it declares and ignores the rest.
    ``reps``: a reps table; fields a strategy reads from it (weighted round robin's
    ``weights`` from the ``weight`` column) are filled unless given in ``config``.
    """
    cls = _class_of(name)
    keys = strategy_config_keys(name)
    unknown = sorted(set(config) - set(keys))
    if unknown:
        valid = ", ".join(keys) if keys else "none"
        raise PolicyError(
            f"strategy '{name}' has no setting {', '.join(map(repr, unknown))}; valid: {valid}"
        )
    values: dict[str, Any] = {k: v for k, v in (shared or {}).items() if k in keys}
    columns: Mapping[str, str] = getattr(cls, "rep_columns", {})
    if reps is not None:
        for key, column in columns.items():
            if column in reps.columns:
                values[key] = dict(
                    zip(reps["rep_id"].astype(str), reps[column].astype(float), strict=True)
                )
    values.update(config)
    try:
        return cls(**values)
    except TypeError as exc:
        raise PolicyError(f"strategy '{name}': {exc}") from None


def _class_of(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise PolicyError(
            f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}"
        ) from None
