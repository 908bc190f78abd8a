"""The routing policy as typed, frozen, strictly validated objects.

Every section is optional; an empty policy routes on scores alone. Unknown keys are
errors (``extra="forbid"``), and no string from the file is ever evaluated: rules name
columns and literal values only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from solver.policy._match import Match
from solver.strategies import STRATEGIES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EqualsRule(_Strict):
    """Lead attribute equals rep attribute (territory, language)."""

    kind: Literal["equals"]
    name: str | None = None
    lead: str
    rep: str


class ContainsRule(_Strict):
    """The rep's ``;``-separated list contains the lead's value (industries, skills)."""

    kind: Literal["contains"]
    name: str | None = None
    lead: str
    rep: str


class AtMostRule(_Strict):
    """Lead number at most rep number (deal value vs ``max_deal_value``)."""

    kind: Literal["at_most"]
    name: str | None = None
    lead: str
    rep: str


class ListRule(_Strict):
    """Fixed allow/deny list: leads whose ``attribute`` is in ``values`` may only go to
    (allow) or never go to (deny) the listed ``reps``."""

    kind: Literal["allow", "deny"]
    name: str | None = None
    attribute: str
    values: tuple[str, ...]
    reps: tuple[str, ...]


Rule = Annotated[
    EqualsRule | ContainsRule | AtMostRule | ListRule, Field(discriminator="kind")
]


class RepFilter(_Strict):
    """Reps whose ``attribute`` is one of ``values``."""

    attribute: str
    values: tuple[str, ...]


class Pool(_Strict):
    """One step of the fallback chain: which rules apply and which reps take part."""

    name: str
    rules: tuple[str, ...] | None = None  # None = every rule
    reps: RepFilter | None = None  # None = every rep


class Accounts(_Strict):
    """Leads of one account within the batch go to one rep.

    ``keep_together = "hard"``: one rep or none; ``"soft"``: the optimiser may split an
    account, at ``split_penalty`` objective units (expected conversions, or revenue) per
    extra rep it is split across; ``"off"``: every lead routed on its own.
    """

    keep_together: Literal["hard", "soft", "off"] = "hard"
    split_penalty: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    owner_keeps: bool = True

    @model_validator(mode="after")
    def _check_penalty(self) -> Accounts:
        if self.keep_together == "soft" and self.split_penalty is None:
            raise ValueError("keep_together = 'soft' needs a split_penalty (>= 0)")
        if self.keep_together != "soft" and self.split_penalty is not None:
            raise ValueError("split_penalty is only valid with keep_together = 'soft'")
        return self


class Fairness(_Strict):
    """Each active rep's share of assigned effort (or, with ``share_of = "value"``, of
    assigned expected value: score, or score × value under the revenue objective) within
    ±band of its weighted target.

    ``mode = "band"`` minimises the band shortfall right after coverage;
    ``mode = "penalty"`` trades score for evenness: it maximises
    ``score − penalty × (largest relative deviation) × total assigned effort`` (or value).
    A value share covers this batch only: prior loads (the service's window) are effort.
    """

    band: float = Field(0.1, ge=0.0, le=10.0)
    mode: Literal["band", "penalty"] = "band"
    penalty: float = Field(0.0, ge=0.0)
    share_of: Literal["effort", "value"] = "effort"


class LeadClass(_Strict):
    attribute: str
    values: tuple[str, ...]


class Ramp(_Strict):
    """Days since ``start_date`` → capacity/share factor (a step function)."""

    schedule: tuple[tuple[int, float], ...] = ((0, 0.25), (30, 0.5), (60, 0.75), (90, 1.0))
    forbid_until_ramped: tuple[LeadClass, ...] = ()

    @model_validator(mode="after")
    def _check_schedule(self) -> Ramp:
        days = [d for d, _ in self.schedule]
        if not days or days[0] != 0 or days != sorted(set(days)):
            raise ValueError("schedule must start at day 0 with increasing days")
        if any(not 0.0 <= f <= 1.0 for _, f in self.schedule):
            raise ValueError("schedule factors must be within [0, 1]")
        return self


class Nurture(_Strict):
    """Leads whose best expected value is below ``threshold`` go to nurturing."""

    threshold: float = Field(ge=0.0)


class Tier(_Strict):
    """One step of an escalation: ``reps`` may take a lead once it is ``after_minutes`` old."""

    name: str
    reps: RepFilter | None = None  # None = every rep
    after_minutes: float = Field(0.0, ge=0.0)


class AdaptiveCaps(_Strict):
    """Scale each rep's capacity by its recent follow-up rate relative to the team's (and,
    with ``conversion_weight``, its conversion rate), bounded to ``[min_factor,
    max_factor]`` (used by the micro-batch service)."""

    lookback_days: int = Field(14, ge=1)
    min_factor: float = Field(0.5, gt=0.0, le=1.0)
    max_factor: float = Field(1.5, ge=1.0)
    min_leads: int = Field(5, ge=1)  # below this many recent leads a rep keeps factor 1
    # 0 = follow-up only; w > 0 also multiplies by (rep's conversion rate / team's)^w,
    # the rep's rate shrunk toward the team's with ``min_leads`` pseudo-outcomes
    conversion_weight: float = Field(0.0, ge=0.0, le=1.0)


class Sla(_Strict):
    """Service level: a lead not marked worked within ``work_within_minutes`` expires and
    is routed again to a rep who has not had it. Used by the micro-batch service only."""

    work_within_minutes: float = Field(gt=0.0)
    # "wall": minutes as the clock runs; "working_hours": only minutes inside the rep's
    # shift, Monday to Friday, outside the holidays of the rep's calendar
    clock: Literal["wall", "working_hours"] = "wall"
    # default holiday calendar ("US", "DE-BY"); a rep's ``holidays`` attribute overrides it
    holidays: str | None = Field(None, min_length=2, max_length=20)
    max_attempts: int = Field(3, ge=1)
    expiry_penalty: float = Field(0.0, ge=0.0, lt=1.0)  # score × (1 − p)^(recent expiries)
    tiers: tuple[Tier, ...] = ()
    adaptive_caps: AdaptiveCaps | None = None

    @model_validator(mode="after")
    def _check_tiers(self) -> Sla:
        delays = [tier.after_minutes for tier in self.tiers]
        if delays and (delays[0] != 0 or delays != sorted(delays)):
            raise ValueError("tiers must start at after_minutes = 0 and not decrease")
        return self


class Explore(_Strict):
    """Randomised routing so the logs can evaluate other strategies (off-policy).

    Each routed lead (one not pinned, kept by its account owner or bound to an account
    group) is, with probability ``share``, given to a rep drawn from those it could take
    (eligible in the pool it was routed in, with room at that moment): uniformly
    (``"epsilon"``) or by a softmax of fit / ``temperature`` (``"softmax"``). Its
    ``propensity`` is the exact probability of the rep it got, given the batch's state.
    """

    share: float = Field(0.05, ge=0.0, le=1.0)
    method: Literal["epsilon", "softmax"] = "epsilon"
    temperature: float = Field(0.05, gt=0.0, allow_inf_nan=False)
    seed: int = Field(0, ge=0)


class Experiment(_Strict):
    """A holdout: a seeded random ``share`` of units (leads, or whole accounts) is routed
    by the ``control`` strategy, the rest by the optimiser; each lead's ``arm`` is
    recorded. A unit stays in its arm across batches (the draw hashes name and unit)."""

    name: str = Field(min_length=1, max_length=100)
    control: str = "round_robin"
    share: float = Field(0.1, gt=0.0, lt=1.0)
    unit: Literal["lead", "account"] = "lead"

    @model_validator(mode="after")
    def _check_control(self) -> Experiment:
        if self.control not in STRATEGIES or self.control == "optimal":
            valid = ", ".join(name for name in STRATEGIES if name != "optimal")
            raise ValueError(f"control must be a baseline strategy ({valid}), "
                             f"got {self.control!r}")
        return self


class Policy(_Strict):
    """A whole routing policy (``--policy policy.toml``)."""

    objective: Literal["expected_conversions", "expected_revenue"] = "expected_conversions"
    rules: tuple[Rule, ...] = ()
    pools: tuple[Pool, ...] = ()
    accounts: Accounts = Accounts()
    fairness: Fairness | None = None
    ramp: Ramp | None = None
    nurture: Nurture | None = None
    sla: Sla | None = None
    explore: Explore | None = None
    experiment: Experiment | None = None
    match: Match = Match()  # lead-to-account matching (route --accounts)
    # Columns present in leads and reps that split a batch into independent problems
    # (e.g. region × team); see solver._partition for when that is allowed.
    partition_by: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_names(self) -> Policy:
        names = [rule_name(r, i) for i, r in enumerate(self.rules)]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        for pool in self.pools:
            unknown = sorted(set(pool.rules or ()) - set(names))
            if unknown:
                raise ValueError(
                    f"pool '{pool.name}' names unknown rule(s) {unknown}; rules: {names}"
                )
        return self


def rule_name(rule: EqualsRule | ContainsRule | AtMostRule | ListRule, index: int) -> str:
    if rule.name:
        return rule.name
    if isinstance(rule, ListRule):
        return f"{rule.kind}_{rule.attribute}_{index}"
    return rule.lead
