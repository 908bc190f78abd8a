"""Instant routing of a stream: each lead routed on arrival by bid prices, the prices
refreshed from a forecast batch solve every few leads.

``route_stream`` replays a batch of leads in arrival order through the same policy
pipeline as a batch (pins, nurture, owners, pools, ramp-up, caps) with the
``BidPrice`` strategy, chunk by chunk: between two repricings every lead is decided
alone, in order, with the prices fixed, exactly as an instant router would. After each
chunk the prices are re-estimated: the last ``window`` arrivals stand in for the leads
still to come, and each rep's remaining capacity is scaled to that sample
(remaining × sample size / leads still expected), so the sample meets the scarcity the
rest of the day will; the capacity duals of that forecast batch are the new prices.
The first chunk has no prices (fit weighted by free capacity, said in the reason).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._problem import RoutingProblem
from solver._solve import SolveOptions
from solver.policy._inputs import PolicyInputs
from solver.policy._inputs import as_of as _as_of
from solver.policy._model import Policy
from solver.policy._outcome import PolicyOutcome
from solver.policy._pipeline import route_with_policy
from solver.policy._ramp import ramp_factors
from solver.strategies import BidPrice, GreedyBestFit, PriceSource

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class StreamSettings:
    """``reprice_every``: leads between two price refreshes; ``window``: recent arrivals
    the forecast batch is built from."""

    reprice_every: int = 50
    window: int = 200

    def __post_init__(self) -> None:
        if self.reprice_every < 1 or self.window < 1:
            raise ValueError("reprice_every and window must be >= 1")


def arrival_order(leads: pd.DataFrame) -> IntArray:
    """Rows by ``created_at`` (missing last), ties in file order."""
    if "created_at" not in leads.columns:
        return np.arange(len(leads), dtype=np.int64)
    created = pd.to_datetime(leads["created_at"], errors="coerce", utc=True)
    key = created.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    key = np.where(created.isna().to_numpy(), np.iinfo(np.int64).max, key)
    return np.argsort(key, kind="stable").astype(np.int64)


def route_stream(
    problem: RoutingProblem, leads: pd.DataFrame, reps: pd.DataFrame, policy: Policy, *,
    inputs: PolicyInputs | None = None, options: SolveOptions | None = None,
    settings: StreamSettings | None = None,
) -> PolicyOutcome:
    """Route ``leads`` one at a time in arrival order under bid prices (see module doc).
    Returns one outcome with every lead, in the input's row order."""
    inputs = inputs or PolicyInputs()
    options = options or SolveOptions()
    settings = settings or StreamSettings()
    as_of = _as_of(leads, inputs.as_of)
    inputs = replace(inputs, as_of=as_of)
    factor = ramp_factors(reps, policy.ramp, as_of)
    used = np.zeros(problem.n_reps)  # effort given so far, in ramped units
    order = arrival_order(leads)
    strategy = BidPrice(source=PriceSource.NONE)
    owners = dict(inputs.owners)
    parts: list[PolicyOutcome] = []
    for start in range(0, len(order), settings.reprice_every):
        chunk = order[start:start + settings.reprice_every]
        sub = _with_room(problem, chunk, used, factor)
        chunk_leads = leads.iloc[chunk].reset_index(drop=True)
        outcome = route_with_policy(sub, chunk_leads, reps, policy, strategy=strategy,
                                    inputs=_for_chunk(inputs, owners, chunk_leads),
                                    options=options)
        used += _loads(sub, outcome)
        _learn_owners(owners, chunk_leads, outcome, sub)
        parts.append(outcome)
        seen = order[:start + len(chunk)]
        if len(seen) < len(order):
            strategy = BidPrice(prices=_forecast_prices(
                problem, leads, reps, policy, inputs, options, seen[-settings.window:],
                expected=len(order) - len(seen), used=used, factor=factor),
                source=PriceSource.FORECAST)
    return _merged(problem, order, parts)


