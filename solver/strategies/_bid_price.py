"""Bid-price routing: each lead, the moment it arrives, to the best fit net of capacity
prices that a batch optimum put on each rep.

A greedy instant router spends its best reps on the first leads of the day. The batch
LP knows better: the dual of a rep's capacity is what one more unit of that rep is worth
to the leads still to come. Routing each arriving lead to ``argmax fit − price × effort``
among eligible reps with room (primal-dual / bid-price control) keeps most of the batch
optimum's value while answering at once; the next batch re-solves and refreshes the prices.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from solver._problem import EFFORT_TOLERANCE, RoutingProblem
from solver._reasons import Reason, ReasonCode
from solver.errors import PolicyError
from solver.strategies._base import StrategyOutcome, heuristic_result, now
from solver.strategies._state import StrategyState


class PriceSource(enum.Enum):
    BATCH = "the last batch solve"
    FORECAST = "a forecast of the day's arrivals"
    NONE = "none yet"  # no prices: fit weighted by each rep's free room


@dataclass(frozen=True)
class BidPrice:
    """Leads in arrival order; each takes the eligible rep with room maximising
    ``score − price × effort`` (``prices``: rep id → value of one capacity unit; a rep
    without a price costs 0). With no prices at all it maximises ``score × free share of
    capacity`` (fit with load balancing) and says so. Coverage first: a lead with an
    eligible rep with room is always routed, even at a negative net value. Stateless."""

    name: ClassVar[str] = "bid_price"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = True
    prices: Mapping[str, float] = field(default_factory=dict)
    source: PriceSource = PriceSource.BATCH

    def __post_init__(self) -> None:
        bad = [rep for rep, price in self.prices.items() if not np.isfinite(price)]
        if bad:
            raise PolicyError(f"bid prices must be finite numbers (rep {bad[0]!r})")

    def assign(
        self, problem: RoutingProblem, state: StrategyState | None = None
    ) -> StrategyOutcome:
        started = now()
        priced = bool(self.prices) and self.source is not PriceSource.NONE
        price = np.array([float(self.prices.get(str(rep), 0.0)) for rep in problem.rep_ids])
        remaining = problem.capacity.astype(float).copy()
        full = np.maximum(problem.capacity.astype(float), EFFORT_TOLERANCE)
        starts = problem.lead_pair_bounds()
        rep_index = np.full(problem.n_leads, -1, dtype=np.int64)
        reasons: list[Reason | None] = [None] * problem.n_leads
        for lead in range(problem.n_leads):
            lo, hi = int(starts[lead]), int(starts[lead + 1])
            reps, effort = problem.pair_rep[lo:hi], problem.pair_effort[lo:hi]
            score = problem.pair_score[lo:hi]
            room = remaining[reps] + EFFORT_TOLERANCE >= effort
            if not room.any():
                continue
            net = (score - price[reps] * effort) if priced else score * remaining[reps] / full[reps]
            pick = int(np.flatnonzero(room)[np.argmax(net[room])])
            rep = int(reps[pick])
            rep_index[lead] = rep
            remaining[rep] -= effort[pick]
            reasons[lead] = self._reason(problem, rep, float(score[pick]), float(price[rep]),
                                         float(effort[pick]), priced)
        return StrategyOutcome(heuristic_result(problem, rep_index, reasons, started), state)

    def _reason(self, problem: RoutingProblem, rep: int, score: float, price: float,
                effort: float, priced: bool) -> Reason:
        who = str(problem.rep_ids[rep])
        if not priced:
            return Reason(ReasonCode.BID_FREE_ROOM, rep=who, score=score)
        return Reason(ReasonCode.BID_PRICE, rep=who, score=score, price=price, value=effort,
                      text=self.source.value)
