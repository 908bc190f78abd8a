"""The contract's ``matches`` table: the matcher's verdict and the dedupe, per lead."""

from __future__ import annotations

from typing import Final

import pandas as pd

from models.matching._dedupe import find_duplicates
from models.matching._match_inputs import load_match_leads
from models.matching._matcher import AccountMatcher
from solver.contract_tables import TableSource

MATCH_COLUMNS: Final = ("lead_id", "account_id", "confidence", "method", "reason",
                        "duplicate_of")


def match_leads(leads: TableSource, accounts: TableSource, *,
                min_confidence: float = 0.8) -> pd.DataFrame:
    """``lead_id, account_id, confidence, method, reason, duplicate_of``, one row per lead
    in input order. A lead that already carries an ``account_id`` keeps it (method
    ``given``); only leads without one are matched."""
    table = load_match_leads(leads)
    matcher = AccountMatcher(min_confidence=min_confidence).fit(accounts)
    out = matcher.match_validated(table)
    given = table["account_id"].notna().to_numpy()
    if given.any():
        out.loc[given, "account_id"] = table.loc[given, "account_id"]
        out.loc[given, "confidence"] = 1.0
        out.loc[given, "method"] = "given"
        out.loc[given, "reason"] = "account_id given on the lead"
    duplicates = find_duplicates(table, list(out["account_id"]))
    out["duplicate_of"] = [d.of if d else None for d in duplicates]
    out["reason"] = [reason if d is None else f"{reason}; duplicate of {d.of} ({d.rule.value})"
                     for reason, d in zip(out["reason"], duplicates, strict=True)]
    return out[list(MATCH_COLUMNS)]
