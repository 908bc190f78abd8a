"""Pick the engine, solve, and explain every lead's outcome.

Transportation-shaped parts (every rep's candidate pairs share one effort) go to
min-cost flow; the connected components that are not flow-shaped (generalized assignment:
efforts, account groups) go to the GAP engine (LP bound, local search, CP-SAT on
LP-guided neighbourhoods; ``_gap_engine``), or, when not every lead can be routed within
the capacities (or band), to the exact weighted CP-SAT model warm-started from greedy
best-fit.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from solver._band import LoadBand
from solver._cpsat_types import CpSatSettings, SplitPenalty
from solver._explain import explain
from solver._flow import solve_flow
from solver._greedy import greedy_best_fit
from solver._problem import RoutingProblem
from solver._result import Engine, SolveResult, SolveStatus, pair_index_of
from solver._scaling import SCORE_SCALE
from solver._terms import TermName, assignment_terms, band_cost

if TYPE_CHECKING:
    from solver._cpsat import CpSatSolution
    from solver._gap_engine import GapSolution

# The gap limit for micro-batch routing (the CLI's ``route --gap`` and the service):
# stopping at 0.1% keeps every batch within 0.1% of its optimum; on dense micro-batches the
# knapsack bound proves it about as soon as the search gets there (bench_microbatch.py).
MICRO_BATCH_GAP_LIMIT = 0.001


def solve_gap(problem: RoutingProblem, settings: CpSatSettings, gap_limit: float,
              band: LoadBand | None = None) -> GapSolution | None:
    """``_gap_engine.solve_gap``, imported on first use: CP-SAT, HiGHS and the GAP engine
    take ~0.5 s to import, which a flow-shaped batch (the common ``route --scores`` case)
    never needs."""
    from solver._gap_engine import solve_gap as engine

    return engine(problem, settings, gap_limit, band)


def solve_cpsat(problem: RoutingProblem, settings: CpSatSettings,
                hint: npt.NDArray[np.int64] | None = None, *, band: LoadBand | None = None,
                split: SplitPenalty | None = None,
                max_coverage: npt.NDArray[np.int64] | None = None) -> CpSatSolution:
    """``_cpsat.solve_cpsat`` (the exact weighted model), imported on first use."""
    from solver._cpsat import solve_cpsat as exact

    return exact(problem, settings, hint, band=band, split=split, max_coverage=max_coverage)


@dataclass(frozen=True, kw_only=True)
class SolveOptions:
    """Engine settings. ``time_limit_s`` bounds CP-SAT; min-cost flow always finishes.

    ``workers``: CP-SAT search threads. One worker is the default because it is both
    deterministic and, measured on the 2-core machine, the fastest on micro-batch GAPs
    (400 leads × 40 reps, efforts 1–3: 1.4 s with 1 worker, 4.8 s with a 2-worker
    portfolio, 8.8 s with 2 interleaved deterministic workers). With ``workers > 1`` the
    search is interleaved so the same seed still gives the same output.

    ``threads``: connected components solved at the same time, each its own CP-SAT model
    (None: one per CPU). The output does not depend on it: each component's solve is
    deterministic and the answers are put together in a fixed order (unless the time
    limit cuts a solve short).

    ``gap_limit``: relative gap ``(bound − objective) / |bound|`` at which a generalized
    assignment part stops searching (0: until proven optimal or the time limit). The
    result's status stays ``feasible`` unless the optimum is proven.
    """

    time_limit_s: float = 30.0
    seed: int = 0
    workers: int = 1
    threads: int | None = None
    gap_limit: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.gap_limit < 1.0:
            raise ValueError(f"gap_limit must be in [0, 1), got {self.gap_limit!r}")


def _components(problem: RoutingProblem, split: SplitPenalty | None = None
                ) -> npt.NDArray[np.int64]:
    """Component label per lead and per rep (reps after leads). Leads of one soft account
    group are linked: their split penalty couples them."""
    # imported here: a flow-shaped batch (the common ``route --scores`` case) never needs
    # scipy, and importing it is a noticeable share of the CLI's start-up
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

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
# each rep's own load, score; the effort-scaled band model's worst-rep term is per model,
# and reps of different components cannot trade load anyway); smaller ones share one, so
# many tiny parts cost one call.
_OWN_MODEL_LEADS = 64


def _cpsat_parts(labels: npt.NDArray[np.int64], gap_labels: npt.NDArray[np.int64], n: int
                 ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """The CP-SAT components as (leads, reps) parts: large components alone (proving
    optimality is superlinear in model size), the small ones together."""
    lead_labels, rep_labels = labels[:n], labels[n:]
    sizes = np.bincount(lead_labels, minlength=int(labels.max(initial=0)) + 1)
    big = [label for label in gap_labels.tolist() if sizes[label] >= _OWN_MODEL_LEADS]
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
    effort = problem.pair_effort
    mixed = np.zeros(problem.n_reps, dtype=bool)
    if len(effort) and effort.max() - effort.min() > 1e-9:  # some rep's efforts differ
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
    *,
    options: SolveOptions | None = None,
    band: LoadBand | None = None,
    split: SplitPenalty | None = None,
    warm: SolveResult | None = None,
) -> SolveResult:
    """Maximal coverage first, then (with ``band``) the smallest load-band shortfall, then
    maximal total score (minus ``split``'s penalty for soft account groups split across
    reps). Never raises on a timeout.

    ``warm``: this problem solved without the band (same ``split``). When it is optimal,
    its coverage is proven maximal, so the banded solve starts from it instead of
    repeating that first pass. Optimal or not, it is the free solve the band's cost is
    measured against (``terms[FAIRNESS_BAND]``; without ``warm`` that cost is unknown and
    the term absent)."""
    options = options or SolveOptions()
    started = time.perf_counter()
    deadline = started + options.time_limit_s
    if split is not None and not split.grouped().any():
        split = None
    known = None
    if band is not None and warm is not None and warm.status is SolveStatus.OPTIMAL:
        known = warm.rep_index
    outcomes: list[_PartOutcome] = []
    if problem.n_pairs:
        parts = _parts(problem, band, split)
        flow_part = parts[0]
        cpsat_parts = [part for part in parts[1:] if _pair_count(problem, part)]
        if _pair_count(problem, flow_part):
            outcomes.append(_solve_flow_part(problem, flow_part, band))

        def run(part: _Part) -> _PartOutcome:
            return _solve_cpsat_part(problem, part, options, deadline, band, split, known)

        # largest first, so the last part to start is a small one (longest-job-first)
        cpsat_parts.sort(key=lambda part: -_pair_count(problem, part))
        threads = min(options.threads or os.cpu_count() or 1, len(cpsat_parts))
        if threads > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                outcomes += list(pool.map(run, cpsat_parts))
        else:
            outcomes += [run(part) for part in cpsat_parts]
    result = _combine(problem, outcomes, started, split)
    if band is not None and warm is not None and warm.terms:
        return replace(result, terms={**result.terms, TermName.FAIRNESS_BAND: band_cost(
            result.terms, warm.terms)})
    return result


@dataclass(frozen=True)
class _Part:
    leads: npt.NDArray[np.int64]
    reps: npt.NDArray[np.int64]


@dataclass(frozen=True)
class _PartOutcome:
    """One part's answer in the whole problem's indices; ``found`` False on a timeout
    without any solution (its leads stay unassigned and are explained as timed out)."""

    leads: npt.NDArray[np.int64]
    rep_index: npt.NDArray[np.int64]  # per lead of ``leads``: whole-problem rep or -1
    engine: Engine
    found: bool
    proven: bool
    objective_scaled: int
    bound: float
    scale: float


def _parts(problem: RoutingProblem, band: LoadBand | None,
           split: SplitPenalty | None) -> list[_Part]:
    """The flow-shaped part first (possibly empty), then the CP-SAT parts."""
    n = problem.n_leads
    gap_reps = _gap_shaped_reps(problem, split)
    if band is not None and band.on_score:
        gap_reps[:] = True  # a band on summed scores is no flow capacity
    if not gap_reps.any():
        return [_Part(np.arange(n), np.arange(problem.n_reps))]
    labels = _components(problem, split)
    gap_labels = np.unique(labels[n:][gap_reps])
    in_gap = np.isin(labels, gap_labels)
    return [_Part(np.flatnonzero(~in_gap[:n]), np.flatnonzero(~in_gap[n:]))] + [
        _Part(leads, reps) for leads, reps in _cpsat_parts(labels, gap_labels, n)
    ]


def _pair_count(problem: RoutingProblem, part: _Part) -> int:
    """Parts are closed under pairs: a part's pairs are its leads' pairs."""
    starts = problem.lead_pair_bounds()
    return int((starts[part.leads + 1] - starts[part.leads]).sum())


def _restrict(problem: RoutingProblem, part: _Part) -> RoutingProblem:
    if len(part.leads) == problem.n_leads and len(part.reps) == problem.n_reps:
        return problem  # one engine for everything: no copy of the pair arrays
    return problem.subproblem(part.leads, part.reps)[0]


def _solve_flow_part(problem: RoutingProblem, part: _Part,
                     band: LoadBand | None) -> _PartOutcome:
    sub = _restrict(problem, part)
    unit = sub.rep_unit_effort()
    assert unit is not None  # flow part has one effort per rep by construction
    flow = solve_flow(sub, unit, None if band is None else band.restricted(part.reps))
    return _PartOutcome(
        leads=part.leads, rep_index=_global_reps(part, flow.rep_index),
        engine=Engine.MIN_COST_FLOW, found=True, proven=True,
        objective_scaled=flow.objective_scaled,
        bound=flow.scaled.unscale(flow.objective_scaled), scale=flow.scaled.scale,
    )


def _solve_cpsat_part(
    problem: RoutingProblem, part: _Part, options: SolveOptions, deadline: float,
    band: LoadBand | None, split: SplitPenalty | None,
    known: npt.NDArray[np.int64] | None,
) -> _PartOutcome:
    sub = _restrict(problem, part)
    settings = CpSatSettings(
        # the limit counts from now: a part queued behind another starts later
        time_limit_s=max(deadline - time.perf_counter(), 0.01),
        seed=options.seed,
        workers=options.workers,
    )
    part_band = None if band is None else band.restricted(part.reps)
    if split is None:
        found = solve_gap(sub, settings, options.gap_limit, part_band)
        if found is not None:
            return _PartOutcome(
                leads=part.leads, rep_index=_global_reps(part, found.rep_index),
                engine=Engine.CP_SAT, found=True, proven=found.proven,
                objective_scaled=found.objective_scaled, bound=found.bound,
                scale=found.scaled.scale)
        settings = replace(settings, time_limit_s=max(deadline - time.perf_counter(), 0.01))
    sat = solve_cpsat(
        sub, settings, hint=greedy_best_fit(sub),
        band=part_band,
        split=None if split is None else split.restricted(part.leads),
        max_coverage=None if known is None else _local_reps(part, known[part.leads]),
    )
    if not sat.found:
        return _PartOutcome(leads=part.leads, rep_index=np.full(len(part.leads), -1),
                            engine=Engine.CP_SAT, found=False, proven=False,
                            objective_scaled=0, bound=float("inf"), scale=sat.scaled.scale)
    return _PartOutcome(
        leads=part.leads, rep_index=_global_reps(part, sat.rep_index), engine=Engine.CP_SAT,
        found=True, proven=sat.proven_optimal, objective_scaled=sat.objective_scaled,
        bound=sat.scaled.unscale(sat.score_bound_scaled), scale=sat.scaled.scale,
    )


def _global_reps(part: _Part, local: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.where(local >= 0, part.reps[np.maximum(local, 0)], -1)


def _local_reps(part: _Part, reps: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    local = np.searchsorted(part.reps, reps)
    # parts are connected components: a lead's rep always lies in the lead's part
    assert np.all((reps < 0) | (part.reps[np.minimum(local, len(part.reps) - 1)] == reps))
    return np.where(reps >= 0, local, -1)


def _combine(problem: RoutingProblem, outcomes: list[_PartOutcome],
             started: float, split: SplitPenalty | None) -> SolveResult:
    """The parts' answers as one result. The objective's terms are separable over parts
    (no term couples two components), so they are valued once on the whole assignment,
    whichever engine solved each part."""
    n = problem.n_leads
    rep_index = np.full(n, -1, dtype=np.int64)
    timed_out = np.zeros(n, dtype=bool)
    status = SolveStatus.OPTIMAL
    bound = 0.0
    for outcome in outcomes:
        rep_index[outcome.leads] = outcome.rep_index
        bound += outcome.bound
        if not outcome.found:
            timed_out[outcome.leads] = True
            status = SolveStatus.NO_SOLUTION
        elif not outcome.proven and status is SolveStatus.OPTIMAL:
            status = SolveStatus.FEASIBLE
    engines = tuple(o.engine for o in outcomes) or (Engine.NONE,)
    lead_status, reasons = explain(problem, rep_index, timed_out=timed_out)
    terms = assignment_terms(problem, rep_index, _chosen_pairs(problem, rep_index), split)
    objective = terms[TermName.FIT] if (rep_index >= 0).any() else 0.0
    return SolveResult(
        status=status,
        engines=engines,
        rep_index=rep_index,
        lead_status=lead_status,
        explanations=reasons,
        objective=objective,
        objective_scaled=sum(o.objective_scaled for o in outcomes),
        bound=objective if status is SolveStatus.OPTIMAL else bound,
        score_scale=min([float(SCORE_SCALE)] + [o.scale for o in outcomes]),
        wall_time_s=time.perf_counter() - started,
        terms=terms,
    )


def _chosen_pairs(
    problem: RoutingProblem, rep_index: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    pairs = pair_index_of(problem, rep_index)
    return pairs[pairs >= 0]
