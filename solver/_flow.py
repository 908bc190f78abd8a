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
from solver._potentials import Prices, rep_prices
from solver._problem import EFFORT_TOLERANCE, RoutingProblem, lead_chunks
from solver._result import pair_index_of
from solver._scaling import ScaledScores, scale_scores, whole_slots
from solver.errors import SolverError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# Below this many candidate pairs one full solve is cheaper than pricing rounds.
PRUNE_MIN_PAIRS = 2_000_000
# Each lead starts with about its best few reps; the pricing rounds add what is missing.
# Measured at 100k x 1k, 30% eligible: 4 needs a second full-size solve, 6-8 one, 16 one
# on a graph twice as large (2.7 s vs 2.0 s of flow); 6 took 0.25-0.35 s less CPU than 8
# (0.6M instead of 0.8M arcs in the full-size solve; 5: no faster, one more sample round).
PRUNE_TOP_K = 6
PRUNE_MAX_ROUNDS = 8
# From this many leads the first pruned graph is chosen with prices from a sample.
PRUNE_SAMPLE_MIN_LEADS = 8_000
# Pairs per numpy pass in the pruned path's scans (8 MB of int64: stays in the allocator's
# heap instead of fresh pages).
CHUNK = 1 << 20


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
    if band is None and k >= PRUNE_MIN_PAIRS:
        pruned = solve_pruned(problem, scaled.values, slots)
        if pruned is not None:
            return _solution(problem, pruned, scaled)
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
        _add_band_arcs(flow, reps, sinks, slots, weight, band, unit_effort)
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
    return _solution(problem, rep_index, scaled, chosen)


def _add_band_arcs(flow: min_cost_flow.SimpleMinCostFlow, reps: IntArray, sinks: IntArray,
                   slots: IntArray, weight: int, band: LoadBand,
                   unit_effort: npt.NDArray[np.float64]) -> None:
    """Each rep's arcs to the sink: its units below the band's floor one at a time at a
    growing bonus, the band's width free, its units above the ceiling at a growing
    penalty. Convex penalties spread a shortfall evenly: the k-th missing unit below the
    floor costs k weights, the k-th unit above the ceiling k weights."""
    m = len(reps)
    lower = np.minimum(np.ceil(band.lower / unit_effort - EFFORT_TOLERANCE), slots)
    upper = np.clip(np.floor(band.upper / unit_effort + EFFORT_TOLERANCE), lower, slots)
    lower, upper = lower.astype(np.int64), upper.astype(np.int64)
    below = np.repeat(np.arange(m), lower)
    depth = lower[below] - (np.arange(len(below)) - np.repeat(np.cumsum(lower) - lower, lower))
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


def _solution(problem: RoutingProblem, rep_index: IntArray, scaled: ScaledScores,
              chosen: IntArray | None = None) -> FlowSolution:
    if chosen is None:
        pairs = pair_index_of(problem, rep_index)
        chosen = pairs[pairs >= 0]
    return FlowSolution(rep_index=rep_index, scaled=scaled,
                        objective_scaled=int(scaled.values[chosen].sum()))


def max_coverage_assignment(
    n: int, m: int, pair_lead: IntArray, pair_rep: IntArray, weight: IntArray,
    slots: IntArray,
) -> IntArray:
    """Most leads routed, then the largest total integer ``weight``: rep per lead."""
    k = len(pair_lead)
    source, sink = n + m + 1, n + m
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source, dtype=np.int64), np.arange(n, dtype=np.int64),
        np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        pair_lead, n + pair_rep, np.ones(k, dtype=np.int64), -weight
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        n + np.arange(m, dtype=np.int64), np.full(m, sink, dtype=np.int64), slots,
        np.zeros(m, dtype=np.int64),
    )
    supplies = np.zeros(n + m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + m + 2, dtype=np.int64), supplies)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    chosen = np.flatnonzero(flow.flows(np.arange(n, n + k, dtype=np.int64)) > 0)
    rep_index = np.full(n, -1, dtype=np.int64)
    rep_index[pair_lead[chosen]] = pair_rep[chosen]
    return rep_index


@dataclass(frozen=True)
class _Pairs:
    """The candidate pairs the pruned solve works on: sorted by lead (``starts`` of
    length n+1 bound each lead's pairs), without a RoutingProblem's validation copies."""

    n: int
    m: int
    lead: IntArray
    rep: IntArray
    starts: IntArray

    @classmethod
    def of(cls, problem: RoutingProblem) -> _Pairs:
        return cls(problem.n_leads, problem.n_reps, problem.pair_lead, problem.pair_rep,
                   problem.lead_pair_bounds())

    def chunks(self) -> list[tuple[int, int, int, int]]:
        return lead_chunks(self.starts, CHUNK)


