"""Routing policy: every practice sales teams use, as constraints and weights.

A policy file (TOML) becomes a typed ``Policy``; ``route_with_policy`` applies it to a
routing problem: pins, nurture pool, account owners and groups, eligibility rules with a
fallback chain of pools, ramp-up, the fairness band, and explanations.
"""

from solver.policy._eligibility import rep_filter_mask
from solver.policy._inputs import PolicyInputs
from solver.policy._instant import StreamSettings, route_stream
from solver.policy._load import load_policy, parse_policy
from solver.policy._match import Match
from solver.policy._model import (
    Accounts,
    AdaptiveCaps,
    AtMostRule,
    ContainsRule,
    EqualsRule,
    Experiment,
    Explore,
    Fairness,
    LeadClass,
    ListRule,
    Nurture,
    Policy,
    Pool,
    Ramp,
    RepFilter,
    Sla,
    Tier,
)
from solver.policy._outcome import PolicyOutcome
from solver.policy._owners_and_overrides import load_overrides, load_owners
from solver.policy._pipeline import route_with_policy
from solver.policy._ramp import ramp_factors
from solver.policy._sla import (
    CapFactors,
    adaptive_factors,
    downweight_expiries,
    room_left,
    tier_bars,
    unit_factors,
)
from solver.policy._summary import (
    SHADOW_PRICE_MAX_PAIRS,
    RepSummary,
    rep_summary,
    shadow_prices,
)

__all__ = [
    "SHADOW_PRICE_MAX_PAIRS",
    "Accounts",
    "AdaptiveCaps",
    "AtMostRule",
    "CapFactors",
    "ContainsRule",
    "EqualsRule",
    "Experiment",
    "Explore",
    "Fairness",
    "LeadClass",
    "ListRule",
    "Match",
    "Nurture",
    "Policy",
    "PolicyInputs",
    "PolicyOutcome",
    "Pool",
    "Ramp",
    "RepSummary",
    "RepFilter",
    "RepSummary",
    "Sla",
    "StreamSettings",
    "Tier",
    "adaptive_factors",
    "downweight_expiries",
    "load_overrides",
    "load_owners",
    "load_policy",
    "parse_policy",
    "ramp_factors",
    "rep_filter_mask",
    "rep_summary",
    "room_left",
    "route_stream",
    "route_with_policy",
    "shadow_prices",
    "tier_bars",
    "unit_factors",
]
