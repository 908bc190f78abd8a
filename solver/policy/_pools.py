"""The pool stage: items (single leads, or whole accounts) through the fallback chain of
pools, each pool one items × reps problem for the strategy; a holdout's two arms
(``route_arms``) and exploration (``explore``) on top of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from solver._cpsat_types import SplitPenalty
from solver._problem import RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver._result import SolveResult, SolveStatus
from solver._solve import SolveOptions, solve
from solver.policy._explore import Candidates, explore_leads
from solver.policy._fair import solve_fair
from solver.policy._ledger import BoolArray, FloatArray, IntArray, Ledger, PairIndex
from solver.policy._model import Explore, Policy
from solver.strategies import Strategy, StrategyState


@dataclass(frozen=True, eq=False)
class Pools:
    """What the pool stage reads about the batch (fixed while it runs)."""

    problem: RoutingProblem
    masks: list[tuple[str, BoolArray]]
    score: FloatArray
    policy: Policy
    weight: FloatArray
    account_code: IntArray
    pair_at: PairIndex


def route_pools(
    pools: Pools, batch: Ledger, items: list[list[int]], strategy: Strategy,
    state: StrategyState | None, options: SolveOptions, deadline: float,
) -> StrategyState | None:
    """Route ``items`` through the fallback chain of pools with ``batch.remaining``."""
    rep_ids = pools.problem.rep_ids.astype(str)
    for index, (pool_name, mask) in enumerate(pools.masks):
        items = [item for item in items if batch.status[item[0]] is None]
        if not items:
            break
        share = max(deadline - time.perf_counter(), 0.01) / (len(pools.masks) - index)
        pool_options = replace(options, time_limit_s=share)
        item_problem = build_item_problem(pools.problem, items, mask, pools.score,
                                          batch.remaining, rep_ids)
        if item_problem.n_pairs == 0:
            continue
        result, band_reasons, state = _solve_pool(pools, batch, items, item_problem, strategy,
                                                  state, pool_options)
        batch.engines.extend(result.engines)
        batch.terms.append(result.terms)
        batch.slack += max(result.bound - result.objective, 0.0)
        if result.status is not SolveStatus.OPTIMAL and batch.solve_status is SolveStatus.OPTIMAL:
            batch.solve_status = result.status
        _record_pool(pools, batch, items, result, band_reasons,
                     pool_name if index > 0 else None, index)
    return state


def _solve_pool(
    pools: Pools, batch: Ledger, items: list[list[int]], item_problem: RoutingProblem,
    strategy: Strategy, state: StrategyState | None, pool_options: SolveOptions,
) -> tuple[SolveResult, dict[int, Reason], StrategyState | None]:
    """One pool's items × reps: the strategy's answer, or (for a strategy that solves soft
    terms) the optimiser with the fairness band and the account split penalty."""
    split = None
    if pools.policy.accounts.split_penalty is not None:  # soft groups: items are single leads
        split = SplitPenalty(pools.account_code[[item[0] for item in items]],
                             pools.policy.accounts.split_penalty)
    if pools.policy.fairness is not None and strategy.soft_terms:
        on_value = pools.policy.fairness.share_of == "value"
        fair = solve_fair(item_problem, pools.policy.fairness, pools.weight,
                          batch.values if on_value else batch.loads, pool_options, split)
        batch.band_shift += fair.shift(item_problem)
        return fair.result, fair.reasons(item_problem), state
    if split is not None and strategy.soft_terms:
        return solve(item_problem, options=pool_options, split=split), {}, state
    outcome = with_time_limit(strategy, pool_options).assign(item_problem, state)
    return outcome.result, {}, outcome.state


def _record_pool(pools: Pools, batch: Ledger, items: list[list[int]], result: SolveResult,
                 band_reasons: dict[int, Reason], pool: str | None, index: int) -> None:
    """Every lead of every routed item to its rep, with the pool's reason."""
    effort_of = pools.problem.pair_effort
    for item_index, item in enumerate(items):
        rep = int(result.rep_index[item_index])
        if rep < 0:
            continue
        why = Reason(ReasonCode.ROUTED, count=len(item), pool=pool,
                     inner=band_reasons.get(item_index, result.explanations[item_index]))
        for lead in item:
            pair = pools.pair_at.get((lead, rep))
            assert pair is not None  # items only get reps eligible for all their leads
            batch.assign(lead, rep, float(effort_of[pair]), float(pools.score[pair]),
                         why)
            batch.pool[lead] = index


def route_arms(
    pools: Pools, batch: Ledger, items: list[list[int]], strategies: tuple[Strategy, Strategy],
    lead_effort: FloatArray, state: StrategyState | None, options: SolveOptions,
    deadline: float,
) -> StrategyState | None:
    """A holdout: each arm first routes with a share of every rep's room proportional to
    its demand (so neither arm takes the best reps first), then each arm's leftovers go on
    with whatever room the other arm left."""
    assert batch.control is not None
    arms = ([item for item in items if batch.control[item[0]]],
            [item for item in items if not batch.control[item[0]]])
    demand = [float(sum(lead_effort[lead] for item in arm for lead in item)) for arm in arms]
    total = sum(demand)
    full = batch.remaining.copy()
    used = np.zeros_like(full)
    for arm, strategy, part in zip(arms, strategies, demand, strict=True):
        batch.remaining = full * (part / total if total > 0 else 0.0)
        given = batch.remaining.copy()
        state = route_pools(pools, batch, arm, strategy, state, options, deadline)
        used += given - batch.remaining
    batch.remaining = full - used
    for arm, strategy in zip(arms, strategies, strict=True):
        state = route_pools(pools, batch, arm, strategy, state, options, deadline)
    return state


