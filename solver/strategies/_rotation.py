"""Score-blind strategies teams use today: rotations, territory first match, least loaded.

Leads are visited in problem order (arrival order); each goes to one eligible rep with
room for its effort, chosen by the strategy's rule. A lead no eligible rep has room for
stays unassigned (capacity only shrinks, so it could not be placed later either).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import Reason, ReasonCode, shared
from solver.errors import PolicyError
from solver.strategies._base import (
    IntArray,
    StrategyOutcome,
    check_order,
    heuristic_result,
    now,
    pairs_by_rank,
    rotation_rank,
    state_or_empty,
)
from solver.strategies._state import StrategyState


@dataclass(frozen=True)
class _Candidates:
    """Each lead's candidate pairs as Python lists, sorted by rotation rank."""

    starts: list[int]
    rep: list[int]
    rank: list[int]
    effort: list[float]

    @classmethod
    def of(cls, problem: RoutingProblem, rank: IntArray) -> _Candidates:
        perm = pairs_by_rank(problem, rank)
        reps = problem.pair_rep[perm]
        return cls(
            starts=problem.lead_pair_bounds().tolist(),
            rep=reps.tolist(),
            rank=rank[reps].tolist(),
            effort=problem.pair_effort[perm].tolist(),
        )


def _first_fit(
    problem: RoutingProblem, rank: IntArray, start: int | None
) -> tuple[IntArray, list[int], list[int]]:
    """Each lead takes the first candidate with room in rotation order, scanning from
    ``start`` (round robin: the position after the last chosen rep, wrapping) or from
    the top every time (``start=None``: first match).

    Returns the rep per lead, the chosen rep's rank (-1 when none) and, per lead, how
    many eligible reps ahead of it in the scan were full.
    """
    n, m = problem.n_leads, problem.n_reps
    cand = _Candidates.of(problem, rank)
    remaining = problem.capacity.tolist()
    rep_index = [-1] * n
    chosen_rank = [-1] * n
    skipped = [0] * n
    pointer = 0 if start is None else start % max(m, 1)
    for lead in range(n):
        lo, hi = cand.starts[lead], cand.starts[lead + 1]
        if lo == hi:
            continue
        k = lo if start is None else bisect_left(cand.rank, pointer, lo, hi)
        scan = (*range(k, hi), *range(lo, k)) if k > lo else range(lo, hi)
        for passed, j in enumerate(scan):
            rep = cand.rep[j]
            if remaining[rep] + EFFORT_TOLERANCE >= cand.effort[j]:
                remaining[rep] -= cand.effort[j]
                rep_index[lead] = rep
                chosen_rank[lead] = cand.rank[j]
                skipped[lead] = passed
                if start is not None:
                    pointer = (cand.rank[j] + 1) % m
                break
    return np.asarray(rep_index, dtype=np.int64), chosen_rank, skipped


@dataclass(frozen=True)
class RoundRobin:
    """Each lead goes to the next eligible rep with room in rotation order.

    The rotation continues after the rep that received the previous lead, across
    batches through ``RotationState.last_rep_id`` (or ``cursor`` if that rep is gone).
    ``order`` lists rep ids in rotation order (unlisted reps follow in table order);
    ``None`` rotates in rep table order.
    """

    name: ClassVar[str] = "round_robin"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = False
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check_order(self.order))

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        state = state_or_empty(state)
        rank = rotation_rank(problem, self.order)
        start = _rotation_start(problem, rank, state.last_rep_id, state.cursor)
        rep_index, chosen_rank, skipped = _first_fit(problem, rank, start)
        reasons = [None if rep < 0 else shared(ReasonCode.ROUND_ROBIN, s)
                   for rep, s in zip(rep_index.tolist(), skipped, strict=True)]
        new_state = _after_rotation(problem, rep_index, chosen_rank, state)
        return StrategyOutcome(heuristic_result(problem, rep_index, reasons, started), new_state)


