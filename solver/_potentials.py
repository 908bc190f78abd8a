"""Rep prices (LP duals) of an optimal transportation-shaped assignment.

OR-Tools' ``SimpleMinCostFlow`` does not expose its node potentials, but they follow from
the optimal flow: complementary slackness turns the dual into a system of difference
constraints on the m rep prices alone (a lead's dual is fixed by its rep's price), and a
shortest-path pass over an (m+1)-node graph solves it. Of all optimal duals we return the
componentwise smallest rep prices: for integral data that is exactly what one more unit
of a rep's capacity would add to the objective (the objective is piecewise linear in a
capacity, with breakpoints at whole numbers of leads).

Weights are the engine's integer costs held in float64, exact below 2**53.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.errors import SolverError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Prices:
    rep: FloatArray  # v_j >= 0, per rep
    lead: FloatArray  # u_i, per lead (free when every lead must be routed)


def rep_prices(
    pair_lead: IntArray, pair_rep: IntArray, weight: FloatArray, rep_index: IntArray,
    full: BoolArray, *, leads_may_idle: bool,
) -> Prices:
    """Duals of ``max Σ weight·x`` s.t. each lead routed at most once (exactly once
    unless ``leads_may_idle``), each rep within its capacity, for the optimal
    ``rep_index`` (-1 = unrouted; leads with pairs are all routed when not
    ``leads_may_idle``). ``full``: reps whose load equals their capacity."""
    n, m = len(rep_index), len(full)
    zero = m  # the node whose price is 0
    assigned_weight = _assigned_weight(pair_lead, pair_rep, weight, rep_index)
    # edge x→y of weight c stands for v_y - v_x <= c
    graph = np.full((m + 1, m + 1), np.inf)
    rep_of_lead = rep_index[pair_lead]
    on = rep_of_lead >= 0
    # lead i on rep j, pair (i, k): u_i = w_ij - v_j >= w_ik - v_k
    np.minimum.at(graph, (pair_rep[on], rep_of_lead[on]),
                  assigned_weight[pair_lead[on]] - weight[on])
    routed = np.flatnonzero(rep_index >= 0)
    if leads_may_idle:
        # u_i = w_ij - v_j >= 0
        np.minimum.at(graph, (np.full(len(routed), zero), rep_index[routed]),
                      assigned_weight[routed])
        # an idle lead has u_i = 0, so every rep it could go to has v_k >= w_ik
        np.minimum.at(graph, (pair_rep[~on], np.full(int((~on).sum()), zero)), -weight[~on])
    graph[:m, zero] = np.minimum(graph[:m, zero], 0.0)  # v_j >= 0
    slack = np.flatnonzero(~full)
    graph[zero, slack] = np.minimum(graph[zero, slack], 0.0)  # v_j = 0 below capacity
    rep = -_distances_to(graph, zero)[:m]
    lead = np.zeros(n)
    lead[routed] = assigned_weight[routed] - rep[rep_index[routed]]
    return Prices(rep=rep, lead=lead)


def _assigned_weight(pair_lead: IntArray, pair_rep: IntArray, weight: FloatArray,
                     rep_index: IntArray) -> FloatArray:
    chosen = rep_index[pair_lead] == pair_rep
    out = np.zeros(len(rep_index))
    out[pair_lead[chosen]] = weight[chosen]
    return out


def _distances_to(graph: FloatArray, target: int) -> FloatArray:
    """Shortest distance from every node to ``target`` (Bellman–Ford, one dense
    relaxation of all edges per round; rounds = edges on the longest shortest path)."""
    dist = np.full(len(graph), np.inf)
    dist[target] = 0.0
    for _ in range(len(graph) + 1):
        relaxed = np.minimum(dist, (graph + dist[None, :]).min(axis=1))
        if np.array_equal(relaxed, dist):
            return dist
        dist = relaxed
    raise SolverError("rep prices: negative cycle, the assignment is not optimal")


def lead_slack(pair_lead: IntArray, pair_rep: IntArray, weight: FloatArray,
               prices: Prices) -> FloatArray:
    """Per pair ``weight - v_rep - u_lead``: positive means the pair would improve the
    assignment (a violated dual constraint)."""
    return weight - prices.rep[pair_rep] - prices.lead[pair_lead]
