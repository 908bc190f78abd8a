"""Pick the engine, solve, and explain every lead's outcome.

Transportation-shaped parts (every rep's candidate pairs share one effort) go to
min-cost flow; only the connected components that are not flow-shaped go to CP-SAT,
warm-started from greedy best-fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from solver._band import LoadBand
from solver._cpsat import CpSatSettings, SplitPenalty, integral_efforts, solve_cpsat
from solver._explain import explain
from solver._flow import solve_flow
from solver._greedy import greedy_best_fit
from solver._problem import RoutingProblem
from solver._result import Engine, SolveResult, SolveStatus, pair_index_of
from solver._scaling import SCORE_SCALE


@dataclass(frozen=True, kw_only=True)
class SolveOptions:
    """Engine settings. ``time_limit_s`` bounds CP-SAT; min-cost flow always finishes.

    ``workers``: CP-SAT search threads. One worker is the default because it is both
    deterministic and, measured on the 2-core machine, the fastest on micro-batch GAPs
    (400 leads × 40 reps, efforts 1–3: 1.4 s with 1 worker, 4.8 s with a 2-worker
    portfolio, 8.8 s with 2 interleaved deterministic workers). With ``workers > 1`` the
    search is interleaved so the same seed still gives the same output.
    """

    time_limit_s: float = 30.0
    seed: int = 0
    workers: int = 1


def _components(problem: RoutingProblem, split: SplitPenalty | None = None
                ) -> npt.NDArray[np.int64]:
    """Component label per lead and per rep (reps after leads). Leads of one soft account
    group are linked: their split penalty couples them."""
    n, m = problem.n_leads, problem.n_reps
    rows, cols = problem.pair_lead, n + problem.pair_rep
    if split is not None:
        grouped = np.flatnonzero(split.grouped())
        order = grouped[np.argsort(split.group[grouped], kind="stable")]
        same = split.group[order[1:]] == split.group[order[:-1]]
        rows = np.concatenate([rows, order[:-1][same]])
        cols = np.concatenate([cols, order[1:][same]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


# A connected component of the candidate graph with at least this many leads gets its own
# CP-SAT model (the objective is separable across components: coverage, band shortfall on
# each rep's own load, score); smaller ones share one, so many tiny parts cost one call.
_OWN_MODEL_LEADS = 64


def _cpsat_parts(labels: npt.NDArray[np.int64], gap_labels: npt.NDArray[np.int64], n: int,
                 *, split_large: bool) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """The CP-SAT components as (leads, reps) parts: large components alone (proving
    optimality is superlinear in model size), the small ones together."""
    lead_labels, rep_labels = labels[:n], labels[n:]
    sizes = np.bincount(lead_labels, minlength=int(labels.max(initial=0)) + 1)
    big = [label for label in gap_labels.tolist()
           if split_large and sizes[label] >= _OWN_MODEL_LEADS]
    small = np.setdiff1d(gap_labels, big)
    parts = [(np.flatnonzero(lead_labels == label), np.flatnonzero(rep_labels == label))
             for label in big]
    if len(small):
        parts.append((np.flatnonzero(np.isin(lead_labels, small)),
                      np.flatnonzero(np.isin(rep_labels, small))))
    return parts


def _gap_shaped_reps(problem: RoutingProblem, split: SplitPenalty | None = None
                    ) -> npt.NDArray[np.bool_]:
    """Reps whose candidate pairs do not all cost the same effort, that can take a row
    standing for several leads (coverage then needs weights: not a flow), or a lead of a
    soft account group (the split penalty is not a flow cost)."""
    hi = np.full(problem.n_reps, -np.inf)
    lo = np.full(problem.n_reps, np.inf)
    np.maximum.at(hi, problem.pair_rep, problem.pair_effort)
    np.minimum.at(lo, problem.pair_rep, problem.pair_effort)
    mixed = np.isfinite(hi) & (hi - lo > 1e-9)
    if problem.lead_weight is not None:
        grouped = problem.lead_weight[problem.pair_lead] > 1
        mixed[np.unique(problem.pair_rep[grouped])] = True
    if split is not None:
        mixed[np.unique(problem.pair_rep[split.grouped()[problem.pair_lead]])] = True
    return mixed


def solve(
    problem: RoutingProblem,
    options: SolveOptions | None = None,
    band: LoadBand | None = None,
    split: SplitPenalty | None = None,
) -> SolveResult:
    """Maximal coverage first, then (with ``band``) the smallest load-band shortfall, then
    maximal total score (minus ``split``'s penalty for soft account groups split across
    reps). Never raises on a timeout."""
    options = options or SolveOptions()
    started = time.perf_counter()
    n = problem.n_leads
    rep_index = np.full(n, -1, dtype=np.int64)
    engines: list[Engine] = []
    status = SolveStatus.OPTIMAL
    objective_scaled = 0
    bound = 0.0
    scale = float(SCORE_SCALE)
    timed_out_leads = np.zeros(n, dtype=bool)

    if problem.n_pairs:
        if split is not None and not split.grouped().any():
            split = None
        gap_reps = _gap_shaped_reps(problem, split)
        if gap_reps.any():
            labels = _components(problem, split)
            gap_labels = np.unique(labels[n:][gap_reps])
            in_gap = np.isin(labels, gap_labels)
        else:
            labels = np.zeros(n + problem.n_reps, dtype=np.int64)
            gap_labels = np.zeros(0, dtype=np.int64)
            in_gap = np.zeros(n + problem.n_reps, dtype=bool)
        parts = [(np.flatnonzero(~in_gap[:n]), np.flatnonzero(~in_gap[n:]), False)]
        # the effort-scaled band model also penalises the worst rep of the whole part, which
        # does not separate: with a band and fractional efforts, one model for all
        separable = band is None or integral_efforts(problem) is not None
        parts += [(leads, reps, True) for leads, reps in _cpsat_parts(
            labels, gap_labels, n, split_large=separable)]
        for leads, reps, gap_shaped in parts:
            if len(leads) == 0:
                continue
            if len(leads) == n and len(reps) == problem.n_reps:
                sub = problem  # one engine for everything: no copy of the pair arrays
            else:
                sub, _ = problem.subproblem(leads, reps)
            if sub.n_pairs == 0:
                continue
            if not gap_shaped:
                unit = sub.rep_unit_effort()
                assert unit is not None  # flow part has one effort per rep by construction
                flow = solve_flow(sub, unit, None if band is None else band.restricted(reps))
                rep_index[leads] = np.where(flow.rep_index >= 0, reps[flow.rep_index], -1)
                engines.append(Engine.MIN_COST_FLOW)
                objective_scaled += flow.objective_scaled
                bound += flow.scaled.unscale(flow.objective_scaled)
                scale = min(scale, flow.scaled.scale)
                continue
            elapsed = time.perf_counter() - started
            settings = CpSatSettings(
                time_limit_s=max(options.time_limit_s - elapsed, 0.01),
                seed=options.seed,
                workers=options.workers,
            )
            sat = solve_cpsat(
                sub, settings, hint=greedy_best_fit(sub),
                band=None if band is None else band.restricted(reps),
                split=None if split is None else split.restricted(leads),
            )
            engines.append(Engine.CP_SAT)
            scale = min(scale, sat.scaled.scale)
            if not sat.found:
                status = SolveStatus.NO_SOLUTION
                timed_out_leads[leads] = True
                bound = float("inf")
                continue
            rep_index[leads] = np.where(sat.rep_index >= 0, reps[sat.rep_index], -1)
            objective_scaled += sat.objective_scaled
            bound += sat.scaled.unscale(sat.score_bound_scaled)
            if not sat.proven_optimal and status is SolveStatus.OPTIMAL:
                status = SolveStatus.FEASIBLE

    if not engines:
        engines.append(Engine.NONE)
    lead_status, reasons = explain(problem, rep_index, timed_out=timed_out_leads)
    assigned = rep_index >= 0
    objective = float(
        problem.pair_score[_chosen_pairs(problem, rep_index)].sum()
    ) if assigned.any() else 0.0
    if status is SolveStatus.OPTIMAL:
        bound = objective
    return SolveResult(
        status=status,
        engines=tuple(engines),
        rep_index=rep_index,
        lead_status=lead_status,
        reasons=reasons,
        objective=objective,
        objective_scaled=objective_scaled,
        bound=bound,
        score_scale=scale,
        wall_time_s=time.perf_counter() - started,
    )


def _chosen_pairs(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    pairs = pair_index_of(problem, rep_index)
    return pairs[pairs >= 0]
