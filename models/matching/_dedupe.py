"""Duplicates of one person within a batch: same email (up to case, Gmail dots and
``+tags``), or same name at the same matched account.

"Earlier" is by ``created_at`` when the leads have it, then by input position, so the
first lead of a person is the same whatever order a timestamped batch arrives in. Every
duplicate points to the first lead of its person, never to another duplicate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import pandas as pd

from models.matching._domains import email_domain, is_free_mail

_GMAIL: Final = frozenset({"gmail.com", "googlemail.com"})
_NOT_LETTER: Final = re.compile(r"[^a-z]+")


class DuplicateRule(StrEnum):
    SAME_EMAIL = "same email"
    SAME_NAME_AT_ACCOUNT = "same name at the same account"


@dataclass(frozen=True, slots=True)
class Duplicate:
    of: str  # the first lead of this person
    rule: DuplicateRule


def email_key(email: str) -> str | None:
    """``John.Doe+news@GoogleMail.com`` → ``johndoe@gmail.com``; ``+tags`` are cut for
    every domain (plus addressing is near universal), dots only for Gmail."""
    domain = email_domain(email) if email else None
    if domain is None:
        return None
    local = email.strip().lower().rsplit("@", 1)[0].split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def person_keys(leads: pd.DataFrame) -> list[str | None]:
    """Each lead's person: ``name``, or ``first_name`` + ``last_name``, folded."""
    if "name" in leads.columns:
        columns = ["name"]
    else:
        columns = [c for c in ("first_name", "last_name") if c in leads.columns]
    if not columns:
        return [None] * len(leads)
    parts = [[_cell(v) for v in leads[c].tolist()] for c in columns]
    return [person_key(" ".join(names)) for names in zip(*parts, strict=True)]


def person_key(name: str) -> str | None:
    """"José  O'Neil" → "jose o neil"; None for fewer than two words (not a person)."""
    folded = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    words = [w for w in _NOT_LETTER.split(letters) if w]
    return " ".join(words) if len(words) >= 2 else None


def _cell(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]


def arrival_order(leads: pd.DataFrame) -> list[int]:
    if "created_at" in leads.columns:
        stamps = pd.to_datetime(leads["created_at"], errors="coerce")
        frame = pd.DataFrame({"t": stamps, "i": range(len(leads))})
        return [int(i) for i in frame.sort_values(["t", "i"], na_position="last")["i"]]
    return list(range(len(leads)))


def find_duplicates(leads: pd.DataFrame, account_ids: Sequence[str | None]
                    ) -> list[Duplicate | None]:
    """Per lead (input order): the first lead of the same person, or None."""
    emails = ([email_key(_cell(e)) for e in leads["email"].tolist()] if "email" in leads.columns
              else [None] * len(leads))
    ids = [str(x) for x in leads["lead_id"]]
    people = person_keys(leads)
    order = arrival_order(leads)
    rank = {lead: position for position, lead in enumerate(order)}
    first: dict[tuple[str, ...], int] = {}
    root = list(range(len(leads)))
    out: list[Duplicate | None] = [None] * len(leads)
    for lead in order:
        keys: list[tuple[tuple[str, ...], DuplicateRule]] = []
        mail = emails[lead]
        if mail:
            keys.append((("email", mail), DuplicateRule.SAME_EMAIL))
        person, account = people[lead], account_ids[lead]
        if person and isinstance(account, str) and account:  # NaN (unmatched) is truthy
            keys.append((("name", person, account), DuplicateRule.SAME_NAME_AT_ACCOUNT))
        hits = [(root[first[k]], rule) for k, rule in keys
                if k in first and not _two_work_addresses(mail, emails[first[k]], rule)]
        if hits:
            earliest = min(hits, key=lambda hit: rank[hit[0]])
            root[lead] = earliest[0]
            out[lead] = Duplicate(ids[earliest[0]], earliest[1])
        for k, _ in keys:
            first.setdefault(k, lead)
    return out


def _two_work_addresses(mine: str | None, theirs: str | None, rule: DuplicateRule) -> bool:
    """Same name at one account but two different work addresses: two people."""
    if rule is not DuplicateRule.SAME_NAME_AT_ACCOUNT or not mine or not theirs:
        return False
    both_work = not is_free_mail(mine.rsplit("@", 1)[1]) and not is_free_mail(
        theirs.rsplit("@", 1)[1])
    return both_work and mine != theirs
