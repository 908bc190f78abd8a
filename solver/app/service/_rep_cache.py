"""The stored reps as a frame, rebuilt only when the rows change.

Instant routing reads the reps at every request; building the frame (and, in
``_routing``, validating it into the solver's rep table) costs more than reading the rows.
The rows themselves are still read each time and compared with the last ones seen, so any
change (an API write, a patch in place by hand, another process) is picked up at once:
the cache saves the work built on the rows, never the read. The rows are read in the
caller's transaction, so a batch and an instant request see exactly what they lock.
"""

from __future__ import annotations

import itertools
import threading
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


def stored_reps(conn: Connection) -> StoredReps:
    """The reps table as ``_state.reps_frame`` gives it (ordered by rep id)."""
    global _last
    rows = [tuple(row) for row in
            conn.execute(select(t.reps).order_by(t.reps.c.rep_id)).all()]
    last = _last  # one read of the shared reference: consistent even if replaced meanwhile
    if last is not None and last[0] == rows:
        return last[1]
    frame = pd.DataFrame([dict(zip(_COLUMNS, row, strict=True)) for row in rows],
                         columns=_COLUMNS)
    with _lock:
        found = StoredReps(frame, next(_versions))
        _last = (rows, found)
    return found
