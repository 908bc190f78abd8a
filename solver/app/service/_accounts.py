"""Accounts held in the store, and the matcher fitted on them.

``replace_accounts`` swaps the whole list in one transaction under a new revision id;
``fitted_matcher`` fits an ``AccountMatcher`` once per revision (and threshold) and keeps it
for the store, so ingest never re-indexes an unchanged list. The ``[match]`` policy a store
serves with is registered once (``use_match_policy``) by whoever knows it (the API app);
ingest without one uses the policy's defaults.
"""

from __future__ import annotations

import uuid
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, delete, select

from solver.app.matching import matching_module
from solver.app.service import _schema as t
from solver.app.service._ingest import _attributes
from solver.app.service._store import Store, as_utc, utcnow
from solver.contract_tables import TableSource
from solver.policy import Match

if TYPE_CHECKING:
    from models.matching import AccountMatcher

ACCOUNT_FIELDS = ("account_id", "name", "domain", "website", "country", "parent_account_id")
_fitted: weakref.WeakKeyDictionary[Store, tuple[tuple[str, float], AccountMatcher]] = (
    weakref.WeakKeyDictionary())
_rules: weakref.WeakKeyDictionary[Store, Match] = weakref.WeakKeyDictionary()


def use_match_policy(store: Store, rule: Match) -> None:
    """The ``[match]`` section ingest into ``store`` follows from now on."""
    _rules[store] = rule


def match_policy(store: Store) -> Match:
    return _rules.get(store, Match())


def account_rows(source: TableSource, now: datetime) -> list[dict[str, Any]]:
    """Validated accounts (the contract's loader: ids unique, domains parse, parents
    known, no cycles) as ``lr_accounts`` rows sharing one new revision id."""
    if isinstance(source, pd.DataFrame) and source.empty:
        return []  # an empty list clears the accounts (the loader wants data rows)
    table = matching_module().load_accounts(source)
    revision = uuid.uuid4().hex
    return [{**{f: str(row[f]) for f in ACCOUNT_FIELDS},
             "attributes": _attributes(row, set(ACCOUNT_FIELDS)), "revision": revision,
             "updated_at": now} for _, row in table.iterrows()]


def replace_accounts(store: Store, source: TableSource, *, now: datetime | None = None
                     ) -> int:
    """The store's accounts become exactly ``source`` (all validated before any write)."""
    rows = account_rows(source, as_utc(now) if now else utcnow())
    with store.write() as conn:
        conn.execute(delete(t.accounts))
        if rows:
            conn.execute(t.accounts.insert(), rows)
    return len(rows)


def accounts_frame(conn: Connection) -> pd.DataFrame:
    rows = conn.execute(select(t.accounts).order_by(t.accounts.c.account_id)).mappings().all()
    columns = [*ACCOUNT_FIELDS, "attributes"]
    return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)


def revision(conn: Connection) -> str | None:
    """The id of the account list's last replacement; None when the store has none."""
    return conn.execute(select(t.accounts.c.revision).limit(1)).scalar()


def fitted_matcher(store: Store, conn: Connection, min_confidence: float
                   ) -> AccountMatcher | None:
    """The matcher for the store's current account list (None: no accounts), fitted only
    when the list (its revision) or the threshold changed since the last call."""
    current = revision(conn)
    if current is None:
        return None
    key = (current, min_confidence)
    cached = _fitted.get(store)
    if cached is not None and cached[0] == key:
        return cached[1]
    accounts = accounts_frame(conn).drop(columns=["attributes"])
    matcher = matching_module().AccountMatcher(min_confidence=min_confidence).fit(accounts)
    _fitted[store] = (key, matcher)
    return matcher