def _rotation_start(
    problem: RoutingProblem, rank: IntArray, last_rep_id: str | None, cursor: int
) -> int:
    if last_rep_id is not None:
        where = np.flatnonzero(problem.rep_ids.astype(str) == last_rep_id)
        if len(where):
            return int(rank[where[0]]) + 1
    return cursor


def _after_rotation(
    problem: RoutingProblem,
    rep_index: IntArray,
    chosen_rank: Sequence[int],
    state: StrategyState,
) -> StrategyState:
    assigned = np.flatnonzero(rep_index >= 0)
    if len(assigned) == 0:
        return state
    last = int(assigned[-1])
    return replace(
        state,
        last_rep_id=str(problem.rep_ids[rep_index[last]]),
        cursor=(chosen_rank[last] + 1) % problem.n_reps,
    )


def _check_weights(weights: Mapping[str, float] | None) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for rep, w in (weights or {}).items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not np.isfinite(w) or w <= 0:
            raise PolicyError(f"weight of rep {rep!r} must be a finite number > 0, got {w!r}")
        out[str(rep)] = float(w)
    return MappingProxyType(out)


@dataclass
class _Walk:
    """What the lead-by-lead rotations share: each lead's candidate reps and efforts in
    rotation order, the reps' remaining capacity, and the per-lead answers so far."""

    rank: npt.NDArray[np.int64]
    pair_rep: npt.NDArray[np.int64]
    pair_effort: npt.NDArray[np.float64]
    ids: npt.NDArray[np.str_]
    remaining: npt.NDArray[np.float64]
    starts: list[int]
    rep_index: npt.NDArray[np.int64]
    reasons: list[Reason | None]

    @classmethod
    def start(cls, problem: RoutingProblem, order: tuple[str, ...] | None) -> _Walk:
        rank = rotation_rank(problem, order)
        perm = pairs_by_rank(problem, rank)
        return cls(
            rank=rank, pair_rep=problem.pair_rep[perm], pair_effort=problem.pair_effort[perm],
            ids=problem.rep_ids.astype(str),
            remaining=problem.capacity.astype(np.float64).copy(),
            starts=problem.lead_pair_bounds().tolist(),
            rep_index=np.full(problem.n_leads, -1, dtype=np.int64),
            reasons=[None] * problem.n_leads,
        )

    def candidates(self, lead: int
                   ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
        lo, hi = self.starts[lead], self.starts[lead + 1]
        return None if lo == hi else (self.pair_rep[lo:hi], self.pair_effort[lo:hi])

    def give(self, lead: int, rep: int, effort: float, reason: Reason) -> None:
        self.rep_index[lead] = rep
        self.remaining[rep] -= effort
        self.reasons[lead] = reason


@dataclass(frozen=True)
class WeightedRoundRobin:
    """Smooth weighted round robin (as nginx does) over the eligible reps with room.

    For each lead, every eligible rep with room adds its weight to its running weight;
    the largest running weight wins (ties: rotation order) and gives back the sum of the
    participants' weights. With all reps eligible, weights 2:1 give A, B, A, A, B, A, ...
    Running weights persist across batches in ``RotationState.current_weights``.
    ``weights`` maps rep id to weight (missing reps: 1, the contract's default).
    """

    name: ClassVar[str] = "weighted_round_robin"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = False
    rep_columns: ClassVar[Mapping[str, str]] = MappingProxyType({"weights": "weight"})
    weights: Mapping[str, float] = field(default_factory=dict)
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _check_weights(self.weights))
        object.__setattr__(self, "order", check_order(self.order))

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        state = state_or_empty(state)
        walk = _Walk.start(problem, self.order)
        ids = walk.ids
        weight = np.array([self.weights.get(rep, 1.0) for rep in ids], dtype=np.float64)
        current = np.array([state.current_weights.get(rep, 0.0) for rep in ids])
        for lead in range(problem.n_leads):
            found = walk.candidates(lead)
            if found is None:
                continue
            reps, effort = found
            room = walk.remaining[reps] + EFFORT_TOLERANCE >= effort
            fits = reps[room]
            if len(fits) == 0:
                continue
            current[fits] += weight[fits]
            best = int(np.argmax(current[fits]))  # first maximum: earliest in rotation
            rep = int(fits[best])
            current[rep] -= weight[fits].sum()
            walk.give(lead, rep, float(effort[room][best]),
                      shared(ReasonCode.WEIGHTED_ROUND_ROBIN, 0, float(weight[rep])))
        running = dict(state.current_weights)
        touched = np.unique(problem.pair_rep)
        running.update({str(ids[j]): float(current[j]) for j in touched})
        new_state = replace(state, current_weights=running)
        rep_index = walk.rep_index
        assigned = np.flatnonzero(rep_index >= 0)
        if len(assigned):
            last_rep = int(rep_index[assigned[-1]])
            new_state = replace(new_state, last_rep_id=str(ids[last_rep]),
                                cursor=int(walk.rank[last_rep] + 1) % problem.n_reps)
        return StrategyOutcome(heuristic_result(problem, rep_index, walk.reasons, started),
                               new_state)


