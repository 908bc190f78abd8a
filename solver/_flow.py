"""Min-cost flow engine for transportation-shaped problems.

Graph: source → lead (capacity 1) → rep (candidate pairs, cost = −scaled score) → sink
(capacity = how many leads fit in the rep's capacity). ``solve_max_flow_with_min_cost``
maximises the number of routed leads first and the score second, which is exactly the
contract's coverage-first rule, with no big-M penalty to overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from solver._band import LoadBand, band_penalty_weight
from solver._errors import SolverError
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._scaling import ScaledScores, scale_scores, whole_slots


@dataclass(frozen=True)
class FlowSolution:
    rep_index: npt.NDArray[np.int64]
    scaled: ScaledScores
    objective_scaled: int


def rep_slots(
    problem: RoutingProblem, unit_effort: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Whole number of leads each rep can take when all its pairs cost ``unit_effort``."""
    return whole_slots(problem.capacity, unit_effort, EFFORT_TOLERANCE, problem.n_leads)


def solve_flow(
    problem: RoutingProblem,
    unit_effort: npt.NDArray[np.float64],
    band: LoadBand | None = None,
) -> FlowSolution:
    """``band``: rep→sink capacity split in three parallel arcs — up to the lower bound
    at a bonus, up to the upper bound free, beyond it at a penalty — so max-flow keeps
    coverage first, then the band shortfall is minimised, then the score maximised."""
    n, m, k = problem.n_leads, problem.n_reps, problem.n_pairs
    source, sink = n + m + 1, n + m
    # the band's weight is about 2·n·peak, times up to n convex steps: two more factors n
    blowup = (n + m + 2) * max(n, 1) * (2 * (n + 1) * (n + 1) if band is not None else 1)
    scaled = scale_scores(problem.pair_score, multiplier=blowup)
    slots = np.minimum(rep_slots(problem, unit_effort), n).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    # Three batches (source→lead, lead→rep, rep→sink) instead of concatenated arrays: no
    # extra copy of the pair arrays. Arc ids follow the order: pair arcs are n .. n+k-1.
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source, dtype=np.int64), np.arange(n, dtype=np.int64),
        np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        problem.pair_lead, n + problem.pair_rep, np.ones(k, dtype=np.int64), -scaled.values
    )
    reps, sinks = n + np.arange(m, dtype=np.int64), np.full(m, sink, dtype=np.int64)
    if band is None:
        flow.add_arcs_with_capacity_and_unit_cost(reps, sinks, slots, np.zeros(m, np.int64))
    else:
        weight = band_penalty_weight(problem.pair_lead, scaled.values, n)
        lower = np.minimum(np.ceil(band.lower / unit_effort - EFFORT_TOLERANCE), slots)
        upper = np.clip(np.floor(band.upper / unit_effort + EFFORT_TOLERANCE), lower, slots)
        lower, upper = lower.astype(np.int64), upper.astype(np.int64)
        # Convex penalties spread a shortfall evenly: the k-th missing unit below the
        # lower bound costs k weights, the k-th unit above the upper bound k weights.
        below = np.repeat(np.arange(m), lower)
        depth = lower[below] - (np.arange(len(below)) - np.repeat(np.cumsum(lower) - lower,
                                                                  lower))
        above = np.repeat(np.arange(m), slots - upper)
        height = 1 + np.arange(len(above)) - np.repeat(np.cumsum(slots - upper)
                                                       - (slots - upper), slots - upper)
        for rep_of, capacity, cost in (
            (below, np.ones(len(below), np.int64), -weight * depth),
            (np.arange(m), upper - lower, np.zeros(m, np.int64)),
            (above, np.ones(len(above), np.int64), weight * height),
        ):
            flow.add_arcs_with_capacity_and_unit_cost(
                reps[rep_of], sinks[rep_of], capacity.astype(np.int64), cost.astype(np.int64)
            )
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int64), supplies)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    pair_flow = flow.flows(np.arange(n, n + k, dtype=np.int64))
    chosen = np.flatnonzero(pair_flow > 0)
    rep_index = np.full(n, -1, dtype=np.int64)
    rep_index[problem.pair_lead[chosen]] = problem.pair_rep[chosen]
    return FlowSolution(
        rep_index=rep_index, scaled=scaled,
        objective_scaled=int(scaled.values[chosen].sum()),
    )
