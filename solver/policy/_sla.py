"""The service-level rules of ``[sla]``, as stages the service runs before routing.

Pure functions on frames and counts: the service reads the store (follow-up figures,
expiries, lead ages) and hands them over, so a rule about routing lives with the other
rules, next to its configuration (``Sla`` in ``_model.py``), not in the service.

- ``adaptive_factors``: each rep's cap scaled by its recent follow-up (and conversion)
  against the team's; ``room_left`` applies it with the day's and the week's loads;
- ``downweight_expiries``: a rep's scores shrink with every lead it let expire;
- ``tier_bars``: escalation tiers, the reps a lead may reach by its age.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.policy._eligibility import rep_filter_mask
from solver.policy._model import AdaptiveCaps, Sla

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CapFactors:
    factor: FloatArray
    notes: list[str]  # per rep, "" when the cap was not adapted


def unit_factors(n_reps: int) -> CapFactors:
    """No adaptive caps: every cap as stated."""
    return CapFactors(np.ones(n_reps), [""] * n_reps)


def adaptive_factors(reps: pd.DataFrame, follow_up: pd.DataFrame,
                     settings: AdaptiveCaps | None) -> CapFactors:
    """Cap × (rep's follow-up rate / team's) × (rep's conversion rate / team's)^w, bounded;
    reps with few recent leads keep 1. The conversion rate is shrunk toward the team's
    with ``min_leads`` pseudo-outcomes, so a handful of lucky deals moves little."""
    factor = np.ones(len(reps))
    notes = [""] * len(reps)
    if settings is None or follow_up.empty:
        return CapFactors(factor, notes)
    total = float(follow_up["assigned"].sum())
    team_rate = 1.0 - float(follow_up["expired"].sum()) / total if total else 1.0
    outcomes = float(follow_up["outcomes"].sum())
    team_conversion = float(follow_up["converted"].sum()) / outcomes if outcomes else 0.0
    if team_rate <= 0:
        return CapFactors(factor, notes)
    stats = follow_up.set_index("rep_id")
    prior = float(settings.min_leads)
    for j, rep_id in enumerate(reps["rep_id"]):
        if rep_id not in stats.index:
            continue
        assigned = int(stats.loc[rep_id, "assigned"])
        if assigned < settings.min_leads:
            continue
        rate = 1.0 - int(stats.loc[rep_id, "expired"]) / assigned
        raw = rate / team_rate
        why = f"followed up {rate:.0%} of {assigned} recent leads vs team {team_rate:.0%}"
        if settings.conversion_weight > 0 and team_conversion > 0:
            seen, won = int(stats.loc[rep_id, "outcomes"]), int(stats.loc[rep_id, "converted"])
            shrunk = (won + prior * team_conversion) / (seen + prior)
            raw *= (shrunk / team_conversion) ** settings.conversion_weight
            why += (f"; converted {won} of {seen} worked (shrunk {shrunk:.0%}) vs team "
                    f"{team_conversion:.0%}")
        value = float(np.clip(raw, settings.min_factor, settings.max_factor))
        if abs(value - 1.0) > 1e-9:
            factor[j] = value
            notes[j] = f"cap ×{value:.2f} ({why})"
    return CapFactors(factor, notes)


def room_left(reps: pd.DataFrame, caps: CapFactors, day_load: FloatArray,
              week_load: FloatArray) -> FloatArray:
    """Each rep's room this batch: its daily cap (adapted) less what it took today, and
    at most its weekly cap (``capacity_week``, NaN: none) less what it took this week."""
    remaining = reps["capacity"].to_numpy(dtype=float) * caps.factor - day_load
    weekly = reps["capacity_week"].to_numpy(dtype=float)
    return np.where(np.isnan(weekly), remaining, np.minimum(remaining, weekly - week_load))


def downweight_expiries(score: npt.ArrayLike, sla: Sla | None, rep_ids: Sequence[str],
                        expiries: Mapping[str, int]) -> FloatArray:
    """Lead × rep scores × (1 − ``expiry_penalty``) per lead the rep let expire recently
    (``expiries``: rep id → count over the lookback)."""
    matrix = np.asarray(score, dtype=float)
    if sla is None or sla.expiry_penalty <= 0:
        return matrix
    count = np.array([expiries.get(r, 0) for r in rep_ids], dtype=float)
    return matrix * (1.0 - sla.expiry_penalty) ** count[None, :]


def tier_bars(sla: Sla | None, leads: pd.DataFrame, reps: pd.DataFrame, now: datetime
               ) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Escalation: a lead may go to the reps of every tier whose delay it has reached."""
    if sla is None or not sla.tiers:
        return set(), {}
    in_tier = [rep_filter_mask(tier.reps, reps) for tier in sla.tiers]
    rep_ids = reps["rep_id"].astype(str).to_numpy()
    barred: set[tuple[str, str]] = set()
    notes: dict[str, str] = {}
    created = pd.to_datetime(leads["created_at"])
    for lead_id, at in zip(leads["lead_id"].astype(str), created, strict=True):
        # a lead stamped in the future (client clock skew) is as old as a new one: the
        # first tier (after 0 minutes) is always open to it
        age = max((pd.Timestamp(now) - at).total_seconds() / 60.0, 0.0)
        open_tiers = [i for i, tier in enumerate(sla.tiers) if tier.after_minutes <= age]
        allowed = np.zeros(len(reps), dtype=bool)
        for i in open_tiers:
            allowed |= in_tier[i]
        barred |= {(lead_id, rep) for rep in rep_ids[~allowed]}
        later = [tier for tier in sla.tiers if tier.after_minutes > age]
        notes[lead_id] = (f"tier '{sla.tiers[open_tiers[-1]].name}'" +
                          (f"; escalates to '{later[0].name}' at {later[0].after_minutes:g} min"
                           if later else ""))
    return barred, notes


