"""Holdout experiments through the API and the console: the same report as
``leadroute experiment report`` for the same store; unknown names are 404."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from console_support import sign_in
from fastapi.testclient import TestClient
from service_support import NOW, leads_table, reps_table
from typer.testing import CliRunner

from solver.app.cli import app as cli_app
from solver.app.service import BatchSettings, Store, ingest_leads, load_reps_into_store, run_batch
from solver.app.service._api import create_app
from solver.app.service._outcomes import import_outcomes
from solver.policy import parse_policy

POLICY = """
[experiment]
name = "spring"
share = 0.3
"""


def _settings() -> BatchSettings:
    return BatchSettings(policy=parse_policy(tomllib.loads(POLICY)))


def _experiment(store: Store, tmp_path: Path, *, outcomes: int = 60) -> None:
    """60 leads routed under the holdout; the first ``outcomes`` of them with outcomes
    (every third converted, with revenue)."""
    load_reps_into_store(store, reps_table(4, capacity=30), now=NOW)
    ingest_leads(store, leads_table(60, segment=["smb", "ent"] * 30), now=NOW)
    run_batch(store, _settings(), now=NOW)
    if outcomes:
        path = tmp_path / "outcomes.csv"
        pd.DataFrame({"lead_id": [f"L{i:04d}" for i in range(outcomes)],
                      "converted": [int(i % 3 == 0) for i in range(outcomes)],
                      "revenue": [50.0 + i if i % 3 == 0 else "" for i in range(outcomes)]}
                     ).to_csv(path, index=False)
        import_outcomes(store, path, now=NOW)


@pytest.fixture
def client(store: Store) -> TestClient:
    return TestClient(create_app(store, _settings(), api_token="t", deliver_webhooks=False))


def test_the_api_report_has_the_numbers_the_cli_prints(store: Store, store_url: str,
                                                       tmp_path: Path,
                                                       client: TestClient) -> None:
    _experiment(store, tmp_path)
    listed = client.get("/experiments")
    assert listed.status_code == 200
    [spring] = listed.json()
    assert spring["name"] == "spring" and spring["with_outcome"] == 60
    assert spring["control"] + spring["treatment"] == 60 and spring["control"] > 0
    got = client.get("/experiments/spring/report")
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["control_share"] == 0.3  # the policy's share, as the draw used
    assert report["control_n"] + report["treatment_n"] == 60
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    cli = CliRunner().invoke(cli_app, ["experiment", "report", "--db", store_url,
                                       "--policy", str(policy)])
    assert cli.exit_code == 0, cli.output
    printed = " ".join(cli.output.split())
    ab, cs = report["conversion"], report["always_valid"]
    for figure in (f"{ab['control_rate']:.4f}", f"{ab['treatment_rate']:.4f}",
                   f"{ab['difference']:+.4f}", f"[{ab['ci_low']:+.4f}, {ab['ci_high']:+.4f}]",
                   f"p = {ab['p_value']:.3g}", f"{report['revenue']['difference']:+.2f}",
                   f"[{cs['low']:+.4f}, {cs['high']:+.4f}] → {cs['verdict']}",
                   f"{report['needed_per_arm']} leads per arm"):
        assert figure in printed, figure
    # query parameters reach the computation: a larger lift needs fewer leads
    planned = client.get("/experiments/spring/report", params={"mde": 0.3}).json()
    assert planned["mde"] == 0.3 and planned["needed_per_arm"] < report["needed_per_arm"]


def test_unknown_and_not_yet_comparable_experiments(store: Store, tmp_path: Path,
                                                    client: TestClient) -> None:
    missing = client.get("/experiments/autumn/report")
    assert missing.status_code == 404
    assert missing.json()["detail"] == ("experiment 'autumn' does not exist (no lead was "
                                        "routed in it)")
    assert client.get("/experiments").json() == []
    _experiment(store, tmp_path, outcomes=0)
    early = client.get("/experiments/spring/report")
    assert early.status_code == 409 and "no outcomes in both arms" in early.json()["detail"]
    assert client.get("/experiments/spring/report", params={"alpha": 0.9}).status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"200", "404", "409", "422"} <= set(
        paths["/experiments/{name}/report"]["get"]["responses"])


def test_the_console_page_shows_the_report(store: Store, tmp_path: Path,
                                           client: TestClient) -> None:
    _experiment(store, tmp_path)
    sign_in(client, "t")
    page = client.get("/console/experiments")
    assert page.status_code == 200
    report = client.get("/experiments/spring/report").json()
    text = page.text
    assert 'href="/console/experiments" aria-current="page"' in text
    assert "Experiment spring: treatment (optimiser) vs control" in text
    ab = report["conversion"]
    assert f"[{ab['ci_low']:+.4f}, {ab['ci_high']:+.4f}]" in text
    assert report["always_valid"]["verdict"] in text
    assert f"{report['needed_per_arm']} leads per arm" in text
    unknown = client.get("/console/experiments", params={"name": "autumn"})
    assert unknown.status_code == 200 and "experiment &#39;autumn&#39; does not exist" in (
        unknown.text)


def test_the_console_page_without_experiments(store: Store, client: TestClient) -> None:
    sign_in(client, "t")
    page = client.get("/console/experiments")
    assert page.status_code == 200 and "No lead has been routed in an experiment" in page.text
