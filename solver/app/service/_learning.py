"""What the audit log keeps for the learning loop: per assignment, the probability the
policy chose its rep with (``propensity``) and, in a holdout, the lead's ``arm`` and the
experiment's name. Without ``[explore]`` or ``[experiment]`` the columns stay empty."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from solver.policy import Policy


def learning_columns(assignments: pd.DataFrame, policy: Policy) -> list[dict[str, Any]]:
    """One dict per row of ``route_with_policy``'s assignments table, in its order."""
    n = len(assignments)
    propensity = (assignments["propensity"].astype(float).tolist()
                  if "propensity" in assignments.columns else [math.nan] * n)
    arm = (assignments["arm"].astype(str).tolist() if "arm" in assignments.columns
           else [None] * n)
    name = policy.experiment.name if policy.experiment is not None else None
    return [{"propensity": None if math.isnan(p) else float(p), "arm": a,
             "experiment": name if a is not None else None}
            for p, a in zip(propensity, arm, strict=True)]
