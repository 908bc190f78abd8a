"""``AccountMatcher``: leads (email, company, website, country) → known accounts.

Clues are gathered from the email domain (free-mail and ISP domains never count), the
website and the company name; each names one account with a confidence, and the strongest
wins (two clues on one company confirm each other, on two companies they weaken the best).
Only accounts sharing a blocking key with the lead are ever compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from models.matching._domains import Domain, email_domain, is_free_mail, parse_host
from models.matching._evidence import (
    CONFIDENCE,
    Evidence,
    LeadMatch,
    MatchMethod,
    NameAgreement,
)
from models.matching._index import AccountIndex, deletions
from models.matching._match_inputs import load_accounts, load_match_leads
from models.matching._names import NameKey, name_key
from solver.contract_tables import TableSource
from solver.errors import InputError

_PREFILTER_RATIO = 70.0  # rapidfuzz ratio below which a blocked candidate is not examined
_MIN_SHORT_NAME = 4  # "Acme" may stand for "Acme Analytics"; "AB" for nothing


class AccountMatcher:
    """Match leads to accounts; ``fit`` indexes the accounts, ``match`` scores leads.

    ``min_confidence``: a lead gets an ``account_id`` only at or above it (the reason of a
    lead below it names the rejected candidate).
    """

    def __init__(self, *, min_confidence: float = 0.8) -> None:
        self.min_confidence = min_confidence

    def fit(self, accounts: TableSource) -> Self:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"must be within [0, 1], got {self.min_confidence:g}",
                             source="matcher", column="min_confidence")
        table = load_accounts(accounts)
        self.index_ = AccountIndex.build(table)
        self.n_accounts_ = len(table)
        return self

    def match(self, leads: TableSource) -> pd.DataFrame:
        """One row per lead: ``lead_id, account_id, confidence, method, reason``."""
        return self.match_validated(load_match_leads(leads))

    def match_validated(self, table: pd.DataFrame) -> pd.DataFrame:
        """``match`` on a table ``load_match_leads`` already validated."""
        rows = [self.match_one(lead_id, email=e, company=c, website=w, country=k)
                for lead_id, e, c, w, k in zip(table["lead_id"], table["email"],
                                               table["company"], table["website"],
                                               table["country"], strict=True)]
        return pd.DataFrame({
            "lead_id": [r.lead_id for r in rows],
            "account_id": [r.account_id for r in rows],
            "confidence": [round(r.confidence, 4) for r in rows],
            "method": [r.method.value for r in rows],
            "reason": [r.reason for r in rows],
        })

    def match_one(self, lead_id: str, *, email: str = "", company: str = "",
                  website: str = "", country: str = "") -> LeadMatch:
        country = country.strip().upper()
        key = name_key(company) if company else None
        clues: list[Evidence] = []
        notes: list[str] = []
        mail = email_domain(email) if email else None
        corporate = None
        if mail is not None and is_free_mail(mail):
            notes.append(f"free-mail address ({mail}) not used")
        elif mail is not None:
            corporate = parse_host(mail)
        if corporate is not None:
            clues += self._by_host(corporate, country, key, website=False)
        site = parse_host(website) if website else None
        if site is not None and not is_free_mail(site.host):
            clues += self._by_host(site, country, key, website=True)
        if key is not None:
            clues += self._by_name(key, country, corporate)
        return self._decide(lead_id, clues, notes, company, corporate)

    # -- domains -------------------------------------------------------------------

    def _by_host(self, domain: Domain, country: str, key: NameKey | None, *,
                 website: bool) -> list[Evidence]:
        what = "website" if website else "email domain"
        index = self.index_
        for host in domain.parents():
            found = index.by_host.get(host)
            if found:
                account, families = self._choose(found, country)
                under = "" if host == domain.host else f" (a subdomain of {host})"
                why = f"{what} {domain.host}{under} is {index.names[account]}'s"
                method = MatchMethod.WEBSITE if website else MatchMethod.EMAIL_DOMAIN
                exact = CONFIDENCE["website" if website else "email_domain"]
                return [self._maybe_ambiguous(account, families, exact, method, why, found)]
        same_brand = index.by_brand.get(domain.brand)
        if not same_brand:
            return []
        return [self._by_brand(domain, same_brand, country, key, website)]

    def _by_brand(self, domain: Domain, same_brand: list[int], country: str,
                  key: NameKey | None, website: bool) -> Evidence:
        """The brand on another country's domain: the family's parent account (a
        subsidiary on this exact domain would have matched as a host already)."""
        index = self.index_
        method = MatchMethod.WEBSITE_BRAND if website else MatchMethod.EMAIL_BRAND
        roots = sorted({index.root[a] for a in same_brand}, key=lambda a: index.ids[a])
        what = "website" if website else "email domain"
        if len(roots) > 1:
            names = ", ".join(index.names[a] for a in roots[:3])
            return Evidence(roots[0], CONFIDENCE["ambiguous"], method,
                            f"{what} {domain.registered}: brand '{domain.brand}' is used by "
                            f"{len(roots)} unrelated accounts ({names})")
        root = roots[0]
        seen = index.domains[min(same_brand, key=lambda a: index.ids[a])]
        why = (f"{what} {domain.registered}: same brand as {index.names[root]} "
               f"({seen}), no account on {domain.registered}, so the parent account")
        agreement = self._agreement(key, root, domain.brand)
        if agreement is NameAgreement.AGREES:
            return Evidence(root, CONFIDENCE["brand_name_agrees"], method,
                            f"{why}; the company name agrees")
        if agreement is NameAgreement.CONFLICTS:
            assert key is not None
            return Evidence(root, CONFIDENCE["brand_name_conflicts"], method,
                            f"{why}; but the company name '{key.original}' says it is another "
                            "company")
        return Evidence(root, CONFIDENCE["brand"], method, why)

    def _agreement(self, key: NameKey | None, root: int, brand: str) -> NameAgreement:
        if key is None:
            return NameAgreement.SILENT
        lead_tokens = set(key.tokens)
        for account in self.index_.family[root]:
            other = self.index_.keys[account]
            if other is None:
                continue
            if (set(other.tokens) <= lead_tokens or lead_tokens <= set(other.tokens)
                    or _typo_equal(key, other) or key.text == other.acronym
                    or other.text == key.acronym):
                return NameAgreement.AGREES
        first = key.tokens[0]
        if any(k is not None and k.tokens[0] == first and len(first) >= 3
               for k in (self.index_.keys[a] for a in self.index_.family[root])):
            return NameAgreement.AGREES  # same leading word: "Acme France" for "Acme Inc"
        if brand in key.compact or (len(first) >= 3 and brand.startswith(first)):
            return NameAgreement.SILENT
        return NameAgreement.CONFLICTS

    # -- names ---------------------------------------------------------------------

    def _by_name(self, key: NameKey, country: str, corporate: Domain | None
                 ) -> list[Evidence]:
        index = self.index_
        found = self._name_candidates(key)
        if found is None:
            return []
        accounts, level, how = found
        account, families = self._choose(accounts, country)
        why = f"company name '{key.original}' {how} {index.names[account]}"
        clue = self._maybe_ambiguous(account, families, CONFIDENCE[level],
                                     MatchMethod.COMPANY_NAME, why, accounts)
        if corporate is not None and index.domains[account] and not self._knows(corporate):
            clue = clue.weaker(CONFIDENCE["unknown_domain_penalty"],
                               f"but the lead mails from {corporate.registered}, "
                               "a domain no account has")
        if level == "name_typo" and not (country and index.countries[account] == country):
            clue = clue.weaker(CONFIDENCE["uncorroborated_typo_penalty"],
                               "but nothing else confirms it (no country, domain or website "
                               "agrees), and a name one letter off is often another company")
        return [clue]

    def _knows(self, domain: Domain) -> bool:
        return any(host in self.index_.by_host for host in domain.parents())

    def _name_candidates(self, key: NameKey) -> tuple[list[int], str, str] | None:
        """Accounts whose name matches, the confidence level and how (exact first)."""
        index = self.index_
        if key.text in index.by_name:
            return index.by_name[key.text], "name_exact", "matches"
        if key.compact in index.by_compact:
            return index.by_compact[key.compact], "name_compact", "matches (spacing)"
        if len(key.tokens) == 1 and key.text in index.by_acronym:
            return index.by_acronym[key.text], "name_acronym", "is the initials of"
        if key.acronym and key.acronym in index.by_name:
            return index.by_name[key.acronym], "name_acronym", "abbreviates to"
        if len(key.tokens[0]) >= _MIN_SHORT_NAME:
            longer = [a for a in index.by_first_word.get(key.tokens[0], ())
                      if _starts_with(index.keys[a], key)]
            if longer:
                return longer, "name_short", "is the short name of"
        typos = self._typo_candidates(key)
        if typos:
            return typos, "name_typo", "matches, but for a small typo,"
        return None

    def _typo_candidates(self, key: NameKey) -> list[int]:
        index = self.index_
        probes = [*key.tokens, *(d for t in key.tokens for d in deletions(t))]
        blocked = index.candidates(probes)
        if not blocked:
            return []
        texts = [index.keys[a].text for a in blocked]  # type: ignore[union-attr]
        close = process.extract(key.text, texts, scorer=fuzz.ratio, limit=None,
                                score_cutoff=_PREFILTER_RATIO)
        return sorted(blocked[i] for _, _, i in close
                      if _typo_equal(key, index.keys[blocked[i]]))  # type: ignore[arg-type]

    # -- choosing and deciding -------------------------------------------------------

    def _choose(self, accounts: Sequence[int], country: str) -> tuple[int, int]:
        """One account among several with the same clue: those in the lead's country
        first, then the top-most of a family. Returns it and the number of families."""
        index = self.index_
        pool = sorted(set(accounts))
        local = [a for a in pool if country and index.countries[a] == country]
        pool = local or pool
        families = {index.root[a] for a in pool}
        best = min(pool, key=lambda a: (index.depth[a], index.ids[a]))
        return best, len(families)

    def _maybe_ambiguous(self, account: int, families: int, confidence: float,
                         method: MatchMethod, why: str, accounts: Sequence[int]) -> Evidence:
        if families <= 1:
            return Evidence(account, confidence, method, why)
        return Evidence(account, min(confidence, CONFIDENCE["ambiguous"]), method,
                        f"{why}, but {families} unrelated accounts fit as well")

    def _decide(self, lead_id: str, clues: list[Evidence], notes: list[str], company: str,
                corporate: Domain | None) -> LeadMatch:
        index = self.index_
        if not clues:
            return LeadMatch(lead_id, None, 0.0, MatchMethod.NONE,
                             _no_match(notes, company, corporate))
        ranked = sorted(clues, key=lambda c: (-c.confidence, index.ids[c.account]))
        best = ranked[0]
        family = index.root[best.account]
        for other in ranked[1:]:
            if index.root[other.account] == family:
                best = Evidence(best.account, min(best.confidence + 0.01, 0.99), best.method,
                                f"{best.why}; {other.method.value.replace('_', ' ')} agrees")
                break
            if other.confidence >= self.min_confidence:
                best = best.weaker(CONFIDENCE["disagreement_penalty"],
                                   f"but the {other.method.value.replace('_', ' ')} points "
                                   f"to {index.names[other.account]}")
                break
        why = "; ".join([best.why, *notes])
        if best.confidence + 1e-9 < self.min_confidence:
            return LeadMatch(lead_id, None, best.confidence, MatchMethod.NONE,
                             f"not matched: best candidate {index.names[best.account]} "
                             f"({best.confidence:.2f} < {self.min_confidence:g}): {why}")
        return LeadMatch(lead_id, index.ids[best.account], best.confidence, best.method, why)


def _no_match(notes: list[str], company: str, corporate: Domain | None) -> str:
    looked = []
    if corporate is not None:
        looked.append(f"no account on {corporate.registered}")
    if company:
        looked.append(f"no account named like '{company}'")
    if not looked:
        looked.append("no corporate email, website or company name to match on")
    return "not matched: " + "; ".join([*looked, *notes])


def _typo_equal(a: NameKey, b: NameKey) -> bool:
    """Same words but for one small typo (one edit in a word of 4+ letters, two in 9+)."""
    if len(a.tokens) != len(b.tokens) or a.text == b.text:
        return a.text == b.text
    differing = [(x, y) for x, y in zip(a.tokens, b.tokens, strict=True) if x != y]
    if len(differing) != 1:
        return False
    x, y = differing[0]
    if x[0] != y[0]:  # a different first letter is another name far more often than a typo
        return False
    shortest = min(len(x), len(y))
    allowed = 2 if shortest >= 10 else 1 if shortest >= 4 else 0
    return 0 < DamerauLevenshtein.distance(x, y) <= allowed


def _starts_with(name: NameKey | None, short: NameKey) -> bool:
    """``short`` is the leading words of ``name`` ("acme" of "acme analytics")."""
    return (name is not None and len(name.tokens) > len(short.tokens)
            and name.tokens[:len(short.tokens)] == short.tokens)
