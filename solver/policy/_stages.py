"""The stages of routing one batch under a policy, in a sales manager's order.

``prepare`` reads the batch once (objective, ramp-up, forbidden pairs, one eligibility
mask per pool) into a ``Setup`` every stage reads; then each stage decides some leads and
writes them to the ``Ledger``: ``route_pins`` → ``route_nurture`` → ``route_owners`` →
``route_items`` (the fallback chain of pools, ``_pools.py``) → ``route_leftovers`` →
``explain_soft_groups``. ``route_with_policy`` (``_pipeline.py``) runs them in turn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver._result import LeadStatus
from solver._solve import SolveOptions
from solver.policy._eligibility import lead_class_mask, rep_filter_mask, rule_mask
from solver.policy._experiment import in_control
from solver.policy._inputs import PolicyInputs, as_of
from solver.policy._ledger import BoolArray, FloatArray, IntArray, Ledger, PairIndex
from solver.policy._model import Policy, rule_name
from solver.policy._pools import Pools, explore, make_items, route_arms, route_pools
from solver.policy._ramp import ramp_factors
from solver.strategies import Strategy, StrategyState, strategy_from_name


@dataclass(frozen=True, eq=False)
class Setup:
    """What every stage reads about the batch (fixed while it routes)."""

    problem: RoutingProblem
    leads: pd.DataFrame
    reps: pd.DataFrame
    policy: Policy
    inputs: PolicyInputs
    score: FloatArray  # per pair: the policy's objective (score, or score × value)
    factor: FloatArray  # per rep: ramp-up factor
    capacity: FloatArray  # per rep: capacity × ramp-up
    weight: FloatArray  # per rep: fairness weight × ramp-up, 0 when inactive
    pool_masks: list[tuple[str, BoolArray]]  # per pool, its eligible pairs
    eligible: BoolArray  # per pair: eligible in some pool
    pair_at: PairIndex
    account_of: npt.NDArray[np.object_]  # per lead: account id or None
    account_code: IntArray  # per lead: account number, -1 = none

    @property
    def lead_ids(self) -> npt.NDArray[np.str_]:
        return self.problem.lead_ids.astype(str)

    @property
    def rep_ids(self) -> npt.NDArray[np.str_]:
        return self.problem.rep_ids.astype(str)

    def pools(self) -> Pools:
        return Pools(problem=self.problem, masks=self.pool_masks, score=self.score,
                     policy=self.policy, weight=self.weight, account_code=self.account_code,
                     pair_at=self.pair_at)


def prepare(problem: RoutingProblem, leads: pd.DataFrame, reps: pd.DataFrame,
            policy: Policy, inputs: PolicyInputs) -> Setup:
    """Objective, ramp-up (capacity, share and barred lead classes), forbidden pairs and
    the eligibility of every pool."""
    score = problem.pair_score.copy()
    if policy.objective == "expected_revenue":
        score = score * leads["value"].to_numpy(dtype=float)[problem.pair_lead]
    factor = ramp_factors(reps, policy.ramp, as_of(leads, inputs.as_of))
    active = reps["active"].to_numpy(dtype=bool)
    allowed = allowed_pairs(problem, leads, policy, inputs, factor)
    masks = pool_masks(problem, leads, reps, policy, allowed)
    eligible = np.zeros(problem.n_pairs, dtype=bool)
    for _, mask in masks:
        eligible |= mask
    accounts = leads["account_id"].astype(object).where(leads["account_id"].notna(), None)
    return Setup(
        problem=problem, leads=leads, reps=reps, policy=policy, inputs=inputs, score=score,
        factor=factor, capacity=problem.capacity * factor,
        weight=reps["weight"].to_numpy(dtype=float) * factor * active, pool_masks=masks,
        eligible=eligible, pair_at=PairIndex(problem),
        account_of=accounts.to_numpy(dtype=object),
        account_code=pd.factorize(accounts)[0].astype(np.int64))


def allowed_pairs(problem: RoutingProblem, leads: pd.DataFrame, policy: Policy,
                  inputs: PolicyInputs, factor: FloatArray) -> BoolArray:
    """Pairs no rule-independent bar removes: lead classes an unramped rep may not take,
    and the forbidden (lead, rep) pairs."""
    pl, pr = problem.pair_lead, problem.pair_rep
    allowed = np.ones(problem.n_pairs, dtype=bool)
    if policy.ramp is not None:
        for lead_class in policy.ramp.forbid_until_ramped:
            barred = lead_class_mask(lead_class.attribute, lead_class.values, leads)
            allowed &= ~(barred[pl] & (factor[pr] < 1.0))
    if inputs.forbidden:
        keys = pd.MultiIndex.from_arrays([problem.lead_ids.astype(str)[pl],
                                          problem.rep_ids.astype(str)[pr]])
        allowed &= ~keys.isin(list(inputs.forbidden))
    return allowed


def pool_masks(problem: RoutingProblem, leads: pd.DataFrame, reps: pd.DataFrame,
               policy: Policy, allowed: BoolArray) -> list[tuple[str, BoolArray]]:
    """One mask per rule, combined per pool of the fallback chain (one ``default`` pool of
    every rule without ``[[pools]]``)."""
    pl, pr = problem.pair_lead, problem.pair_rep
    masks = {rule_name(rule, i): rule_mask(rule, leads, reps, pl, pr)
             for i, rule in enumerate(policy.rules)}
    out: list[tuple[str, BoolArray]] = []
    for pool in policy.pools or (None,):
        mask = allowed.copy()
        for name in (pool.rules if pool is not None and pool.rules is not None else masks):
            mask &= masks[name]
        if pool is not None:
            mask &= rep_filter_mask(pool.reps, reps)[pr]
        out.append((pool.name if pool is not None else "default", mask))
    return out


def open_ledger(setup: Setup) -> Ledger:
    """Nobody decided yet; each rep's room is its ramped capacity, its load the window's."""
    n, rep_ids = setup.problem.n_leads, setup.rep_ids
    ledger = Ledger(
        rep_index=np.full(n, -1, dtype=np.int64), status=[None] * n, reasons=[None] * n,
        remaining=setup.capacity.copy(),
        loads=np.array([float(setup.inputs.prior_loads.get(r, 0.0)) for r in rep_ids]),
    )
    ledger.prior = ledger.loads.copy()
    ledger.pool = np.full(n, -1, dtype=np.int64)
    ledger.values = np.zeros(len(rep_ids))
    ledger.band_shift = np.zeros(len(rep_ids))
    return ledger


def route_pins(setup: Setup, ledger: Ledger) -> None:
    """1. Manual pins: honoured whatever the rules say, within capacity."""
    lead_ids = setup.lead_ids
    rep_pos = {rep: j for j, rep in enumerate(setup.rep_ids)}
    active = setup.reps["active"].to_numpy(dtype=bool)
    lead_effort = setup.leads["effort"].to_numpy(dtype=float)
    for lead_id, rep_id in setup.inputs.pins.items():
        lead, rep = int(np.flatnonzero(lead_ids == lead_id)[0]), rep_pos[rep_id]
        pair = setup.pair_at.get((lead, rep))
        effort = (float(setup.problem.pair_effort[pair]) if pair is not None
                  else float(lead_effort[lead]))
        value = float(setup.score[pair]) if pair is not None else 0.0
        if not active[rep]:
            ledger.status[lead] = LeadStatus.UNASSIGNED
            ledger.reasons[lead] = Reason(ReasonCode.PIN_INACTIVE, rep=rep_id)
        elif ledger.remaining[rep] + EFFORT_TOLERANCE < effort:
            ledger.status[lead] = LeadStatus.UNASSIGNED
            ledger.reasons[lead] = Reason(ReasonCode.PIN_FULL, rep=rep_id)
        else:
            ledger.assign(lead, rep, effort, value, Reason(ReasonCode.PINNED))


def route_nurture(setup: Setup, ledger: Ledger) -> None:
    """2. Nurture pool: the best expected value among eligible reps is below the
    threshold."""
    nurture = setup.policy.nurture
    if nurture is None:
        return
    best = np.full(setup.problem.n_leads, -np.inf)
    eligible = setup.eligible
    np.maximum.at(best, setup.problem.pair_lead[eligible], setup.score[eligible])
    low = (best < nurture.threshold) & np.isfinite(best)
    for lead in np.flatnonzero(low).tolist():
        if ledger.status[lead] is None:
            ledger.status[lead] = LeadStatus.NURTURE
            ledger.reasons[lead] = Reason(ReasonCode.NURTURE, value=float(best[lead]),
                                          limit=nurture.threshold)


def route_owners(setup: Setup, ledger: Ledger) -> None:
    """3. Account owners keep their accounts when eligible and with room."""
    owners = setup.inputs.owners
    if not (setup.policy.accounts.owner_keeps and owners):
        return
    rep_pos = {rep: j for j, rep in enumerate(setup.rep_ids)}
    effort_of = setup.problem.pair_effort
    for lead, account in enumerate(setup.account_of):
        owner = owners.get(account) if account else None
        if owner is None or ledger.status[lead] is not None or owner not in rep_pos:
            continue
        rep = rep_pos[owner]
        pair = setup.pair_at.get((lead, rep))
        if pair is None or not setup.eligible[pair]:
            continue
        if ledger.remaining[rep] + EFFORT_TOLERANCE >= effort_of[pair]:
            ledger.assign(lead, rep, float(effort_of[pair]), float(setup.score[pair]),
                          Reason(ReasonCode.ACCOUNT_OWNER, rep=owner))


def open_items(setup: Setup, ledger: Ledger) -> list[list[int]]:
    """4. Items: the undecided leads, alone or (``keep_together = "hard"``) as whole
    accounts that must stay with one rep."""
    open_leads = [lead for lead in range(setup.problem.n_leads) if ledger.status[lead] is None]
    return make_items(open_leads, setup.account_of,
                      setup.policy.accounts.keep_together == "hard")


def route_items(setup: Setup, ledger: Ledger, items: list[list[int]], strategy: Strategy,
                state: StrategyState | None, options: SolveOptions) -> StrategyState | None:
    """5. The fallback chain of pools, sharing the time limit (per arm in a holdout), then
    exploration."""
    deadline = time.perf_counter() + options.time_limit_s
    policy, chain = setup.policy, setup.pools()
    if policy.experiment is None:
        state = route_pools(chain, ledger, items, strategy, state, options, deadline)
    else:
        ledger.control = in_control(policy.experiment, setup.lead_ids, setup.account_of,
                                    groups_hard=policy.accounts.keep_together == "hard")
        control = strategy_from_name(
            policy.experiment.control, reps=setup.reps,
            shared={"seed": options.seed, "time_limit_s": options.time_limit_s})
        lead_effort = setup.leads["effort"].to_numpy(dtype=float)
        state = route_arms(chain, ledger, items, (control, strategy), lead_effort, state,
                           options, deadline)
    if policy.explore is not None:
        explore(chain, ledger, items, policy.explore, setup.lead_ids)
    return state


def route_leftovers(setup: Setup, ledger: Ledger) -> None:
    """6. Whoever is left: no eligible rep, or every eligible rep full."""
    n = setup.problem.n_leads
    eligible_count = np.bincount(setup.problem.pair_lead[setup.eligible], minlength=n)
    account_size = pd.Series(setup.account_of).value_counts().to_dict()
    groups_hard = setup.policy.accounts.keep_together == "hard"
    for lead in range(n):
        if ledger.status[lead] is not None:
            continue
        ledger.status[lead] = LeadStatus.UNASSIGNED
        if eligible_count[lead] == 0:
            ledger.reasons[lead] = Reason(ReasonCode.NO_ELIGIBLE_REP)
            continue
        size = account_size.get(setup.account_of[lead], 0)
        if groups_hard and size > 1:
            ledger.reasons[lead] = Reason(ReasonCode.GROUP_UNPLACEABLE, count=size)
        else:
            ledger.reasons[lead] = Reason(ReasonCode.CAPACITY_EXHAUSTED,
                                          count=int(eligible_count[lead]),
                                          every_pool=len(setup.pool_masks) > 1)


def explain_soft_groups(setup: Setup, ledger: Ledger) -> None:
    """Soft account groups: say whether each routed account stayed with one rep."""
    penalty = setup.policy.accounts.split_penalty
    if penalty is None:
        return
    account_code = setup.account_code
    routed = np.flatnonzero((account_code >= 0) & (ledger.rep_index >= 0))
    reps_of: dict[int, set[int]] = {}
    for lead in routed.tolist():
        reps_of.setdefault(int(account_code[lead]), set()).add(int(ledger.rep_index[lead]))
    size = np.bincount(account_code[account_code >= 0])
    for lead in routed.tolist():
        account = int(account_code[lead])
        if size[account] < 2:
            continue
        count = len(reps_of[account])
        note = (f"account group split across {count} reps (penalty {penalty:g} per extra rep)"
                if count > 1 else f"account group of {size[account]} leads kept with one rep")
        reason = ledger.reasons[lead]
        assert reason is not None  # a routed lead has its reason
        ledger.reasons[lead] = reason.with_note(note)
