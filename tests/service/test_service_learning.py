"""The learning loop in the store: propensity, arm and experiment in the audit log;
outcomes in (API and CSV, all or nothing); the history table and the experiment report
out; the migration that adds the columns to an older store."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_support import NOW, leads_table, reps_table
from sqlalchemy import create_engine, inspect, select, text
from typer.testing import CliRunner

from solver.app.cli import app as cli_app
from solver.app.service import (
    BatchSettings,
    Store,
    StoreSettings,
    ingest_leads,
    lead_story,
    load_reps_into_store,
    run_batch,
)
from solver.app.service import _schema as schema
from solver.app.service._alembic import revisions
from solver.app.service._api import create_app
from solver.app.service._migrations import MIGRATIONS
from solver.app.service._outcomes import history_frame, import_outcomes
from solver.errors import InputError
from solver.policy import parse_policy

POLICY = """
[explore]
share = 0.5
seed = 3
[experiment]
name = "spring"
share = 0.3
"""


def _routed(store: Store, n: int = 40) -> list[str]:
    load_reps_into_store(store, reps_table(4, capacity=20), now=NOW)
    ingest_leads(store, leads_table(n, segment=["smb", "ent"] * (n // 2)), now=NOW)
    run_batch(store, BatchSettings(policy=parse_policy(tomllib.loads(POLICY))), now=NOW)
    return [f"L{i:04d}" for i in range(n)]


def _logged(store: Store) -> pd.DataFrame:
    a = schema.assignments
    with store.read() as conn:
        rows = conn.execute(select(a.c.lead_id, a.c.propensity, a.c.arm, a.c.experiment)
                            .where(a.c.event == "assigned")).all()
    return pd.DataFrame(rows, columns=["lead_id", "propensity", "arm", "experiment"])


def test_the_audit_log_records_propensity_arm_and_experiment(store: Store) -> None:
    _routed(store)
    logged = _logged(store)
    assert len(logged) == 40
    assert logged["propensity"].between(0, 1, inclusive="right").all()
    # with 4 eligible reps, an epsilon draw gives a known rep its 1/4 share of the draw
    assert (logged["propensity"] < 1).any() and (logged["propensity"] == 1).any()
    assert set(logged["arm"]) == {"control", "treatment"}
    assert set(logged["experiment"]) == {"spring"}


def test_without_explore_or_experiment_the_columns_stay_empty(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    ingest_leads(store, leads_table(3), now=NOW)
    run_batch(store, BatchSettings(), now=NOW)
    logged = _logged(store)
    assert len(logged) == 3 and logged[["propensity", "arm", "experiment"]].isna().all().all()


def test_outcomes_through_the_api(store: Store) -> None:
    ids = _routed(store, 4)
    app = create_app(store, BatchSettings(), api_token="t", deliver_webhooks=False)
    with TestClient(app) as client:
        auth = {"Authorization": "Bearer t"}
        won = client.post(f"/leads/{ids[0]}/converted", headers=auth,
                          json={"converted": True, "revenue": 120.5})
        assert won.status_code == 200, won.text
        assert won.json() | {"rep_id": None} == {"lead_id": ids[0], "status": "worked",
                                                 "rep_id": None, "converted": True,
                                                 "revenue": 120.5}
        lost = client.post(f"/leads/{ids[1]}/converted", headers=auth,
                           json={"converted": False})
        assert lost.json()["converted"] is False and lost.json()["revenue"] is None
        assert client.post(f"/leads/{ids[2]}/converted",
                           json={"converted": True}).status_code == 401
        assert client.post("/leads/nope/converted", headers=auth,
                           json={"converted": True}).status_code == 404
        for body in ({"revenue": 5}, {"converted": True, "revenue": -1}):
            assert client.post(f"/leads/{ids[2]}/converted", headers=auth,
                               json=body).status_code == 422
        # revenue without a conversion is ignored (the schema says so), not refused
        lost = client.post(f"/leads/{ids[2]}/converted", headers=auth,
                           json={"converted": False, "revenue": 5})
        assert lost.status_code == 200 and lost.json()["revenue"] is None
        paths = client.get("/openapi.json").json()["paths"]
        assert {"200", "401", "404", "409", "422"} <= set(
            paths["/leads/{lead_id}/converted"]["post"]["responses"])
    assert lead_story(store, ids[0])["history"][-1]["event"] == "outcome"


def test_an_outcome_needs_a_lead_a_rep_had(store: Store) -> None:
    load_reps_into_store(store, reps_table(1, capacity=0), now=NOW)
    ingest_leads(store, leads_table(1), now=NOW)
    app = create_app(store, BatchSettings(), api_token=None, deliver_webhooks=False)
    with TestClient(app) as client:
        refused = client.post("/leads/L0000/converted", json={"converted": True})
    assert refused.status_code == 409 and "no rep had it" in refused.json()["detail"]


@pytest.mark.parametrize(("csv", "match"), [
    ("lead_id,converted\nL0000,1\nL0001,maybe\n", r"row 2, column 'converted'"),
    ("lead_id,converted\nL0000,1\nL0000,0\n", r"row 2, column 'lead_id'.*twice"),
    ("lead_id,converted\nL0000,1\nL9999,1\n", r"row 2, column 'lead_id'.*does not exist"),
    ("lead_id,converted,revenue\nL0000,1,5\nL0001,1,inf\n", r"row 2, column 'revenue'"),
    ("lead_id,converted,revenue\nL0000,1,-5\n", r"row 1, column 'revenue'"),
    ("lead_id\nL0000\n", r"column 'converted'.*missing"),
    ("lead_id,converted\nL0000,\n", r"row 1, column 'converted'.*empty"),
])
def test_bad_outcome_files_name_row_and_column_and_write_nothing(
        store: Store, tmp_path: Path, csv: str, match: str) -> None:
    _routed(store, 4)
    path = tmp_path / "outcomes.csv"
    path.write_text(csv)
    with pytest.raises(InputError, match=match):
        import_outcomes(store, path)
    with store.read() as conn:
        assert history_frame(conn).empty  # the good first row was not written either


def test_csv_revenue_without_a_conversion_is_stored_as_none_with_a_warning(
        store: Store, store_url: str, tmp_path: Path) -> None:
    # as the API does (test_outcomes_through_the_api); the import used to refuse the file
    _routed(store, 4)
    path = tmp_path / "outcomes.csv"
    path.write_text("lead_id,converted,revenue\nL0000,1,5\nL0001,0,7\nL0002,0,0\n")
    done = CliRunner().invoke(cli_app, ["outcomes", "import", "--db", store_url,
                                        "--outcomes", str(path)])
    assert done.exit_code == 0, done.output
    assert "3 outcomes recorded" in done.output
    warning = " ".join(done.output.split())
    assert f"warning: {path}, column 'revenue': revenue on 1 row(s) that did not convert " \
           "(row 2) ignored and stored as none" in warning
    assert [lead_story(store, f"L000{i}")["revenue"] for i in range(3)] == [5.0, None, None]


def test_history_export_is_the_contract_table_with_propensities(
        store: Store, store_url: str, tmp_path: Path) -> None:
    ids = _routed(store)
    outcomes = tmp_path / "outcomes.csv"
    pd.DataFrame({"lead_id": ids[:30], "converted": [i % 3 == 0 for i in range(30)],
                  "revenue": [100.0 if i % 3 == 0 else "" for i in range(30)]}
                 ).to_csv(outcomes, index=False)
    runner = CliRunner()
    done = runner.invoke(cli_app, ["outcomes", "import", "--db", store_url,
                                   "--outcomes", str(outcomes)])
    assert done.exit_code == 0, done.output
    out = tmp_path / "history.csv"
    done = runner.invoke(cli_app, ["history", "export", "--db", store_url, "--out", str(out)])
    assert done.exit_code == 0, done.output
    history = pd.read_csv(out, keep_default_na=False)
    assert sorted(history["lead_id"]) == ids[:30]  # only leads with outcomes
    assert {"segment", "rep_id", "converted", "assigned_at", "revenue", "propensity", "arm",
            "experiment"} <= set(history.columns)
    logged = _logged(store).set_index("lead_id")
    assert np.allclose(history.set_index("lead_id")["propensity"].astype(float),
                       logged.loc[history["lead_id"], "propensity"])
    assert history["converted"].tolist() == [int(i % 3 == 0) for i in
                                             history["lead_id"].str[1:].astype(int)]
    from solver.contract_tables import load_history

    assert len(load_history(out)) == 30  # a valid history for fit and backtest
    report = runner.invoke(cli_app, ["experiment", "report", "--db", store_url,
                                     "--name", "spring"])
    assert report.exit_code == 0, report.output
    assert "experiment spring" in report.output and "always-valid" in report.output
    missing = runner.invoke(cli_app, ["experiment", "report", "--db", store_url,
                                      "--name", "autumn"])
    assert missing.exit_code != 0


def test_migration_adds_the_learning_columns_to_an_older_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # a store as version 2 left it
        schema.metadata.create_all(conn, tables=[schema.schema_version])
        for number, step in enumerate(MIGRATIONS[:2], start=1):
            step(conn)
            conn.execute(schema.schema_version.insert().values(version=number,
                                                               applied_at=NOW))
        for table, column in (("lr_assignments", "propensity"), ("lr_assignments", "arm"),
                              ("lr_assignments", "experiment"), ("lr_leads", "revenue")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    engine.dispose()
    store = Store(StoreSettings(url=url))
    try:
        assert store.schema_version == len(revisions())
        with store.read() as conn:
            have = {c["name"] for c in inspect(conn).get_columns("lr_assignments")}
        assert {"propensity", "arm", "experiment"} <= have
        _routed(store, 4)
        assert len(_logged(store)) == 4
    finally:
        store.dispose()


def test_the_commands_refuse_bad_input_with_a_located_error(
        store: Store, store_url: str, tmp_path: Path) -> None:
    _routed(store, 4)
    bad = tmp_path / "outcomes.csv"
    bad.write_text("lead_id,converted\nL0000,1\nL0001,perhaps\n")
    runner = CliRunner()
    done = runner.invoke(cli_app, ["outcomes", "import", "--db", store_url,
                                   "--outcomes", str(bad)])
    # the console script's main() prints this one line and exits 2
    assert isinstance(done.exception, InputError)
    assert "outcomes.csv, row 2, column 'converted'" in str(done.exception)
    with store.read() as conn:
        assert history_frame(conn).empty
    for args in ([], ["--db", store_url, "--history", str(bad)]):
        done = runner.invoke(cli_app, ["experiment", "report", *args])
        assert isinstance(done.exception, InputError)
        assert "either --history" in str(done.exception)
