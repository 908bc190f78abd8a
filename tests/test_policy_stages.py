"""Each stage of ``route_with_policy`` on a tiny hand-built batch, the SLA stages the
service runs before routing, and the one pipeline (``solver.route``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from solver import (
    NO_POLICY,
    InputError,
    LeadStatus,
    Reason,
    ReasonCode,
    RoutingProblem,
    route,
    route_matrix,
)
from solver._build import problem_from_matrix
from solver._explain import NO_ELIGIBLE_REP
from solver.contract_tables import load_leads, load_reps
from solver.policy import (
    AdaptiveCaps,
    CapFactors,
    Policy,
    PolicyInputs,
    adaptive_factors,
    downweight_expiries,
    parse_policy,
    room_left,
    route_with_policy,
    tier_bars,
)
from solver.policy._ledger import Ledger
from solver.policy._outcome import build_outcome
from solver.policy._stages import (
    Setup,
    explain_soft_groups,
    open_items,
    open_ledger,
    prepare,
    route_leftovers,
    route_nurture,
    route_owners,
    route_pins,
)
from solver.strategies import GreedyBestFit, StrategyOutcome, StrategyState

LEADS: dict[str, object] = {"lead_id": ["x", "y", "z"], "account_id": ["A", "A", ""],
         "value": [10, 1, 100], "region": ["eu", "us", "eu"]}
REPS: dict[str, object] = {"rep_id": ["a", "b"], "capacity": [1, 5], "region": ["eu", "us"],
        "active": ["true", "true"]}
SCORE = [[0.9, 0.2], [0.1, 0.8], [0.5, 0.5]]


def _setup(policy: dict[str, object] | None = None, inputs: PolicyInputs | None = None,
           leads: dict[str, object] = LEADS, reps: dict[str, object] = REPS,
           score: list[list[float]] = SCORE) -> Setup:
    lead_table, rep_table = load_leads(pd.DataFrame(leads)), load_reps(pd.DataFrame(reps))
    problem = problem_from_matrix(lead_table, rep_table, np.asarray(score, dtype=float))
    return prepare(problem, lead_table, rep_table, parse_policy(policy or {}),
                   inputs or PolicyInputs())


def _decided(ledger: Ledger) -> list[tuple[int, str, str]]:
    return [(int(rep), (status.value if status else ""), reason.render() if reason else "")
            for rep, status, reason in zip(ledger.rep_index, ledger.status, ledger.reasons,
                                           strict=True)]


# -- prepare -------------------------------------------------------------------------
def test_prepare_scores_revenue_and_masks_each_pool() -> None:
    setup = _setup({"objective": "expected_revenue",
                    "rules": [{"name": "territory", "kind": "equals", "lead": "region",
                               "rep": "region"}],
                    "pools": [{"name": "local", "rules": ["territory"]},
                              {"name": "anyone", "rules": []}]},
                   PolicyInputs(forbidden=frozenset({("z", "b")})))
    pairs = list(zip(setup.problem.pair_lead.tolist(), setup.problem.pair_rep.tolist(),
                     strict=True))
    assert setup.score.tolist() == pytest.approx([9.0, 2.0, 0.1, 0.8, 50.0, 50.0])
    (local_name, local), (any_name, anyone) = setup.pool_masks
    assert (local_name, any_name) == ("local", "anyone")
    assert [p for p, m in zip(pairs, local, strict=True) if m] == [(0, 0), (1, 1), (2, 0)]
    assert [p for p, m in zip(pairs, anyone, strict=True) if m] == [
        (0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]  # (z, b) is forbidden in every pool
    assert setup.eligible.tolist() == anyone.tolist()


# -- one stage at a time ---------------------------------------------------------------
def test_pins_honour_capacity_and_activity() -> None:
    reps = {**REPS, "active": ["true", "false"]}
    setup = _setup(inputs=PolicyInputs(pins={"y": "a", "x": "a", "z": "b"}), reps=reps)
    ledger = open_ledger(setup)
    route_pins(setup, ledger)
    assert _decided(ledger) == [
        (-1, "unassigned", "pinned to a, who has no capacity left"),  # y took a's one slot
        (0, "assigned", "pinned by a manager"),
        (-1, "unassigned", "pinned to b, who is inactive"),
    ]


def test_nurture_takes_leads_whose_best_fit_is_below_the_threshold() -> None:
    setup = _setup({"nurture": {"threshold": 0.6}})
    ledger = open_ledger(setup)
    route_nurture(setup, ledger)
    assert [s.value if s else None for s in ledger.status] == [None, None, "nurture"]
    assert ledger.reasons[2] == Reason(ReasonCode.NURTURE, value=0.5, limit=0.6)
    assert _decided(ledger)[2][2] == "below nurture threshold (best expected value 0.5 < 0.6)"


def test_owner_keeps_an_eligible_lead_while_there_is_room() -> None:
    setup = _setup({"accounts": {"owner_keeps": True}}, PolicyInputs(owners={"A": "a"}))
    ledger = open_ledger(setup)
    route_owners(setup, ledger)
    # x and y are account A's; a has room for one
    assert _decided(ledger)[:2] == [(0, "assigned", "account owner a"), (-1, "", "")]


def test_items_group_an_account_only_when_hard() -> None:
    for together, expected in (("hard", [[0, 1], [2]]), ("off", [[0], [1], [2]])):
        setup = _setup({"accounts": {"keep_together": together}})
        assert open_items(setup, open_ledger(setup)) == expected


def test_leftovers_say_why_nobody_took_them() -> None:
    setup = _setup({"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]},
                   leads={**LEADS, "region": ["eu", "mars", "eu"]})
    ledger = open_ledger(setup)
    ledger.assign(0, 0, 1.0, 0.9, Reason(ReasonCode.PINNED))  # a is now full
    route_leftovers(setup, ledger)
    assert [r.code if r else None for r in ledger.reasons[1:]] == [
        ReasonCode.NO_ELIGIBLE_REP, ReasonCode.CAPACITY_EXHAUSTED]
    assert _decided(ledger)[1:] == [
        (-1, "unassigned", NO_ELIGIBLE_REP),
        (-1, "unassigned", "capacity exhausted: the only eligible rep is full"),
    ]


def test_soft_groups_note_whether_an_account_stayed_together() -> None:
    setup = _setup({"accounts": {"keep_together": "soft", "split_penalty": 0.5}})
    ledger = open_ledger(setup)
    ledger.assign(0, 0, 1.0, 0.9, Reason(ReasonCode.ROUTED, text="x"))
    ledger.assign(1, 1, 1.0, 0.8, Reason(ReasonCode.ROUTED, text="y"))
    explain_soft_groups(setup, ledger)
    assert [reason for _, _, reason in _decided(ledger)[:2]] == [
        "x; account group split across 2 reps (penalty 0.5 per extra rep)",
        "y; account group split across 2 reps (penalty 0.5 per extra rep)"]


def test_outcome_has_one_row_per_lead_with_the_pair_score() -> None:
    setup = _setup()
    ledger = open_ledger(setup)
    ledger.assign(2, 1, 1.0, 0.5, Reason(ReasonCode.ROUTED, text="chosen", pool="later"))
    outcome = build_outcome(setup, ledger, None)
    table = outcome.assignments
    assert table["lead_id"].tolist() == ["x", "y", "z"]
    assert table["rep_id"].tolist() == ["", "", "b"]
    assert table["status"].tolist() == ["unassigned", "unassigned", "assigned"]
    assert table["reason"].tolist() == ["", "", "fallback pool 'later': chosen"]
    assert outcome.reasons[2] == Reason(ReasonCode.ROUTED, text="chosen", pool="later")
    assert outcome.objective == pytest.approx(0.5)


# -- reasons: a code and parameters, words at the edge -------------------------------------
@pytest.mark.parametrize(("reason", "words"), [
    (Reason(ReasonCode.PINNED), "pinned by a manager"),
    (Reason(ReasonCode.PIN_FULL, rep="r1"), "pinned to r1, who has no capacity left"),
    (Reason(ReasonCode.ACCOUNT_OWNER, rep="r2"), "account owner r2"),
    (Reason(ReasonCode.ROUTED, text="best fit", count=3, pool="overflow"),
     "fallback pool 'overflow': account group of 3 leads: best fit"),
    (Reason(ReasonCode.CAPACITY_EXHAUSTED, count=2, every_pool=True),
     "capacity exhausted: all 2 eligible reps are full in every pool"),
    (Reason(ReasonCode.GROUP_UNPLACEABLE, count=4),
     "account group of 4 leads: no eligible rep can take them all"),
    (Reason(ReasonCode.EXPLORATION, text="uniform", limit=0.1, rep="r3"),
     "exploration (uniform, share 0.1): drawn at random among the reps with room "
     "instead of r3"),
    (Reason(ReasonCode.NO_ELIGIBLE_REP).with_note("a").with_note("b"), f"{NO_ELIGIBLE_REP}; a; b"),
])
def test_a_reason_renders_the_words_of_the_contract(reason: Reason, words: str) -> None:
    assert reason.render() == words


def test_statuses_of_batch_and_service_share_one_enum() -> None:
    assert {s.value for s in LeadStatus} == {
        "assigned", "unassigned", "nurture", "pending", "accepted", "worked", "unrouted",
        "error"}


# -- capabilities instead of class checks ------------------------------------------------
@dataclass(frozen=True)
class _Recorder:
    """A heuristic that records the problems it was given (no soft terms, no time limit)."""

    name: ClassVar[str] = "recorder"
    soft_terms: ClassVar[bool] = False
    time_limited: ClassVar[bool] = False
    stateless: ClassVar[bool] = True
    seen: list[RoutingProblem]

    def assign(self, problem: RoutingProblem, state: StrategyState | None = None
               ) -> StrategyOutcome:
        self.seen.append(problem)
        return GreedyBestFit().assign(problem, state)


def test_a_strategy_without_soft_terms_routes_its_pools_itself() -> None:
    seen: list[RoutingProblem] = []
    lead_table, rep_table = load_leads(pd.DataFrame(LEADS)), load_reps(pd.DataFrame(REPS))
    problem = problem_from_matrix(lead_table, rep_table, np.asarray(SCORE))
    outcome = route_with_policy(problem, lead_table, rep_table,
                                parse_policy({"fairness": {"band": 0.1}}),
                                strategy=_Recorder(seen))
    assert len(seen) == 1  # the band asks the optimiser only; this strategy got the pool
    assert outcome.engine == "heuristic"


# -- SLA stages --------------------------------------------------------------------------
def test_expiries_down_weight_a_reps_scores() -> None:
    sla = parse_policy({"sla": {"work_within_minutes": 30, "expiry_penalty": 0.5}}).sla
    out = downweight_expiries([[1.0, 1.0]], sla, ["a", "b"], {"b": 2})
    assert out.tolist() == [[1.0, 0.25]]
    assert downweight_expiries([[1.0]], None, ["a"], {"a": 3}).tolist() == [[1.0]]


def test_tiers_open_to_a_lead_as_it_ages() -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 30, "tiers": [
        {"name": "seniors", "reps": {"attribute": "region", "values": ["eu"]}},
        {"name": "everyone", "after_minutes": 10}]}})
    leads = pd.DataFrame({"lead_id": ["new", "old"],
                          "created_at": pd.to_datetime(["2024-01-01 12:00",
                                                        "2024-01-01 11:00"])})
    reps = load_reps(pd.DataFrame(REPS))
    barred, notes = tier_bars(policy.sla, leads, reps, datetime(2024, 1, 1, 12, 5))
    assert barred == {("new", "b")}
    assert notes == {"new": "tier 'seniors'; escalates to 'everyone' at 10 min",
                     "old": "tier 'everyone'"}


def test_adaptive_caps_follow_the_follow_up_rate() -> None:
    reps = pd.DataFrame({"rep_id": ["a", "b"]})
    follow = pd.DataFrame({"rep_id": ["a", "b"], "assigned": [10, 10], "expired": [0, 5],
                           "outcomes": [0, 0], "converted": [0, 0]})
    settings = AdaptiveCaps(lookback_days=14, min_leads=5, min_factor=0.5, max_factor=1.5,
                            conversion_weight=0.0)
    caps = adaptive_factors(reps, follow, settings)
    assert caps.factor.tolist() == pytest.approx([1 / 0.75, 0.5 / 0.75])
    assert caps.notes[1] == "cap ×0.67 (followed up 50% of 10 recent leads vs team 75%)"


def test_room_left_is_the_adapted_daily_cap_within_the_weekly_cap() -> None:
    reps = pd.DataFrame({"capacity": [10.0, 10.0, 10.0],
                         "capacity_week": [np.nan, 30.0, 100.0]})
    caps = CapFactors(np.array([1.5, 1.0, 0.5]), ["", "", ""])
    room = room_left(reps, caps, np.array([2.0, 2.0, 2.0]), np.array([0.0, 25.0, 0.0]))
    assert room.tolist() == [13.0, 5.0, 3.0]


# -- the one pipeline ----------------------------------------------------------------------
def test_route_takes_pairs_a_matrix_or_a_scorer_and_gives_the_same_answer() -> None:
    lead_table, rep_table = load_leads(pd.DataFrame(LEADS)), load_reps(pd.DataFrame(REPS))
    matrix = np.asarray(SCORE)
    pairs = pd.DataFrame({"lead_id": np.repeat(["x", "y", "z"], 2),
                          "rep_id": ["a", "b"] * 3, "score": matrix.ravel(),
                          "effort": np.nan})
    by_matrix = route(leads=lead_table, reps=rep_table, scores=matrix)
    by_scorer = route(leads=lead_table, reps=rep_table, scorer=lambda _l, _r: matrix)
    by_pairs = route(leads=lead_table, reps=rep_table, scores=pairs, strategy="optimal")
    for outcome in (by_scorer, by_pairs):
        pd.testing.assert_frame_equal(outcome.assignments, by_matrix.assignments)
    assert by_matrix.assignments["status"].tolist() == [LeadStatus.ASSIGNED.value] * 3
    wrapped = route_matrix(pd.DataFrame(LEADS), pd.DataFrame(REPS), matrix)
    plain = route(leads=lead_table, reps=rep_table, scores=matrix, policy=NO_POLICY)
    pd.testing.assert_frame_equal(wrapped.assignments, plain.assignments)


@pytest.mark.parametrize("given", [{}, {"scores": np.ones((3, 2)), "scorer": np.ones}],
                         ids=["neither", "both"])
def test_route_needs_exactly_one_source_of_scores(given: dict[str, object]) -> None:
    lead_table, rep_table = load_leads(pd.DataFrame(LEADS)), load_reps(pd.DataFrame(REPS))
    with pytest.raises(InputError, match="give exactly one of pair scores or a scorer"):
        route(leads=lead_table, reps=rep_table, policy=Policy(), **given)  # type: ignore[arg-type]


def test_without_a_policy_leads_of_one_account_are_routed_on_their_own() -> None:
    """``route_matrix`` and the replay without a policy are plain optimisation (what
    ``solve`` and ``assign`` do); ``Policy()`` keeps an account's leads together."""
    leads = pd.DataFrame({"lead_id": ["x", "y"], "account_id": ["A", "A"]})
    reps = pd.DataFrame({"rep_id": ["a", "b"], "capacity": [1, 1]})
    matrix = np.array([[0.9, 0.1], [0.1, 0.9]])
    plain = route_matrix(leads, reps, matrix).assignments
    assert plain["rep_id"].tolist() == ["a", "b"]
    grouped = route(leads=load_leads(leads), reps=load_reps(reps), scores=matrix)
    assert grouped.assignments["status"].tolist() == ["unassigned", "unassigned"]
    assert set(grouped.assignments["reason"]) == {
        "account group of 2 leads: no eligible rep can take them all"}


def test_the_sweep_splits_only_the_strategies_that_carry_no_state() -> None:
    from solver._sweep import is_stateless
    from solver.strategies import STRATEGIES

    assert [name for name in STRATEGIES if is_stateless(name)] == [
        "greedy", "cherry_picking", "optimal"]
    assert [name for name, cls in STRATEGIES.items() if cls.soft_terms] == ["optimal"]
