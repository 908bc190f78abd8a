"""Webhooks once: concurrent deliverers never post a row twice, every attempt is recorded,
a crashed deliverer's claim lapses (at-least-once), and ``serve`` alone retries."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app.service import (
    BatchSettings,
    Store,
    StoreSettings,
    deliver_due,
    ingest_leads,
    load_reps_into_store,
    notifications,
    run_batch,
    utcnow,
)
from solver.app.service import _notify as notify
from solver.app.service import _schema as schema
from solver.app.service._api import create_app

HOOK = BatchSettings(webhook_url="http://hooks.test/x")


def _seed(store: Store, n: int) -> None:
    load_reps_into_store(store, reps_table(4, capacity=n), now=NOW)
    ingest_leads(store, leads_table(n), now=NOW)
    assert run_batch(store, HOOK, now=NOW).assigned == n


def test_concurrent_deliverers_post_each_row_once(store_url: str) -> None:
    stores = [Store(StoreSettings(url=store_url, lock_timeout_s=30)) for _ in range(4)]
    _seed(stores[0], 40)
    posted: list[str] = []
    guard = threading.Lock()

    def receive(request: httpx.Request) -> httpx.Response:
        time.sleep(0.002)  # a slow receiver widens the window a duplicate needs
        with guard:
            posted.append(json.loads(request.content)["lead_id"])
        return httpx.Response(204)

    def deliver(store: Store) -> None:
        with httpx.Client(transport=httpx.MockTransport(receive)) as http:
            for _ in range(3):
                deliver_due(store, client=http, limit=10)

    threads = [threading.Thread(target=deliver, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duplicates = {key: n for key, n in Counter(posted).items() if n > 1}
    assert duplicates == {}
    assert len(posted) == 40
    assert len(notifications(stores[0], "delivered", limit=100)) == 40
    for opened in stores:
        opened.dispose()


def test_every_attempt_is_recorded(store: Store) -> None:
    _seed(store, 1)
    answers = iter([httpx.Response(500), httpx.Response(204)])
    with httpx.Client(transport=httpx.MockTransport(lambda _r: next(answers))) as http:
        assert deliver_due(store, client=http, now=NOW).retrying == 1
        later = NOW + timedelta(minutes=1)
        assert deliver_due(store, client=http, now=later).delivered == 1
    row = notifications(store)[0]
    attempts = notify.attempts_of(store, row["id"])
    assert [(a["attempt"], a["ok"], a["error"]) for a in attempts] == [
        (1, False, "HTTP 500"), (2, True, None)]
    assert row["claim_token"] is None and row["attempts"] == 2


def test_a_crashed_deliverers_claim_lapses_then_the_row_goes_out_once(store: Store) -> None:
    """At-least-once: the claim of a deliverer that died mid-run blocks others until its
    lease lapses; then the row is posted (again, if the dead one had posted it)."""
    _seed(store, 2)
    lease = NOW + timedelta(minutes=10)
    claimed = notify.claim_due(store, token="dead", now=NOW, until=lease, limit=10)
    assert len(claimed) == 2
    calls: list[str] = []

    def receive(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers[notify.DELIVERY_HEADER])
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(receive)) as http:
        assert deliver_due(store, client=http, now=NOW + timedelta(minutes=5)).delivered == 0
        assert deliver_due(store, client=http, now=lease).delivered == 2
        assert deliver_due(store, client=http, now=lease + timedelta(hours=1)).delivered == 0
    assert sorted(calls) == sorted(str(row["id"]) for row in claimed)


def test_serve_alone_retries_a_failed_webhook(store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 6: no /route after the failure, no worker: serve's own loop retries."""
    monkeypatch.setattr("solver.app.service._delivery_loop.EVERY_S", 0.05)
    monkeypatch.setattr(notify, "BASE_DELAY", timedelta(0))
    _seed(store, 1)
    with store.write() as conn:  # due now by the wall clock the loop uses
        conn.execute(schema.notifications.update().values(next_attempt_at=utcnow()))
    answers = iter([httpx.Response(503), httpx.Response(204)])
    calls: list[int] = []

    def receive(_request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return next(answers)

    with httpx.Client(transport=httpx.MockTransport(receive)) as http, TestClient(
            create_app(store, HOOK, api_token=None, webhook_client=http)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not notifications(store, "delivered"):
            time.sleep(0.05)
    assert len(notifications(store, "delivered")) == 1 and len(calls) == 2


def test_a_revision_1_store_gains_the_claim_columns(store_url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from solver.app.service._alembic import alembic_config, revisions

    engine = create_engine(store_url)
    with engine.begin() as conn:  # the schema as release 0.1 left it
        command.upgrade(alembic_config(conn), "0001")
        columns = {c["name"] for c in inspect(conn).get_columns("lr_notifications")}
        assert "claim_token" not in columns
    engine.dispose()
    new = Store(StoreSettings(url=store_url))
    assert new.schema_version == len(revisions())
    with new.read() as conn:
        assert conn.execute(select(schema.notifications.c.claim_token)).all() == []
        assert inspect(conn).has_table("lr_notification_attempts")
    new.dispose()
