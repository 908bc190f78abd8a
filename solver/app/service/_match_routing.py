"""What ingest's matching means at routing: the reason of a lead whose account came from
the matcher names the match, and a duplicate (``[match] duplicates = "same_rep"``) may go
only to its first lead's rep. A duplicate whose first lead is still pending waits one batch
for it; one whose first lead got no rep (nurture, unrouted) is routed on its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from solver.app.service import _schema as t

_CHUNK = 500
_HAS_REP = frozenset({"assigned", "accepted", "worked"})
_NOT_MATCHED = frozenset({"given", "none"})


def _rows(conn: Connection, columns: Sequence[Any], key: Any, ids: Sequence[str]
          ) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        out += conn.execute(select(*columns).where(key.in_(list(ids[start:start + _CHUNK])))
                            ).all()
    return out


def match_bars(conn: Connection, leads: pd.DataFrame, reps: pd.DataFrame
               ) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """(lead, rep) pairs a duplicate may not take, and a note per lead for its reason."""
    m = t.lead_matches
    found = _rows(conn, (m.c.lead_id, m.c.account_id, m.c.method, m.c.confidence,
                         m.c.duplicate_of), m.c.lead_id, list(leads["lead_id"].astype(str)))
    firsts = {str(lead): (status, rep) for lead, status, rep in _rows(
        conn, (t.leads.c.lead_id, t.leads.c.status, t.leads.c.rep_id), t.leads.c.lead_id,
        sorted({str(row[4]) for row in found if row[4]}))}
    rep_ids = list(reps["rep_id"].astype(str))
    bars: set[tuple[str, str]] = set()
    notes: dict[str, str] = {}
    for lead, account, method, confidence, first in found:
        parts = []
        if account and method not in _NOT_MATCHED:
            parts.append(f"account {account} matched by {method.replace('_', ' ')} "
                         f"(confidence {confidence:.2f})")
        if first:
            status, rep = firsts.get(first, ("", None))
            if status in _HAS_REP and rep:
                bars |= {(lead, other) for other in rep_ids if other != rep}
                parts.append(f"duplicate of {first}: follows its rep {rep}")
            elif status == "pending":
                bars |= {(lead, other) for other in rep_ids}
                parts.append(f"duplicate of {first}: waits for it to be routed, then "
                             "follows its rep")
            else:
                parts.append(f"duplicate of {first}, which has no rep: routed on its own")
        if parts:
            notes[str(lead)] = "; ".join(parts)
    return bars, notes


def merge_notes(first: dict[str, str], second: dict[str, str]) -> dict[str, str]:
    return {lead: "; ".join(filter(None, (first.get(lead), second.get(lead))))
            for lead in {*first, *second}}
