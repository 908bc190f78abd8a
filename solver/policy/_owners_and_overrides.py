"""The policy's own tables: account owners and manual overrides (pins and forbids)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from solver.contract_tables import TableSource, read_raw
from solver.errors import InputError


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype(str).str.strip().replace({"nan": "", "None": ""})


def _require(frame: pd.DataFrame, label: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InputError("required column is missing", source=label, column=column)


def _known(values: pd.Series, known: set[str], label: str, column: str, what: str) -> None:
    unknown = ~values.isin(known)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"unknown {what} '{values.iloc[row]}'", source=label, row=row + 1,
                         column=column)


def load_owners(source: TableSource, *, rep_ids: pd.Series) -> dict[str, str]:
    """account_id → owning rep, with subsidiaries resolved to their parent's owner."""
    raw, label = read_raw(source, "owners")
    _require(raw, label, ("account_id",))
    accounts = _text(raw, "account_id")
    owners = _text(raw, "rep_id") if "rep_id" in raw.columns else pd.Series("", index=raw.index)
    parents = (_text(raw, "parent_account_id") if "parent_account_id" in raw.columns
               else pd.Series("", index=raw.index))
    if (accounts == "").any():
        row = int(np.flatnonzero((accounts == "").to_numpy())[0]) + 1
        raise InputError("empty account id", source=label, row=row, column="account_id")
    duplicated = accounts.duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0]) + 1
        raise InputError(f"account '{accounts.iloc[row - 1]}' listed twice", source=label,
                         row=row, column="account_id")
    listed = owners != ""
    _known(owners[listed], set(rep_ids.astype(str)), label, "rep_id", "rep")
    direct = dict(zip(accounts[listed], owners[listed], strict=True))
    parent_of = dict(zip(accounts, parents, strict=True))
    resolved: dict[str, str] = {}
    for account in accounts:
        seen, current = [], account
        # a subsidiary follows its parent's owner (the parent's own parent, and so on)
        while parent_of.get(current) and current not in seen:
            seen.append(current)
            current = parent_of[current]
        if current in seen:
            row = int(np.flatnonzero((accounts == account).to_numpy())[0]) + 1
            raise InputError(f"account '{account}' has a cyclic parent chain", source=label,
                             row=row, column="parent_account_id")
        owner = direct.get(current) or direct.get(account)
        if owner:
            resolved[account] = owner
    return resolved


def load_overrides(
    source: TableSource, *, lead_ids: pd.Series, rep_ids: pd.Series
) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """(pins: lead → rep, forbidden (lead, rep) pairs) from ``lead_id, rep_id, action``."""
    raw, label = read_raw(source, "overrides")
    _require(raw, label, ("lead_id", "rep_id", "action"))
    leads, reps = _text(raw, "lead_id"), _text(raw, "rep_id")
    actions = _text(raw, "action").str.lower()
    _known(leads, set(lead_ids.astype(str)), label, "lead_id", "lead")
    _known(reps, set(rep_ids.astype(str)), label, "rep_id", "rep")
    bad = ~actions.isin(["pin", "forbid"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputError(f"action must be 'pin' or 'forbid', got {actions.iloc[row - 1]!r}",
                         source=label, row=row, column="action")
    pins: dict[str, str] = {}
    forbidden: set[tuple[str, str]] = set()
    for row, (lead, rep, action) in enumerate(zip(leads, reps, actions, strict=True), start=1):
        if action == "forbid":
            forbidden.add((lead, rep))
        elif lead in pins and pins[lead] != rep:
            raise InputError(f"lead '{lead}' pinned to two reps", source=label, row=row,
                             column="rep_id")
        else:
            pins[lead] = rep
    clash = [lead for lead, rep in pins.items() if (lead, rep) in forbidden]
    if clash:
        raise InputError(f"lead '{clash[0]}' is both pinned to and forbidden for one rep",
                         source=label, column="action")
    return pins, forbidden
