"""Instant routing in the service (``POST /leads?instant=true``): committed before the
answer, priced by the last batch (or a forecast, or none, said in the reason), and every
policy rule of a batch applies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app.service import BatchSettings, Store, ingest_leads, load_reps_into_store, run_batch
from solver.app.service import _schema as schema
from solver.app.service._api import create_app
from solver.app.service._instant import route_instant
from solver.app.service._operations import lead_story, load_owners_into_store
from solver.app.service._prices import MAX_AGE, latest_prices, refresh_forecast
from solver.policy import parse_policy
from solver.strategies import PriceSource

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    settings = BatchSettings(webhook_url="http://hooks.test/leadroute")
    app = create_app(store, settings, api_token=TOKEN, deliver_webhooks=False)
    with TestClient(app) as test_client:
        yield test_client


def test_an_instant_request_is_answered_with_its_rep_and_committed(
        client: TestClient, store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5))
    body = {"leads": [{"lead_id": "W1", "account_id": "acme"}]}
    answer = client.post("/leads", params={"instant": "true"}, json=body, headers=AUTH).json()
    [lead] = answer["leads"]
    assert lead["status"] == "assigned" and lead["rep_id"] in {"R0", "R1"}
    assert lead["routed_now"] and answer["prices"] == "none"
    assert "no capacity prices yet" in lead["reason"]
    story = client.get("/leads/W1").json()
    assert story["status"] == "assigned" and story["history"][0]["batch_id"] == answer[
        "batch_id"]
    with store.read() as conn:
        assert conn.execute(select(schema.owners.c.rep_id)).scalar() == lead["rep_id"]
        assert conn.execute(select(schema.notifications.c.lead_id)).scalar() == "W1"
    again = client.post("/leads", params={"instant": "true"}, json=body, headers=AUTH).json()
    assert again["leads"][0]["rep_id"] == lead["rep_id"]  # a retry routes nothing twice
    assert not again["leads"][0]["routed_now"] and again["already_known"] == 1
    queued = client.post("/leads", json={"leads": [{"lead_id": "W2"}]}, headers=AUTH).json()
    assert queued == {"inserted": 1, "already_known": 0}
    assert client.get("/leads/W2").json()["status"] == "pending"


def test_instant_routing_uses_the_last_batch_prices(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=2), now=NOW)
    ingest_leads(store, leads_table(3), now=NOW)
    run_batch(store, BatchSettings(), now=NOW)
    with store.read() as conn:
        prices = latest_prices(conn, NOW)
    assert prices.source is PriceSource.BATCH and set(prices.by_rep) == {"R0", "R1"}
    answer = route_instant(store, BatchSettings(), leads_table(1, prefix="N"), now=NOW)
    assert answer.prices == "batch"
    assert "prices from the last batch solve" in answer.leads[0].reason
    with store.read() as conn:  # prices older than MAX_AGE are not used
        assert latest_prices(conn, NOW + MAX_AGE * 2).source is PriceSource.NONE


def test_a_forecast_prices_the_reps_when_no_batch_ran(store: Store) -> None:
    # yesterday 20 leads arrived, today 5 so far: 15 more expected for 2 reps × 4 slots
    load_reps_into_store(store, reps_table(2, capacity=4), now=NOW)
    yesterday = [(NOW - timedelta(days=1)).isoformat()] * 20
    ingest_leads(store, leads_table(20, prefix="Y", created_at=yesterday), now=NOW)
    ingest_leads(store, leads_table(5, prefix="T", created_at=[NOW.isoformat()] * 5), now=NOW)
    settings = BatchSettings(scorer=lambda leads, reps: np.tile([1.0, 0.5], (len(leads), 1)))
    prices = refresh_forecast(store, settings, now=NOW)
    assert prices.source is PriceSource.FORECAST
    assert prices.by_rep["R0"] > 0  # demand beyond capacity: the best rep is scarce
    answer = route_instant(store, settings, leads_table(1, prefix="N"), now=NOW)
    assert answer.prices == "forecast"
    assert "a forecast of the day's arrivals" in answer.leads[0].reason


def _instant(store: Store, settings: BatchSettings, **columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    answer = route_instant(store, settings, leads_table(n, prefix="I", **columns), now=NOW)
    return pd.DataFrame([lead.model_dump() for lead in answer.leads])


def test_instant_routing_holds_the_daily_cap(store: Store) -> None:
    load_reps_into_store(store, reps_table(1, capacity=2), now=NOW)
    route_instant(store, BatchSettings(), leads_table(1, prefix="A"), now=NOW)
    table = _instant(store, BatchSettings(), effort=[1.0, 1.0])
    assert list(table["status"]) == ["assigned", "pending"]
    assert table["reason"][1].startswith("capacity exhausted")


def test_instant_routing_holds_the_weekly_cap(store: Store) -> None:
    load_reps_into_store(store, reps_table(1, capacity=5, capacity_week=[1]), now=NOW)
    assert list(_instant(store, BatchSettings(), effort=[1.0, 1.0])["status"]) == [
        "assigned", "pending"]


def test_instant_routing_follows_the_rules_and_availability(store: Store) -> None:
    policy = parse_policy({"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]})
    load_reps_into_store(store, reps_table(3, capacity=5, region=["north", "south", "south"],
                                active=[True, True, False]), now=NOW)
    table = _instant(store, BatchSettings(policy=policy), region=["south", "north", "west"])
    assert list(table["rep_id"].fillna("")) == ["R1", "R0", ""]
    assert table["status"][2] == "pending"


def test_instant_routing_skips_an_absent_rep(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    with store.write() as conn:
        conn.execute(schema.absences.insert().values(
            rep_id="R0", starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)))
    assert list(_instant(store, BatchSettings(), effort=[1.0, 1.0])["rep_id"]) == ["R1", "R1"]


def test_an_owned_account_goes_to_its_owner(store: Store) -> None:
    load_reps_into_store(store, reps_table(3, capacity=5), now=NOW)
    load_owners_into_store(store, pd.DataFrame({"account_id": ["acme"], "rep_id": ["R2"]}), now=NOW)
    settings = BatchSettings(scorer=lambda leads, reps: np.tile([1.0, 0.9, 0.1],
                                                                (len(leads), 1)))
    table = _instant(store, settings, account_id=["acme", "other"])
    assert list(table["rep_id"]) == ["R2", "R0"]


def test_low_value_leads_go_to_nurture(store: Store) -> None:
    load_reps_into_store(store, reps_table(1, capacity=5), now=NOW)
    policy = parse_policy({"nurture": {"threshold": 0.5}})
    settings = BatchSettings(policy=policy, scorer=lambda leads, reps: np.array([[0.1], [0.9]]))
    table = _instant(store, settings, value=[1.0, 1.0])
    assert list(table["status"]) == ["nurture", "assigned"]


def test_a_ramping_rep_gets_a_share_of_its_capacity(store: Store) -> None:
    policy = parse_policy({"ramp": {"schedule": [[0, 0.5], [30, 1.0]]}})
    load_reps_into_store(store, reps_table(1, capacity=4, start_date=[NOW.date().isoformat()]),
                         now=NOW)
    table = _instant(store, BatchSettings(policy=policy), effort=[1.0, 1.0, 1.0])
    assert list(table["status"]) == ["assigned", "assigned", "pending"]


def test_a_batch_solving_meanwhile_replans_when_instant_routing_took_its_room(
        store: Store) -> None:
    load_reps_into_store(store, reps_table(1, capacity=3), now=NOW)
    ingest_leads(store, leads_table(3), now=NOW)
    fired = threading.Event()

    def scorer_that_lets_a_lead_in(leads: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
        if not fired.is_set():  # while the batch plans, an instant lead takes one unit
            fired.set()
            worker = threading.Thread(target=route_instant, args=(
                store, BatchSettings(), leads_table(1, prefix="X")), kwargs={"now": NOW})
            worker.start()
            worker.join()
        return np.ones((len(leads), len(reps)))

    report = run_batch(store, BatchSettings(scorer=scorer_that_lets_a_lead_in), now=NOW)
    assert fired.is_set() and report.assigned == 2
    assert lead_story(store, "X0000")["status"] == "assigned"
    with store.read() as conn:
        effort = conn.execute(select(schema.assignments.c.effort).where(
            schema.assignments.c.event == "assigned")).scalars().all()
    assert sum(effort) == 3


def test_the_idle_worker_prices_a_forecast(store: Store) -> None:
    from solver.app.service._store import utcnow
    from solver.app.service._worker import WorkerSettings, run_worker

    now = utcnow()
    load_reps_into_store(store, reps_table(2, capacity=5), now=now)
    ingest_leads(store, leads_table(3, created_at=[now.isoformat()] * 3), now=now)
    run_batch(store, BatchSettings(), now=now)
    with store.write() as conn:
        conn.execute(schema.rep_prices.delete())  # as if the last batch were long ago
    events: list[str] = []
    run_worker(store, BatchSettings(), WorkerSettings(every_s=0.01, max_runs=1),
               on_event=events.append, sleep=lambda _s: None)
    with store.read() as conn:
        assert latest_prices(conn, utcnow()).source is PriceSource.FORECAST, events


def test_a_revision_2_store_gains_the_price_table(store_url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from solver.app.service import StoreSettings
    from solver.app.service._alembic import alembic_config, revisions

    engine = create_engine(store_url)
    with engine.begin() as conn:  # the schema before instant routing
        command.upgrade(alembic_config(conn), "0002")
        assert not inspect(conn).has_table("lr_rep_prices")
    engine.dispose()
    new = Store(StoreSettings(url=store_url))
    assert new.schema_version == len(revisions())
    with new.read() as conn:
        assert inspect(conn).has_table("lr_rep_prices")
    new.dispose()
