"""The routing API: validated tables in, the contract's assignments table out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy.typing as npt
import pandas as pd

from solver._build import problem_from_matrix, problem_from_scores
from solver._problem import RoutingProblem
from solver._result import SolveResult
from solver._solve import SolveOptions, solve
from solver.contract_tables import TableSource, load_leads, load_reps, load_scores


@dataclass(frozen=True, eq=False)
class RouteOutcome:
    problem: RoutingProblem
    result: SolveResult
    assignments: pd.DataFrame


def route_pairs(
    leads: TableSource,
    reps: TableSource,
    scores: TableSource,
    *,
    options: SolveOptions | None = None,
) -> RouteOutcome:
    """Route with user-supplied pair scores (only listed pairs are candidates)."""
    lead_table = load_leads(leads)
    rep_table = load_reps(reps)
    score_table = load_scores(
        scores, lead_ids=lead_table["lead_id"], rep_ids=rep_table["rep_id"]
    )
    problem = problem_from_scores(lead_table, rep_table, score_table)
    return _finish(problem, options)


def route_matrix(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    score: npt.ArrayLike,
    *,
    eligible: npt.ArrayLike | None = None,
    options: SolveOptions | None = None,
) -> RouteOutcome:
    """Route with a lead × rep score matrix (e.g. ``AffinityModel.score_matrix``)."""
    problem = problem_from_matrix(load_leads(leads), load_reps(reps), score, eligible)
    return _finish(problem, options)


def _finish(problem: RoutingProblem, options: SolveOptions | None) -> RouteOutcome:
    result = solve(problem, options=options)
    return RouteOutcome(problem=problem, result=result, assignments=result.assignments(problem))
