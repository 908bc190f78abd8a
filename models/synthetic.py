"""A seeded synthetic sales world whose truth is known: P(convert | lead, rep) for every pair.

Tests, benchmarks, notebooks and off-policy evaluation reuse it. One :class:`WorldConfig`
(frozen) and one seed fix everything: the reps (observable attributes *and* hidden
strengths), the account pool leads are drawn from, the logged history, and any lead batch.

Truth, on the logit scale, for lead ``i`` and rep ``j``::

    logit p_ij = lead_base(i)                               # lead-only part
               + effect_size * ( general_j                   # seniority, team, idiosyncratic
                               + industry_skill[j, ind_i]    # higher on the rep's listed ones
                               + region_skill[j, reg_i]      # home region bonus
                               + deal_slope_j * z(log value_i)
                               - over_limit * [value_i > max_deal_value_j] )

``effect_size = 0`` removes every rep-specific term: then no model can beat a lead-only
baseline, and no routing can beat round robin (what tests of "no signal" rely on).

History is logged under a KNOWN stochastic policy with full support, so off-policy
estimators are unbiased: with probability ``1 - explore`` the lead goes to a uniformly
random active rep of its region, otherwise to a uniformly random active rep of the whole
team. ``propensity`` is the exact probability the policy gave the logged rep. Reps whose
``start_date`` lies after the history window (``n_new_reps``) never appear in history:
they are the cold-start reps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

REGIONS: Final = ("north", "south", "east", "west")
INDUSTRIES: Final = ("software", "retail", "health", "finance", "manufacturing", "energy")
COMPANY_SIZES: Final = ("small", "mid", "large")
SENIORITIES: Final = ("junior", "mid", "senior")
DEAL_SIZES: Final = ("small", "medium", "large")
# deal_size bucket edges on `value` (currency units) and the effort each bucket costs
_DEAL_EDGES: Final = (5_000.0, 25_000.0)
_DEAL_EFFORT: Final = (1.0, 2.0, 3.0)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class WorldConfig:
    """Everything that defines a synthetic world. Same config, same world."""

    n_reps: int = 40
    n_new_reps: int = 4  # of n_reps, hired after the history window: zero history
    n_teams: int = 6
    n_accounts: int = 1500
    n_history: int = 20_000
    history_start: str = "2023-01-01"
    history_days: int = 365
    base_rate: float = 0.2  # conversion rate of an average lead with an average rep
    effect_size: float = 1.0  # 0 = no rep-specific signal at all
    # scales of the hidden rep strengths (logit units, before effect_size)
    general_sd: float = 0.35
    industry_sd: float = 0.35
    listed_industry_bonus: float = 0.6
    home_region_bonus: float = 0.5
    region_sd: float = 0.15
    deal_slope_sd: float = 0.35
    over_limit_penalty: float = 0.8
    explore: float = 0.2  # logging policy: share of leads sent to any active rep
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_reps < 2:
            raise ValueError(f"n_reps must be >= 2, got {self.n_reps}")
        if not 0 <= self.n_new_reps < self.n_reps:
            raise ValueError(f"n_new_reps must be in [0, n_reps), got {self.n_new_reps}")
        if self.n_history < 1 or self.n_accounts < 1 or self.n_teams < 1:
            raise ValueError("n_history, n_accounts and n_teams must be >= 1")
        if not 0.0 < self.base_rate < 1.0:
            raise ValueError(f"base_rate must be in (0, 1), got {self.base_rate}")
        if self.effect_size < 0:
            raise ValueError(f"effect_size must be >= 0, got {self.effect_size}")
        if not 0.0 <= self.explore <= 1.0:
            raise ValueError(f"explore must be in [0, 1], got {self.explore}")


@dataclass(frozen=True)
class _Hidden:
    """The reps' hidden strengths, aligned with ``SyntheticWorld.reps`` rows."""

    general: FloatArray  # (n_reps,)
    industry: FloatArray  # (n_reps, n_industries)
    region: FloatArray  # (n_reps, n_regions)
    deal_slope: FloatArray  # (n_reps,)
    lead_industry: FloatArray  # (n_industries,) lead-only industry effect
    lead_size: FloatArray = field(default_factory=lambda: np.array([0.25, 0.0, -0.3]))


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def _codes(values: pd.Series, vocabulary: tuple[str, ...], column: str) -> npt.NDArray[np.intp]:
    codes = pd.Index(list(vocabulary)).get_indexer(pd.Index(values.astype(str)))
    if (codes < 0).any():
        bad = values.astype(str)[codes < 0].iloc[0]
        raise ValueError(f"column '{column}' has value {bad!r} unknown to the synthetic world")
    return codes.astype(np.intp)


