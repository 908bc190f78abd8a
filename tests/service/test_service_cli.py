"""The service commands as an operator runs them (SQLite store in a temp folder)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from solver.app import cli


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), out.err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    pd.DataFrame({"rep_id": ["A", "B"], "capacity": [2, 2], "region": ["n", "s"]}).to_csv(
        tmp_path / "reps.csv", index=False)
    pd.DataFrame({"lead_id": [f"L{i}" for i in range(6)], "region": ["n", "s"] * 3}).to_csv(
        tmp_path / "leads.csv", index=False)
    (tmp_path / "policy.toml").write_text(
        '[[rules]]\nkind = "equals"\nlead = "region"\nrep = "region"\n\n'
        "[sla]\nwork_within_minutes = 30\n")
    return {name: str(tmp_path / name) for name in ("reps.csv", "leads.csv", "policy.toml")} | {
        "db": f"sqlite:///{tmp_path / 'state.db'}"}


def test_operator_flow(files: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", files["db"]]
    assert _run(["load-reps", "--reps", files["reps.csv"], *db], monkeypatch, capsys)[1] == (
        "2 reps and 0 account owners written to sqlite store")
    assert _run(["ingest", "--leads", files["leads.csv"], *db], monkeypatch, capsys)[1] == (
        "6 leads queued, 0 already known")
    code, out, _ = _run(["run-batch", "--policy", files["policy.toml"], "--batch-id", "b1",
                         "--now", "2026-12-01T10:00:00", *db], monkeypatch, capsys)
    assert code == 0 and "6 pending leads → 4 assigned" in out
    code, out, _ = _run(["run-batch", "--policy", files["policy.toml"], "--batch-id", "b1",
                         *db], monkeypatch, capsys)
    assert "already committed" in out
    assert _run(["status", *db], monkeypatch, capsys)[1] == "assigned: 4, pending: 2"
    code, out, _ = _run(["worker", "--every", "10ms", "--max-runs", "2", "--policy",
                         files["policy.toml"], "--now-is-not-an-option", *db],
                        monkeypatch, capsys)
    assert code == 2  # typer refuses unknown options
    code, _, err = _run(["worker", "--every", "10ms", "--max-runs", "2", "--policy",
                         files["policy.toml"], *db], monkeypatch, capsys)
    # the worker logs (stderr): its start, then one record per batch
    assert code == 0 and err.count("INFO solver.app.service._observe: batch ") == 2, err
    # the real clock is hours after 10:00: the 4 leads expired; each region has one rep,
    # who already had them, so they wait (and the day's caps are used up)
    assert "4 expired" in err


@pytest.mark.parametrize(("args", "message"), [
    (["ingest", "--leads", "missing.csv"], "missing.csv: file not found"),
    (["run-batch", "--strategy", "nope"], "unknown strategy 'nope'"),
    (["run-batch", "--now", "yesterday"], "--now: not an ISO time"),
    (["worker", "--every", "soon"], "--every: not a positive duration"),
    (["serve"], "LEADROUTE_API_TOKEN"),
    (["run-batch", "--policy", "nope.toml"], "nope.toml: policy file not found"),
])
def test_bad_invocations_are_one_line_errors(
        args: list[str], message: str, files: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEADROUTE_API_TOKEN", raising=False)
    code, _, err = _run([*args, "--db", files["db"]], monkeypatch, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_bad_rep_row_is_located_and_nothing_is_written(
        files: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_reps.csv"
    bad.write_text("rep_id,capacity,timezone\nA,2,UTC\nB,2,Mars/Olympus\n")
    code, _, err = _run(["load-reps", "--reps", str(bad), "--db", files["db"]],
                        monkeypatch, capsys)
    assert code == 2
    assert f"{bad}, row 2, column 'timezone': unknown time zone 'Mars/Olympus'" in err
    assert _run(["status", "--db", files["db"]], monkeypatch, capsys)[1] == "no leads yet"
    code, out, _ = _run(["run-batch", "--db", files["db"]], monkeypatch, capsys)
    assert "nothing routed (no pending leads)" in out


def test_the_worker_survives_a_failing_batch(tmp_path: Path) -> None:
    from solver.app.service import BatchSettings, Store, StoreSettings, ingest_leads
    from solver.app.service._worker import WorkerSettings, run_worker

    store = Store(StoreSettings(url=f"sqlite:///{tmp_path / 'state.db'}"))
    ingest_leads(store, pd.DataFrame({"lead_id": ["a"]}))
    with store.write() as conn:  # a table every batch writes to disappears
        conn.exec_driver_sql("DROP TABLE lr_batches")
    events: list[str] = []
    reports = run_worker(store, BatchSettings(), WorkerSettings(every_s=0.01, max_runs=2),
                         on_event=events.append, sleep=lambda _s: None)
    assert reports == [] and len(events) == 2
    assert all(e.startswith("batch failed, nothing written: ") for e in events)
