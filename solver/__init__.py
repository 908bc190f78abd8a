"""leadroute's optimisation core: problem model, OR-Tools engines, routing API.

The core takes plain arrays and DataFrames; it never imports ``models`` nor does I/O
beyond the table loaders. Everything the app layer, the notebooks and other callers use
is exported here or from a public submodule (``solver.errors``, ``solver.contract_tables``,
``solver.partitioning``, ``solver.replay``, ``solver.policy``, ``solver.strategies``);
``solver._*`` modules are private.
"""

from solver._build import problem_from_matrix, problem_from_scores
from solver._explain import rep_loads
from solver._greedy import greedy_best_fit
from solver._metrics import gini, share_deviation
from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import NO_ELIGIBLE_REP, Reason, ReasonCode
from solver._result import Engine, LeadStatus, SolveResult, SolveStatus
from solver._scaling import EFFORT_SCALE, SCORE_SCALE, scale_scores
from solver._solve import MICRO_BATCH_GAP_LIMIT, SolveOptions, solve
from solver._terms import TermName
from solver.contract_tables import load_history, load_leads, load_reps, load_scores
from solver.errors import InputError, LeadrouteError, ModelError, PolicyError, SolverError
from solver.routing import (
    NO_POLICY,
    RoutingOutcome,
    Scorer,
    route,
    route_matrix,
    route_pairs,
)

__all__ = [
    "NO_POLICY",
    "EFFORT_SCALE",
    "EFFORT_TOLERANCE",
    "MICRO_BATCH_GAP_LIMIT",
    "NO_ELIGIBLE_REP",
    "SCORE_SCALE",
    "Engine",
    "InputError",
    "LeadStatus",
    "LeadrouteError",
    "ModelError",
    "PolicyError",
    "Reason",
    "ReasonCode",
    "RoutingOutcome",
    "RoutingProblem",
    "Scorer",
    "SolveOptions",
    "SolveResult",
    "SolveStatus",
    "SolverError",
    "TermName",
    "gini",
    "greedy_best_fit",
    "load_history",
    "load_leads",
    "load_reps",
    "load_scores",
    "problem_from_matrix",
    "problem_from_scores",
    "rep_loads",
    "route",
    "route_matrix",
    "route_pairs",
    "scale_scores",
    "share_deviation",
    "solve",
]
