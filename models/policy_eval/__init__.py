"""Honest off-policy evaluation of routing strategies on logged history.

Estimators (``Replay``, ``IPS``, ``SNIPS``, ``DirectMethod``, ``DoublyRobust``) with
bootstrap intervals and paired lifts over the logged policy, and an A/B test helper.
"""

from models.policy_eval._ab_test import ABResult, compare_conversions, required_sample_size
from models.policy_eval._data import LoggedBandit, TargetPolicy
from models.policy_eval._estimators import (
    ESTIMATORS,
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    Estimate,
    Replay,
    estimator_from_name,
)
from models.policy_eval._experiment import (
    ConfidenceSequence,
    ExperimentReport,
    Verdict,
    asymptotic_cs,
    experiment_report,
)
from solver.errors import EvaluationError

__all__ = [
    "ESTIMATORS",
    "IPS",
    "SNIPS",
    "ABResult",
    "ConfidenceSequence",
    "ExperimentReport",
    "Verdict",
    "asymptotic_cs",
    "experiment_report",
    "DirectMethod",
    "DoublyRobust",
    "Estimate",
    "EvaluationError",
    "LoggedBandit",
    "Replay",
    "TargetPolicy",
    "compare_conversions",
    "estimator_from_name",
    "required_sample_size",
]
