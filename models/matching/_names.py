"""Company names to comparable keys.

Legal forms (Inc, GmbH, S.A., Pty Ltd, K.K., ...) are cut using ``cleanco``'s maintained
list; accents, case and punctuation are folded; common business abbreviations are spelled
out so "Acme Intl Svcs" and "ACME International Services, Inc." compare equal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cleanco import prepare_default_terms

# Word-level abbreviations (not legal forms: cleanco handles those). Both sides of a
# comparison go through the same map, so only the spelling, never the meaning, changes.
_ABBREVIATIONS: Final = {
    "intl": "international", "int'l": "international", "natl": "national",
    "svc": "services", "svcs": "services", "service": "services",
    "tech": "technologies", "technology": "technologies",
    "mfg": "manufacturing", "mgmt": "management", "eng": "engineering",
    "engg": "engineering", "assoc": "associates", "bros": "brothers",
    "sys": "systems", "system": "systems", "sols": "solutions", "solution": "solutions",
    "labs": "laboratories", "lab": "laboratories", "hldgs": "holdings",
    "grp": "group", "ind": "industries", "inds": "industries", "pharma": "pharmaceuticals",
    "fin": "financial", "ins": "insurance", "dev": "development", "univ": "university",
    "med": "medical", "mktg": "marketing", "&": "and", "+": "and",
}
# Words that name the kind of organisation rather than which one: dropped from the key.
_GENERIC: Final = frozenset({"the", "and", "group", "holdings", "holding", "company", "co"})
_NON_WORD: Final = re.compile(r"[^a-z0-9&+']+")
_SEPARATORS: Final = re.compile(r"[-_/|]+")
_WORD_PUNCTUATION: Final = str.maketrans("", "", ".,")
# cleanco's legal forms, less those that are also everyday country/region tags in names
# ("Acme UK" is Acme's UK company, not an Uzbek "UK" legal form)
_COUNTRY_TAGS: Final = frozenset({("uk",), ("eu",), ("nl",)})


def _legal_terms() -> dict[int, frozenset[tuple[str, ...]]]:
    """cleanco's maintained legal forms by number of words, for set lookups (cleanco's
    own ``basename`` scans all ~320 forms per name: too slow for 100,000 accounts)."""
    by_size: dict[int, set[tuple[str, ...]]] = {}
    for size, parts in prepare_default_terms():
        term = tuple(parts)
        if term not in _COUNTRY_TAGS:
            by_size.setdefault(size, set()).add(term)
    return {size: frozenset(terms) for size, terms in sorted(by_size.items(), reverse=True)}


_LEGAL: Final = _legal_terms()


def strip_legal_form(words: list[str]) -> list[str]:
    """Drop trailing legal forms ("pty ltd", "gmbh & co kg", "inc"), keeping one word."""
    stripped = True
    while stripped:
        stripped = False
        for size, terms in _LEGAL.items():
            if len(words) > size and tuple(words[-size:]) in terms:
                words = words[:-size]
                stripped = True
                break
    return words


@dataclass(frozen=True, slots=True)
class NameKey:
    """A normalised company name: ``text`` for fuzzy comparison, ``tokens`` for blocking,
    ``acronym`` (initials of 3+ words, e.g. ``ibm``) for abbreviated names."""

    original: str  # as the user wrote it, for reasons
    text: str
    tokens: tuple[str, ...]
    acronym: str

    @property
    def compact(self) -> str:
        return self.text.replace(" ", "")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1 << 18)
def name_key(name: str) -> NameKey | None:
    """None for a blank name or one that is only a legal form ("Inc.")."""
    stripped = name.strip()
    if not stripped:
        return None
    spaced = _SEPARATORS.sub(" ", _fold(stripped))
    base = strip_legal_form([w.translate(_WORD_PUNCTUATION) for w in spaced.split()])
    words = [_ABBREVIATIONS.get(w, w) for w in _NON_WORD.split(" ".join(base)) if w]
    words = [w.replace("'", "") for w in words]
    tokens = tuple(w for w in words if w and w not in _GENERIC) or tuple(w for w in words if w)
    if not tokens:
        return None
    acronym = "".join(t[0] for t in tokens) if len(tokens) >= 3 else ""
    return NameKey(original=stripped, text=" ".join(tokens), tokens=tokens, acronym=acronym)
