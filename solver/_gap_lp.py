"""The LP bound of a generalized assignment part, as rep prices: a dense view, the prices,
the bound they prove and each pair's reduced cost.

Relaxing the rep rows with prices ``π`` gives, for ANY ``π``, the Lagrangian bound
``Σ_j (π_j⁺·U_j − π_j⁻·L_j) + Σ_i max_j (s_ij − e_ij·π_j)`` on every assignment that
routes every item once with each rep's load in ``[L_j, U_j]``; at the LP's optimal prices
it equals the LP bound. So the bound stays valid whatever the LP solver's tolerances, and a
pair whose reduced cost exceeds ``bound − incumbent`` cannot be in a better assignment.

Prices come from a min-cost flow when every item costs its reps the same effort (the LP
relaxation is then a transportation problem: 15–25× faster than HiGHS on the micro-batch
shapes, measured), else from HiGHS through scipy (never highspy: SOLVER-NOTES 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from solver._cpsat import integral_efforts
from solver._problem import RoutingProblem
from solver._scaling import scale_efforts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Dense views cost n×m cells (several arrays); beyond this the part goes to plain CP-SAT.
MAX_DENSE_CELLS = 6_000_000
# Prices by Bellman-Ford on the rep graph cost O(m²) per sweep; beyond, HiGHS.
_MAX_FLOW_REPS = 400
_FLOW_COST_RANGE = 10.0**14  # |unit cost| × total flow stays well inside int64


@dataclass(frozen=True)
class DenseGap:
    """Items × reps in whole effort units. ``pair``: pair index, -1 where no candidate
    (its score is -inf and its effort above every bound). Every row has a candidate."""

    score: FloatArray
    effort: IntArray
    pair: IntArray
    lower: IntArray  # per rep, least load (band floor; 0 without a band)
    upper: IntArray  # per rep, most load (capacity, or the band's ceiling)
    rows: IntArray  # the problem's item index of each row

    @property
    def shape(self) -> tuple[int, int]:
        return self.score.shape[0], self.score.shape[1]

    @property
    def candidate(self) -> BoolArray:
        return self.pair >= 0


def dense_gap(problem: RoutingProblem, lower: IntArray | None, upper: IntArray | None,
              units: IntArray | None, capacity: IntArray) -> DenseGap | None:
    """Rows for the items that fit some rep; None when the part is too large for it."""
    n, m = problem.n_leads, problem.n_reps
    if n * m > MAX_DENSE_CELLS or problem.n_pairs == 0:
        return None
    effort = units if units is not None else scale_efforts(problem.pair_effort,
                                                           problem.capacity)[0]
    top = capacity if upper is None else upper
    usable = effort <= top[problem.pair_rep]
    rows = np.unique(problem.pair_lead[usable])
    position = np.full(n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    pl, pr = position[problem.pair_lead[usable]], problem.pair_rep[usable]
    score = np.full((len(rows), m), -np.inf)
    score[pl, pr] = problem.pair_score[usable]
    dense_effort = np.full((len(rows), m), int(top.max(initial=0)) + 1, dtype=np.int64)
    dense_effort[pl, pr] = effort[usable]
    pair = np.full((len(rows), m), -1, dtype=np.int64)
    pair[pl, pr] = np.flatnonzero(usable)
    return DenseGap(score=score, effort=dense_effort, pair=pair,
                    lower=np.zeros(m, np.int64) if lower is None else lower,
                    upper=top.astype(np.int64), rows=rows)


def effort_units(problem: RoutingProblem) -> tuple[IntArray | None, IntArray]:
    """(pair efforts, capacities) in whole units: the efforts themselves when they are whole
    numbers (None: use ``scale_efforts``), and capacities rounded down to match."""
    units = integral_efforts(problem)
    if units is not None:
        # a capacity beyond all a rep's pairs could load never binds: capped there it is
        # still exact, and a huge one (1e308) no longer wraps in the cast to int64
        reachable = np.bincount(problem.pair_rep, weights=units, minlength=problem.n_reps)
        return units, np.floor(np.minimum(problem.capacity, reachable) + 1e-9
                               ).astype(np.int64)
    return None, scale_efforts(problem.pair_effort, problem.capacity)[1]


@dataclass(frozen=True)
class Prices:
    price: FloatArray  # per rep, score per effort unit (negative: the floor binds)
    fraction: FloatArray  # LP value of each cell (rows × reps)


def lagrangian_bound(gap: DenseGap, price: FloatArray) -> float:
    """Upper bound on the score of any assignment routing every row (module docstring)."""
    profit = gap.score - gap.effort * price[None, :]
    rep_part = np.maximum(price, 0.0) @ gap.upper - np.maximum(-price, 0.0) @ gap.lower
    return float(rep_part + profit.max(axis=1).sum())


def reduced_costs(gap: DenseGap, price: FloatArray) -> FloatArray:
    """Per cell, how much forcing it lowers the bound (inf where no candidate)."""
    profit = gap.score - gap.effort * price[None, :]
    return np.where(gap.candidate, profit.max(axis=1)[:, None] - profit, np.inf)


def lp_prices(gap: DenseGap) -> Prices | None:
    """Optimal LP prices; None when the relaxation cannot route every row in the band."""
    m = gap.shape[1]
    same = np.where(gap.candidate, gap.effort, -1).max(axis=1)
    flow_shaped = bool(np.all(np.where(gap.candidate, gap.effort == same[:, None], True)))
    if flow_shaped and m <= _MAX_FLOW_REPS:
        return _flow_prices(gap, same)
    return _highs_prices(gap)


def _flow_prices(gap: DenseGap, effort: IntArray) -> Prices | None:
    """Transportation LP: item i supplies its effort, rep j takes ``[L_j, U_j]`` units; a
    split item is a fractional one. Prices are shortest-path potentials of the optimum."""
    n, m = gap.shape
    if int(effort.sum()) < int(gap.lower.sum()):
        return None
    cell_i, cell_j = np.nonzero(gap.candidate)
    unit = gap.score[cell_i, cell_j] / effort[cell_i]
    scale = _FLOW_COST_RANGE / max(float(np.abs(unit).max(initial=1.0)) * effort.sum(), 1.0)
    cost = -np.rint(unit * scale).astype(np.int64)
    sink = n + m
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(cell_i, n + cell_j, effort[cell_i], cost)
    flow.add_arcs_with_capacity_and_unit_cost(
        n + np.arange(m), np.full(m, sink), gap.upper - gap.lower, np.zeros(m, np.int64))
    supplies = np.concatenate([effort, -gap.lower, [-(int(effort.sum()) - int(gap.lower.sum()))]])
    flow.set_nodes_supplies(np.arange(n + m + 1), supplies.astype(np.int64))
    if flow.solve() != flow.OPTIMAL:
        return None  # the rows cannot all be routed, even fractionally
    sent = np.zeros((n, m), dtype=np.int64)
    sent[cell_i, cell_j] = flow.flows(np.arange(len(cell_i)))
    unit_cost = np.full((n, m), np.inf)
    unit_cost[cell_i, cell_j] = cost / scale
    price = _potentials(sent, effort, unit_cost, gap)
    return Prices(price=price, fraction=sent / effort[:, None])


def _potentials(sent: IntArray, effort: IntArray, unit_cost: FloatArray,
                gap: DenseGap) -> FloatArray:
    """Rep prices from shortest paths in the optimum's residual graph, contracted to reps
    and the sink: moving a unit of item i from rep a to rep b costs ``c_ib − c_ia``."""
    n, m = sent.shape
    load = sent.sum(axis=0)
    weight = np.full((m + 1, m + 1), np.inf)
    items, reps = np.nonzero(sent > 0)
    moves = np.where(sent[items] < effort[items, None], unit_cost[items], np.inf)
    moves = moves - unit_cost[items, reps][:, None]
    np.minimum.at(weight, (np.repeat(reps, m), np.tile(np.arange(m), len(reps))),
                  moves.ravel())
    np.fill_diagonal(weight, np.inf)
    weight[np.flatnonzero(load < gap.upper), m] = 0.0
    weight[m, np.flatnonzero(load > gap.lower)] = 0.0
    distance = np.zeros(m + 1)
    for _ in range(m + 2):  # Bellman-Ford from a virtual root (no negative cycle at optimum)
        shorter = np.minimum(distance, (distance[:, None] + weight).min(axis=0))
        if np.array_equal(shorter, distance):
            break
        distance = shorter
    price = distance[m] - distance[:m]
    # a rep without a floor never has a negative price (its zero load is not binding)
    return np.where(gap.lower > 0, price, np.maximum(price, 0.0))


def _highs_prices(gap: DenseGap) -> Prices | None:
    """The LP with HiGHS: each row once, loads within ``[L, U]``; prices from the duals."""
    # imported here: scipy.optimize is a noticeable share of `leadroute route`'s start-up
    # and most micro-batches take their prices from the flow
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    n, m = gap.shape
    cell_i, cell_j = np.nonzero(gap.candidate)
    k = len(cell_i)
    cols = np.arange(k)
    rows_eq = csr_matrix((np.ones(k), (cell_i, cols)), shape=(n, k))
    load = csr_matrix((gap.effort[cell_i, cell_j].astype(float), (cell_j, cols)), shape=(m, k))
    floors = np.flatnonzero(gap.lower > 0)
    matrix = vstack([load, -load[floors]]).tocsr()
    rhs = np.concatenate([gap.upper, -gap.lower[floors]]).astype(float)
    result = linprog(-gap.score[cell_i, cell_j], A_ub=matrix, b_ub=rhs, A_eq=rows_eq,
                     b_eq=np.ones(n), bounds=(0, 1), method="highs")
    if result.status != 0:
        return None
    duals = -np.asarray(result.ineqlin.marginals, dtype=float)
    price = duals[:m].copy()
    price[floors] -= duals[m:]
    fraction = np.zeros((n, m))
    fraction[cell_i, cell_j] = result.x
    return Prices(price=price, fraction=fraction)
