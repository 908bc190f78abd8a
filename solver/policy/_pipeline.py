"""Route one batch under a policy.

The order of decisions is the order a sales manager would apply them:
manual pins → nurture pool → account owners → account groups → fallback pools (each
solved by the chosen strategy; the optimiser also honours the fairness band). Every lead
leaves with a status and a reason; nothing is lost on the way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._band import LoadBand
from solver._cpsat_types import SplitPenalty
from solver._explain import NO_ELIGIBLE_REP, capacity_exhausted, rep_loads
from solver._metrics import share_deviation
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._result import Engine, LeadStatus, SolveResult, SolveStatus, relative_gap
from solver._solve import SolveOptions, solve
from solver.policy._eligibility import lead_class_mask, rep_filter_mask, rule_mask
from solver.policy._experiment import Arm, in_control
from solver.policy._explore import Candidates, explore_leads
from solver.policy._model import Explore, Fairness, Policy, rule_name
from solver.policy._ramp import ramp_factors
from solver.policy._summary import RepSummary
from solver.strategies import Optimal, Strategy, StrategyState, strategy_from_name

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Penalty mode tries these bands and keeps the best score − penalty × deviation.
_PENALTY_BANDS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, float("inf"))
# In band mode the free solve is only the reference the band departs from (its coverage
# and each lead's unbanded rep, for the reasons and the band shift); the banded solve is
# the answer. A generalized-assignment reference may stop this far from its bound: on the
# dense 1,000 x 100 micro-batches the engine's local search gets there before its HiGHS and
# CP-SAT stages, which halves the routing time (bench_microbatch.py). Flow-shaped and
# exact-model parts are solved exactly as before (the gap limit does not apply to them).
_REFERENCE_GAP_LIMIT = 0.01


@dataclass(frozen=True, kw_only=True)
class PolicyInputs:
    """Optional tables a policy uses. ``as_of`` dates the ramp-up (default: the batch's
    latest ``created_at``, else today)."""

    owners: Mapping[str, str] = field(default_factory=dict)  # account_id → rep_id
    pins: Mapping[str, str] = field(default_factory=dict)  # lead_id → rep_id
    forbidden: frozenset[tuple[str, str]] = frozenset()  # (lead_id, rep_id)
    as_of: pd.Timestamp | None = None
    # effort each rep already received earlier in the fairness window (micro-batches keep
    # fairness cumulative over the window, not per batch); capacity is not reduced by it
    prior_loads: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class PolicyOutcome:
    assignments: pd.DataFrame  # the contract's table, one row per lead
    summary: RepSummary  # the per-rep summary, computed when first read
    rep_index: IntArray
    status: SolveStatus
    objective: float  # total policy objective (score, or score × value) of assigned pairs
    state: StrategyState | None
    engines: tuple[Engine, ...]
    wall_time_s: float
    # upper bound on ``objective`` (inf when a pool's solve proved none); pins and owners
    # are fixed, so the slack is the pools' (bound − objective)
    bound: float = float("inf")

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    @property
    def rep_summary(self) -> pd.DataFrame:
        return self.summary.frame

    @property
    def engine(self) -> str:
        return "+".join(dict.fromkeys(e.value for e in self.engines)) or Engine.NONE.value


@dataclass
class _Batch:
    """Mutable bookkeeping of one routing run (never leaves this module)."""

    rep_index: IntArray
    status: list[LeadStatus | None]
    reasons: list[str]
    remaining: FloatArray
    loads: FloatArray  # prior window load + this batch (the fairness band's view)
    prior: FloatArray = field(default_factory=lambda: np.zeros(0))
    # per rep, expected value assigned in this batch (a band on value share looks at it)
    values: FloatArray = field(default_factory=lambda: np.zeros(0))
    # per rep, load the fairness band moved onto (+) or away from (−) it
    band_shift: FloatArray = field(default_factory=lambda: np.zeros(0))
    solve_status: SolveStatus = SolveStatus.OPTIMAL
    slack: float = 0.0  # sum over pool solves of bound − objective (what may be missed)
    engines: list[Engine] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    pool: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # -1: none
    control: BoolArray | None = None  # per lead, in a holdout: routed by the control arm
    propensity: dict[int, float] = field(default_factory=dict)  # explored leads only

    def assign(self, lead: int, rep: int, effort: float, value: float, reason: str) -> None:
        self.rep_index[lead] = rep
        self.status[lead] = LeadStatus.ASSIGNED
        self.reasons[lead] = reason
        self.remaining[rep] -= effort
        self.loads[rep] += effort
        self.values[rep] += max(value, 0.0)

    def release(self, lead: int, effort: float, value: float) -> None:
        rep = int(self.rep_index[lead])
        self.rep_index[lead] = -1
        self.status[lead] = None
        self.remaining[rep] += effort
        self.loads[rep] -= effort
        self.values[rep] -= max(value, 0.0)


def _as_of(leads: pd.DataFrame, given: pd.Timestamp | None) -> pd.Timestamp:
    if given is not None:
        return pd.Timestamp(given)
    if "created_at" not in leads.columns:
        return pd.Timestamp.now().normalize()
    created = pd.to_datetime(leads["created_at"], errors="coerce")
    if created.notna().any():
        return pd.Timestamp(created.max())
    return pd.Timestamp.now().normalize()


class _PairIndex:
    """(lead, rep) → pair position by binary search on the sorted pair keys."""

    def __init__(self, problem: RoutingProblem) -> None:
        self._width = max(problem.n_reps, 1)
        self._keys = problem.pair_lead * self._width + problem.pair_rep

    def get(self, key: tuple[int, int]) -> int | None:
        wanted = key[0] * self._width + key[1]
        pos = int(np.searchsorted(self._keys, wanted))
        if pos < len(self._keys) and self._keys[pos] == wanted:
            return pos
        return None

    def many(self, leads: IntArray, reps: IntArray) -> IntArray:
        wanted = leads * self._width + reps
        pos = np.minimum(np.searchsorted(self._keys, wanted), max(len(self._keys) - 1, 0))
        found = len(self._keys) > 0
        return np.where(found & (self._keys[pos] == wanted), pos, -1) if found else (
            np.full(len(leads), -1, dtype=np.int64))


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
    n = problem.n_leads
    lead_ids = problem.lead_ids.astype(str)
    rep_ids = problem.rep_ids.astype(str)
    pl, pr = problem.pair_lead, problem.pair_rep

    # objective: expected conversions, or expected revenue (score × value)
    score = problem.pair_score.copy()
    if policy.objective == "expected_revenue":
        score = score * leads["value"].to_numpy(dtype=float)[pl]

    # ramp-up scales capacity and share; unramped reps may be barred from lead classes
    factor = ramp_factors(reps, policy.ramp, _as_of(leads, inputs.as_of))
    active = reps["active"].to_numpy(dtype=bool)
    capacity = problem.capacity * factor
    weight = reps["weight"].to_numpy(dtype=float) * factor * active
    allowed = np.ones(problem.n_pairs, dtype=bool)
    if policy.ramp is not None:
        for lead_class in policy.ramp.forbid_until_ramped:
            barred = lead_class_mask(lead_class.attribute, lead_class.values, leads)
            allowed &= ~(barred[pl] & (factor[pr] < 1.0))
    if inputs.forbidden:
        pair_keys = pd.MultiIndex.from_arrays([lead_ids[pl], rep_ids[pr]])
        allowed &= ~pair_keys.isin(list(inputs.forbidden))

    # eligibility: one mask per rule, combined per pool (the fallback chain)
    masks = {rule_name(rule, i): rule_mask(rule, leads, reps, pl, pr)
             for i, rule in enumerate(policy.rules)}
    pools = policy.pools or ()
    pool_masks: list[tuple[str, BoolArray]] = []
    for pool in pools or (None,):
        mask = allowed.copy()
        for name in (pool.rules if pool is not None and pool.rules is not None else masks):
            mask &= masks[name]
        if pool is not None:
            mask &= rep_filter_mask(pool.reps, reps)[pr]
        pool_masks.append((pool.name if pool is not None else "default", mask))
    eligible_any = np.zeros(problem.n_pairs, dtype=bool)
    for _, mask in pool_masks:
        eligible_any |= mask

    effort_of = problem.pair_effort
    pair_at = _PairIndex(problem)
    lead_effort = leads["effort"].to_numpy(dtype=float)
    batch = _Batch(
        rep_index=np.full(n, -1, dtype=np.int64), status=[None] * n, reasons=[""] * n,
        remaining=capacity.copy(),
        loads=np.array([float(inputs.prior_loads.get(r, 0.0)) for r in rep_ids]),
    )
    batch.prior = batch.loads.copy()
    batch.pool = np.full(n, -1, dtype=np.int64)
    batch.values = np.zeros(len(rep_ids))
    batch.band_shift = np.zeros(len(rep_ids))
    rep_pos = {rep: j for j, rep in enumerate(rep_ids)}

    # 1. manual pins: honoured whatever the rules say, within capacity
    for lead_id, rep_id in inputs.pins.items():
        lead, rep = int(np.flatnonzero(lead_ids == lead_id)[0]), rep_pos[rep_id]
        pair = pair_at.get((lead, rep))
        effort = float(effort_of[pair]) if pair is not None else float(lead_effort[lead])
        value = float(score[pair]) if pair is not None else 0.0
        if not active[rep]:
            batch.status[lead] = LeadStatus.UNASSIGNED
            batch.reasons[lead] = f"pinned to {rep_id}, who is inactive"
        elif batch.remaining[rep] + EFFORT_TOLERANCE < effort:
            batch.status[lead] = LeadStatus.UNASSIGNED
            batch.reasons[lead] = f"pinned to {rep_id}, who has no capacity left"
        else:
            batch.assign(lead, rep, effort, value, "pinned by a manager")

    # 2. nurture pool: the best expected value among eligible reps is below the threshold
    best = np.full(n, -np.inf)
    np.maximum.at(best, pl[eligible_any], score[eligible_any])
    if policy.nurture is not None:
        low = (best < policy.nurture.threshold) & np.isfinite(best)
        for lead in np.flatnonzero(low).tolist():
            if batch.status[lead] is None:
                batch.status[lead] = LeadStatus.NURTURE
                batch.reasons[lead] = (
                    f"below nurture threshold (best expected value {best[lead]:.3g} < "
                    f"{policy.nurture.threshold:g})"
                )

    # 3. account owners keep their accounts when eligible and with room
    accounts = leads["account_id"].astype(object).where(leads["account_id"].notna(), None)
    account_of = accounts.to_numpy(dtype=object)
    if policy.accounts.owner_keeps and inputs.owners:
        for lead in range(n):
            owner = inputs.owners.get(account_of[lead]) if account_of[lead] else None
            if owner is None or batch.status[lead] is not None or owner not in rep_pos:
                continue
            rep = rep_pos[owner]
            pair = pair_at.get((lead, rep))
            if pair is None or not eligible_any[pair]:
                continue
            if batch.remaining[rep] + EFFORT_TOLERANCE >= effort_of[pair]:
                batch.assign(lead, rep, float(effort_of[pair]), float(score[pair]),
                             f"account owner {owner}")

    # 4. items: single leads, or whole accounts that must stay with one rep
    open_leads = [lead for lead in range(n) if batch.status[lead] is None]
    items = _items(open_leads, account_of, policy.accounts.keep_together == "hard")
    account_code = pd.factorize(accounts)[0].astype(np.int64)  # -1 = no account

    # 5. the fallback chain of pools, sharing the time limit (per arm in a holdout)
    deadline = time.perf_counter() + options.time_limit_s
    chain = _Pools(problem=problem, masks=pool_masks, score=score, policy=policy,
                   weight=weight, account_code=account_code, pair_at=pair_at)
    if policy.experiment is None:
        state = _route_pools(chain, batch, items, strategy, state, options, deadline)
    else:
        batch.control = in_control(policy.experiment, lead_ids, account_of,
                                   groups_hard=policy.accounts.keep_together == "hard")
        control = strategy_from_name(
            policy.experiment.control, reps=reps,
            shared={"seed": options.seed, "time_limit_s": options.time_limit_s})
        state = _route_arms(chain, batch, items, (control, strategy), lead_effort, state,
                            options, deadline)
    if policy.explore is not None:
        _explore(chain, batch, items, policy.explore, lead_ids)

    # 6. whoever is left: no eligible rep, or every eligible rep full
    eligible_count = np.bincount(pl[eligible_any], minlength=n)
    account_size = accounts.value_counts().to_dict()
    for lead in range(n):
        if batch.status[lead] is not None:
            continue
        batch.status[lead] = LeadStatus.UNASSIGNED
        if eligible_count[lead] == 0:
            batch.reasons[lead] = NO_ELIGIBLE_REP
        else:
            size = account_size.get(account_of[lead], 0)
            if policy.accounts.keep_together == "hard" and size > 1:
                batch.reasons[lead] = (
                    f"account group of {size} leads: no eligible rep can take them all"
                )
            else:
                suffix = " in every pool" if len(pool_masks) > 1 else ""
                batch.reasons[lead] = capacity_exhausted(int(eligible_count[lead])) + suffix

    if policy.accounts.split_penalty is not None:
        _explain_soft_groups(batch, account_code, policy.accounts.split_penalty)
    return _outcome(problem, leads, reps, policy, batch, score, eligible_any, capacity,
                    weight, factor, state)


@dataclass(frozen=True, eq=False)
class _Pools:
    """What the pool stage reads about the batch (fixed while it runs)."""

    problem: RoutingProblem
    masks: list[tuple[str, BoolArray]]
    score: FloatArray
    policy: Policy
    weight: FloatArray
    account_code: IntArray
    pair_at: _PairIndex


def _route_pools(
    pools: _Pools, batch: _Batch, items: list[list[int]], strategy: Strategy,
    state: StrategyState | None, options: SolveOptions, deadline: float,
) -> StrategyState | None:
    """Route ``items`` through the fallback chain of pools with ``batch.remaining``."""
    rep_ids = pools.problem.rep_ids.astype(str)
    effort_of = pools.problem.pair_effort
    for index, (pool_name, mask) in enumerate(pools.masks):
        items = [item for item in items if batch.status[item[0]] is None]
        if not items:
            break
        share = max(deadline - time.perf_counter(), 0.01) / (len(pools.masks) - index)
        pool_options = replace(options, time_limit_s=share)
        item_problem = _item_problem(pools.problem, items, mask, pools.score, batch.remaining,
                                     rep_ids)
        if item_problem.n_pairs == 0:
            continue
        split = None
        if pools.policy.accounts.split_penalty is not None:  # soft groups: items are single leads
            split = SplitPenalty(pools.account_code[[item[0] for item in items]],
                                 pools.policy.accounts.split_penalty)
        band_reasons: dict[int, str] = {}
        if pools.policy.fairness is not None and isinstance(strategy, Optimal):
            on_value = pools.policy.fairness.share_of == "value"
            fair = _solve_fair(item_problem, pools.policy.fairness, pools.weight,
                               batch.values if on_value else batch.loads, pool_options, split)
            result = fair.result
            band_reasons = fair.reasons(item_problem)
            batch.band_shift += fair.shift(item_problem)
        elif split is not None and isinstance(strategy, Optimal):
            result = solve(item_problem, pool_options, split=split)
        else:
            outcome = _with_time_limit(strategy, pool_options).assign(item_problem, state)
            result, state = outcome.result, outcome.state
        batch.engines.extend(result.engines)
        batch.slack += max(result.bound - result.objective, 0.0)
        if result.status is not SolveStatus.OPTIMAL and batch.solve_status is SolveStatus.OPTIMAL:
            batch.solve_status = result.status
        prefix = f"fallback pool '{pool_name}': " if index > 0 else ""
        for item_index, item in enumerate(items):
            rep = int(result.rep_index[item_index])
            if rep < 0:
                continue
            group = f"account group of {len(item)} leads: " if len(item) > 1 else ""
            why = band_reasons.get(item_index, result.reasons[item_index])
            for lead in item:
                pair = pools.pair_at.get((lead, rep))
                assert pair is not None  # items only get reps eligible for all their leads
                batch.assign(lead, rep, float(effort_of[pair]), float(pools.score[pair]),
                             prefix + group + why)
                batch.pool[lead] = index
    return state


def _route_arms(
    pools: _Pools, batch: _Batch, items: list[list[int]], strategies: tuple[Strategy, Strategy],
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
        state = _route_pools(pools, batch, arm, strategy, state, options, deadline)
        used += given - batch.remaining
    batch.remaining = full - used
    for arm, strategy in zip(arms, strategies, strict=True):
        state = _route_pools(pools, batch, arm, strategy, state, options, deadline)
    return state


def _explore(pools: _Pools, batch: _Batch, items: list[list[int]], explore: Explore,
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
                     f"exploration ({explore.method}, share {explore.share:g}): drawn at "
                     f"random among the reps with room instead of {problem.rep_ids[old]}")
        batch.pool[lead] = pool

    draws = explore_leads(explore, leads, lead_ids, batch.rep_index, candidates_of,
                          batch.remaining, move)
    batch.propensity.update({lead: draw.propensity for lead, draw in draws.items()})


def _explain_soft_groups(batch: _Batch, account_code: IntArray, penalty: float) -> None:
    """Soft account groups: say whether each routed account stayed with one rep."""
    routed = np.flatnonzero((account_code >= 0) & (batch.rep_index >= 0))
    reps_of: dict[int, set[int]] = {}
    for lead in routed.tolist():
        reps_of.setdefault(int(account_code[lead]), set()).add(int(batch.rep_index[lead]))
    size = np.bincount(account_code[account_code >= 0])
    for lead in routed.tolist():
        account = int(account_code[lead])
        if size[account] < 2:
            continue
        count = len(reps_of[account])
        note = (f"account group split across {count} reps (penalty {penalty:g} per extra rep)"
                if count > 1 else f"account group of {size[account]} leads kept with one rep")
        batch.reasons[lead] = f"{batch.reasons[lead]}; {note}"


def _with_time_limit(strategy: Strategy, options: SolveOptions) -> Strategy:
    if isinstance(strategy, Optimal):
        return replace(strategy, time_limit_s=options.time_limit_s)
    return strategy


def _items(open_leads: list[int], account_of: npt.NDArray[np.object_], together: bool
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


def _item_problem(
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


def _targets(weight: FloatArray, total: float) -> FloatArray:
    share = weight / weight.sum() if weight.sum() > 0 else np.zeros_like(weight)
    return share * total


def _band_for(fairness_band: float, weight: FloatArray, prior: FloatArray, total: float,
              on_value: bool) -> LoadBand:
    """Band on this solve's loads (efforts, or expected values with ``on_value``) so that
    prior + new stays within ±band of the target."""
    target = _targets(weight, total)
    lower = np.maximum((1 - fairness_band) * target - prior, 0.0)
    upper = np.maximum((1 + fairness_band) * target - prior, 0.0)
    # reps without a share (inactive, zero weight) get no lower bound and no room target
    upper = np.where(weight > 0, upper, 0.0)
    return LoadBand(lower=lower, upper=upper, on_score=on_value)


def _loads(problem: RoutingProblem, result: SolveResult, on_value: bool = False) -> FloatArray:
    return rep_loads(problem, result.rep_index, on_score=on_value)


@dataclass(frozen=True)
class _FairSolve:
    """The fair solve, the free one it departs from, and the band it used (None: the
    free solve was kept)."""

    result: SolveResult
    free: SolveResult
    band: LoadBand | None
    on_value: bool = False

    def shift(self, problem: RoutingProblem) -> FloatArray:
        return (_loads(problem, self.result, self.on_value)
                - _loads(problem, self.free, self.on_value))

    def reasons(self, problem: RoutingProblem) -> dict[int, str]:
        """Item → reason, for the items the band moved away from their free-solve rep."""
        if self.band is None:
            return {}
        loads = _loads(problem, self.result, self.on_value)
        unit = "expected value " if self.on_value else ""
        rep_ids = problem.rep_ids
        starts = problem.lead_pair_bounds()
        out: dict[int, str] = {}
        moved = np.flatnonzero((self.result.rep_index >= 0)
                               & (self.result.rep_index != self.free.rep_index))
        for item in moved.tolist():
            rep, preferred = int(self.result.rep_index[item]), int(self.free.rep_index[item])
            lo, hi = int(starts[item]), int(starts[item + 1])
            reps = problem.pair_rep[lo:hi]
            mine = problem.pair_score[lo + int(np.searchsorted(reps, rep))]
            if preferred >= 0 and loads[preferred] + 1e-9 >= self.band.upper[preferred]:
                theirs = problem.pair_score[lo + int(np.searchsorted(reps, preferred))]
                out[item] = (
                    f"fairness band binding: preferred rep {rep_ids[preferred]} "
                    f"(score {theirs:.3g}) at its share limit ({unit}{loads[preferred]:.3g} of at "
                    f"most {self.band.upper[preferred]:.3g}); best remaining fit "
                    f"{rep_ids[rep]} (score {mine:.3g})"
                )
            elif loads[rep] <= self.band.lower[rep] + 1e-9:
                out[item] = (
                    f"fairness band binding: {rep_ids[rep]} below its share floor "
                    f"({unit}{loads[rep]:.3g} of at least {self.band.lower[rep]:.3g}) takes it "
                    f"(score {mine:.3g})"
                    + (f" instead of {rep_ids[preferred]}" if preferred >= 0 else "")
                )
            else:
                out[item] = (
                    f"fairness band binding: moved to {rep_ids[rep]} (score {mine:.3g}) "
                    f"to even out {'expected value' if self.on_value else 'loads'}"
                    + (f", from {rep_ids[preferred]}" if preferred >= 0 else "")
                )
        return out


def _solve_fair(
    problem: RoutingProblem, fairness: Fairness, weight: FloatArray, prior: FloatArray,
    options: SolveOptions,
    split: SplitPenalty | None = None,
) -> _FairSolve:
    """``prior``: what each rep already holds in the band's measure (effort, or expected
    value with ``share_of = "value"``)."""
    on_value = fairness.share_of == "value"
    half = replace(options, time_limit_s=options.time_limit_s / 2)
    if fairness.mode == "band":
        reference = replace(half, gap_limit=max(options.gap_limit, _REFERENCE_GAP_LIMIT))
        free = solve(problem, reference, split=split)
        total = float(prior.sum() + _loads(problem, free, on_value).sum())
        fixed = _band_for(fairness.band, weight, prior, total, on_value)
        # the banded solve gets what the reference left of the time limit
        rest = replace(options, time_limit_s=max(options.time_limit_s - free.wall_time_s,
                                                 half.time_limit_s))
        return _FairSolve(solve(problem, rest, fixed, split, warm=free), free, fixed, on_value)
    free = solve(problem, half, split=split)
    total = float(prior.sum() + _loads(problem, free, on_value).sum())
    each = replace(options, time_limit_s=options.time_limit_s / 2 / len(_PENALTY_BANDS))
    best, best_value = _FairSolve(free, free, None, on_value), -np.inf
    for width in _PENALTY_BANDS:
        band = None if np.isinf(width) else _band_for(width, weight, prior, total, on_value)
        result = free if band is None else solve(problem, each, band, split, warm=free)
        loads = prior + _loads(problem, result, on_value)
        deviation = share_deviation(loads, weight)
        value = result.objective - fairness.penalty * deviation * total
        if value > best_value + 1e-12:
            best, best_value = _FairSolve(result, free, band, on_value), value
    return best


def _outcome(
    problem: RoutingProblem, leads: pd.DataFrame, reps: pd.DataFrame, policy: Policy,
    batch: _Batch, score: FloatArray, eligible: BoolArray, capacity: FloatArray,
    weight: FloatArray, factor: FloatArray, state: StrategyState | None,
) -> PolicyOutcome:
    assigned = np.flatnonzero(batch.rep_index >= 0)
    chosen = _PairIndex(problem).many(assigned, batch.rep_index[assigned])
    pair_score = np.full(problem.n_leads, np.nan)
    known = chosen >= 0
    pair_score[assigned[known]] = score[chosen[known]]
    rep_ids = problem.rep_ids.astype(str)
    assignments = pd.DataFrame({
        "lead_id": problem.lead_ids.astype(str),
        "rep_id": np.where(batch.rep_index >= 0, rep_ids[np.maximum(batch.rep_index, 0)], ""),
        "score": pair_score,
        "status": [(s or LeadStatus.UNASSIGNED).value for s in batch.status],
        "reason": batch.reasons,
    })
    if policy.explore is not None or policy.experiment is not None:
        # deterministic choices have propensity 1; explored leads their exact draw
        propensity = np.where(batch.rep_index >= 0, 1.0, np.nan)
        for lead, value in batch.propensity.items():
            propensity[lead] = value
        assignments["propensity"] = propensity
    if batch.control is not None:
        assignments["arm"] = np.where(batch.control, Arm.CONTROL.value, Arm.TREATMENT.value)
    summary = RepSummary(
        problem, reps, score=score, eligible=eligible, capacity=capacity,
        loads=batch.loads - batch.prior, values=batch.values, weight=weight, factor=factor,
        band=policy.fairness.band if policy.fairness is not None else None,
        share_of=policy.fairness.share_of if policy.fairness is not None else "effort",
        band_shift=batch.band_shift,
    )
    objective = float(np.nansum(pair_score))
    return PolicyOutcome(
        assignments=assignments, summary=summary, rep_index=batch.rep_index,
        status=batch.solve_status, objective=objective, state=state,
        engines=tuple(batch.engines), wall_time_s=time.perf_counter() - batch.started,
        bound=objective + batch.slack,
    )
