"""Holdout experiment report: the lift of routing by fit over the control strategy.

Two views of the same randomised comparison:
- a fixed-horizon view (difference in conversion with a Wald interval and a p-value, the
  sample size per arm for a stated power) that is valid once, at a horizon fixed up front;
- an always-valid view for peeking: an asymptotic confidence sequence (Waudby-Smith et
  al., "Time-uniform central limit theory and asymptotic confidence sequences", 2023) on
  the inverse-probability pseudo-outcome ``Y·T/(1−π) − Y·C/π`` whose mean is the lift
  (π = the control share). The verdict comes from it, so it may be read after every batch.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.policy_eval._ab_test import ABResult, compare_conversions, required_sample_size
from solver.errors import EvaluationError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Verdict(enum.Enum):
    TREATMENT_BETTER = "treatment converts better"
    CONTROL_BETTER = "control converts better"
    UNDECIDED = "no verdict yet: keep collecting"


@dataclass(frozen=True)
class ConfidenceSequence:
    """An interval that covers the true lift at every sample size at once, w.p. 1 − α."""

    estimate: float
    low: float
    high: float
    alpha: float

    @property
    def verdict(self) -> Verdict:
        if self.low > 0:
            return Verdict.TREATMENT_BETTER
        if self.high < 0:
            return Verdict.CONTROL_BETTER
        return Verdict.UNDECIDED


def asymptotic_cs(values: FloatArray, *, alpha: float = 0.05,
                  planned_n: int | None = None) -> ConfidenceSequence:
    """Asymptotic confidence sequence for the mean of ``values`` (i.i.d.), tuned to be
    tightest at ``planned_n`` (default: the current size)."""
    n = len(values)
    if n < 2:
        raise EvaluationError("need at least 2 outcomes for an interval", source="experiment")
    mean, variance = float(values.mean()), float(values.var(ddof=1))
    log_term = -2 * math.log(alpha)
    rho2 = (log_term + math.log(log_term + 1)) / (planned_n or n)
    radius = math.sqrt(2 * (n * variance * rho2 + 1) / (n**2 * rho2)
                       * math.log(math.sqrt(n * variance * rho2 + 1) / alpha))
    return ConfidenceSequence(mean, mean - radius, mean + radius, alpha)


@dataclass(frozen=True)
class ArmRevenue:
    difference: float  # revenue per lead, treatment − control
    low: float
    high: float


@dataclass(frozen=True)
class ExperimentReport:
    control_n: int
    treatment_n: int
    conversion: ABResult  # fixed horizon: rates, difference, Wald interval, p-value
    always_valid: ConfidenceSequence  # on the difference in conversion
    needed_per_arm: int | None  # leads per arm to detect ``mde`` with the given power
    mde: float
    revenue: ArmRevenue | None


def experiment_report(
    control: BoolArray, converted: FloatArray, *, control_share: float,
    revenue: FloatArray | None = None, mde: float | None = None, alpha: float = 0.05,
    power: float = 0.8,
) -> ExperimentReport:
    """``control``/``converted`` per lead of the experiment with a known outcome.
    ``mde``: the absolute lift worth detecting (default: 10% of the control rate)."""
    if not 0 < control_share < 1:
        raise EvaluationError("control share must be in (0, 1)", source="experiment")
    if len(control) != len(converted):
        raise EvaluationError("one outcome per lead", source="experiment", column="converted")
    y = np.asarray(converted, dtype=float)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise EvaluationError("converted must be 0 or 1", source="experiment",
                              row=int(np.flatnonzero(bad)[0]) + 1, column="converted")
    c, t = int(control.sum()), int((~control).sum())
    if c == 0 or t == 0:
        raise EvaluationError(f"both arms need outcomes (control {c}, treatment {t})",
                              source="experiment", column="arm")
    ab = compare_conversions(int(y[control].sum()), c, int(y[~control].sum()), t, alpha=alpha)
    pseudo = y * (~control) / (1 - control_share) - y * control / control_share
    effect = mde if mde is not None else 0.1 * max(ab.control_rate, 1e-3)
    try:
        needed: int | None = required_sample_size(ab.control_rate, effect, alpha=alpha,
                                                  power=power)
    except EvaluationError:  # a control rate of 0 or 1 leaves no variance to plan with
        needed = None
    return ExperimentReport(
        control_n=c, treatment_n=t, conversion=ab,
        always_valid=asymptotic_cs(pseudo, alpha=alpha),
        needed_per_arm=needed, mde=effect,
        revenue=_revenue(control, revenue, alpha) if revenue is not None else None,
    )


def _revenue(control: BoolArray, revenue: FloatArray, alpha: float) -> ArmRevenue:
    """Welch interval on revenue per lead (0 for leads that did not convert)."""
    from scipy import stats

    r = np.nan_to_num(np.asarray(revenue, dtype=float))
    a, b = r[~control], r[control]
    diff = float(a.mean() - b.mean())
    se = math.sqrt(a.var(ddof=1) / max(len(a), 1) + b.var(ddof=1) / max(len(b), 1)) if (
        len(a) > 1 and len(b) > 1) else float("inf")
    z = float(stats.norm.ppf(1 - alpha / 2))
    return ArmRevenue(diff, diff - z * se, diff + z * se)