def solve_pruned(problem: RoutingProblem, weight: IntArray, slots: IntArray,
                 top: int | None = None) -> IntArray | None:
    """Exact max-coverage, max-weight assignment from a fraction of the pairs: each lead
    keeps about its best ``PRUNE_TOP_K`` reps (best after subtracting rep prices
    estimated on a sample of the leads, when the batch is large); after each solve the rep prices
    (LP duals of the pruned problem) price every dropped pair, and the pairs that would
    improve the assignment are added back, until none would (then the pruned optimum is
    the full one: every dropped pair satisfies its dual constraint). None when that does
    not settle within ``PRUNE_MAX_ROUNDS`` or some lead stays unrouted (coverage is then
    not proven maximal by this argument); the caller solves the full graph instead."""
    if max(int(weight.max(initial=0)), -int(weight.min(initial=0))) * 2 * (
            problem.n_reps + 2) >= 2**53:
        return None  # prices would not be exact in float64
    pairs = _Pairs.of(problem)
    keep = _first_pairs(pairs, weight, slots, PRUNE_TOP_K if top is None else top)
    solved = _price_and_add(pairs, weight, slots, keep)
    return None if solved is None else solved[0]


def _first_pairs(pairs: _Pairs, weight: IntArray, slots: IntArray, top: int) -> BoolArray:
    """Each lead's near-best pairs, by weight minus the sampled rep prices if any."""
    estimate = _sample_prices(pairs, weight, slots, top)
    offset = None if estimate is None else np.rint(estimate).astype(np.int64)
    return near_best_pairs(weight, pairs, top, offset)


