"""A/B test helper for a live split of leads into control and test routing."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from solver.errors import EvaluationError


@dataclass(frozen=True)
class ABResult:
    control_rate: float
    test_rate: float
    difference: float  # test − control
    ci_low: float
    ci_high: float
    p_value: float
    test: str  # "two-proportion z-test" or "Fisher exact test"


def compare_conversions(
    control_conversions: int, control_n: int, test_conversions: int, test_n: int,
    *, alpha: float = 0.05,
) -> ABResult:
    """Difference in conversion rate with a two-sided test and a Wald interval.

    Small counts (an expected cell under 5) use Fisher's exact test for the p-value.
    """
    for name, hits, n in (("control", control_conversions, control_n),
                          ("test", test_conversions, test_n)):
        if n <= 0 or not 0 <= hits <= n:
            raise EvaluationError(f"{name}: need 0 <= conversions <= leads and leads > 0",
                                  source="A/B counts")
    p1, p2 = control_conversions / control_n, test_conversions / test_n
    pooled = (control_conversions + test_conversions) / (control_n + test_n)
    diff = p2 - p1
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_n + 1 / test_n))
    se = math.sqrt(p1 * (1 - p1) / control_n + p2 * (1 - p2) / test_n)
    z = stats.norm.ppf(1 - alpha / 2)
    expected = min(pooled * min(control_n, test_n), (1 - pooled) * min(control_n, test_n))
    if expected < 5:
        table = [[control_conversions, control_n - control_conversions],
                 [test_conversions, test_n - test_conversions]]
        p_value = float(stats.fisher_exact(table).pvalue)
        name = "Fisher exact test"
    else:
        p_value = float(2 * stats.norm.sf(abs(diff) / se_pooled)) if se_pooled > 0 else 1.0
        name = "two-proportion z-test"
    return ABResult(p1, p2, diff, float(diff - z * se), float(diff + z * se), p_value, name)


def required_sample_size(
    baseline_rate: float, min_detectable_effect: float, *, alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Leads per group to detect an absolute lift ``min_detectable_effect`` over
    ``baseline_rate`` with a two-sided test (normal approximation, unpooled variances)."""
    p1, p2 = baseline_rate, baseline_rate + min_detectable_effect
    if not (0 < p1 < 1 and 0 < p2 < 1) or min_detectable_effect == 0:
        raise EvaluationError("rates must stay within (0, 1) and the effect be non-zero",
                              source="sample size")
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power)
    variance = p1 * (1 - p1) + p2 * (1 - p2)
    return math.ceil((z_alpha + z_beta) ** 2 * variance / min_detectable_effect ** 2)
