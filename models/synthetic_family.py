"""A family of synthetic worlds with known truth, unlike the project's own world.

:class:`models.synthetic.SyntheticWorld` lets reps *list* their strong industries, which makes
its signal easy to find. The worlds here use other columns and hide the structure the
model must discover; each world switches on some of these rep-specific terms (logit scale,
all multiplied by ``strength``)::

    logit p_ij = lead_base(i)
               + strength * ( general_j                                # rep main effect
                            + hidden[j, product_i]                     # skill reps don't list
                            + desk_channel[desk_j, channel_i]          # rep attr × lead attr
                            + region_bonus * [territory_j = territory_i]
                            + slope_j * z(budget_i)                    # rep-specific numeric
                            + tenure_size * z(tenure_j) * z(log employees_i) )

History is logged under round robin (each lead to a uniformly random rep, propensity
``1/n_reps``), or, with ``uneven=True``, to rep ``j`` with probability proportional to a
log-uniform weight, so reps hold from ~20 to ~2,000 of 20,000 rows. ``true_blocks`` names
the model blocks (:mod:`models.blocks`) that carry the truth: the ceiling model is told
exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

TERRITORIES = ("emea", "amer", "apac", "latam", "nordics")
PRODUCTS = ("core", "cloud", "security", "analytics", "payments", "support")
CHANNELS = ("web", "partner", "event", "outbound")
DESKS = ("inside", "field", "enterprise")
CERTIFICATIONS = ("none", "basic", "pro", "expert")  # a rep attribute that does nothing

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class FamilyConfig:
    """One world of the family. ``signal`` is its label in benchmark tables."""

    name: str
    signal: str = "moderate"  # none, weak, moderate or strong
    n_reps: int = 40
    n_history: int = 20_000
    base_rate: float = 0.15
    strength: float = 1.0
    general_sd: float = 0.2
    hidden_sd: float = 0.0
    desk_channel_sd: float = 0.0
    region_bonus: float = 0.0
    slope_sd: float = 0.0
    tenure_size: float = 0.0
    uneven: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_reps < 2 or self.n_history < 1:
            raise ValueError("n_reps must be >= 2 and n_history >= 1")
        if self.strength < 0 or not 0.0 < self.base_rate < 1.0:
            raise ValueError("strength must be >= 0 and base_rate in (0, 1)")

    @property
    def true_blocks(self) -> tuple[str, ...]:
        """The interaction blocks of :mod:`models.blocks` that carry this world's truth."""
        if self.strength == 0:
            return ()
        named = ((self.hidden_sd, "rep_id × product"), (self.desk_channel_sd, "desk × channel"),
                 (self.region_bonus, "match: territory in territory"),
                 (self.slope_sd, "rep_id × budget"), (self.tenure_size, "tenure_years × employees"))
        return tuple(name for size, name in named if size > 0)


FAMILY: tuple[FamilyConfig, ...] = (
    FamilyConfig(name="hidden skill", signal="strong", hidden_sd=0.6),
    FamilyConfig(name="rep attr × lead attr", signal="moderate", desk_channel_sd=0.45,
                 tenure_size=0.2),
    FamilyConfig(name="region match", signal="moderate", region_bonus=0.5),
    FamilyConfig(name="numeric effects", signal="moderate", slope_sd=0.35, tenure_size=0.2),
    FamilyConfig(name="mixed, weak", signal="weak", strength=0.5, hidden_sd=0.4,
                 desk_channel_sd=0.3, region_bonus=0.4, slope_sd=0.25),
    FamilyConfig(name="mixed, uneven reps", signal="moderate", hidden_sd=0.4,
                 region_bonus=0.4, uneven=True),
    FamilyConfig(name="no rep signal", signal="none", strength=0.0),
)


def family_config(name: str, **changes: object) -> FamilyConfig:
    """The family world called ``name``, with fields changed (``n_history``, ``seed``...)."""
    for config in FAMILY:
        if config.name == name:
            return replace(config, **changes)  # type: ignore[arg-type]
    raise ValueError(f"no world {name!r} in the family; known: {[c.name for c in FAMILY]}")


