"""The accounts, indexed for blocking: by host, by brand label, by normalised name, by
acronym, and by name tokens plus one-deletion variants of each account's rarest token
(so a lead is compared only with the few accounts that share a key with it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from models.matching._domains import parse_host
from models.matching._names import NameKey, name_key

# a blocking key shared by more accounts than this is a common word: it finds no one
BLOCK_CAP = 200
_MIN_TYPO_TOKEN = 4  # shorter tokens are too short to tell a typo from another word


def deletions(token: str) -> list[str]:
    """The token with one character removed, each way (symmetric-delete blocking: two
    tokens one edit apart share at least one of these, or one is the other's)."""
    if len(token) < _MIN_TYPO_TOKEN:
        return []
    return [token[:i] + token[i + 1:] for i in range(len(token))]


def _add(index: dict[str, list[int]], key: str, account: int) -> None:
    index.setdefault(key, []).append(account)


@dataclass
class AccountIndex:
    ids: list[str]
    names: list[str]
    countries: list[str]
    root: list[int]
    depth: list[int]
    domains: list[str]  # the account's first registered domain, for reasons ("" if none)
    keys: list[NameKey | None]
    family: dict[int, list[int]] = field(default_factory=dict)  # root → its accounts
    by_host: dict[str, list[int]] = field(default_factory=dict)
    by_brand: dict[str, list[int]] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_compact: dict[str, list[int]] = field(default_factory=dict)
    by_acronym: dict[str, list[int]] = field(default_factory=dict)
    by_first_word: dict[str, list[int]] = field(default_factory=dict)
    blocks: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, accounts: pd.DataFrame) -> AccountIndex:
        ids = list(accounts["account_id"])
        position = {account: i for i, account in enumerate(ids)}
        parents = [position.get(p, -1) for p in accounts["parent_account_id"]]
        root, depth = _roots(parents)
        index = cls(ids=ids, names=list(accounts["name"]),
                    countries=[c.upper() for c in accounts["country"]], root=root,
                    depth=depth, domains=[""] * len(ids),
                    keys=[name_key(n) for n in accounts["name"]])
        for account, top in enumerate(root):
            index.family.setdefault(top, []).append(account)
        index._index_hosts(accounts)
        index._index_names()
        return index

    def _index_hosts(self, accounts: pd.DataFrame) -> None:
        for column in ("domain", "website"):
            for account, text in enumerate(accounts[column]):
                domain = parse_host(text) if text else None
                if domain is None:
                    continue
                if not self.domains[account]:
                    self.domains[account] = domain.registered
                if account not in self.by_host.get(domain.host, ()):
                    _add(self.by_host, domain.host, account)
                if len(domain.brand) >= 3 and account not in self.by_brand.get(domain.brand, ()):
                    _add(self.by_brand, domain.brand, account)

    def _index_names(self) -> None:
        frequency = Counter(t for key in self.keys if key for t in set(key.tokens))
        for account, key in enumerate(self.keys):
            if key is None:
                continue
            _add(self.by_name, key.text, account)
            _add(self.by_compact, key.compact, account)
            if key.acronym:
                _add(self.by_acronym, key.acronym, account)
            _add(self.by_first_word, key.tokens[0], account)
            rarest = min(key.tokens, key=lambda t: (frequency[t], t))
            for block in dict.fromkeys([*key.tokens, *deletions(rarest)]):
                _add(self.blocks, block, account)

    def candidates(self, probes: Iterable[str]) -> list[int]:
        """Accounts sharing a blocking key with the probes (common keys skipped)."""
        found: set[int] = set()
        for probe in probes:
            posting = self.blocks.get(probe)
            if posting is not None and len(posting) <= BLOCK_CAP:
                found.update(posting)
        return sorted(found)


def _roots(parents: list[int]) -> tuple[list[int], list[int]]:
    """Each account's top-most ancestor and its depth (the table has no cycles)."""
    root = [-1] * len(parents)
    depth = [0] * len(parents)
    for start in range(len(parents)):
        chain = [start]
        while parents[chain[-1]] >= 0 and root[chain[-1]] < 0:
            chain.append(parents[chain[-1]])
        last = chain[-1]
        top = root[last] if root[last] >= 0 else last
        base = depth[last] if root[last] >= 0 else 0
        for offset, account in enumerate(reversed(chain)):
            if root[account] < 0:
                root[account] = top
                depth[account] = base + offset
    return root, depth
