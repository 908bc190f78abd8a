"""What a routing run reads besides the tables and the policy: owners, overrides, the
date of the ramp-up and the fairness window's earlier loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True, kw_only=True)
class PolicyInputs:
    """Optional tables a policy uses. ``as_of`` dates the ramp-up (default: the batch's
    latest ``created_at``, else today)."""

    owners: Mapping[str, str] = field(default_factory=dict)  # account_id → rep_id
    pins: Mapping[str, str] = field(default_factory=dict)  # lead_id → rep_id
    forbidden: frozenset[tuple[str, str]] = frozenset()  # (lead_id, rep_id)
    as_of: pd.Timestamp | None = None
    # effort each rep already received earlier in the fairness window (micro-batches keep
    # fairness cumulative over the window, not per batch); capacity is not reduced by it
    prior_loads: Mapping[str, float] = field(default_factory=dict)


def as_of(leads: pd.DataFrame, given: pd.Timestamp | None) -> pd.Timestamp:
    """The ramp-up's date: ``given``, else the batch's latest ``created_at``, else today."""
    if given is not None:
        return pd.Timestamp(given)
    if "created_at" not in leads.columns:
        return pd.Timestamp.now().normalize()
    created = pd.to_datetime(leads["created_at"], errors="coerce")
    if created.notna().any():
        return pd.Timestamp(created.max())
    return pd.Timestamp.now().normalize()
