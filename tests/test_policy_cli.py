"""``leadroute route --policy`` end to end, with owners, overrides and the rep summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[1] / "solver" / "policy" / "example_policy.toml"


def _leadroute(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from solver.app.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_route_with_policy_writes_assignments_and_summary(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", "lead_id,region,industry,value,account_id,deal_size\n"
                   "x,eu,retail,100,acme,small\ny,us,energy,900,,small\nz,eu,retail,5,,small\n")
    reps = _write(tmp_path / "reps.csv", "rep_id,capacity,region,industries,max_deal_value\n"
                  "a,5,eu,retail,1000\nb,5,us,energy,1000\n")
    scores = _write(tmp_path / "scores.csv", "lead_id,rep_id,score\n"
                    "x,a,0.5\nx,b,0.9\ny,a,0.9\ny,b,0.5\nz,a,0.5\n")
    owners = _write(tmp_path / "owners.csv", "account_id,rep_id\nacme,b\n")
    overrides = _write(tmp_path / "overrides.csv", "lead_id,rep_id,action\nz,b,pin\n")
    out, summary = tmp_path / "a.csv", tmp_path / "reps_summary.csv"
    run = _leadroute("route", "--leads", str(leads), "--reps", str(reps), "--scores",
                     str(scores), "--policy", str(EXAMPLE), "--owners", str(owners),
                     "--overrides", str(overrides), "--summary", str(summary),
                     "--out", str(out))
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(out, keep_default_na=False).set_index("lead_id")
    assert table.loc["z", "rep_id"] == "b" and table.loc["z", "reason"] == "pinned by a manager"
    assert table.loc["y", "rep_id"] == "b"  # territory before score
    assert table.loc["x", "status"] in {"assigned", "nurture"}
    rep_table = pd.read_csv(summary)
    assert {"rep_id", "load", "target", "capacity_used", "shadow_price"} <= set(rep_table)


def test_bad_policy_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    leads = _write(tmp_path / "leads.csv", "lead_id\nx\n")
    reps = _write(tmp_path / "reps.csv", "rep_id,capacity\na,1\n")
    scores = _write(tmp_path / "scores.csv", "lead_id,rep_id,score\nx,a,0.5\n")
    policy = _write(tmp_path / "p.toml", "[fairness]\nbandwidth = 3\n")
    out = tmp_path / "a.csv"
    run = _leadroute("route", "--leads", str(leads), "--reps", str(reps), "--scores",
                     str(scores), "--policy", str(policy), "--out", str(out))
    assert run.returncode == 2
    assert "fairness.bandwidth: unknown key" in run.stderr
    assert not out.exists()
