"""Per-rep summary of a routed batch, with the shadow price of each rep's capacity.

The shadow price is a dual of the rep's capacity row in the LP relaxation of routing the
batch's eligible pairs (objective: score, or score × value): how much the objective would
gain per extra unit of capacity. Assignment LPs are often degenerate, so duals are not
unique. Where the LP is a transportation problem (one effort per rep, whole-number
capacities: the common case) the price comes from a min-cost flow and is the smallest
optimal dual, which is exactly the gain of one more unit of capacity; otherwise HiGHS
solves the LP and its dual is *a* marginal value. The summary is computed only when read
(``RepSummary.frame``): routing alone never pays for the prices.

Beside the per-rep table, the summary carries the batch's objective terms
(``solver._terms``): what the fit came to and what each soft rule cost (``costs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._flow import capacity_prices
from solver._problem import RoutingProblem
from solver._terms import TermName, describe_costs

FloatArray = npt.NDArray[np.float64]
# Beyond this many candidate pairs the LP costs more than the routing; prices are skipped.
SHADOW_PRICE_MAX_PAIRS = 2_000_000


def shadow_prices(
    problem: RoutingProblem, score: FloatArray, eligible: npt.NDArray[np.bool_],
    capacity: FloatArray,
) -> FloatArray:
    keep = np.flatnonzero(eligible)
    if len(keep) == 0 or len(keep) > SHADOW_PRICE_MAX_PAIRS:
        return np.full(problem.n_reps, np.nan)
    sub = RoutingProblem(
        lead_ids=problem.lead_ids, rep_ids=problem.rep_ids, capacity=capacity,
        pair_lead=problem.pair_lead[keep], pair_rep=problem.pair_rep[keep],
        pair_score=problem.pair_score[keep], pair_effort=problem.pair_effort[keep],
    )
    prices = capacity_prices(sub, score[keep], capacity)
    if prices is not None:
        return prices
    from solver._lp import solve_lp_relaxation  # scipy: only for non-flow-shaped summaries

    relaxation = solve_lp_relaxation(sub, score[keep], sub.pair_effort, capacity)
    if relaxation is None:
        return np.full(problem.n_reps, np.nan)
    return relaxation.capacity_duals


def rep_summary(
    problem: RoutingProblem,
    reps: pd.DataFrame,
    *,
    score: FloatArray,
    eligible: npt.NDArray[np.bool_],
    capacity: FloatArray,
    loads: FloatArray,
    values: FloatArray,
    weight: FloatArray,
    factor: FloatArray,
    band: float | None,
    share_of: str = "effort",
    band_shift: FloatArray | None = None,
) -> pd.DataFrame:
    """One row per rep. ``target`` and ``share_deviation`` measure what the fairness band
    shares (``share_of``: effort ``load``, or expected ``value``). With a band:
    ``band_shortfall`` (outside the band, in that measure) and ``band_binding``:
    ``"upper"`` when the band took load away from the rep (its share limit bound),
    ``"lower"`` when it moved load onto it (its share floor bound), else ``""``
    (``band_shift`` = load with the band minus load without it)."""
    shared = values if share_of == "value" else loads
    total = float(shared.sum())
    target = weight / weight.sum() * total if weight.sum() > 0 else np.zeros_like(weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(capacity > 0, loads / capacity, np.nan)
        deviation = np.where(target > 0, shared / target - 1.0, np.nan)
    frame = pd.DataFrame({
        "rep_id": problem.rep_ids.astype(str),
        "active": reps["active"].to_numpy(dtype=bool),
        "ramp_factor": factor,
        "capacity": capacity,
        "load": loads,
        "value": values,
        "target": target,
        "capacity_used": used,
        "share_deviation": deviation,
        "shadow_price": shadow_prices(problem, score, eligible, capacity),
    })
    if band is not None:
        frame["band_shortfall"] = np.maximum(np.abs(target * deviation) - band * target, 0.0)
        frame["band_shortfall"] = frame["band_shortfall"].fillna(0.0)
        shift = np.zeros(len(frame)) if band_shift is None else band_shift
        frame["band_binding"] = np.where(shift < -1e-9, "upper",
                                         np.where(shift > 1e-9, "lower", ""))
    return frame


@dataclass(frozen=True, eq=False)
class RepSummary:
    """What ``rep_summary`` needs, kept until the summary is read (``frame``), and the
    batch's objective terms (``terms``, in ``unit``)."""

    problem: RoutingProblem
    reps: pd.DataFrame
    score: FloatArray
    eligible: npt.NDArray[np.bool_]
    capacity: FloatArray
    loads: FloatArray
    values: FloatArray
    weight: FloatArray
    factor: FloatArray
    band: float | None
    share_of: str = "effort"
    band_shift: FloatArray | None = None
    terms: Mapping[TermName, float] = field(default_factory=dict)
    unit: str = "conversions"

    @property
    def costs(self) -> list[str]:
        """Each soft rule's cost in words, e.g. ``"fairness band cost 0.8 conversions"``
        (none when no rule cost anything)."""
        return describe_costs(self.terms, self.unit)

    @cached_property
    def frame(self) -> pd.DataFrame:
        return rep_summary(
            self.problem, self.reps, score=self.score, eligible=self.eligible,
            capacity=self.capacity, loads=self.loads, values=self.values, weight=self.weight,
            factor=self.factor, band=self.band, share_of=self.share_of,
            band_shift=self.band_shift,
        )