def _with_room(problem: RoutingProblem, chunk: IntArray, used: FloatArray,
               factor: FloatArray) -> RoutingProblem:
    """The chunk's problem with each rep's capacity less what it already took (stated
    before ramp-up, which the policy applies again)."""
    lead_map = np.full(problem.n_leads, -1, dtype=np.int64)
    lead_map[chunk] = np.arange(len(chunk))  # chunk order is arrival order
    keep = np.flatnonzero(lead_map[problem.pair_lead] >= 0)
    keep = keep[np.lexsort((problem.pair_rep[keep], lead_map[problem.pair_lead[keep]]))]
    sub = RoutingProblem(
        lead_ids=problem.lead_ids[chunk], rep_ids=problem.rep_ids,
        capacity=problem.capacity.copy(), pair_lead=lead_map[problem.pair_lead[keep]],
        pair_rep=problem.pair_rep[keep], pair_score=problem.pair_score[keep],
        pair_effort=problem.pair_effort[keep])
    left = np.where(factor > 0, problem.capacity - used / np.maximum(factor, 1e-12), 0.0)
    return replace(sub, capacity=np.maximum(left, 0.0))


def _for_chunk(inputs: PolicyInputs, owners: dict[str, str], leads: pd.DataFrame
               ) -> PolicyInputs:
    """The chunk's own pins and forbidden pairs, and the owners learnt so far."""
    here = set(leads["lead_id"].astype(str))
    return replace(inputs, owners=dict(owners),
                   pins={lead: rep for lead, rep in inputs.pins.items() if lead in here},
                   forbidden=frozenset(pair for pair in inputs.forbidden if pair[0] in here))


def _loads(problem: RoutingProblem, outcome: PolicyOutcome) -> FloatArray:
    assigned = np.flatnonzero(outcome.rep_index >= 0)
    starts = problem.lead_pair_bounds()
    loads = np.zeros(problem.n_reps)
    for lead in assigned.tolist():
        lo, hi = int(starts[lead]), int(starts[lead + 1])
        rep = int(outcome.rep_index[lead])
        pair = lo + int(np.searchsorted(problem.pair_rep[lo:hi], rep))
        loads[rep] += float(problem.pair_effort[pair])
    return loads


def _learn_owners(owners: dict[str, str], leads: pd.DataFrame, outcome: PolicyOutcome,
                  problem: RoutingProblem) -> None:
    """The first rep to get an account's lead owns the account (as the service does)."""
    if "account_id" not in leads.columns:
        return
    for lead, account in enumerate(leads["account_id"].tolist()):
        rep = int(outcome.rep_index[lead])
        if rep >= 0 and isinstance(account, str) and account and account not in owners:
            owners[account] = str(problem.rep_ids[rep])


def _forecast_prices(
    problem: RoutingProblem, leads: pd.DataFrame, reps: pd.DataFrame, policy: Policy,
    inputs: PolicyInputs, options: SolveOptions, sample: IntArray, *, expected: int,
    used: FloatArray, factor: FloatArray,
) -> dict[str, float]:
    scale = len(sample) / max(expected, len(sample))
    sub = _with_room(problem, sample, used, factor)
    sub = replace(sub, capacity=sub.capacity * scale)
    forecast = route_with_policy(
        sub, leads.iloc[sample].reset_index(drop=True), reps,
        policy.model_copy(update={"fairness": None, "explore": None, "experiment": None}),
        inputs=replace(inputs, pins={}, owners={}, forbidden=frozenset()), options=options,
        strategy=GreedyBestFit())  # the summary's prices come from the LP, not the routing
    prices = forecast.rep_summary["shadow_price"].to_numpy(dtype=float)
    return {str(rep): float(p) for rep, p in zip(problem.rep_ids, prices, strict=True)
            if np.isfinite(p)}


def _merged(problem: RoutingProblem, order: IntArray, parts: list[PolicyOutcome]
            ) -> PolicyOutcome:
    assignments = pd.concat([part.assignments for part in parts], ignore_index=True)
    rep_index = np.concatenate([part.rep_index for part in parts])
    back = np.empty(len(order), dtype=np.int64)
    back[order] = np.arange(len(order))
    reasons = [reason for part in parts for reason in part.reasons]
    last = parts[-1]  # its per-rep summary covers the last chunk only (--summary is refused)
    return replace(
        last,
        assignments=assignments.iloc[back].reset_index(drop=True),
        rep_index=rep_index[back],
        objective=float(sum(part.objective for part in parts)),
        engines=tuple(e for part in parts for e in part.engines),
        wall_time_s=float(sum(part.wall_time_s for part in parts)),
        reasons=tuple(reasons[i] for i in back.tolist()),
    )
