"""leadroute's optimisation core: problem model, OR-Tools engines, routing API.

The core takes plain arrays and DataFrames; it never imports ``models`` nor does I/O
beyond the table loaders.
"""

from solver._errors import InputError, LeadrouteError, ModelError, PolicyError, SolverError
from solver._greedy import greedy_best_fit
from solver._metrics import gini, share_deviation
from solver._problem import RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver._result import Engine, LeadStatus, SolveResult, SolveStatus
from solver._scaling import EFFORT_SCALE, SCORE_SCALE, scale_scores
from solver._solve import SolveOptions, solve
from solver._tables import load_leads, load_reps, load_scores
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
    "gini",
    "greedy_best_fit",
    "load_leads",
    "load_reps",
    "load_scores",
    "route",
    "route_matrix",
    "route_pairs",
    "scale_scores",
    "share_deviation",
    "solve",
]