@dataclass(frozen=True)
class RulesFirstMatch:
    """Territory routing: each lead goes to the first eligible rep with room in ``order``.

    Eligibility (territory, skills, ...) is already in the problem's candidate pairs;
    ``order`` declares precedence by rep id (unlisted reps follow in table order);
    ``None`` is the rep table order. Stateless.
    """

    name: ClassVar[str] = "rules_first_match"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = False
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check_order(self.order))

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        rank = rotation_rank(problem, self.order)
        rep_index, _, skipped = _first_fit(problem, rank, None)
        reasons = [None if rep < 0 else shared(ReasonCode.FIRST_MATCH, s)
                   for rep, s in zip(rep_index.tolist(), skipped, strict=True)]
        return StrategyOutcome(heuristic_result(problem, rep_index, reasons, started), state)


@dataclass(frozen=True)
class LoadBalancing:
    """Each lead goes to the least loaded eligible rep with room.

    Load is effort routed so far (prior ``RotationState.loads`` plus this batch) divided
    by this batch's capacity; ties go to the earlier rep in ``order`` (default: rep table
    order). The returned state's ``loads`` include this batch, so a service that passes
    the state back balances across batches; pass no state to balance within a batch.
    """

    name: ClassVar[str] = "load_balancing"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = False
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check_order(self.order))

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        state = state_or_empty(state)
        walk = _Walk.start(problem, self.order)
        ids = walk.ids
        capacity = problem.capacity.astype(np.float64)
        safe_capacity = np.where(capacity > 0, capacity, 1.0)
        load = np.array([state.loads.get(rep, 0.0) for rep in ids], dtype=np.float64)
        for lead in range(problem.n_leads):
            found = walk.candidates(lead)
            if found is None:
                continue
            reps, effort = found
            relative = np.where(
                walk.remaining[reps] + EFFORT_TOLERANCE >= effort,
                load[reps] / safe_capacity[reps],
                np.inf,
            )
            best = int(np.argmin(relative))  # first minimum: earliest in order
            if not np.isfinite(relative[best]):
                continue
            rep = int(reps[best])
            walk.give(lead, rep, float(effort[best]),
                      Reason(ReasonCode.LOAD_BALANCING, value=float(relative[best])))
            load[rep] += effort[best]
        loads = dict(state.loads)
        rep_index = walk.rep_index
        touched = np.unique(rep_index[rep_index >= 0])
        loads.update({str(ids[j]): float(load[j]) for j in touched})
        new_state = replace(state, loads=loads)
        return StrategyOutcome(heuristic_result(problem, rep_index, walk.reasons, started),
                               new_state)
