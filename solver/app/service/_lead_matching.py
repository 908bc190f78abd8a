"""Ingest's matching and dedupe: a lead without an ``account_id`` gets the store's best
account at the ``[match]`` policy's ``min_confidence``, and a lead that repeats a person
(same email up to case, Gmail dots and ``+tags``; or the same name at the same account) is
marked a duplicate of the first lead of that person, stored or in the same request.

Under ``duplicates = "same_rep"`` a duplicate stays pending and follows its first lead's rep
at routing (``_match_routing``); under ``"drop"`` it is stored as unrouted with the reason.
Every verdict is kept in ``lr_lead_matches`` (method, confidence, reason, dedupe keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, select

from solver.app.matching import matching_module
from solver.app.service import _schema as t
from solver.app.service import _state as state
from solver.policy import Match

if TYPE_CHECKING:
    from models.matching import AccountMatcher

_CHUNK = 500
GIVEN = "given"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ingest decided about one new lead's account."""

    account_id: str | None
    confidence: float
    method: str  # a MatchMethod value, or "given"
    reason: str


def _text(attributes: dict[str, Any], key: str) -> str:
    value = attributes.get(key)
    return "" if value is None or isinstance(value, bool | float) else str(value).strip()


def _raw_name(attributes: dict[str, Any]) -> str:
    return _text(attributes, "name") or " ".join(
        filter(None, (_text(attributes, "first_name"), _text(attributes, "last_name"))))


def match_verdicts(rows: list[dict[str, Any]], matcher: AccountMatcher | None
                   ) -> list[Verdict]:
    """Each row's account verdict (``matcher``: the store's accounts, None when it has
    none). Reads nothing from the store, so ingest runs it before taking the write lock
    (for every row: which ones the store already knows is read under that lock)."""
    return [_verdict(matcher, row) for row in rows]


def insert_matched(conn: Connection, rows: list[dict[str, Any]], verdicts: list[Verdict],
                   rule: Match) -> tuple[int, int]:
    """Dedupe the leads not stored yet and insert them with their ``verdicts`` (one per
    row, from ``match_verdicts``). Returns (inserted, already known)."""
    known = _known_ids(conn, [row["lead_id"] for row in rows])
    fresh = [(row, verdict) for row, verdict in zip(rows, verdicts, strict=True)
             if row["lead_id"] not in known]
    new = [row for row, _ in fresh]
    for row, verdict in fresh:
        row["account_id"] = verdict.account_id
    firsts = _duplicates(conn, new)
    for row, first in zip(new, firsts, strict=True):
        if first is not None:
            _mark_duplicate(row, first, rule)
    if new:  # the ids were just read under the write lock: no second look-up
        conn.execute(t.leads.insert(), new)
        conn.execute(t.lead_matches.insert(), [
            _match_row(row, verdict, first) for (row, verdict), first in
            zip(fresh, firsts, strict=True)])
    state.log_events(conn, [{
        "lead_id": row["lead_id"], "rep_id": None, "batch_id": "", "event": "unrouted",
        "effort": 0.0, "score": None, "reason": row["reason"], "engine": "",
        "policy_version": "", "created_at": row["updated_at"]}
        for row in new if row["status"] == "unrouted"])
    return len(new), len(rows) - len(new)


def _known_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        known |= set(conn.execute(select(t.leads.c.lead_id)
                                  .where(t.leads.c.lead_id.in_(chunk))).scalars())
    return known


def _verdict(matcher: AccountMatcher | None, row: dict[str, Any]) -> Verdict:
    if row["account_id"]:
        return Verdict(row["account_id"], 1.0, GIVEN, "account_id given on the lead")
    if matcher is None:
        return Verdict(None, 0.0, "none", "not matched: no accounts in the store")
    attributes = row["attributes"]
    found = matcher.match_one(row["lead_id"], email=_text(attributes, "email"),
                              company=_text(attributes, "company"),
                              website=_text(attributes, "website"),
                              country=_text(attributes, "country"))
    return Verdict(found.account_id, float(found.confidence), found.method.value,
                   found.reason)


