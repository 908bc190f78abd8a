"""Instant requests, batches and ingestion at once, from threads and from processes, on
SQLite and PostgreSQL: every lead stored, none assigned twice, daily caps hold."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections import Counter

from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app.service import (
    BatchBusyError,
    BatchSettings,
    Store,
    StoreSettings,
    ingest_leads,
    load_reps_into_store,
    run_batch,
)
from solver.app.service import _schema as schema
from solver.app.service._instant import route_instant

CAPACITY = 10


def _instant_client(url: str, prefix: str, requests: int) -> None:
    """One client (thread or process): its own store, one lead per request."""
    store = Store(StoreSettings(url=url, lock_timeout_s=60))
    try:
        for i in range(requests):
            route_instant(store, BatchSettings(), leads_table(1, prefix=f"{prefix}{i}-"),
                          now=NOW)
    finally:
        store.dispose()


def _batches(store: Store, rounds: int, errors: list[BaseException]) -> None:
    try:
        for chunk in range(rounds):
            ingest_leads(store, leads_table(6, prefix=f"Q{chunk}-"), now=NOW)
            with contextlib.suppress(BatchBusyError):
                run_batch(store, BatchSettings(), now=NOW)
    except BaseException as exc:  # surfaced by the caller
        errors.append(exc)


def _check(store: Store, expected: set[str]) -> None:
    with store.read() as conn:
        leads = dict(conn.execute(select(schema.leads.c.lead_id, schema.leads.c.status)).all())
        events = conn.execute(select(schema.assignments.c.lead_id, schema.assignments.c.rep_id,
                                     schema.assignments.c.effort)
                              .where(schema.assignments.c.event == "assigned")).all()
    assert expected <= set(leads)  # nothing lost
    assert Counter(lead for lead, _, _ in events).most_common(1)[0][1] == 1  # routed once
    per_rep: Counter[str] = Counter()
    for _, rep, effort in events:
        per_rep[rep] += effort
    assert max(per_rep.values()) <= CAPACITY  # caps hold
    assigned = sum(status == "assigned" for status in leads.values())
    assert assigned == min(len(leads), 3 * CAPACITY)  # no room left unused by a race


def test_instant_threads_and_batches_at_once(store_url: str) -> None:
    main = Store(StoreSettings(url=store_url, lock_timeout_s=60))
    load_reps_into_store(main, reps_table(3, capacity=CAPACITY), now=NOW)
    errors: list[BaseException] = []

    def client(prefix: str) -> None:
        try:
            _instant_client(store_url, prefix, 5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(p,)) for p in ("A", "B", "C")]
    threads.append(threading.Thread(target=_batches, args=(main, 3, errors)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_batch(main, BatchSettings(), now=NOW)
    assert errors == []
    _check(main, {f"{p}{i}-0000" for p in "ABC" for i in range(5)})
    main.dispose()


def test_instant_processes_and_batches_at_once(store_url: str) -> None:
    main = Store(StoreSettings(url=store_url, lock_timeout_s=60))
    load_reps_into_store(main, reps_table(3, capacity=CAPACITY), now=NOW)
    errors: list[BaseException] = []
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=_instant_client, args=(store_url, p, 6))
                 for p in ("P", "S")]
    for process in processes:
        process.start()
    _batches(main, 3, errors)
    for process in processes:
        process.join(timeout=300)
    assert [process.exitcode for process in processes] == [0, 0] and errors == []
    run_batch(main, BatchSettings(), now=NOW)
    _check(main, {f"{p}{i}-0000" for p in "PS" for i in range(6)})
    main.dispose()
