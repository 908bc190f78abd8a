"""The routing pipeline: validated tables and scores in, one outcome per lead out.

Every product path routes through :func:`route`: the ``route`` command, the service's
batches and instant requests, each partition of a partitioned run and every replayed
batch of the backtest and the sweep. The steps are the same everywhere: scores (a pair
table, a lead × rep matrix, or a scorer called on the tables) → ``RoutingProblem`` → the
strategy built from its name → the policy's stages (``route_with_policy``), or the instant
replay (``route_stream``). What differs between callers is only where the tables come
from (files, the store, a partition's rows) and where the outcome goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._build import problem_from_matrix, problem_from_scores
from solver._problem import RoutingProblem
from solver._solve import SolveOptions
from solver.contract_tables import TableSource, load_leads, load_reps, load_scores
from solver.errors import InputError
from solver.policy import Accounts, Policy, PolicyInputs, PolicyOutcome, route_with_policy
from solver.policy._instant import StreamSettings, route_stream
from solver.strategies import Strategy, StrategyState, strategy_from_name

FloatArray = npt.NDArray[np.float64]
# validated (leads, reps) → lead × rep score matrix, e.g. a fitted affinity model
Scorer = Callable[[pd.DataFrame, pd.DataFrame], FloatArray]
# what every routing path returns: one assignments row per lead, the rep summary, the state
RoutingOutcome = PolicyOutcome
# no policy at all: no rules, and every lead its own item (``Policy()`` keeps an account's
# leads together); what ``solve`` and a strategy's ``assign`` do on the problem
NO_POLICY = Policy(accounts=Accounts(keep_together="off"))


def route(
    *,
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    scores: pd.DataFrame | npt.ArrayLike | None = None,
    scorer: Scorer | None = None,
    eligible: npt.ArrayLike | None = None,
    policy: Policy | None = None,
    inputs: PolicyInputs | None = None,
    strategy: Strategy | str = "optimal",
    state: StrategyState | None = None,
    options: SolveOptions | None = None,
    instant: StreamSettings | None = None,
) -> RoutingOutcome:
    """Route validated ``leads`` to validated ``reps`` (``load_leads`` / ``load_reps``).

    Scores: exactly one of ``scores`` (a validated pair table from ``load_scores``: only
    its pairs are candidates; or a lead × rep matrix, ``eligible`` masking it) and
    ``scorer``. ``strategy``: a built strategy or a registry name (built here with the
    reps and the seed, time and gap limits of ``options``). ``instant``: replay the leads
    in arrival order by bid prices instead (the strategy is then ``BidPrice``)."""
    options = options or SolveOptions()
    policy = policy or Policy()
    problem = routing_problem(leads, reps, scores=scores, scorer=scorer, eligible=eligible)
    if instant is not None:
        return route_stream(problem, leads, reps, policy, inputs=inputs, options=options,
                            settings=instant)
    chosen = build_strategy(strategy, reps, options) if isinstance(strategy, str) else strategy
    return route_with_policy(problem, leads, reps, policy, inputs=inputs, strategy=chosen,
                             state=state, options=options)


def routing_problem(
    leads: pd.DataFrame, reps: pd.DataFrame, *,
    scores: pd.DataFrame | npt.ArrayLike | None = None, scorer: Scorer | None = None,
    eligible: npt.ArrayLike | None = None,
) -> RoutingProblem:
    """The candidate pairs, their scores and efforts, and the reps' capacities."""
    if (scores is None) == (scorer is None):
        raise InputError("give exactly one of pair scores or a scorer (model)",
                         source="route")
    if isinstance(scores, pd.DataFrame):
        return problem_from_scores(leads, reps, scores)
    matrix = scorer(leads, reps) if scorer is not None else scores
    assert matrix is not None
    return problem_from_matrix(leads, reps, matrix, eligible)


def build_strategy(name: str, reps: pd.DataFrame, options: SolveOptions) -> Strategy:
    """The strategy ``name`` with the run's seed, time and gap limits (each strategy takes
    the settings it declares) and what it reads from the reps (weights)."""
    shared: dict[str, Any] = {"seed": options.seed, "time_limit_s": options.time_limit_s,
                              "gap_limit": options.gap_limit, "workers": options.workers}
    return strategy_from_name(name, reps=reps, shared=shared)


# -- the Python API on files or raw frames -----------------------------------------------
def route_pairs(
    leads: TableSource,
    reps: TableSource,
    scores: TableSource,
    *,
    options: SolveOptions | None = None,
) -> RoutingOutcome:
    """Route with user-supplied pair scores (only listed pairs are candidates)."""
    lead_table, rep_table = load_leads(leads), load_reps(reps)
    score_table = load_scores(scores, lead_ids=lead_table["lead_id"],
                              rep_ids=rep_table["rep_id"])
    return route(leads=lead_table, reps=rep_table, scores=score_table, policy=NO_POLICY,
                 options=options)


def route_matrix(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    score: npt.ArrayLike,
    *,
    eligible: npt.ArrayLike | None = None,
    options: SolveOptions | None = None,
) -> RoutingOutcome:
    """Route with a lead × rep score matrix (e.g. ``AffinityModel.score_matrix``)."""
    return route(leads=load_leads(leads), reps=load_reps(reps), scores=score,
                 eligible=eligible, policy=NO_POLICY, options=options)
