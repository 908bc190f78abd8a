"""One tiny hand-built case per policy practice, and tables of bad policies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver import InputError, PolicyError
from solver._build import problem_from_matrix
from solver.contract_tables import load_leads, load_reps
from solver.policy import (
    PolicyInputs,
    PolicyOutcome,
    load_overrides,
    load_owners,
    load_policy,
    parse_policy,
    route_with_policy,
)
from solver.strategies import RoundRobin


def _route(
    leads: dict[str, list[object]],
    reps: dict[str, list[object]],
    score: list[list[float]],
    policy: dict[str, object],
    inputs: PolicyInputs | None = None,
) -> PolicyOutcome:
    lead_table = load_leads(pd.DataFrame(leads))
    rep_table = load_reps(pd.DataFrame(reps))
    problem = problem_from_matrix(lead_table, rep_table, np.asarray(score, dtype=float))
    return route_with_policy(problem, lead_table, rep_table, parse_policy(policy), inputs=inputs)


def _reps_of(outcome: PolicyOutcome) -> list[str]:
    return outcome.assignments["rep_id"].tolist()


TWO_REPS = {"rep_id": ["a", "b"], "capacity": [5, 5], "region": ["eu", "us"],
            "industries": ["retail;health", "energy"], "max_deal_value": [100, 1000]}


def test_equals_rule_keeps_territory() -> None:
    out = _route({"lead_id": ["x", "y"], "region": ["us", "eu"]}, TWO_REPS,
                 [[0.9, 0.1], [0.1, 0.9]],
                 {"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]})
    assert _reps_of(out) == ["b", "a"]  # against the scores: territory is hard


def test_contains_rule_reads_semicolon_lists() -> None:
    out = _route({"lead_id": ["x", "y"], "industry": ["Health", "energy"]}, TWO_REPS,
                 [[0.1, 0.9], [0.9, 0.1]],
                 {"rules": [{"kind": "contains", "lead": "industry", "rep": "industries"}]})
    assert _reps_of(out) == ["a", "b"]


def test_at_most_rule_caps_deal_size() -> None:
    out = _route({"lead_id": ["x"], "value": [500]}, TWO_REPS, [[0.9, 0.1]],
                 {"rules": [{"kind": "at_most", "lead": "value", "rep": "max_deal_value"}]})
    assert _reps_of(out) == ["b"]


def test_at_most_rule_on_a_non_number_is_a_located_input_error() -> None:
    with pytest.raises(InputError, match=r"leads table, row 2, column 'budget': rule "
                                         r"'budget <= max_deal_value' needs a number, got 'lots'"):
        _route({"lead_id": ["x", "y"], "budget": ["50", "lots"]}, TWO_REPS,
               [[0.9, 0.1], [0.9, 0.1]],
               {"rules": [{"kind": "at_most", "lead": "budget", "rep": "max_deal_value"}]})


def test_allow_and_deny_lists() -> None:
    leads = {"lead_id": ["x", "y"], "segment": ["enterprise", "smb"]}
    allow = _route(leads, TWO_REPS, [[0.9, 0.1], [0.9, 0.1]], {"rules": [
        {"kind": "allow", "attribute": "segment", "values": ["enterprise"], "reps": ["b"]}]})
    assert _reps_of(allow) == ["b", "a"]
    deny = _route(leads, TWO_REPS, [[0.1, 0.9], [0.1, 0.9]], {"rules": [
        {"kind": "deny", "attribute": "segment", "values": ["smb"], "reps": ["b"]}]})
    assert _reps_of(deny) == ["b", "a"]


def test_inactive_rep_gets_nothing_and_no_rule_match_is_explained() -> None:
    reps = dict(TWO_REPS, active=[True, False])
    out = _route({"lead_id": ["x", "y"], "region": ["eu", "us"]}, reps,
                 [[0.1, 0.9], [0.1, 0.9]],
                 {"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]})
    assert _reps_of(out) == ["a", ""]
    assert out.assignments["reason"].iloc[1] == "no eligible rep"


def test_fallback_pool_is_used_and_named() -> None:
    reps = dict(TWO_REPS, capacity=[1, 5])
    policy = {
        "rules": [{"name": "territory", "kind": "equals", "lead": "region", "rep": "region"}],
        "pools": [{"name": "region team", "rules": ["territory"]},
                  {"name": "anyone", "rules": []}],
    }
    out = _route({"lead_id": ["x", "y"], "region": ["eu", "eu"]}, reps,
                 [[0.9, 0.1], [0.8, 0.1]], policy)
    assert _reps_of(out) == ["a", "b"]
    assert out.assignments["reason"].iloc[1].startswith("fallback pool 'anyone'")


def test_account_group_goes_to_one_rep() -> None:
    leads = {"lead_id": ["x", "y"], "account_id": ["acme", "acme"]}
    out = _route(leads, TWO_REPS, [[0.9, 0.1], [0.1, 0.8]], {})
    assert len(set(_reps_of(out))) == 1
    assert _reps_of(out) == ["a", "a"]  # 1.0 together on a beats 0.9 together on b
    apart = _route(leads, TWO_REPS, [[0.9, 0.1], [0.1, 0.8]],
                   {"accounts": {"keep_together": "off"}})
    assert _reps_of(apart) == ["a", "b"]


@pytest.mark.parametrize("effort", [1.0, 1.5], ids=["unit", "fractional"])
def test_soft_account_group_stays_together_only_when_the_penalty_is_high(
    effort: float,
) -> None:
    # splitting scores 0.9 + 0.8 = 1.7, together at most 1.0: a 0.3 penalty per extra rep
    # keeps the split (1.4 > 1.0), a 0.8 penalty keeps them together (0.9 < 1.0)
    leads = {"lead_id": ["x", "y"], "account_id": ["acme", "acme"], "effort": [effort] * 2}
    score = [[0.9, 0.1], [0.1, 0.8]]

    def soft(penalty: float) -> PolicyOutcome:
        return _route(leads, TWO_REPS, score,
                      {"accounts": {"keep_together": "soft", "split_penalty": penalty}})

    together = soft(0.8)
    assert _reps_of(together) == ["a", "a"]
    assert together.objective < 1.7  # it gave up score to keep the account whole
    assert together.assignments["reason"].str.contains("kept with one rep").all()
    for penalty in (0.0, 0.3):
        apart = soft(penalty)
        assert _reps_of(apart) == ["a", "b"]
        assert apart.assignments["reason"].str.contains(
            f"account group split across 2 reps \\(penalty {penalty:g} per extra rep\\)").all()


def test_soft_account_group_with_a_fairness_band() -> None:
    # the band (±0 of 1 lead each) wants one lead per rep: the band outranks the penalty
    leads = {"lead_id": ["x", "y"], "account_id": ["acme", "acme"]}
    out = _route(leads, TWO_REPS, [[0.9, 0.1], [0.9, 0.1]],
                 {"accounts": {"keep_together": "soft", "split_penalty": 5.0},
                  "fairness": {"band": 0.0}})
    assert sorted(_reps_of(out)) == ["a", "b"]


def test_account_owner_keeps_account_and_parent_chain(tmp_path: Path) -> None:
    owners_csv = tmp_path / "owners.csv"
    owners_csv.write_text("account_id,rep_id,parent_account_id\nholding,b,\nsub,,holding\n")
    owners = load_owners(owners_csv, rep_ids=pd.Series(["a", "b"]))
    assert owners == {"holding": "b", "sub": "b"}
    out = _route({"lead_id": ["x"], "account_id": ["sub"]}, TWO_REPS, [[0.9, 0.1]], {},
                 PolicyInputs(owners=owners))
    assert _reps_of(out) == ["b"]
    assert out.assignments["reason"].iloc[0] == "account owner b"


def test_owner_without_capacity_lets_the_optimiser_route() -> None:
    reps = dict(TWO_REPS, capacity=[5, 0])
    out = _route({"lead_id": ["x"], "account_id": ["acme"]}, reps, [[0.1, 0.9]], {},
                 PolicyInputs(owners={"acme": "b"}))
    assert _reps_of(out) == ["a"]


def test_pins_and_forbids(tmp_path: Path) -> None:
    csv = tmp_path / "overrides.csv"
    csv.write_text("lead_id,rep_id,action\nx,b,pin\ny,a,forbid\n")
    pins, forbidden = load_overrides(csv, lead_ids=pd.Series(["x", "y"]),
                                     rep_ids=pd.Series(["a", "b"]))
    out = _route({"lead_id": ["x", "y"]}, TWO_REPS, [[0.9, 0.1], [0.9, 0.1]], {},
                 PolicyInputs(pins=pins, forbidden=frozenset(forbidden)))
    assert _reps_of(out) == ["b", "b"]
    assert out.assignments["reason"].iloc[0] == "pinned by a manager"


def test_nurture_threshold() -> None:
    out = _route({"lead_id": ["x", "y"]}, TWO_REPS, [[0.01, 0.02], [0.5, 0.1]],
                 {"nurture": {"threshold": 0.05}})
    assert out.assignments["status"].tolist() == ["nurture", "assigned"]
    assert "below nurture threshold" in out.assignments["reason"].iloc[0]


def test_revenue_objective_weighs_by_value() -> None:
    # one slot: conversions prefer x (0.5), revenue prefers y (0.3 × 1000)
    reps = {"rep_id": ["a"], "capacity": [1]}
    leads = {"lead_id": ["x", "y"], "value": [10, 1000]}
    conv = _route(leads, reps, [[0.5], [0.3]], {})
    rev = _route(leads, reps, [[0.5], [0.3]], {"objective": "expected_revenue"})
    assert _reps_of(conv) == ["a", ""] and _reps_of(rev) == ["", "a"]


def test_fairness_band_spreads_load_at_a_price() -> None:
    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    leads = {"lead_id": list("wxyz")}
    score = [[0.9, 0.1], [0.9, 0.2], [0.9, 0.3], [0.9, 0.4]]
    free = _route(leads, reps, score, {"accounts": {"keep_together": "off"}})
    fair = _route(leads, reps, score, {"fairness": {"band": 0.0}})
    assert _reps_of(free) == ["a"] * 4
    assert sorted(_reps_of(fair)) == ["a", "a", "b", "b"]
    assert _reps_of(fair)[2:] == ["b", "b"]  # b takes the leads it fits best
    assert fair.objective < free.objective
    assert fair.rep_summary["band_shortfall"].sum() == pytest.approx(0.0)


def test_fairness_band_on_value_share_evens_out_expected_revenue() -> None:
    # a fits every lead better (0.5 vs 0.4), so under an even *effort* band a keeps the
    # two big deals and b gets the two small ones: even counts, very uneven value. A band
    # on the *value* share gives b a big deal instead.
    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    leads = {"lead_id": ["big1", "big2", "small1", "small2"], "value": [1000, 1000, 100, 100]}
    score = [[0.5, 0.4]] * 4
    base = {"objective": "expected_revenue", "accounts": {"keep_together": "off"}}
    by_effort = _route(leads, reps, score, {**base, "fairness": {"band": 0.0}})
    by_value = _route(leads, reps, score,
                      {**base, "fairness": {"band": 0.5, "share_of": "value"}})
    assert _reps_of(by_effort) == ["a", "a", "b", "b"]
    assert sorted(_reps_of(by_value)[:2]) == ["a", "b"]  # one big deal each
    summary = by_value.rep_summary.set_index("rep_id")
    assert summary["value"].to_dict() == pytest.approx({"a": 600.0, "b": 400.0})
    assert summary["load"].to_dict() == {"a": 3.0, "b": 1.0}  # effort is not what is shared
    assert summary["share_deviation"].to_dict() == pytest.approx({"a": 0.2, "b": -0.2})
    assert summary["band_shortfall"].sum() == pytest.approx(0.0)
    assert by_value.objective == pytest.approx(1000.0)  # the best split within the band
    reasons = by_value.assignments.set_index("rep_id")["reason"]
    assert reasons["b"] == ("fairness band binding: moved to b (score 400) to even out "
                            "expected value, from a")


def test_reason_names_the_fairness_band_when_it_changed_the_decision() -> None:
    # everyone prefers a; a ±0 band gives each rep 2 leads, so b takes the two leads it
    # fits best, and their reasons say the band decided
    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    score = [[0.9, 0.1], [0.9, 0.2], [0.9, 0.3], [0.9, 0.4]]
    out = _route({"lead_id": list("wxyz")}, reps, score, {"fairness": {"band": 0.0}})
    reasons = out.assignments["reason"].tolist()
    assert _reps_of(out) == ["a", "a", "b", "b"]
    assert reasons[2] == ("fairness band binding: preferred rep a (score 0.9) at its share "
                          "limit (2 of at most 2); best remaining fit b (score 0.3)")
    assert reasons[3].startswith("fairness band binding: preferred rep a")
    assert not any("fairness band" in reason for reason in reasons[:2])
    binding = out.rep_summary.set_index("rep_id")["band_binding"]
    assert binding.to_dict() == {"a": "upper", "b": "lower"}
    # a wide band changes nothing: no reason names it, no bound binds
    wide = _route({"lead_id": list("wxyz")}, reps, score, {"fairness": {"band": 1.0}})
    assert not wide.assignments["reason"].str.contains("fairness band").any()
    assert (wide.rep_summary["band_binding"] == "").all()


def test_fairness_band_that_cannot_hold_is_minimised_not_a_crash() -> None:
    reps = {"rep_id": ["a", "b"], "capacity": [4, 1]}
    out = _route({"lead_id": list("wxyz")}, reps, [[0.9, 0.1]] * 4, {"fairness": {"band": 0.0}})
    assert _reps_of(out).count("b") == 1  # b is full at 1, the band's 2 cannot hold
    assert out.rep_summary["band_shortfall"].sum() > 0


def test_penalty_mode_trades_score_for_evenness() -> None:
    reps = {"rep_id": ["a", "b"], "capacity": [4, 4]}
    score = [[0.9, 0.8]] * 4
    cheap = _route({"lead_id": list("wxyz")}, reps, score,
                   {"fairness": {"mode": "penalty", "penalty": 0.0}})
    dear = _route({"lead_id": list("wxyz")}, reps, score,
                  {"fairness": {"mode": "penalty", "penalty": 10.0}})
    assert _reps_of(cheap).count("a") == 4
    assert _reps_of(dear).count("a") == 2


def test_ramp_scales_capacity_and_forbids_enterprise() -> None:
    reps = {"rep_id": ["new", "old"], "capacity": [4, 4],
            "start_date": ["2024-03-01", "2020-01-01"]}
    leads = {"lead_id": list("wxyz"), "segment": ["smb", "smb", "smb", "enterprise"],
             "created_at": ["2024-03-10"] * 4}
    policy = {"ramp": {"schedule": [[0, 0.5], [90, 1.0]],
                       "forbid_until_ramped": [{"attribute": "segment",
                                                "values": ["enterprise"]}]},
              "accounts": {"keep_together": "off"}}
    out = _route(leads, reps, [[0.9, 0.1]] * 4, policy)
    assert _reps_of(out).count("new") == 2  # capacity 4 × 0.5
    assert _reps_of(out)[3] == "old"
    assert out.rep_summary.set_index("rep_id").loc["new", "ramp_factor"] == 0.5


def test_summary_has_shadow_prices_for_binding_capacity() -> None:
    reps = {"rep_id": ["a", "b"], "capacity": [1, 5]}
    out = _route({"lead_id": ["x", "y"]}, reps, [[0.9, 0.2], [0.8, 0.3]], {})
    prices = out.rep_summary.set_index("rep_id")["shadow_price"]
    assert prices["a"] > 0.4  # one more slot on a would move y from 0.3 to 0.8
    assert prices["b"] == pytest.approx(0.0, abs=1e-9)


def test_baseline_strategy_runs_under_the_policy() -> None:
    lead_table = load_leads(pd.DataFrame({"lead_id": list("wxyz"), "region": ["eu"] * 4}))
    rep_table = load_reps(pd.DataFrame(TWO_REPS))
    problem = problem_from_matrix(lead_table, rep_table, np.full((4, 2), 0.5))
    policy = parse_policy({"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]})
    out = route_with_policy(problem, lead_table, rep_table, policy, strategy=RoundRobin())
    assert set(_reps_of(out)) == {"a"}


BAD_POLICIES = [
    ({"objective": "profit"}, "objective: Input should be"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"fairness": {"band": 0.1, "extra": 1}}, "fairness.extra: unknown key"),
    ({"fairness": {"band": -1}}, "fairness.band"),
    ({"fairness": {"share_of": "revenue"}}, "fairness.share_of"),
    ({"rules": [{"kind": "regex", "lead": "a", "rep": "b"}]}, "rules.0"),
    ({"rules": [{"kind": "equals", "lead": "a"}]}, "rules.0.equals.rep: Field required"),
    ({"pools": [{"name": "p", "rules": ["nope"]}]}, "unknown rule"),
    ({"ramp": {"schedule": [[5, 0.5]]}}, "must start at day 0"),
    ({"ramp": {"schedule": [[0, 1.5]]}}, "within \\[0, 1\\]"),
    ({"nurture": {}}, "nurture.threshold: Field required"),
    ({"accounts": {"keep_together": "soft"}}, "needs a split_penalty"),
    ({"accounts": {"keep_together": "hard", "split_penalty": 1.0}},
     "split_penalty is only valid with keep_together = 'soft'"),
    ({"accounts": {"split_penalty": 1.0}}, "only valid with keep_together = 'soft'"),
    ({"accounts": {"keep_together": "soft", "split_penalty": -0.1}},
     "accounts.split_penalty: Input should be greater than or equal to 0"),
    ({"accounts": {"keep_together": "soft", "split_penalty": "high"}},
     "accounts.split_penalty"),
    ({"accounts": {"keep_together": "sometimes"}}, "accounts.keep_together"),
    ({"accounts": {"keep_together": "soft", "split_penalty": 1, "weight": 2}},
     "accounts.weight: unknown key"),
    ({"rules": [{"name": "r", "kind": "equals", "lead": "a", "rep": "b"},
                {"name": "r", "kind": "equals", "lead": "c", "rep": "d"}]}, "unique"),
]


@pytest.mark.parametrize(("data", "message"), BAD_POLICIES)
def test_bad_policies_are_clear_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(data)


def test_policy_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("objective = \n")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(broken)


def test_example_policy_loads() -> None:
    example = Path(__file__).resolve().parents[1] / "solver" / "policy" / "example_policy.toml"
    policy = load_policy(example)
    assert [pool.name for pool in policy.pools] == ["region specialists", "any region",
                                                    "overflow"]


def test_rule_on_missing_column_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="column 'language' in the leads table"):
        _route({"lead_id": ["x"]}, TWO_REPS, [[0.5, 0.5]],
               {"rules": [{"kind": "equals", "lead": "language", "rep": "region"}]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lead_id,rep_id,action\nx,b,steal\n", "row 1, column 'action'"),
        ("lead_id,rep_id,action\nq,b,pin\n", "unknown lead 'q'"),
        ("lead_id,rep_id\nx,b\n", "column 'action': required column is missing"),
        ("lead_id,rep_id,action\nx,a,pin\nx,b,pin\n", "pinned to two reps"),
    ],
)
def test_bad_overrides(tmp_path: Path, text: str, message: str) -> None:
    csv = tmp_path / "overrides.csv"
    csv.write_text(text)
    with pytest.raises(InputError, match=message):
        load_overrides(csv, lead_ids=pd.Series(["x", "y"]), rep_ids=pd.Series(["a", "b"]))


def test_cyclic_owner_chain_is_rejected(tmp_path: Path) -> None:
    csv = tmp_path / "owners.csv"
    csv.write_text("account_id,rep_id,parent_account_id\np,,q\nq,,p\n")
    with pytest.raises(InputError, match="cyclic parent chain"):
        load_owners(csv, rep_ids=pd.Series(["a"]))


def test_coverage_counts_leads_not_account_groups() -> None:
    # one rep with room for 2 effort units: the 2-lead account beats the single lead,
    # although the single lead scores higher (coverage first, counted in leads)
    reps = {"rep_id": ["a"], "capacity": [2]}
    leads = {"lead_id": ["x", "y", "z"], "account_id": ["acme", "acme", ""]}
    out = _route(leads, reps, [[0.1], [0.1], [0.9]], {})
    assert out.assignments["rep_id"].tolist() == ["a", "a", ""]
    assert out.assignments["reason"].iloc[2].startswith("capacity exhausted")


@pytest.mark.parametrize("effort", [1.0, None], ids=["flow", "cp-sat"])
def test_band_shortfall_is_spread_not_dumped_on_one_rep(effort: float | None) -> None:
    from solver import RoutingProblem, solve
    from solver._band import LoadBand

    rng = np.random.default_rng(0)
    score = rng.random((30, 4))
    score[:, 3] -= 0.5  # nobody wants rep 3
    efforts = np.ones(30) if effort is not None else np.where(np.arange(30) < 2, 2.0, 1.0)
    problem = RoutingProblem.from_dense(score, np.full(4, 12.0), effort=efforts)
    target = efforts.sum() / 4
    result = solve(problem, band=LoadBand(lower=np.full(4, target), upper=np.full(4, target)))
    loads = np.bincount(result.rep_index, weights=efforts, minlength=4)
    assert loads.max() - loads.min() <= 2, loads
