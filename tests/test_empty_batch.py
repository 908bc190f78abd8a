"""A batch with no leads is the most common scheduled run: exit 0, the assignments header
and no rows, and a line saying nothing was routed — on every path (contract)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver import route_matrix, route_pairs
from solver.app import cli

HEADER = "lead_id,rep_id,score,status,reason"
POLICY = ('[[rules]]\nkind = "equals"\nlead = "region"\nrep = "region"\n\n'
          '[fairness]\nband = 0.1\nmode = "band"\n')


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    pd.DataFrame({"rep_id": ["A", "B"], "capacity": [2, 2], "region": ["n", "s"],
                  "timezone": ["UTC", "UTC"]}).to_csv(tmp_path / "reps.csv", index=False)
    (tmp_path / "leads.csv").write_text("lead_id,region,value\n")
    (tmp_path / "scores.csv").write_text("lead_id,rep_id,score\n")
    (tmp_path / "policy.toml").write_text(POLICY)
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--policy", "policy.toml", "--summary", "sum.csv"],
                                   ["--partition-by", "region"]],
                         ids=["plain", "policy", "partitioned"])
def test_route_cli(batch: Path, extra: list[str], monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    out = batch / "out.csv"
    code, text = _run(["route", "--leads", str(batch / "leads.csv"), "--reps",
                       str(batch / "reps.csv"), "--scores", str(batch / "scores.csv"),
                       "--out", str(out), *(str(batch / e) if "." in e else e for e in extra)],
                      monkeypatch, capsys)
    assert code == 0, text
    assert "nothing routed: the batch has no leads" in text
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(HEADER)


def test_header_only_scores_are_refused_when_there_are_leads(
        batch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (batch / "leads.csv").write_text("lead_id,region\nL1,n\n")
    code, text = _run(["route", "--leads", str(batch / "leads.csv"), "--reps",
                       str(batch / "reps.csv"), "--scores", str(batch / "scores.csv"),
                       "--out", str(batch / "out.csv")], monkeypatch, capsys)
    assert code == 2 and "scores.csv: no data rows" in text
    assert not (batch / "out.csv").exists()


def test_python_api(batch: Path) -> None:
    leads = pd.DataFrame({"lead_id": pd.Series([], dtype=str)})
    reps = pd.read_csv(batch / "reps.csv")
    by_matrix = route_matrix(leads, reps, np.zeros((0, 2)))
    by_pairs = route_pairs(batch / "leads.csv", batch / "reps.csv", batch / "scores.csv")
    for outcome in (by_matrix, by_pairs):
        assert outcome.assignments.empty
        assert ",".join(outcome.assignments.columns) == HEADER


def test_service_ingest_and_run_batch(batch: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sqlalchemy")
    db = f"sqlite:///{batch / 'state.db'}"
    for args in (["load-reps", "--reps", str(batch / "reps.csv")],
                 ["ingest", "--leads", str(batch / "leads.csv")]):
        code, text = _run([*args, "--db", db], monkeypatch, capsys)
        assert code == 0, text
    assert "0 leads queued" in text
    code, text = _run(["run-batch", "--batch-id", "b1", "--db", db], monkeypatch, capsys)
    assert code == 0
    assert "batch b1: nothing routed (no pending leads)" in text
