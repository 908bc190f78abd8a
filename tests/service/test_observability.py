"""Logs and metrics of the service: each batch logged (id, counts, engine, gap, wall time)
with no lead data at INFO; JSON logs one object a line; ``GET /metrics`` scrapes."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_support import NOW, reps_table

from solver.app import cli
from solver.app.logs import configure_logging
from solver.app.service import BatchSettings, Store, ingest_leads, load_reps_into_store, run_batch
from solver.app.service._api import create_app

SECRET = "alice@example.com"  # a lead's personal data: never in an INFO record


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _seed(store: Store, n: int = 3) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5))
    ingest_leads(store, pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)],
                                      # distinct people (one address would make duplicates)
                                      "email": [f"{i}.{SECRET}" for i in range(n)]}))


def test_each_batch_is_logged_once_without_lead_data(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    _seed(store)
    with caplog.at_level(logging.INFO):
        report = run_batch(store, BatchSettings(), batch_id="b-1", now=NOW)
        run_batch(store, BatchSettings(), batch_id="b-1", now=NOW)  # a replay: not again
    records = [r for r in caplog.records if r.name == "solver.app.service._observe"]
    assert len(records) == 1
    record = records[0]
    assert record.batch_id == "b-1" and record.leads == 3  # type: ignore[attr-defined]
    assert record.assigned == report.assigned == 3  # type: ignore[attr-defined]
    assert record.engine == report.engine and record.wall_time_s >= 0  # type: ignore[attr-defined]
    assert re.search(r"gap (n/a|[0-9.]+%), [0-9.]+s$", record.getMessage())
    assert all(SECRET not in r.getMessage() and SECRET not in str(r.__dict__)
               for r in caplog.records if r.levelno >= logging.INFO)


def test_json_logs_are_one_object_a_line(restore_logging: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    logging.getLogger("solver.app.test").info("batch %s done", "b-2",
                                              extra={"batch_id": "b-2", "assigned": 4})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "batch b-2 done" and entry["level"] == "INFO"
    assert entry["logger"] == "solver.app.test"
    assert entry["batch_id"] == "b-2" and entry["assigned"] == 4 and "time" in entry


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--log-format", "xml", "--log-format: expected json or text, got 'xml'"),
    ("--log-level", "loud", "--log-level: expected one of debug, info, warning, error"),
])
def test_bad_log_flags_are_one_line(tmp_path: Path, restore_logging: None, flag: str,
                                    value: str, message: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["leadroute", "run-batch", flag, value,
                                      "--db", f"sqlite:///{tmp_path / 's.db'}"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_run_batch_logs_json(tmp_path: Path, restore_logging: None, store_url: str,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("one dialect is enough for the command line")
    _seed(_store(store_url))
    monkeypatch.setattr(sys, "argv", ["leadroute", "run-batch", "--batch-id", "b-3",
                                      "--log-format", "json", "--db", store_url])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
             if line.startswith("{")]
    batch = [e for e in lines if e.get("batch_id") == "b-3"]
    assert len(batch) == 1 and batch[0]["assigned"] == 3 and batch[0]["level"] == "INFO"


def _store(url: str) -> Store:
    from solver.app.service import StoreSettings

    return Store(StoreSettings(url=url))


def test_metrics_scrape(store: Store) -> None:
    _seed(store)
    app = create_app(store, BatchSettings(), api_token="t", deliver_webhooks=False)
    with TestClient(app) as client:
        assert client.post("/route", headers={"Authorization": "Bearer t"}).status_code == 200
        scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
    leads = {s.labels["status"]: s.value for s in families["leadroute_leads"].samples}
    assert leads["assigned"] == 3 and leads["pending"] == 0
    webhooks = {s.labels["status"]: s.value for s in families["leadroute_webhooks"].samples}
    assert webhooks["failed"] == 0
    batches = [s for s in families["leadroute_batches"].samples if s.name.endswith("_total")]
    assert sum(s.value for s in batches) >= 1
    assert "leadroute_batch_duration_seconds" in families
    assert "leadroute_batch_gap" in families and "leadroute_sla_expiries" in families
    assert SECRET not in scraped.text