def deal_size_of(value: FloatArray) -> npt.NDArray[np.object_]:
    """The ``deal_size`` bucket (small/medium/large) of deal values."""
    return np.asarray(DEAL_SIZES, dtype=object)[np.searchsorted(_DEAL_EDGES, value, side="right")]


class SyntheticWorld:
    """Reps, lead batches, logged history and the true conversion probabilities.

    >>> world = SyntheticWorld(WorldConfig(seed=1))
    >>> leads = world.leads(100, seed=7)
    >>> world.true_probability(leads, world.reps).shape
    (100, 40)
    >>> len(world.history())
    20000
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config if config is not None else WorldConfig()
        rng = np.random.default_rng([self.config.seed, 0])
        self.reps = self._make_reps(rng)
        self._hidden = self._make_hidden(rng)
        self._accounts = self._make_accounts(rng)
        self._rep_index = pd.Index(self.reps["rep_id"])

    # --- construction -------------------------------------------------------------------
    def _make_reps(self, rng: np.random.Generator) -> pd.DataFrame:
        c = self.config
        n = c.n_reps
        start = pd.Timestamp(c.history_start)
        hire = start - pd.to_timedelta(rng.integers(60, 2000, size=n), unit="D")
        # the last n_new_reps are hired after the history window: no history at all
        new = np.arange(n) >= n - c.n_new_reps
        after = start + pd.Timedelta(days=c.history_days) + pd.to_timedelta(
            rng.integers(1, 30, size=n), unit="D"
        )
        start_date = np.where(new, after, hire)
        seniority = rng.choice(len(SENIORITIES), size=n, p=[0.35, 0.4, 0.25])
        industries = []
        for _ in range(n):
            k = rng.integers(1, 3)  # one or two listed industries
            industries.append(";".join(rng.choice(INDUSTRIES, size=k, replace=False)))
        max_deal = np.array([20_000.0, 60_000.0, 200_000.0])[seniority] * rng.uniform(
            0.8, 1.25, size=n
        )
        return pd.DataFrame(
            {
                "rep_id": [f"R{j:03d}" for j in range(n)],
                "capacity": np.full(n, 10.0),
                "active": np.ones(n, dtype=bool),
                "weight": np.ones(n),
                "start_date": pd.to_datetime(start_date).normalize(),
                "region": np.asarray(REGIONS, dtype=object)[np.arange(n) % len(REGIONS)],
                "team": [f"T{t}" for t in rng.integers(0, c.n_teams, size=n)],
                "seniority": np.asarray(SENIORITIES, dtype=object)[seniority],
                "industries": industries,
                "max_deal_value": np.round(max_deal, -2),
            }
        )

    def _make_hidden(self, rng: np.random.Generator) -> _Hidden:
        c = self.config
        n, n_ind, n_reg = c.n_reps, len(INDUSTRIES), len(REGIONS)
        seniority = _codes(self.reps["seniority"], SENIORITIES, "seniority")
        team_effect = rng.normal(0.0, 0.2, size=c.n_teams)
        team = self.reps["team"].str[1:].astype(int).to_numpy()
        general = (
            np.array([-0.3, 0.0, 0.3])[seniority]
            + team_effect[team]
            + rng.normal(0.0, c.general_sd, size=n)
        )
        industry = rng.normal(0.0, c.industry_sd, size=(n, n_ind))
        for j, listed in enumerate(self.reps["industries"]):
            for name in listed.split(";"):
                industry[j, INDUSTRIES.index(name)] += c.listed_industry_bonus
        region = rng.normal(0.0, c.region_sd, size=(n, n_reg))
        home = _codes(self.reps["region"], REGIONS, "region")
        region[np.arange(n), home] += c.home_region_bonus
        # seniors are better on big deals, juniors on small ones
        deal_slope = np.array([-0.2, 0.0, 0.2])[seniority] + rng.normal(
            0.0, c.deal_slope_sd, size=n
        )
        lead_industry = rng.normal(0.0, 0.3, size=n_ind)
        return _Hidden(general, industry, region, deal_slope, lead_industry)

    def _make_accounts(self, rng: np.random.Generator) -> pd.DataFrame:
        n = self.config.n_accounts
        return pd.DataFrame(
            {
                "account_id": [f"A{a:05d}" for a in range(n)],
                "region": rng.choice(REGIONS, size=n),
                "industry": rng.choice(INDUSTRIES, size=n),
                "company_size": rng.choice(COMPANY_SIZES, size=n, p=[0.5, 0.35, 0.15]),
            }
        )

    # --- public API ---------------------------------------------------------------------
    def leads(
        self,
        n: int,
        *,
        seed: int = 0,
        start: str | pd.Timestamp | None = None,
        days: float = 1.0,
        prefix: str | None = None,
    ) -> pd.DataFrame:
        """A batch of ``n`` leads (contract columns + region, industry, company_size,
        deal_size) created uniformly over ``days`` from ``start`` (default: the day after
        the history window). ``seed`` makes batches differ; ids are ``{prefix}-{k}``."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        c = self.config
        rng = np.random.default_rng([c.seed, 1, seed])
        if start is None:
            start = pd.Timestamp(c.history_start) + pd.Timedelta(days=c.history_days)
        offsets = np.sort(rng.uniform(0.0, days * 86_400.0, size=n))
        created = pd.Timestamp(start) + pd.to_timedelta(offsets, unit="s")
        return self._draw_leads(rng, n, created.floor("s"), prefix or f"L{seed}")

    def _draw_leads(
        self, rng: np.random.Generator, n: int, created: pd.DatetimeIndex, prefix: str
    ) -> pd.DataFrame:
        accounts = self._accounts.iloc[rng.integers(0, len(self._accounts), size=n)]
        size = _codes(accounts["company_size"], COMPANY_SIZES, "company_size")
        # bigger companies bring bigger deals; log-normal spread
        log_value = np.array([8.0, 9.3, 10.6])[size] + rng.normal(0.0, 0.8, size=n)
        value = np.round(np.exp(log_value), 0)
        bucket = np.searchsorted(_DEAL_EDGES, value, side="right")
        return pd.DataFrame(
            {
                "lead_id": [f"{prefix}-{k:06d}" for k in range(n)],
                "account_id": accounts["account_id"].to_numpy(),
                "value": value,
                "effort": np.asarray(_DEAL_EFFORT)[bucket],
                "created_at": created,
                "region": accounts["region"].to_numpy(),
                "industry": accounts["industry"].to_numpy(),
                "company_size": accounts["company_size"].to_numpy(),
                "deal_size": np.asarray(DEAL_SIZES, dtype=object)[bucket],
            }
        )

    def true_probability(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """Exact P(convert) for every lead × rep pair, shape ``(len(leads), len(reps))``.

        ``reps`` may be any subset or reordering of :attr:`reps` (matched by ``rep_id``).
        """
        return _sigmoid(self._true_logit(leads, reps))

    def _true_logit(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        c, h = self.config, self._hidden
        rows = self._rep_index.get_indexer(reps["rep_id"].astype(str))
        if (rows < 0).any():
            raise ValueError(f"rep {reps['rep_id'].iloc[int(np.argmax(rows < 0))]!r} "
                             "is not a rep of this synthetic world")
        ind = _codes(leads["industry"], INDUSTRIES, "industry")
        reg = _codes(leads["region"], REGIONS, "region")
        size = _codes(leads["company_size"], COMPANY_SIZES, "company_size")
        value = leads["value"].to_numpy(dtype=float)
        z = (np.log1p(value) - 9.0) / 1.2
        intercept = np.log(c.base_rate / (1.0 - c.base_rate))
        base = intercept + h.lead_industry[ind] + h.lead_size[size] - 0.3 * z
        if c.effect_size == 0.0:
            return np.repeat(base[:, None], len(rows), axis=1)
        max_deal = self.reps["max_deal_value"].to_numpy()[rows]
        rep_part = (
            h.general[rows][None, :]
            + h.industry[rows][:, ind].T
            + h.region[rows][:, reg].T
            + z[:, None] * h.deal_slope[rows][None, :]
            - c.over_limit_penalty * (value[:, None] > max_deal[None, :])
        )
        return base[:, None] + c.effect_size * rep_part

    def logging_propensity(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """P(logging policy gives lead i to rep j), shape ``(len(leads), len(reps))``;
        rows sum to 1 over the active reps that had started by the lead's creation."""
        c = self.config
        reg = leads["region"].astype(str).to_numpy()
        created = pd.to_datetime(leads["created_at"]).to_numpy()
        started = pd.to_datetime(reps["start_date"]).to_numpy()
        active = reps["active"].to_numpy(dtype=bool)
        eligible = active[None, :] & (started[None, :] <= created[:, None])
        home = eligible & (reps["region"].astype(str).to_numpy()[None, :] == reg[:, None])
        n_all = eligible.sum(axis=1, keepdims=True)
        n_home = home.sum(axis=1, keepdims=True)
        if (n_all == 0).any():
            raise ValueError("a lead has no eligible rep under the logging policy")
        # leads whose region has no rep fall back to exploring over everyone
        home_share = np.where(n_home > 0, 1.0 - c.explore, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            prob = eligible * ((1.0 - home_share) / n_all) + home * (home_share / n_home)
        return np.nan_to_num(prob)

    def history(self) -> pd.DataFrame:
        """Logged history: lead columns + ``rep_id, converted, assigned_at, revenue,
        propensity``, sorted by ``assigned_at``. Computed once per world; a fresh copy
        is returned so callers may modify it."""
        return self._history.copy()

    @cached_property
    def _history(self) -> pd.DataFrame:
        c = self.config
        rng = np.random.default_rng([c.seed, 2])
        offsets = np.sort(rng.uniform(0.0, c.history_days * 86_400.0, size=c.n_history))
        created = (pd.Timestamp(c.history_start) + pd.to_timedelta(offsets, unit="s")).floor("s")
        leads = self._draw_leads(rng, c.n_history, created, "H")
        prop = self.logging_propensity(leads, self.reps)
        # inverse-CDF sampling, one uniform per lead: vectorised and seeded
        cdf = np.cumsum(prop, axis=1)
        u = rng.uniform(0.0, 1.0, size=(len(leads), 1)) * cdf[:, -1:]
        chosen = np.minimum((cdf < u).sum(axis=1), len(self.reps) - 1)
        chosen_prop = prop[np.arange(len(leads)), chosen]
        # guard the (measure-zero) case of landing on a zero-probability column
        for i in np.flatnonzero(chosen_prop == 0):
            chosen[i] = int(np.flatnonzero(prop[i] > 0)[-1])
            chosen_prop[i] = prop[i, chosen[i]]
        logit = self._true_logit(leads, self.reps)[np.arange(len(leads)), chosen]
        converted = (rng.uniform(size=len(leads)) < _sigmoid(logit)).astype(np.int64)
        delay = pd.to_timedelta(rng.integers(60, 4 * 3600, size=len(leads)), unit="s")
        history = leads.assign(
            rep_id=self.reps["rep_id"].to_numpy()[chosen],
            converted=converted,
            assigned_at=leads["created_at"] + delay,
            revenue=np.where(
                converted == 1,
                np.round(leads["value"] * rng.lognormal(0.0, 0.1, size=len(leads)), 2),
                0.0,
            ),
            propensity=chosen_prop,
        )
        return history.sort_values("assigned_at", kind="stable").reset_index(drop=True)