def explore(pools: Pools, batch: Ledger, items: list[list[int]], explore: Explore,
             lead_ids: npt.NDArray[np.str_]) -> None:
    """Move a seeded share of the optimiser's single-lead items off their rep (see
    ``solver.policy._explore``); the control arm of a holdout is left alone."""
    grouped = {lead for item in items if len(item) > 1 for lead in item}
    leads = [lead for lead in range(len(lead_ids))
             if batch.pool[lead] >= 0 and lead not in grouped
             and (batch.control is None or not batch.control[lead])]
    problem, starts = pools.problem, pools.problem.lead_pair_bounds()

    def candidates_of(lead: int) -> Candidates:
        lo, hi = int(starts[lead]), int(starts[lead + 1])
        usable = pools.masks[int(batch.pool[lead])][1][lo:hi]
        return Candidates(reps=problem.pair_rep[lo:hi][usable],
                          effort=problem.pair_effort[lo:hi][usable],
                          score=pools.score[lo:hi][usable])

    def move(lead: int, old: int, new: int) -> None:
        was, now = pools.pair_at.get((lead, old)), pools.pair_at.get((lead, new))
        assert was is not None and now is not None
        pool = int(batch.pool[lead])
        batch.release(lead, float(problem.pair_effort[was]), float(pools.score[was]))
        batch.assign(lead, new, float(problem.pair_effort[now]), float(pools.score[now]),
                     Reason(ReasonCode.EXPLORATION, text=explore.method, limit=explore.share,
                            rep=str(problem.rep_ids[old])))
        batch.pool[lead] = pool

    draws = explore_leads(explore, leads, lead_ids, batch.rep_index, candidates_of,
                          batch.remaining, move)
    batch.propensity.update({lead: draw.propensity for lead, draw in draws.items()})


def with_time_limit(strategy: Strategy, options: SolveOptions) -> Strategy:
    """The strategy with this pool's share of the time limit, if it takes one."""
    if strategy.time_limited:
        return replace(strategy, time_limit_s=options.time_limit_s)  # type: ignore[type-var]
    return strategy


def make_items(open_leads: list[int], account_of: npt.NDArray[np.object_], together: bool
           ) -> list[list[int]]:
    if not together:
        return [[lead] for lead in open_leads]
    groups: dict[object, list[int]] = {}
    items: list[list[int]] = []
    for lead in open_leads:
        account = account_of[lead]
        if account is None:
            items.append([lead])
        elif account in groups:
            groups[account].append(lead)
        else:
            groups[account] = [lead]
            items.append(groups[account])
    return items


def build_item_problem(
    problem: RoutingProblem,
    items: list[list[int]],
    mask: BoolArray,
    score: FloatArray,
    remaining: FloatArray,
    rep_ids: npt.NDArray[np.str_],
) -> RoutingProblem:
    """Items × reps: an item's reps are those eligible for all its leads; its score and
    effort are the sums over its leads. Single-lead items (most) are vectorised."""
    item_of = np.full(problem.n_leads, -1, dtype=np.int64)
    singles = [index for index, item in enumerate(items) if len(item) == 1]
    item_of[[items[i][0] for i in singles]] = singles
    usable = mask & (item_of[problem.pair_lead] >= 0)
    parts = [(item_of[problem.pair_lead[usable]], problem.pair_rep[usable],
              score[usable], problem.pair_effort[usable])]
    starts = problem.lead_pair_bounds()
    for index, item in enumerate(items):
        if len(item) == 1:
            continue
        common: dict[int, tuple[float, float]] | None = None
        for lead in item:
            lo, hi = int(starts[lead]), int(starts[lead + 1])
            here = {int(problem.pair_rep[p]): (float(score[p]), float(problem.pair_effort[p]))
                    for p in range(lo, hi) if mask[p]}
            common = here if common is None else {
                r: (s + here[r][0], e + here[r][1]) for r, (s, e) in common.items() if r in here
            }
        if common:
            reps = np.fromiter(common, dtype=np.int64, count=len(common))
            values = np.array(list(common.values()), dtype=float).reshape(-1, 2)
            parts.append((np.full(len(reps), index, dtype=np.int64), reps,
                          values[:, 0], values[:, 1]))
    return RoutingProblem.from_pairs(
        lead_ids=[problem.lead_ids[item[0]] for item in items],
        rep_ids=rep_ids,
        capacity=np.maximum(remaining, 0.0),
        pair_lead=np.concatenate([p[0] for p in parts]),
        pair_rep=np.concatenate([p[1] for p in parts]),
        pair_score=np.concatenate([p[2] for p in parts]),
        pair_effort=np.concatenate([p[3] for p in parts]),
        lead_weight=np.array([len(item) for item in items], dtype=np.int64),
    )
