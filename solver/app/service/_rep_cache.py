"""The stored reps as a frame, rebuilt only when the rows change.

Instant routing reads the reps at every request; building the frame (and, in
``_routing``, validating it into the solver's rep table) costs more than reading the rows.
The rows themselves are still read each time and compared with the last ones seen, so any
change (an API write, a patch in place by hand, another process) is picked up at once:
the cache saves the work built on the rows, never the read. The rows are read in the
caller's transaction, so a batch and an instant request see exactly what they lock.
Within one transaction they are read once: a second call (``has_no_reps`` then ``route``)
answers what the first read, as a snapshot would, without another round trip.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from solver.app.service import _schema as t

_COLUMNS = [column.name for column in t.reps.columns]


@dataclass(frozen=True)
class StoredReps:
    """``frame`` is shared between callers: read it, never change it in place."""

    frame: pd.DataFrame
    version: int  # a new number whenever the rows differ from the previous read


_lock = threading.Lock()
_versions = itertools.count(1)
_last: tuple[list[tuple[Any, ...]], StoredReps] | None = None  # the last rows read
# the transaction that read them (weak: a finished transaction never answers again)
_read_in: tuple[weakref.ref[Any], StoredReps] | None = None


def stored_reps(conn: Connection) -> StoredReps:
    """The reps table as ``_state.reps_frame`` gives it (ordered by rep id), read once
    per transaction of ``conn``."""
    global _last, _read_in
    transaction = conn.get_transaction()
    seen = _read_in  # one read of the shared reference (threads): consistent
    if transaction is not None and seen is not None and seen[0]() is transaction:
        return seen[1]
    rows = [tuple(row) for row in
            conn.execute(select(t.reps).order_by(t.reps.c.rep_id)).all()]
    last = _last
    if last is not None and last[0] == rows:
        found = last[1]
    else:
        frame = pd.DataFrame([dict(zip(_COLUMNS, row, strict=True)) for row in rows],
                             columns=_COLUMNS)
        with _lock:
            found = StoredReps(frame, next(_versions))
            _last = (rows, found)
    if transaction is not None:
        _read_in = (weakref.ref(transaction), found)
    return found


def has_no_reps(conn: Connection) -> bool:
    """No rep stored yet (the read ``route`` then reuses)."""
    return stored_reps(conn).frame.empty
