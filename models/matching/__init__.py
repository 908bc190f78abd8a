"""Lead-to-account matching and dedupe.

``AccountMatcher(min_confidence=0.8).fit(accounts).match(leads)`` says, per lead, which
known account it belongs to (email domain and subdomains, the brand on another country's
domain, website, company name), how sure and why; ``find_duplicates`` finds repeats of one
person; ``match_leads`` does both and returns the contract's ``matches`` table.

Needs the ``match`` extra (``pip install 'leadroute[match]'``).
"""

from models.matching._dedupe import (
    Duplicate,
    DuplicateRule,
    email_key,
    find_duplicates,
    person_key,
)
from models.matching._domains import Domain, is_free_mail, parse_host
from models.matching._evidence import LeadMatch, MatchMethod
from models.matching._match_inputs import load_accounts, load_match_leads
from models.matching._matcher import AccountMatcher
from models.matching._matches_table import MATCH_COLUMNS, match_leads
from models.matching._names import NameKey, name_key

__all__ = [
    "MATCH_COLUMNS",
    "AccountMatcher",
    "Domain",
    "Duplicate",
    "DuplicateRule",
    "LeadMatch",
    "MatchMethod",
    "NameKey",
    "email_key",
    "find_duplicates",
    "is_free_mail",
    "load_accounts",
    "load_match_leads",
    "match_leads",
    "name_key",
    "parse_host",
    "person_key",
]
