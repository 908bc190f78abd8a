"""Reasons of the solver core, the strategies and the fairness band: a code and its
parameters (``SolveResult.explanations``); words only when rendered (``SolveResult.reasons``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solver import Reason, ReasonCode, RoutingProblem, solve
from solver._build import problem_from_matrix
from solver.contract_tables import load_leads, load_reps
from solver.policy import parse_policy, route_with_policy
from solver.strategies import (
    BidPrice,
    CherryPicking,
    GreedyBestFit,
    LoadBalancing,
    RoundRobin,
    RulesFirstMatch,
    WeightedRoundRobin,
)

C = ReasonCode


# -- each code renders its words ------------------------------------------------------------
@pytest.mark.parametrize(("reason", "words"), [
    (Reason(C.SOLVER_TIMEOUT), "solver time limit reached before an assignment was found"),
    (Reason(C.CAPACITY_EXHAUSTED, count=1), "capacity exhausted: the only eligible rep is full"),
    (Reason(C.ONLY_ELIGIBLE), "only eligible rep"),
    (Reason(C.BEST_FIT, score=0.9, other=0.25, other_rep="b"),
     "best fit (score 0.9, +0.65 over next best b)"),
    (Reason(C.PREFERRED_FULL, score=0.2, other=0.9, other_rep="a"),
     "preferred rep a (score 0.9) at capacity; next best fit"),
    (Reason(C.TRADE_OFF, score=0.5, other=0.75, other_rep="a"),
     "trade-off: a fits better (score 0.75 vs 0.5) but routing it here maximises the batch "
     "total"),
    (Reason(C.GREEDY, inner=Reason(C.ONLY_ELIGIBLE)), "greedy best fit: only eligible rep"),
    (Reason(C.ROUND_ROBIN), "round robin: next in rotation"),
    (Reason(C.ROUND_ROBIN, count=1), "round robin: next in rotation (1 eligible rep ahead full)"),
    (Reason(C.ROUND_ROBIN, count=3),
     "round robin: next in rotation (3 eligible reps ahead full)"),
    (Reason(C.WEIGHTED_ROUND_ROBIN, value=2.5),
     "weighted round robin: next in weighted rotation (weight 2.5)"),
    (Reason(C.FIRST_MATCH), "first match: first eligible rep in rule order"),
    (Reason(C.FIRST_MATCH, count=2),
     "first match: first eligible rep in rule order with room (2 earlier matching reps full)"),
    (Reason(C.LOAD_BALANCING, value=0.25),
     "load balancing: least loaded eligible rep (25% of capacity)"),
    (Reason(C.CHERRY_PICKED, rep="r1", count=2, score=0.125),
     "cherry-picked by r1 in round 2: its best remaining lead (score 0.125)"),
    (Reason(C.BID_PRICE, rep="r1", score=0.5, price=0.1, value=2.0, text="the last batch solve"),
     "instant: r1 has the best fit net of its capacity price (score 0.5 − price 0.1 × effort 2; "
     "prices from the last batch solve)"),
    (Reason(C.BID_FREE_ROOM, rep="r2", score=0.5),
     "instant: r2 has the best fit weighted by free capacity (score 0.5; no capacity prices "
     "yet)"),
    (Reason(C.FAIR_AT_LIMIT, rep="b", score=0.3, other_rep="a", other=0.9, value=2.0, limit=2.0),
     "fairness band binding: preferred rep a (score 0.9) at its share limit (2 of at most 2); "
     "best remaining fit b (score 0.3)"),
    (Reason(C.FAIR_BELOW_FLOOR, rep="b", score=0.3, value=1.0, limit=2.0, on_value=True),
     "fairness band binding: b below its share floor (expected value 1 of at least 2) takes "
     "it (score 0.3)"),
    (Reason(C.FAIR_BELOW_FLOOR, rep="b", score=0.3, value=1.0, limit=2.0, other_rep="a"),
     "fairness band binding: b below its share floor (1 of at least 2) takes it (score 0.3) "
     "instead of a"),
    (Reason(C.FAIR_EVEN_OUT, rep="b", score=0.4, other_rep="a"),
     "fairness band binding: moved to b (score 0.4) to even out loads, from a"),
    (Reason(C.FAIR_EVEN_OUT, rep="b", score=0.4, on_value=True),
     "fairness band binding: moved to b (score 0.4) to even out expected value"),
    (Reason(C.ROUTED, pool="overflow", inner=Reason(C.ROUND_ROBIN, count=1)),
     "fallback pool 'overflow': round robin: next in rotation (1 eligible rep ahead full)"),
])
def test_each_code_renders_its_words(reason: Reason, words: str) -> None:
    assert reason.render() == words


def test_every_code_has_words() -> None:
    for code in ReasonCode:  # ROUTED's words are its inner reason's (or its text)
        assert Reason(code).render() or code is C.ROUTED, code


# -- results carry codes ---------------------------------------------------------------------
def _problem(capacity: list[float], score: list[list[float]],
             eligible: list[list[bool]] | None = None) -> RoutingProblem:
    return RoutingProblem.from_dense(
        np.asarray(score, float), capacity, eligible=eligible,
        lead_ids=[f"L{i}" for i in range(len(score))],
        rep_ids=["a", "b", "c"][: len(capacity)])


def test_the_optimiser_explains_with_codes_and_renders_them() -> None:
    # a has room for one lead: L2 (0.7, only a) takes it over L4 (0.6, only a); L0 prefers
    # a but goes to b; L1 only b can take; L3 has no eligible rep
    problem = _problem([1, 5], [[0.9, 0.2], [0.0, 0.5], [0.7, 0.0], [0.1, 0.1], [0.6, 0.0]],
                       [[True, True], [False, True], [True, False], [False, False],
                        [True, False]])
    result = solve(problem)
    assert result.explanations == (
        Reason(C.PREFERRED_FULL, score=0.2, other=0.9, other_rep="a"),
        Reason(C.ONLY_ELIGIBLE), Reason(C.ONLY_ELIGIBLE), Reason(C.NO_ELIGIBLE_REP),
        Reason(C.CAPACITY_EXHAUSTED, count=1))
    assert result.reasons == tuple(reason.render() for reason in result.explanations)
    assert result.reasons[0] == "preferred rep a (score 0.9) at capacity; next best fit"


@pytest.mark.parametrize(("strategy", "code"), [
    (RoundRobin(), C.ROUND_ROBIN),
    (WeightedRoundRobin(weights={"a": 2.0}), C.WEIGHTED_ROUND_ROBIN),
    (RulesFirstMatch(), C.FIRST_MATCH),
    (LoadBalancing(), C.LOAD_BALANCING),
    (CherryPicking(), C.CHERRY_PICKED),
    (GreedyBestFit(), C.GREEDY),
    (BidPrice(prices={"a": 0.1}), C.BID_PRICE),
    (BidPrice(), C.BID_FREE_ROOM),
])
def test_a_strategy_result_carries_codes(strategy: object, code: ReasonCode) -> None:
    problem = _problem([1, 1], [[0.9, 0.2], [0.8, 0.3], [0.5, 0.5], [0.4, 0.1]],
                       [[True, True], [True, True], [True, True], [False, False]])
    result = strategy.assign(problem).result  # type: ignore[attr-defined]
    assigned = [reason for rep, reason in zip(result.rep_index, result.explanations,
                                              strict=True) if rep >= 0]
    assert len(assigned) == 2 and all(reason.code is code for reason in assigned)
    left = [reason for rep, reason in zip(result.rep_index[:3], result.explanations,
                                          strict=False) if rep < 0]
    assert left == [Reason(C.CAPACITY_EXHAUSTED, count=2)]  # the reps are full
    assert result.explanations[3] == Reason(C.NO_ELIGIBLE_REP)
    if code is C.GREEDY:
        assert all(reason.inner is not None and reason.inner.code in
                   {C.BEST_FIT, C.PREFERRED_FULL} for reason in assigned)


def test_weighted_and_cherry_picked_reasons_carry_their_parameters() -> None:
    problem = _problem([1, 1], [[0.9, 0.2], [0.8, 0.3]])
    weighted = WeightedRoundRobin(weights={"a": 2.0}).assign(problem).result
    assert weighted.explanations[0] == Reason(C.WEIGHTED_ROUND_ROBIN, value=2.0)
    picked = CherryPicking().assign(problem).result
    assert {(r.rep, r.count) for r in picked.explanations} == {("a", 1), ("b", 1)}


def test_the_pool_stage_wraps_the_strategy_and_band_reasons() -> None:
    leads = load_leads(pd.DataFrame({"lead_id": list("wxyz")}))
    reps = load_reps(pd.DataFrame({"rep_id": ["a", "b"], "capacity": [4, 4]}))
    score = np.array([[0.9, 0.1], [0.9, 0.2], [0.9, 0.3], [0.9, 0.4]])
    problem = problem_from_matrix(leads, reps, score)
    out = route_with_policy(problem, leads, reps, parse_policy({"fairness": {"band": 0.0}}))
    routed = [reason for reason in out.reasons if reason is not None]
    assert [reason.code for reason in routed] == [C.ROUTED] * 4
    inner = [reason.inner for reason in routed]
    assert inner[2] == Reason(C.FAIR_AT_LIMIT, rep="b", score=0.3, other_rep="a", other=0.9,
                              value=2.0, limit=2.0)
    assert inner[0] is not None and inner[0].code is C.BEST_FIT
