"""The strategy contract and the pieces every heuristic shares.

A strategy turns a ``RoutingProblem`` (plus the state of earlier batches) into the same
``SolveResult`` the optimiser returns, so every consumer (CLI, backtest, service) treats
baselines and the optimiser alike. Heuristic results say so: ``Engine.HEURISTIC``,
status ``FEASIBLE`` (an assignment, optimality not claimed) and ``bound = inf``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from solver._explain import rep_loads
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import Reason, ReasonCode, shared
from solver._result import Engine, LeadStatus, SolveResult, SolveStatus, pair_index_of
from solver._scaling import SCORE_SCALE
from solver.errors import PolicyError, SolverError
from solver.strategies._state import RotationState, StrategyState

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class StrategyOutcome:
    """What a strategy returns: the per-lead result and the state for the next batch."""

    result: SolveResult
    state: StrategyState | None


class Strategy(Protocol):
    """A routing strategy: config in dataclass fields, problem and state in ``assign``.

    ``assign`` must return one outcome per lead of ``problem``, respect capacities and
    eligibility (only candidate pairs), be deterministic for the same inputs, and return
    a state that continues the rotation in the next batch (or the given state unchanged
    for stateless strategies).
    """

    name: ClassVar[str]
    # What the policy's pool stage may ask of the strategy (it never checks its class):
    # ``soft_terms``: the strategy is the optimiser, so the stage may solve a pool itself
    # with the policy's soft terms (fairness band, account split penalty) through
    # ``solve``; ``time_limited``: the strategy has a ``time_limit_s`` field, set to the
    # pool's share of the run's time limit. ``stateless``: ``assign`` carries nothing from
    # batch to batch, so replayed batches may run in any order (the sweep splits them).
    soft_terms: ClassVar[bool]
    time_limited: ClassVar[bool]
    stateless: ClassVar[bool]

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome: ...


# -- shared helpers --------------------------------------------------------------------
def rotation_rank(problem: RoutingProblem, order: Sequence[str] | None) -> IntArray:
    """Position of each rep in the rotation: ``order`` (rep ids) first, the rest after it
    in rep table order. ``None`` is the rep table order."""
    m = problem.n_reps
    if order is None:
        return np.arange(m, dtype=np.int64)
    index = {str(rep): j for j, rep in enumerate(problem.rep_ids)}
    unknown = [rep for rep in order if rep not in index]
    if unknown:
        raise PolicyError(
            f"rep order names unknown rep(s): {', '.join(map(repr, unknown[:5]))}"
        )
    listed = [index[rep] for rep in order]
    rest = sorted(set(range(m)) - set(listed))
    rank = np.empty(m, dtype=np.int64)
    rank[np.asarray(listed + rest, dtype=np.int64)] = np.arange(m)
    return rank


def check_order(order: Sequence[str] | None) -> tuple[str, ...] | None:
    if order is None:
        return None
    if isinstance(order, str):
        raise PolicyError("order must be a list of rep ids, not one string")
    out = tuple(str(rep) for rep in order)
    if len(set(out)) != len(out):
        raise PolicyError("order lists a rep more than once")
    return out


def pairs_by_rank(problem: RoutingProblem, rank: IntArray) -> IntArray:
    """Pair indices sorted by lead, then rotation rank (identity for table order)."""
    if np.array_equal(rank, np.arange(problem.n_reps)):
        return np.arange(problem.n_pairs, dtype=np.int64)
    return np.lexsort((rank[problem.pair_rep], problem.pair_lead)).astype(np.int64)


def state_or_empty(state: StrategyState | None) -> RotationState:
    return state if state is not None else RotationState()


def heuristic_result(
    problem: RoutingProblem,
    rep_index: IntArray,
    assigned_reasons: Sequence[Reason | None],
    started: float,
) -> SolveResult:
    """Package a heuristic's assignment; unassigned leads get the core's reasons.

    Raises ``SolverError`` if the assignment breaks eligibility or capacity (a bug).
    """
    pairs = pair_index_of(problem, rep_index)  # raises on an ineligible pair
    loads = rep_loads(problem, rep_index)
    if np.any(loads > problem.capacity + EFFORT_TOLERANCE * max(problem.n_leads, 1)):
        raise SolverError("internal error: a strategy over-filled a rep")
    counts = np.diff(problem.lead_pair_bounds())
    assigned = rep_index >= 0
    statuses = tuple(LeadStatus.ASSIGNED if a else LeadStatus.UNASSIGNED for a in assigned)
    reasons: list[Reason] = []
    for lead in range(problem.n_leads):
        if assigned[lead]:
            reason = assigned_reasons[lead]
            assert reason is not None
            reasons.append(reason)
        elif counts[lead] == 0:
            reasons.append(shared(ReasonCode.NO_ELIGIBLE_REP))
        else:
            reasons.append(shared(ReasonCode.CAPACITY_EXHAUSTED, int(counts[lead])))
    objective = float(problem.pair_score[pairs[assigned]].sum()) if assigned.any() else 0.0
    return SolveResult(
        status=SolveStatus.FEASIBLE,
        engines=(Engine.HEURISTIC,),
        rep_index=rep_index,
        lead_status=statuses,
        explanations=tuple(reasons),
        objective=objective,
        objective_scaled=round(objective * SCORE_SCALE),
        bound=float("inf"),
        score_scale=float(SCORE_SCALE),
        wall_time_s=time.perf_counter() - started,
    )


def now() -> float:
    return time.perf_counter()