class FamilyWorld:
    """Reps, lead batches, logged history and true probabilities of one family world."""

    def __init__(self, config: FamilyConfig) -> None:
        self.config = config
        rng = np.random.default_rng([config.seed, 7])
        n = config.n_reps
        self.reps = pd.DataFrame({
            "rep_id": [f"S{j:03d}" for j in range(n)],
            "capacity": np.full(n, 10.0),
            "active": np.ones(n, dtype=bool),
            "weight": np.ones(n),
            "start_date": pd.Timestamp("2022-01-01"),
            "territory": np.asarray(TERRITORIES, dtype=object)[np.arange(n) % len(TERRITORIES)],
            "desk": rng.choice(DESKS, size=n),
            "certification": rng.choice(CERTIFICATIONS, size=n),
            "tenure_years": np.round(rng.gamma(2.0, 2.0, size=n), 1),
        })
        self._general = rng.normal(0.0, config.general_sd, size=n)
        self._hidden = rng.normal(0.0, config.hidden_sd, size=(n, len(PRODUCTS)))
        self._desk_channel = rng.normal(0.0, config.desk_channel_sd,
                                        size=(len(DESKS), len(CHANNELS)))
        self._slope = rng.normal(0.0, config.slope_sd, size=n)
        self._product_base = rng.normal(0.0, 0.3, size=len(PRODUCTS))
        self._channel_base = rng.normal(0.0, 0.2, size=len(CHANNELS))
        weights = np.exp(rng.uniform(0.0, np.log(100.0), size=n)) if config.uneven else np.ones(n)
        self._logging = weights / weights.sum()

    def leads(self, n: int, *, seed: int = 0, prefix: str | None = None) -> pd.DataFrame:
        """A batch of ``n`` fresh leads (created the day after the history)."""
        rng = np.random.default_rng([self.config.seed, 8, seed])
        created = pd.Timestamp("2024-01-01") + pd.to_timedelta(
            np.sort(rng.uniform(0, 86_400, size=n)), unit="s").floor("s")
        return self._draw(rng, n, created, prefix or f"F{seed}")

    def _draw(self, rng: np.random.Generator, n: int, created: pd.DatetimeIndex,
              prefix: str) -> pd.DataFrame:
        value = np.round(np.exp(rng.normal(9.5, 0.9, size=n)), 0)
        return pd.DataFrame({
            "lead_id": [f"{prefix}-{k:06d}" for k in range(n)],
            "value": value,
            "effort": np.where(value > 30_000, 2.0, 1.0),
            "created_at": created,
            "territory": rng.choice(TERRITORIES, size=n),
            "product": rng.choice(PRODUCTS, size=n),
            "channel": rng.choice(CHANNELS, size=n, p=[0.4, 0.25, 0.15, 0.2]),
            "employees": np.round(np.exp(rng.normal(4.5, 1.2, size=n))),
            "budget": np.round(rng.normal(50.0, 15.0, size=n), 1),
        })

    def true_probability(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        """Exact P(convert), shape ``(len(leads), len(reps))``; reps matched by ``rep_id``."""
        return 1.0 / (1.0 + np.exp(-self._true_logit(leads, reps)))

    def _true_logit(self, leads: pd.DataFrame, reps: pd.DataFrame) -> FloatArray:
        c = self.config
        rows = pd.Index(self.reps["rep_id"]).get_indexer(reps["rep_id"].astype(str))
        if (rows < 0).any():
            raise ValueError("a rep is not a rep of this family world")
        prod = pd.Index(PRODUCTS).get_indexer(pd.Index(leads["product"]))
        chan = pd.Index(CHANNELS).get_indexer(pd.Index(leads["channel"]))
        z_emp = (np.log(leads["employees"].to_numpy(float) + 1.0) - 4.5) / 1.2
        z_budget = (leads["budget"].to_numpy(float) - 50.0) / 15.0
        base = (np.log(c.base_rate / (1 - c.base_rate)) + self._product_base[prod]
                + self._channel_base[chan] + 0.2 * z_emp)
        r = self.reps.iloc[rows]
        desk = pd.Index(DESKS).get_indexer(pd.Index(r["desk"]))
        tenure = r["tenure_years"].to_numpy(float)
        z_ten = (tenure - 4.0) / 2.8
        same = leads["territory"].to_numpy()[:, None] == r["territory"].to_numpy()[None, :]
        rep_part = (self._general[rows][None, :] + self._hidden[rows][:, prod].T
                    + self._desk_channel[desk][:, chan].T + c.region_bonus * same
                    + z_budget[:, None] * self._slope[rows][None, :]
                    + c.tenure_size * z_emp[:, None] * z_ten[None, :])
        return base[:, None] + c.strength * rep_part

    def history(self) -> pd.DataFrame:
        return self._history.copy()

    @cached_property
    def _history(self) -> pd.DataFrame:
        c = self.config
        rng = np.random.default_rng([c.seed, 9])
        created = pd.Timestamp("2023-01-01") + pd.to_timedelta(
            np.sort(rng.uniform(0, 365 * 86_400, size=c.n_history)), unit="s").floor("s")
        leads = self._draw(rng, c.n_history, created, "FH")
        chosen = rng.choice(c.n_reps, size=c.n_history, p=self._logging)
        p = self.true_probability(leads, self.reps)[np.arange(c.n_history), chosen]
        converted = (rng.uniform(size=c.n_history) < p).astype(np.int64)
        return leads.assign(
            rep_id=self.reps["rep_id"].to_numpy()[chosen], converted=converted,
            assigned_at=leads["created_at"] + pd.Timedelta(minutes=30),
            revenue=np.where(converted == 1, leads["value"], 0.0),
            propensity=self._logging[chosen],
        )
