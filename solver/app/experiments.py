"""A holdout experiment's report from its leads with outcomes: the one computation behind
``leadroute experiment report`` (CLI), ``GET /experiments/{name}/report`` (API) and the
console's experiment page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.policy_eval import ExperimentReport, experiment_report
from solver.errors import InputError

ARMS = ("control", "treatment")


@dataclass(frozen=True)
class ReportOptions:
    """What the report plans for: the lift worth detecting (default: 10 % of the control
    rate), the test's level and the target power."""

    mde: float | None = None
    alpha: float = 0.05
    power: float = 0.8


def arms(table: pd.DataFrame, label: str) -> pd.Series:
    """Each row's arm, checked (``control`` or ``treatment``)."""
    if "arm" not in table.columns:
        raise InputError("missing column 'arm' (control or treatment)", source=label,
                         column="arm")
    arm = table["arm"].astype(str).str.strip()
    bad = ~arm.isin(ARMS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"expected control or treatment, got {arm.iloc[row]!r}",
                         source=label, row=row + 1, column="arm")
    return arm


def report_from_table(table: pd.DataFrame, *, name: str, control_share: float, label: str,
                      options: ReportOptions | None = None) -> ExperimentReport:
    """The report of experiment ``name`` on a history table with an ``arm`` column (and,
    when the log holds several experiments, an ``experiment`` column)."""
    arm = arms(table, label)
    if "experiment" in table.columns:  # a log may hold several experiments
        table = table[table["experiment"].astype(str) == name]
        arm = arm[table.index]
    revenue = table["revenue"].to_numpy(dtype=float) if "revenue" in table else None
    options = options or ReportOptions()
    return experiment_report(
        (arm == "control").to_numpy(), table["converted"].to_numpy(dtype=float),
        control_share=control_share, revenue=revenue, mde=options.mde,
        alpha=options.alpha, power=options.power)