@dataclass(frozen=True, slots=True)
class First:
    """The first lead of the person a new lead repeats, and which rule said so."""

    lead_id: str
    rule: str


def _duplicates(conn: Connection, new: list[dict[str, Any]]) -> list[First | None]:
    """Per new lead: its person's first lead. Stored leads come first (they arrived
    earlier), then the new ones by ``created_at``; a stored duplicate stands for its own
    first lead."""
    matching = matching_module()
    emails = [matching.email_key(_text(row["attributes"], "email")) for row in new]
    people = [matching.person_key(_raw_name(row["attributes"])) for row in new]
    stored = _stored_candidates(conn, {e for e in emails if e}, {p for p in people if p})
    order = sorted(range(len(new)), key=lambda i: (new[i]["created_at"], i))
    frame = pd.DataFrame({
        "lead_id": [*stored["lead_id"], *(new[i]["lead_id"] for i in order)],
        "email": [*stored["email_key"].fillna(""), *(emails[i] or "" for i in order)],
        "name": [*stored["person_key"].fillna(""), *(people[i] or "" for i in order)],
    })
    accounts = [*stored["account_id"], *(new[i]["account_id"] for i in order)]
    found = matching.find_duplicates(frame, [a or None for a in accounts])
    root = {str(k): str(v) for k, v in zip(stored["lead_id"], stored["duplicate_of"],
                                            strict=True) if isinstance(v, str) and v}
    out: list[First | None] = [None] * len(new)
    for position, i in enumerate(order):  # earlier leads first, so chains resolve
        duplicate = found[len(stored) + position]
        if duplicate is not None:
            first = root.get(duplicate.of, duplicate.of)
            out[i] = First(first, duplicate.rule.value)
            root[str(new[i]["lead_id"])] = first  # a later lead of this person points here
    return out


def _stored_candidates(conn: Connection, emails: set[str], people: set[str]) -> pd.DataFrame:
    m = t.lead_matches
    columns = ["lead_id", "email_key", "person_key", "account_id", "duplicate_of",
               "created_at"]
    rows: dict[str, tuple[Any, ...]] = {}

    def fetch(column: Any, keys: list[str]) -> None:
        for start in range(0, len(keys), _CHUNK):
            query = (select(m.c.lead_id, m.c.email_key, m.c.person_key, m.c.account_id,
                            m.c.duplicate_of, t.leads.c.created_at)
                     .join(t.leads, t.leads.c.lead_id == m.c.lead_id)
                     .where(column.in_(keys[start:start + _CHUNK])))
            rows.update({str(r[0]): tuple(r) for r in conn.execute(query).all()})

    fetch(m.c.email_key, sorted(emails))
    fetch(m.c.person_key, sorted(people))
    # the first leads of those people too, so a new lead is compared with whole persons
    # (as one batch would): its first lead is the earliest first lead among its matches
    fetch(m.c.lead_id, sorted({str(r[4]) for r in rows.values() if r[4]} - set(rows)))
    frame = pd.DataFrame(list(rows.values()), columns=columns)
    return frame.sort_values(["created_at", "lead_id"]).reset_index(drop=True)


def _mark_duplicate(row: dict[str, Any], first: First, rule: Match) -> None:
    if rule.duplicates == "drop":
        row["status"] = "unrouted"
        row["reason"] = (f"duplicate of {first.lead_id} ({first.rule}): dropped "
                         "(policy [match] duplicates = 'drop')")
    else:
        row["reason"] = (f"duplicate of {first.lead_id} ({first.rule}): waiting to follow "
                         "its rep")


def _match_row(row: dict[str, Any], verdict: Verdict, first: First | None) -> dict[str, Any]:
    matching = matching_module()
    attributes = row["attributes"]
    return {"lead_id": row["lead_id"], "account_id": verdict.account_id,
            "confidence": verdict.confidence, "method": verdict.method,
            "reason": verdict.reason,
            "email_key": matching.email_key(_text(attributes, "email")),
            "person_key": matching.person_key(_raw_name(attributes)),
            "duplicate_of": first.lead_id if first is not None else None}
