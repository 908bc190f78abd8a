"""The round trips instant routing saves change nothing it guarantees: the write lock is
still exclusive and still times out (PostgreSQL now takes it in one query), the reps read
once per transaction are re-read by the next one, and a retried request inserts nothing
and routes nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from service_support import NOW, leads_table, reps_table
from sqlalchemy import event, select, update

from solver.app.service import (
    BatchBusyError,
    BatchSettings,
    Store,
    StoreSettings,
    load_reps_into_store,
)
from solver.app.service import _schema as schema
from solver.app.service._instant import route_instant
from solver.app.service._rep_cache import stored_reps


def test_a_writer_gives_up_after_the_lock_timeout(store: Store) -> None:
    impatient = Store(StoreSettings(url=store.settings.url, lock_timeout_s=0.2))
    try:
        with (store.write(), pytest.raises(BatchBusyError, match="the store is busy"),
              impatient.write()):
            pass
        with impatient.write() as conn:  # free again: taken at once, and usable
            assert conn.execute(select(schema.reps.c.rep_id)).all() == []
    finally:
        impatient.dispose()


def _statements(store: Store) -> list[str]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return sent


def test_the_reps_are_read_once_per_transaction_and_again_in_the_next(store: Store) -> None:
    load_reps_into_store(store, reps_table(3), now=NOW)
    sent = _statements(store)
    with store.write() as conn:
        first = stored_reps(conn)
        reads = len(sent)
        assert stored_reps(conn) is first and len(sent) == reads  # no second round trip
        conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R1")
                     .values(capacity=9.0))
    with store.read() as conn:
        again = stored_reps(conn)
    assert again is not first
    assert again.frame.set_index("rep_id").at["R1", "capacity"] == 9.0


def test_a_retried_request_inserts_and_routes_nothing_twice(store: Store) -> None:
    load_reps_into_store(store, reps_table(3, capacity=10), now=NOW)
    leads = leads_table(2)
    first = route_instant(store, BatchSettings(), leads, now=NOW)
    again = route_instant(store, BatchSettings(), leads, now=NOW)
    assert (first.inserted, first.already_known) == (2, 0)
    assert (again.inserted, again.already_known) == (0, 2)
    assert [lead.routed_now for lead in again.leads] == [False, False]
    assert [lead.rep_id for lead in again.leads] == [lead.rep_id for lead in first.leads]
    with store.read() as conn:
        events = conn.execute(select(schema.assignments.c.lead_id)
                              .where(schema.assignments.c.event == "assigned")).scalars()
        assert sorted(events) == sorted(leads["lead_id"])
