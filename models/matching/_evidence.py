"""Typed evidence for one lead: which account a clue points to, how strongly, and why.

Confidences are fixed per kind of clue (documented in the README): an exact corporate
domain is near-certain; a brand on another country's domain is good evidence unless the
lead's own company name contradicts it; a company name is as good as its match is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class MatchMethod(StrEnum):
    EMAIL_DOMAIN = "email_domain"  # corporate mail on the account's domain or a subdomain
    EMAIL_BRAND = "email_brand"  # the account's brand on another country's domain
    WEBSITE = "website"
    WEBSITE_BRAND = "website_brand"
    COMPANY_NAME = "company_name"
    NONE = "none"


class NameAgreement(StrEnum):
    AGREES = "agrees"
    SILENT = "silent"  # no company name, or one that neither confirms nor denies
    CONFLICTS = "conflicts"


CONFIDENCE: Final = {
    "email_domain": 0.98,
    "website": 0.96,
    "brand": 0.85,
    "brand_name_agrees": 0.92,
    "brand_name_conflicts": 0.45,
    "name_exact": 0.95,
    "name_compact": 0.93,
    "name_typo": 0.88,
    "name_acronym": 0.85,
    "name_short": 0.84,  # the leading words of one company's name, nobody else's
    "ambiguous": 0.6,
    # a name match whose lead mails from a corporate domain no account has: the name
    # may be a namesake; this much less sure
    "unknown_domain_penalty": 0.1,
    # a name one letter off a customer's, with no agreeing country: among many accounts a
    # near-namesake ("Lenex" for "Levex") is as likely as a typo; a website or domain of
    # the same account still confirms it (two clues on one family)
    "uncorroborated_typo_penalty": 0.1,
    # two clues pointing at different companies
    "disagreement_penalty": 0.15,
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One clue: the account it points to (an index into the fitted accounts)."""

    account: int
    confidence: float
    method: MatchMethod
    why: str

    def weaker(self, by: float, note: str) -> Evidence:
        return Evidence(self.account, max(self.confidence - by, 0.0), self.method,
                        f"{self.why}; {note}")


@dataclass(frozen=True, slots=True)
class LeadMatch:
    """What the matcher says about one lead (``account_id`` None: not matched)."""

    lead_id: str
    account_id: str | None
    confidence: float
    method: MatchMethod
    reason: str