def _sample_prices(pairs: _Pairs, weight: IntArray, slots: IntArray, top: int
                   ) -> FloatArray | None:
    """Rep prices of a random eighth of the leads with an eighth of each rep's room: a
    cheap guess of which reps are scarce, so the first pruned graph is nearly right."""
    n = pairs.n
    if n < PRUNE_SAMPLE_MIN_LEADS:
        return None
    sample = np.sort(np.random.default_rng(0).choice(n, size=n // 8, replace=False))
    # the sampled leads' pair ranges, gathered without a pass over every pair
    begin, end = pairs.starts[sample], pairs.starts[sample + 1]
    degree = end - begin
    sub_starts = np.concatenate(([0], np.cumsum(degree)))
    kept = np.repeat(begin - sub_starts[:-1], degree) + np.arange(sub_starts[-1])
    sub = _Pairs(len(sample), pairs.m, np.repeat(np.arange(len(sample)), degree),
                 pairs.rep[kept], sub_starts)
    sub_slots = np.ceil(slots * len(sample) / n).astype(np.int64)
    sub_weight = weight[kept]
    keep = _first_pairs(sub, sub_weight, sub_slots, top)  # a sample of the sample, if large
    solved = _price_and_add(sub, sub_weight, sub_slots, keep)
    return None if solved is None else solved[1].rep


def _price_and_add(pairs: _Pairs, weight: IntArray, slots: IntArray, keep: BoolArray
                   ) -> tuple[IntArray, Prices] | None:
    """Solve on the ``keep`` pairs, add the dropped pairs that price out, repeat."""
    n, m, pl, pr = pairs.n, pairs.m, pairs.lead, pairs.rep
    has_pairs = pairs.starts[1:] > pairs.starts[:-1]
    for _ in range(PRUNE_MAX_ROUNDS):
        kept = np.flatnonzero(keep)
        kl, kr, kw = pl[kept], pr[kept], weight[kept]
        rep_index = max_coverage_assignment(n, m, kl, kr, kw, slots)
        unrouted = has_pairs & (rep_index < 0)
        if unrouted.any():  # give those leads every pair, and solve again
            more = _pairs_of_leads(pairs, np.flatnonzero(unrouted))
            more = more[~keep[more]]
            if len(more) == 0:
                return None  # they had every pair already: capacity is short
            keep[more] = True
            continue
        load = np.bincount(rep_index[rep_index >= 0], minlength=m)
        prices = rep_prices(kl, kr, kw.astype(np.float64), rep_index, load >= slots,
                            leads_may_idle=False)
        violated = _violations(pairs, weight, prices)
        if len(violated) == 0:
            return rep_index, prices
        keep[violated] = True
    return None


def _pairs_of_leads(pairs: _Pairs, leads: IntArray) -> IntArray:
    begin, end = pairs.starts[leads], pairs.starts[leads + 1]
    degree = end - begin
    offsets = np.cumsum(degree) - degree
    return np.repeat(begin - offsets, degree) + np.arange(int(degree.sum()))


def _violations(pairs: _Pairs, weight: IntArray, prices: Prices) -> IntArray:
    """Pairs with positive reduced profit, in cache-sized chunks."""
    found = []
    for _, _, start, stop in pairs.chunks():
        gain = weight[start:stop] - prices.rep[pairs.rep[start:stop]]
        gain -= prices.lead[pairs.lead[start:stop]]
        found.append(start + np.flatnonzero(gain > 0.5))  # integer weights
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def near_best_pairs(weight: IntArray, pairs: _Pairs, per_lead: int,
                    rep_offset: IntArray | None = None) -> BoolArray:
    """Pairs within δ of their lead's best ``weight - rep_offset``, δ set so that about
    ``per_lead`` pairs per lead are kept on average (each lead keeps at least its best).
    Two chunked passes over the pairs: cheaper than an exact top-k per lead, and
    exactness does not depend on it."""
    k = len(weight)
    nonempty = pairs.starts[:-1] < pairs.starts[1:]
    if k <= per_lead * int(nonempty.sum()):
        return np.ones(k, dtype=bool)

    def ranked(start: int, stop: int) -> IntArray:
        part = weight[start:stop]
        return part if rep_offset is None else part - rep_offset[pairs.rep[start:stop]]

    best = np.zeros(pairs.n, dtype=np.int64)
    chunks = pairs.chunks()
    for lo, hi, start, stop in chunks:
        full = np.flatnonzero(nonempty[lo:hi]) + lo
        best[full] = np.maximum.reduceat(ranked(start, stop), pairs.starts[full] - start)
    share = per_lead * int(nonempty.sum()) / k
    probe = np.random.default_rng(0).integers(0, k, size=min(k, 1_000_000))
    sample = best[pairs.lead[probe]] - weight[probe]
    if rep_offset is not None:
        sample += rep_offset[pairs.rep[probe]]
    delta = np.quantile(sample, share, method="lower")
    keep = np.empty(k, dtype=bool)
    for _, _, start, stop in chunks:
        keep[start:stop] = best[pairs.lead[start:stop]] - ranked(start, stop) <= delta
    return keep


def capacity_prices(problem: RoutingProblem, score: npt.NDArray[np.float64],
                    capacity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """Per rep, the smallest optimal dual of its capacity row in ``max score·x``, each
    lead at most once, each rep's effort within ``capacity``: the score one more unit
    of capacity adds. From one min-cost flow and the rep prices of its optimum; None when
    the LP is not a transportation problem with whole-number rep capacities (efforts
    differ within a rep, or a capacity is not a whole number of leads)."""
    n, m = problem.n_leads, problem.n_reps
    unit = problem.rep_unit_effort()
    if unit is None:
        return None
    room = capacity / unit
    if np.any(np.abs(room - np.rint(room)) > EFFORT_TOLERANCE):
        return None
    slots = np.minimum(np.rint(room), n).astype(np.int64)
    scaled = scale_scores(score, multiplier=(n + m + 2) * max(n, 1))
    if float(np.abs(scaled.values).max(initial=0)) * 2 * (m + 2) >= 2.0**53:
        return None  # prices would not be exact in float64
    rep_index = _best_score_assignment(problem, scaled.values, slots)
    load = np.bincount(rep_index[rep_index >= 0], minlength=m)
    prices = rep_prices(problem.pair_lead, problem.pair_rep,
                        scaled.values.astype(np.float64), rep_index, load >= slots,
                        leads_may_idle=True)
    return prices.rep / scaled.scale / unit


def _best_score_assignment(problem: RoutingProblem, weight: IntArray, slots: IntArray
                           ) -> IntArray:
    """Largest total weight, leads free to stay unrouted (no coverage priority)."""
    n, m, k = problem.n_leads, problem.n_reps, problem.n_pairs
    sink = n + m
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        problem.pair_lead, n + problem.pair_rep, np.ones(k, dtype=np.int64), -weight
    )
    flow.add_arcs_with_capacity_and_unit_cost(  # staying unrouted costs nothing
        np.arange(n, dtype=np.int64), np.full(n, sink, dtype=np.int64),
        np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        n + np.arange(m, dtype=np.int64), np.full(m, sink, dtype=np.int64), slots,
        np.zeros(m, dtype=np.int64),
    )
    supplies = np.ones(n + m + 1, dtype=np.int64)
    supplies[n:] = 0
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")
    chosen = np.flatnonzero(flow.flows(np.arange(k, dtype=np.int64)) > 0)
    rep_index = np.full(n, -1, dtype=np.int64)
    rep_index[problem.pair_lead[chosen]] = problem.pair_rep[chosen]
    return rep_index
