"""Route one batch under a policy.

The order of decisions is the order a sales manager would apply them: manual pins →
nurture pool → account owners → account groups → fallback pools (each solved by the
chosen strategy; the optimiser also honours the fairness band) → leftovers. Each is a
named stage in ``_stages.py``; every lead leaves with a status and a reason, nothing is
lost on the way.
"""

from __future__ import annotations

import pandas as pd

from solver._problem import RoutingProblem
from solver._solve import SolveOptions
from solver.policy._inputs import PolicyInputs
from solver.policy._model import Policy
from solver.policy._outcome import PolicyOutcome, build_outcome
from solver.policy._stages import (
    explain_soft_groups,
    open_items,
    open_ledger,
    prepare,
    route_items,
    route_leftovers,
    route_nurture,
    route_owners,
    route_pins,
)
from solver.strategies import Optimal, Strategy, StrategyState


def route_with_policy(
    problem: RoutingProblem,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    policy: Policy,
    *,
    inputs: PolicyInputs | None = None,
    strategy: Strategy | None = None,
    state: StrategyState | None = None,
    options: SolveOptions | None = None,
) -> PolicyOutcome:
    """Route ``problem`` (candidate pairs with scores, from scores or a model) under
    ``policy``. ``leads``/``reps`` are the validated tables the problem was built from."""
    inputs = inputs or PolicyInputs()
    options = options or SolveOptions()
    strategy = strategy or Optimal(time_limit_s=options.time_limit_s, seed=options.seed,
                                   workers=options.workers, gap_limit=options.gap_limit)
    setup = prepare(problem, leads, reps, policy, inputs)
    ledger = open_ledger(setup)
    route_pins(setup, ledger)
    route_nurture(setup, ledger)
    route_owners(setup, ledger)
    items = open_items(setup, ledger)
    state = route_items(setup, ledger, items, strategy, state, options)
    route_leftovers(setup, ledger)
    explain_soft_groups(setup, ledger)
    return build_outcome(setup, ledger, state)
