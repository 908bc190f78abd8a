"""leadroute data / fit / route --model, end to end through the console script."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import load_affinity_model
from models.maven import find_maven_dir
from solver.app.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    result = runner.invoke(app, ["data", "synthetic", "--out", str(out), "--history-rows",
                                 "3000", "--leads", "30", "--seed", "2"])
    assert result.exit_code == 0, result.output
    return out


def test_fit_then_route_with_the_model(world_dir: Path) -> None:
    model_path = world_dir / "model.joblib"
    result = runner.invoke(app, ["fit", "--history", str(world_dir / "history.csv"),
                                 "--reps", str(world_dir / "reps.csv"), "--out",
                                 str(model_path)])
    assert result.exit_code == 0, result.output
    assert "lead-only baseline" in result.output and "log loss" in result.output
    meta_model = load_affinity_model(model_path)
    assert meta_model.training_rows_ == 3000
    out = world_dir / "assignments.csv"
    result = runner.invoke(app, ["route", "--leads", str(world_dir / "leads.csv"), "--reps",
                                 str(world_dir / "reps.csv"), "--model", str(model_path),
                                 "--out", str(out), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assignments = pd.read_csv(out)
    assert len(assignments) == 30 and (assignments["status"] == "assigned").all()
    assert assignments["score"].between(0, 1).all()


def test_fit_options_set_c_shrinkage_and_blocks(world_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.joblib"
    args = ["fit", "--history", str(world_dir / "history.csv"), "--reps",
            str(world_dir / "reps.csv"), "--out", str(out)]
    result = runner.invoke(app, [*args, "--C", "0.2", "--rep-shrinkage", "4", "--blocks",
                                 "match: region in region,rep_id × industry"])
    assert result.exit_code == 0, result.output
    model = load_affinity_model(out)
    assert model.C_ == 0.2 and model.rep_shrinkage == 4.0
    assert model.blocks_ == ("match: region in region", "rep_id × industry")
    assert "interaction blocks (given by name)" in result.output
    assert "within-lead AUC" in result.output and "routed value" in result.output
    for bad, message in ((["--C", "lots"], "--C must be a number or 'cv'"),
                         (["--blocks", "rep_id × nothing"], "unknown interaction block"),
                         (["--learner", "hgb"], "learner='hgb' was retired")):
        result = runner.invoke(app, [*args, *bad])
        assert result.exit_code == 2 and message in result.output, result.output


def test_fit_bad_history_is_one_line_exit_2(world_dir: Path, tmp_path: Path) -> None:
    history = pd.read_csv(world_dir / "history.csv")
    history.loc[4, "converted"] = 7
    bad = tmp_path / "bad.csv"
    history.to_csv(bad, index=False)
    out = tmp_path / "model.joblib"
    result = runner.invoke(app, ["fit", "--history", str(bad), "--reps",
                                 str(world_dir / "reps.csv"), "--out", str(out)])
    assert result.exit_code == 2
    assert "row 5, column 'converted': expected 0 or 1" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["fit", "--history", str(world_dir / "history.csv"), "--reps",
                                 str(tmp_path / "none.csv"), "--out", str(out)])
    assert result.exit_code == 2 and "file not found" in result.output


@pytest.mark.skipif(find_maven_dir() is None, reason="maven-crm data folder not found")
def test_data_maven_crm_writes_contract_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "maven-crm", str(find_maven_dir()), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    history = pd.read_csv(tmp_path / "history.csv")
    reps = pd.read_csv(tmp_path / "reps.csv")
    assert len(history) == 6711 and len(reps) == 35
    assert {"rep_id", "converted", "assigned_at", "revenue"} <= set(history.columns)


def test_data_maven_crm_on_a_wrong_folder_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "maven-crm", str(tmp_path), "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 2 and "file not found" in result.output
